"""The unit of work: one database transaction, its journal entries, and the events after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from voting.adapters import journal_sql, orm
from voting.adapters.db import READ_ONLY
from voting.adapters.sealed_ballots import BallotKeys
from voting.adapters.secret_purge import SecretHistoryPurger
from voting.domain.actors import Actor
from voting.domain.errors import DomainError, InvalidInput, NotFound
from voting.domain.events import DomainEvent
from voting.domain.journal import canonical, entry_hash, entry_mac, head_mac

from .bus import EventBus
from .group_commit import GroupCommitter

log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=orm.Base)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


#: The largest id a row can have (ids are 32-bit INTEGER columns).
MAX_ID = 2**31 - 1


def checked_id(ident: object, what: str) -> int:
    """An id from outside (`what`: "vote", "sitting"), or InvalidInput / NotFound naming what
    is wrong with it."""
    if not isinstance(ident, int) or isinstance(ident, bool):
        raise InvalidInput(f"{what} id must be a whole number, got {ident!r}")
    if not 1 <= ident <= MAX_ID:  # no row has it, and the database cannot even compare it
        raise NotFound(f"{what} {_shown_id(ident)} does not exist")
    return ident


def checked_vote_id(vote_id: object) -> int:
    """A vote id from outside, or InvalidInput / NotFound naming what is wrong with it."""
    return checked_id(vote_id, "vote")


def _shown_id(ident: int) -> str:
    """An id for a message; Python refuses to turn an int of more than 4300 digits into text."""
    return str(ident) if abs(ident) < 10**30 else "with an id of more than 30 digits"


def direct(call: Callable[..., T], *args: Any) -> T:
    """Run `call` here (the default `offload`)."""
    return call(*args)


class JournalKeyMissing(RuntimeError):
    """The process was started without the journal's key (a set-up error, not the user's)."""


class Units(Protocol):
    """Whatever gives out units of work (a runtime): the dependency use cases are given."""

    def uow(self) -> UnitOfWork: ...

    def reader(self, one_snapshot: bool = False) -> UnitOfWork: ...


class UnitOfWork:
    """`with uow: ...; uow.commit()` — journal entries land in the same transaction as the
    change."""

    def __init__(
        self,
        engine: Engine,
        session_factory: sessionmaker[Session],
        bus: EventBus,
        clock: Clock = utcnow,
        read_only: bool = False,
        purger: SecretHistoryPurger | None = None,
        casts: GroupCommitter[Any] | None = None,
        floor_requests: GroupCommitter[Any] | None = None,
        journal_key: bytes | None = None,
        offload: Callable[..., Any] | None = None,
        one_snapshot: bool = False,
        ballot_keys: BallotKeys | None = None,
        process_id: int | None = None,
    ) -> None:
        self.read_only = read_only
        self.one_snapshot = one_snapshot  # a reader's: see reader()
        #: The key that authenticates journal entries (config.toml [journal]); a unit of work
        #: without one cannot write to the journal.
        self.journal_key = journal_key
        #: Runs CPU-heavy work that may wait (password hashing): `offload(call, *args)`; the
        #: runtime's, which under `voting serve` keeps it off the event loop.
        self.offload: Callable[..., Any] = direct if offload is None else offload
        self.purger = purger
        #: The private keys of the secret ballots this process counts (adapters/sealed_ballots.py),
        #: the runtime's; and this process's row of `server_process` (None: not serving).
        self.ballot_keys = BallotKeys() if ballot_keys is None else ballot_keys
        self.process_id = process_id
        #: The process's group committer of casts: casts arriving together share a transaction
        #: (services/casting.py). Owned by the runtime, shared by every unit of work it makes.
        self.casts = casts
        #: The same for requests for the floor (services/floor.py).
        self.floor_requests = floor_requests
        self.engine = engine
        self.session_factory = session_factory
        self.bus = bus
        self.clock = clock
        self.session: Session
        self._events: list[DomainEvent] = []
        self._after_commit: list[Callable[[], None]] = []
        self._committed = False
        self._active = False
        self._journal_head: tuple[int, str] | None = None  # (seq, hash), once locked
        self._entries: list[dict[str, object]] = []  # written at commit

    def reader(self, one_snapshot: bool = False) -> UnitOfWork:
        """A fresh unit of work on the same database that only reads (see `read_only`). On
        PostgreSQL each of its statements reads the last commit, unless `one_snapshot`: then
        all read one (a REPEATABLE READ transaction), for a check that compares tables with
        each other (the journal's verification) while commits go on."""
        return UnitOfWork(
            self.engine,
            self.session_factory,
            self.bus,
            self.clock,
            read_only=True,
            journal_key=self.journal_key,
            offload=self.offload,
            one_snapshot=one_snapshot,
            ballot_keys=self.ballot_keys,
            process_id=self.process_id,
        )

    def __enter__(self) -> UnitOfWork:
        if self._active:
            raise RuntimeError("a unit of work is not re-entrant; take a fresh one")
        self._active = True
        self.session = self.session_factory()
        if self.read_only:
            options: dict[str, object] = {READ_ONLY: True}
            if self.engine.dialect.name == "postgresql":
                # At READ COMMITTED each statement reads its own snapshot even inside a
                # transaction: around a reader's statements one would only cost two round trips
                # (BEGIN, ROLLBACK) that a live push pays on every read. SQLite's reader keeps
                # its transaction: there it is one snapshot for all the statements.
                options["isolation_level"] = (
                    "REPEATABLE READ" if self.one_snapshot else "AUTOCOMMIT"
                )
            self.session.connection(execution_options=options)
        self._events, self._after_commit, self._committed = [], [], False
        self._journal_head, self._entries = None, []
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if not self._committed:
                self.session.rollback()
            self.session.close()
        finally:
            self._active = False

    def now(self) -> datetime:
        return self.clock()

    def get(self, model: type[T], ident: object, what: str) -> T:
        """Load a row by id or raise NotFound naming what was looked for."""
        row = self.session.get(model, checked_id(ident, what))
        if row is None:
            raise NotFound(f"{what} {ident} does not exist")
        return row

    def lock(self, model: type[M], ident: object, what: str) -> M:
        """Load a row by id, locked for this transaction and read afresh (one statement), or
        raise NotFound. On SQLite every write transaction is serialized anyway."""
        checked = checked_id(ident, what)
        stmt = select(model).where(orm.table_of(model).c.id == checked).with_for_update()
        row = self.session.scalars(stmt.execution_options(populate_existing=True)).first()
        if row is None:
            raise NotFound(f"{what} {checked} does not exist")
        return row

    def lock_vote(self, vote_id: object) -> orm.Vote:
        """Load a vote and lock it exclusively (to close, annul, announce, re-vote or fill it in).

        On PostgreSQL this waits for casts in flight, which hold the vote share-locked
        (`adapters.casting_sql.lock_for_casting`), and a later cast sees the change; on SQLite
        every write transaction begins IMMEDIATE, which serializes them all.
        """
        return self.lock(orm.Vote, vote_id, "vote")

    def lock_journal(self) -> None:
        """Take the journal's head lock now (it is taken at the first entry anyway): a use case
        whose reads must not interleave with another's (the microphones) starts with it."""
        if self._journal_head is None:
            self._journal_head = journal_sql.lock_head(self.session)

    def journal(
        self,
        actor: Actor,
        kind: str,
        payload: dict[str, object],
        public: dict[str, object] | None = None,
    ) -> int:
        """Append a journal entry (hash-chained) and queue its event; returns its sequence number.

        `public` is what screens may see when it differs from the journal's payload. The first
        append of a transaction locks the journal's head; the entries and the new head are
        written at commit, however many entries there are in one statement on PostgreSQL (one
        round trip) and in two on SQLite.
        """
        key = self.record_key()
        self.lock_journal()
        assert self._journal_head is not None
        last, previous = self._journal_head
        seq = last + 1
        at = self.now().astimezone(UTC).isoformat(timespec="microseconds")
        payload_json = canonical(payload)
        digest = entry_hash(seq, at, actor.label, kind, payload_json, previous)
        self._entries.append(
            {
                "seq": seq,
                "at": at,
                "actor": actor.label,
                "kind": kind,
                "payload": payload_json,
                "prev_hash": previous,
                "hash": digest,
                "mac": entry_mac(key, digest),
            }
        )
        self._journal_head = (seq, digest)
        self._events.append(DomainEvent(seq, kind, dict(payload if public is None else public)))
        return seq

    def anchor(self) -> str:
        """The anchor of the last entry appended: "SEQ:HASH", published at a close."""
        assert self._journal_head is not None and self._entries, "nothing journaled yet"
        seq, digest = self._journal_head
        return f"{seq}:{digest}"

    def _write_journal(self) -> None:
        if self._journal_head is not None and self._entries:
            assert self.journal_key is not None  # no entry is made without it
            seq, digest = self._journal_head
            mac = head_mac(self.journal_key, seq, digest)
            journal_sql.write(self.session, self._entries, (seq, digest, mac))
        # A later append (after this commit) locks and reads the head afresh.
        self._entries, self._journal_head = [], None

    def record_key(self) -> bytes:
        """The journal's key, without which nothing is recorded: it also authenticates a secret
        ballot's key and sealed ballots (adapters/sealed_ballots.py)."""
        if self.journal_key is None:
            raise JournalKeyMissing(
                "the journal has no key, so nothing can be recorded: run `voting init` (it "
                "creates the key file of config.toml [journal] key_file) or set the variable "
                "named by [journal] key_env"
            )
        return self.journal_key

    def after_commit(self, action: Callable[[], None]) -> None:
        self._after_commit.append(action)

    def purge_secret_history_after_commit(self) -> None:
        """Purge what is left of the secret ballots' sealed ballots once this transaction commits
        (in the background)."""
        if self.purger is not None:
            self.after_commit(self.purger.request)

    def commit(self) -> None:
        """Commit, then publish the events and run after-commit actions."""
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        with self.bus.commit_lock:
            try:
                self._write_journal()
                self.session.commit()
            except OperationalError as error:
                self.session.rollback()
                raise DomainError(
                    "the database is busy; nothing was recorded, try again"
                ) from error
            self._committed = True
            self.bus.publish(self._events)
        for action in self._after_commit:
            try:
                action()
            except Exception:
                log.exception("after-commit action failed")
