"""Use cases for the journal: read it and verify its hash chain."""

from __future__ import annotations

import json

from sqlalchemy import select

from voting.adapters import orm
from voting.domain.journal import VerifyReport, verify_chain

from .uow import UnitOfWork


def verify_journal(uow: UnitOfWork) -> VerifyReport:
    """Recompute the chain; the report names the first broken entry."""
    with uow:
        rows = uow.session.execute(
            select(
                orm.JournalEntry.seq,
                orm.JournalEntry.at,
                orm.JournalEntry.actor,
                orm.JournalEntry.kind,
                orm.JournalEntry.payload,
                orm.JournalEntry.prev_hash,
                orm.JournalEntry.hash,
            ).order_by(orm.JournalEntry.seq)
        ).all()
        head = uow.session.get(orm.JournalHead, 1)
        return verify_chain(
            rows, None if head is None else head.seq, None if head is None else head.hash
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
