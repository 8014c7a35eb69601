"""Secret ballot, while it is open: whoever reads the database between any two casts (every row
of every table in physical order; PostgreSQL's row versions with their transaction ids and every
tuple of its pages, dead ones included) learns nothing of who chose what; and the key that opens
the sealed ballots is in none of the SQLite file, its write-ahead log, PostgreSQL's pages or the
logs at DEBUG. Whoever can write the database can neither put a key of their own in the ballot's
place nor slip a sealed ballot of their own in.

The detector is a comparison. The same sitting is held on fresh databases, with the same casts in
the same order at the same (test) clock times, and the database is read after every cast:

- A and B: the same choices. What differs between them is the randomness the system draws (the
  sealed ballots' bytes, the ballot's public key): it must lie in those columns and nowhere else;
- C: the secret choices permuted among the same deputies. Everything read must differ from A no
  more than B does: the state after each cast, and so the change each cast makes (two dumps
  around a cast), is the same whatever the choice;
- D (the control): the roll-call vote's choices permuted instead. The same detector must see it.

The randomness itself is checked apart: every sealed ballot has one size and its own fresh
encapsulated key, so none repeats another.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from forensics import (
    BOTH,
    CHOICES,
    council_on,
    dump_database,
    every_log_record,
    heap_tuples,
    pg_extension,
    planned_choices,
    shuffled,
    sqlite_wal_frames,
)
from halls import SECRETARY, opened_counts
from sqlalchemy import Engine, delete, insert, inspect, select, text, update

from voting.adapters import orm
from voting.adapters.sealed_ballots import SEALED_SIZE, BallotKeys
from voting.bootstrap import Runtime
from voting.domain.errors import SecretCountersLost
from voting.services import votes

#: Columns where the system draws randomness: a sealed ballot's bytes (random by design, sealed
#: to a fresh key pair), the ballot's public key. Nothing else may differ between two holdings
#: of the same sitting.
RANDOM = {("sealed_ballot", "sealed"), ("vote", "tally_key")}
#: PostgreSQL heap tuples (whole rows as stored) of the tables that hold a random column.
RANDOM_TUPLES = {"sealed_ballot", "vote"}
#: Tables whose one row every commit rewrites (the journal's head: a number and hashes, no
#: choice): when PostgreSQL prunes the old versions of a page, and so where the row lies, depends
#: on every other transaction on the server (other tests'), not on this holding. Their live rows
#: are compared, not their layout.
REWRITTEN = {"journal_head"}


@dataclass
class Holding:
    """One holding of the sitting, read after every cast of the secret ballot."""

    rt: Runtime
    url: str
    vote: int
    choice_of: dict[int, str]
    reads: list[dict[tuple[str, str], list[Any]]] = field(default_factory=list)
    records: list[logging.LogRecord] = field(default_factory=list)


def _ranks(values: set[str]) -> dict[str, int]:
    """Transaction ids as their rank: two holdings run the same transactions in the same order
    under different ids."""
    return {
        xid: n
        for n, xid in enumerate(sorted((v for v in values if v not in ("0", "None")), key=int))
    }


def read_everything(engine: Engine, pageinspect: str | None) -> dict[tuple[str, str], list[Any]]:
    """(table, column) -> that column of every row of the table, in physical order; and on
    PostgreSQL (table, "<heap>") -> every tuple of the table's pages, dead ones included."""
    rows = dump_database(engine)
    xids = {
        str(row.values[c])
        for row in rows
        if row.table not in REWRITTEN
        for c in ("_xmin", "_xmax")
        if c in row.values
    }
    heap: dict[str, list[dict[str, Any]]] = {}
    if pageinspect is not None:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
        for table in tables:
            heap[table] = heap_tuples(engine, pageinspect, table)
            if table not in REWRITTEN:
                xids |= {str(t[c]) for t in heap[table] for c in ("t_xmin", "t_xmax")}
    rank = _ranks(xids)
    read: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        for column, value in row.values.items():
            if row.table in REWRITTEN and column == "_ctid":
                continue
            if column in ("_xmin", "_xmax"):
                value = rank.get(str(value), value)
            read.setdefault((row.table, column), []).append(value)
            if isinstance(value, bytes):  # its size is read apart: randomness has none
                read.setdefault((row.table, f"{column}:size"), []).append(len(value))
    for table, tuples in heap.items():
        if table in REWRITTEN:
            live = [t["t_data"] for t in tuples if t["lp_flags"] == 1 and t["t_xmax"] == "0"]
            read[(table, "<heap>")] = sorted(live)
            continue
        read[(table, "<heap>")] = [
            (
                t["lp"],
                t["lp_flags"],
                t["lp_len"],
                rank.get(t["t_xmin"]),
                rank.get(t["t_xmax"]),
                t["t_ctid"],
                None if table in RANDOM_TUPLES else t["t_data"],
            )
            for t in tuples
        ]
    return read


@contextmanager
def holding(
    backend: str,
    folder: Path,
    choice_of: dict[int, str] | None = None,
    roll_call: tuple[str, ...] = ("for", "against", "abstain", "for", "against", "abstain"),
) -> Iterator[Holding]:
    """Register everyone, hold a roll-call vote (the control) with `roll_call`'s choices, open
    the secret ballot and cast the 22 choices `choice_of` (default: forensics' plan) in a fixed
    shuffled order, reading everything after each cast; the ballot stays open."""
    # On PostgreSQL a database of its own, without autovacuum: when old row versions are pruned
    # then depends on this holding alone, and two holdings of the same sitting lie the same.
    with council_on(backend, folder, alone=True) as (hall, url):
        runtime = hall.rt
        pageinspect = None
        if runtime.engine.dialect.name == "postgresql":
            pageinspect = pg_extension(runtime.engine, "pageinspect")
            if pageinspect is None:
                pytest.skip("the pageinspect extension cannot be created on this server")
            with runtime.engine.begin() as connection:
                for table in inspect(connection).get_table_names():
                    connection.execute(
                        text(f'ALTER TABLE "{table}" SET (autovacuum_enabled = off)')
                    )
        first = hall.open_vote(item_id=hall.items[0], kind="roll_call")
        for deputy_id, choice in zip(hall.deputies, roll_call, strict=False):
            hall.cast(first, deputy_id, choice)
        hall.close(first)
        choice_of = choice_of or planned_choices(hall.deputies[:22])
        with every_log_record() as records:
            vote = hall.open_vote(title="Обрання секретаря ради", kind="secret")
            seen = Holding(runtime, url, vote, choice_of, records=records)
            seen.reads.append(read_everything(runtime.engine, pageinspect))
            for deputy_id in shuffled(choice_of):
                hall.clock.advance(7)
                hall.cast(vote, deputy_id, choice_of[deputy_id])
                seen.reads.append(read_everything(runtime.engine, pageinspect))
        yield seen


def differing(one: Holding, other: Holding) -> set[tuple[str, str]]:
    """The (table, column) whose values differ between two holdings at some step."""
    assert len(one.reads) == len(other.reads)
    found = set()
    for mine, theirs in zip(one.reads, other.reads, strict=True):
        for key in set(mine) | set(theirs):
            if mine.get(key) != theirs.get(key):
                found.add(key)
    return found


def permuted(choice_of: dict[int, str]) -> dict[int, str]:
    """The same deputies, the same numbers of each choice, given to others."""
    choices = list(choice_of.values())
    while True:
        random.Random(len(choices)).shuffle(choices)
        if choices != list(choice_of.values()):
            return dict(zip(choice_of, choices, strict=True))


@pytest.mark.parametrize("backend", BOTH)
def test_an_open_ballot_reads_the_same_whatever_was_chosen(backend: str, tmp_path: Path) -> None:
    with holding(backend, tmp_path / "a") as a:
        with holding(backend, tmp_path / "b") as b:
            noise = differing(a, b)
        with holding(backend, tmp_path / "c", choice_of=permuted(a.choice_of)) as c:
            assert sorted(c.choice_of.values()) == sorted(a.choice_of.values())
            assert c.choice_of != a.choice_of
            # The owner's key does open them, to the choices really made (the ballot counts).
            made = list(c.choice_of.values())
            assert opened_counts(c.rt, c.vote) == {x: made.count(x) for x in CHOICES}
            seen = differing(a, c)
        swapped = ("against", "for", "abstain", "for", "against", "abstain")
        with holding(backend, tmp_path / "d", roll_call=swapped) as d:
            control = differing(a, d)

    heap = {(table, "<heap>") for table in RANDOM_TUPLES} if backend == "postgres" else set()
    # The randomness is real: one size, and no sealed ballot (nor its encapsulated key) twice.
    for seen_here in (a, b, c):
        sealed = seen_here.reads[-1][("sealed_ballot", "sealed")]
        assert len(sealed) == 22 and {len(one) for one in sealed} == {SEALED_SIZE}
        assert len({one[:32] for one in sealed}) == 22
    # Randomness lies where it is drawn, and the detector is not blind to it.
    assert noise <= RANDOM | heap, sorted(noise - RANDOM - heap)
    assert ("sealed_ballot", "sealed") in noise
    # Other choices leave every read the same but for that randomness: after every cast, so
    # also in what each cast changed.
    assert seen <= noise, sorted(seen - noise)
    # The control: the roll-call vote's choices, changed, are seen in its ballots.
    assert ("ballot", "outcome") in control - noise, sorted(control)


def _files(url: str) -> list[bytes]:
    path = url.split("///", 1)[1]
    return [Path(p).read_bytes() for p in (path, path + "-wal") if os.path.exists(p)]


def _pg_pages(engine: Engine, pageinspect: str) -> list[bytes]:
    """Every page of every table and index of the schema, as stored."""
    pages = []
    with engine.connect() as connection:
        relations = connection.execute(
            text(
                "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
                "AND relkind IN ('r', 'i', 't')"
            )
        ).scalars()
        for relation in list(relations):
            count = connection.execute(
                text(f"SELECT pg_relation_size('{relation}') / current_setting('block_size')::int")
            ).scalar_one()
            for block in range(count):
                pages.append(
                    bytes(
                        connection.execute(
                            text(f"SELECT {pageinspect}.get_raw_page('{relation}', :b)"),
                            {"b": block},
                        ).scalar_one()
                    )
                )
    return pages


@pytest.mark.parametrize("backend", BOTH)
def test_the_key_that_opens_the_ballot_is_only_in_its_owners_memory(
    backend: str, tmp_path: Path
) -> None:
    with holding(backend, tmp_path) as seen:
        key = seen.rt.ballot_keys._keys[seen.vote]  # what only the owner's memory holds
        private, public = key.private_bytes_raw(), key.public_key().public_bytes_raw()
        if backend == "sqlite":
            stored = _files(seen.url)
        else:
            schema = pg_extension(seen.rt.engine, "pageinspect")
            assert schema is not None
            stored = _pg_pages(seen.rt.engine, schema)
        with every_log_record() as closing:  # the close uses the key: its logs too
            result = votes.close_vote(seen.rt.uow(), SECRETARY, seen.vote)
        assert sum(result[c] for c in CHOICES) == 22
        logged = "\n".join(repr(r.__dict__) for r in [*seen.records, *closing])
    assert any(public in blob for blob in stored)  # the control: the public key is found
    assert not any(private in blob for blob in stored)
    assert "Row (b" in logged  # the control: the sealed ballots read at the close were logged
    for shown in (private.hex(), repr(private), private.decode("latin-1")):
        assert shown not in logged
    assert not seen.rt.ballot_keys.holds(seen.vote)  # forgotten with the close


def test_sqlites_write_ahead_log_holds_each_cast_as_an_opaque_sealed_ballot(
    tmp_path: Path,
) -> None:
    """The log keeps an image of the sealed ballots' page for every cast (the history is there:
    the control), and every image holds nothing but the vote and sealed ballots of one size,
    each of them one of the ballots stored: no other trace of a choice."""
    with holding("sqlite", tmp_path) as seen:
        images = sqlite_wal_frames(seen.url.split("///", 1)[1], "sealed_ballot")
        with seen.rt.engine.connect() as connection:
            stored = set(
                connection.execute(text("SELECT sealed FROM sealed_ballot")).scalars().all()
            )
    assert len(images) >= 22  # one image of the page per cast at least
    sizes = {len(image) for image in images}  # empty when made, then one more per cast
    assert set(range(1, 23)) <= sizes <= set(range(0, 23)), sorted(sizes)
    for image in images:
        for record in image:
            assert len(record) == 2 and record[0] == seen.vote, record
            assert len(record[1]) == SEALED_SIZE and record[1] in stored


def test_a_database_writer_can_neither_swap_the_key_nor_slip_in_a_ballot(hall: Any) -> None:
    """With the public key on the vote's row, whoever can write the database could seal every
    later cast to a key of their own, or replace the others' sealed ballots with their own to
    read one deputy's choice off the totals. The journal's key, which the database does not
    hold, authenticates both: a swapped key stops the casts, a foreign ballot stops the count."""
    hall.open_registration()
    hall.register(*hall.everyone)
    d = hall.deputies
    vote = hall.open_vote(title="Обрання секретаря ради", kind="secret")
    hall.cast(vote, d[0], "for")
    table = orm.table_of(orm.Vote)
    with hall.rt.engine.begin() as connection:
        stored = connection.execute(select(table.c.tally_key).where(table.c.id == vote)).scalar()
        _private, theirs = BallotKeys.make(vote, b"a key that is not the journal's")
        connection.execute(update(table).where(table.c.id == vote).values(tally_key=theirs))
    with pytest.raises(SecretCountersLost, match="not the one its server made"):
        hall.cast(vote, d[1], "against")
    with hall.rt.engine.begin() as connection:
        connection.execute(update(table).where(table.c.id == vote).values(tally_key=stored))
    hall.cast(vote, d[1], "against")

    sealed = orm.table_of(orm.SealedBallot)
    with hall.rt.engine.begin() as connection:  # one ballot swapped for bytes of their own
        one = connection.execute(select(sealed.c.sealed).where(sealed.c.vote_id == vote)).first()
        assert one is not None
        connection.execute(delete(sealed).where(sealed.c.sealed == one[0]))
        connection.execute(insert(sealed).values(vote_id=vote, sealed=os.urandom(SEALED_SIZE)))
    with pytest.raises(SecretCountersLost, match="not made by a server"):
        hall.close(vote)
    hall.annul(vote, "Бюлетені змінено поза системою")
