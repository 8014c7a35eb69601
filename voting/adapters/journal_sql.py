"""The journal's head and entries, written with Core statements: the head is locked by the first
entry of a transaction, and the entries and the new head are written at commit (one statement on
PostgreSQL, so one round trip however many entries there are; two on SQLite, which costs no
round trips)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Integer, Text, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from voting.domain.journal import GENESIS_HASH

from . import orm

_HEAD = orm.table_of(orm.JournalHead)
_ENTRY = orm.table_of(orm.JournalEntry)
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()
ENTRY_COLUMNS = ("seq", "at", "actor", "kind", "payload", "prev_hash", "hash", "mac")
_NEW_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=bindparam("head_seq"), hash=bindparam("head_hash"), mac=bindparam("head_mac"))
)
#: PostgreSQL: a transaction's entries (one array per column) and the new head in one statement.
#: The text arrays are bound as `text[]`, not as their columns' `varchar(n)[]`: a cast to
#: varchar(n) would cut a value too long for its column without a word (and break the chain's
#: hashes); the insert refuses it instead.
_WRITE_JOURNAL_PG = _NEW_HEAD.add_cte(
    insert(_ENTRY)
    .from_select(
        ENTRY_COLUMNS,
        select(
            *func.unnest(
                *(
                    bindparam(f"entry_{name}", type_=ARRAY(Integer if name == "seq" else Text))
                    for name in ENTRY_COLUMNS
                )
            )
            .table_valued(*ENTRY_COLUMNS)
            .render_derived()
            .c,
        ),
    )
    .cte("entries")
)


def lock_head(session: Session) -> tuple[int, str]:
    """Lock the journal's head for this transaction and read it: (last seq, its hash). Creates
    the head before the first entry ever."""
    row = session.execute(_LOCK_HEAD).first()
    if row is None:
        session.execute(insert(_HEAD).values(id=1, seq=0, hash=GENESIS_HASH))
        return 0, GENESIS_HASH
    return row.seq, row.hash


def write(
    session: Session, entries: Sequence[Mapping[str, object]], head: tuple[int, str, str]
) -> None:
    """The transaction's entries (each with every column of ENTRY_COLUMNS) and the new head
    (seq, hash, mac)."""
    if not entries:
        return
    seq, digest, mac = head
    new_head = {"head_seq": seq, "head_hash": digest, "head_mac": mac}
    if session.get_bind().dialect.name == "postgresql":
        arrays = {f"entry_{name}": [entry[name] for entry in entries] for name in ENTRY_COLUMNS}
        session.execute(_WRITE_JOURNAL_PG, new_head | arrays)
    else:
        session.execute(insert(_ENTRY), list(entries))
        session.execute(_NEW_HEAD, new_head)
