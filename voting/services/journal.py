"""Use cases for the journal: read it, verify it, and the anchors published from it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from sqlalchemy import Row, select, update

from voting.adapters import orm
from voting.domain.actors import Actor
from voting.domain.journal import (
    Anchor,
    VerifyReport,
    entry_mac,
    first_unanchored,
    first_unauthentic,
    head_mac,
    same_code,
    verify_chain,
)

from . import facts
from .uow import JournalKeyMissing, UnitOfWork, direct

_Entries = Sequence[Row[int, str, str, str, str, str, str, str | None]]
_Head = tuple[int, str, str | None]  # seq, hash, mac


def _read_chain(uow: UnitOfWork) -> tuple[_Entries, _Head | None]:
    """Every entry, and the head."""
    rows = uow.session.execute(
        select(
            orm.JournalEntry.seq,
            orm.JournalEntry.at,
            orm.JournalEntry.actor,
            orm.JournalEntry.kind,
            orm.JournalEntry.payload,
            orm.JournalEntry.prev_hash,
            orm.JournalEntry.hash,
            orm.JournalEntry.mac,
        ).order_by(orm.JournalEntry.seq)
    ).all()
    head = uow.session.get(orm.JournalHead, 1)
    return rows, None if head is None else (head.seq, head.hash, head.mac)


def _chain_report(rows: _Entries, head: _Head | None) -> VerifyReport:
    return verify_chain(
        ((r.seq, r.at, r.actor, r.kind, r.payload, r.prev_hash, r.hash) for r in rows),
        None if head is None else head[0],
        None if head is None else head[1],
    )


def verify_journal(
    uow: UnitOfWork,
    anchors: Iterable[Anchor] = (),
    run: Callable[..., VerifyReport] = direct,
) -> VerifyReport:
    """Check the journal and the record, and name the first thing wrong: the hash chain, then
    (with the key) each entry's and the head's authentication code, then the published
    `anchors`, then the fact tables against what the journal recorded (facts.py).

    Give it a reader of one snapshot (`reader(one_snapshot=True)`) while commits go on. The
    reading is done here; the checking, pure computation over every entry (seconds for a
    journal of years), through `run(check, *args)`: a server passes one that keeps its event
    loop free."""
    with uow:
        rows, head = _read_chain(uow)
        stored = facts.stored(uow)
        council = uow.session.scalar(select(orm.Council.id).limit(1)) is not None
    return run(_check, rows, head, stored, council, uow.journal_key, list(anchors))


def _check(
    rows: _Entries,
    head: _Head | None,
    stored: facts.Rows,
    council: bool,
    key: bytes | None,
    anchors: list[Anchor],
) -> VerifyReport:
    report = _chain_report(rows, head)
    report = replace(report, record=True, keyed=key is not None, anchors=len(anchors))
    if not report.ok:
        return report
    if key is not None:
        forged = first_unauthentic(((r.seq, r.hash, r.mac) for r in rows), key)
        if forged is None and head is not None and rows:
            if not same_code(head[2], head_mac(key, head[0], head[1])):
                forged = (
                    head[0],
                    "the recorded head's authentication code does not match (the head "
                    "was rewritten without the journal's key)",
                )
        if forged is not None:
            return replace(report, ok=False, broken_seq=forged[0], problem=forged[1])
    unanchored = first_unanchored({r.seq: r.hash for r in rows}, anchors)
    if unanchored is not None:
        return replace(report, ok=False, broken_seq=unanchored[0], problem=unanchored[1])
    if not rows and council:
        problem = "the council exists but its journal is empty"
        return replace(report, ok=False, broken_seq=1, problem=problem)
    replay = facts.journaled((row.seq, row.kind, row.payload, row.hash) for row in rows)
    difference = facts.first_difference(replay, stored)
    if difference is None:
        return report
    return replace(
        report,
        ok=False,
        broken_seq=difference.seq,
        problem=difference.describe(),
        table=difference.table,
        row=difference.key,
    )


def read_journal(uow: UnitOfWork, after: int = 0, limit: int = 500) -> list[dict[str, object]]:
    """Entries after a sequence number, oldest first."""
    with uow:
        rows = uow.session.scalars(
            select(orm.JournalEntry)
            .where(orm.JournalEntry.seq > after)
            .order_by(orm.JournalEntry.seq)
            .limit(limit)
        )
        return [
            {
                "seq": r.seq,
                "at": r.at,
                "actor": r.actor,
                "kind": r.kind,
                "payload": json.loads(r.payload),
                "hash": r.hash,
            }
            for r in rows
        ]


def authenticate_unkeyed(uow: UnitOfWork, actor: Actor) -> int:
    """Give a journal written before it had a key its codes (`voting init` does, after the
    upgrade that brought the key), once its chain is found intact; journaled, with the entries
    it covered. Returns how many entries it gave codes to (0: nothing to do).

    Only a journal that never had a key: once any entry or the head carries a code, an entry
    without one was stripped of it (a forgery waiting for this), and JournalBroken says so.
    Whoever could write the database before the key existed could have rewritten those entries:
    the codes vouch for them only from now on; anchors published earlier still prove them."""
    key = uow.journal_key
    if key is None:
        raise JournalKeyMissing("the journal has no key to authenticate its entries with")
    with uow:
        uow.lock_journal()
        rows, head = _read_chain(uow)
        report = _chain_report(rows, head)
        unkeyed = [row.seq for row in rows if not row.mac]
        if not unkeyed:
            return 0
        if len(unkeyed) < len(rows) or (head is not None and head[2]):
            raise JournalBroken(
                f"entry {unkeyed[0]} has no authentication code although the journal has a key "
                "(it was stripped of it): it is left as it is; compare with the backups and the "
                "published anchors"
            )
        if not report.ok:
            raise JournalBroken(f"{report.describe()}; its entries are left without codes")
        uow.session.execute(
            update(orm.JournalEntry),
            [{"seq": row.seq, "mac": entry_mac(key, row.hash)} for row in rows],
        )
        uow.journal(actor, "journal_keyed", {"first": unkeyed[0], "last": unkeyed[-1]})
        uow.commit()
        return len(unkeyed)


def has_codes(uow: UnitOfWork) -> bool:
    """Whether the journal was ever written with a key (an entry or the head has a code)."""
    with uow:
        entry = uow.session.scalar(
            select(orm.JournalEntry.seq).where(orm.JournalEntry.mac.is_not(None)).limit(1)
        )
        head = uow.session.get(orm.JournalHead, 1)
        return entry is not None or (head is not None and bool(head.mac))


class JournalBroken(RuntimeError):
    """The journal's chain does not hold: nothing is vouched for."""
