"""A crash never goes unnoticed: what the servers left open when they all stopped.

Every process that serves the council (`voting serve`, `voting demo`: a started runtime) keeps a
row of `server_process`: it says it is alive every HEARTBEAT_SECONDS and, when it stops cleanly,
that it stopped. The first process to start when no other is alive (and some served before it: a
database that only scripts and one-shot commands have written has nothing interrupted) looks for
what was left open: an open vote, an open registration round, a speech under way. Nothing
happened in them while no server ran (no cast, no registration, no clock), so each is flagged as
interrupted, with when the servers stopped as far as known (the clean stop, or the last sign of
life: at most HEARTBEAT_SECONDS early), and journaled. The secretary then decides:

- a vote: continue it (every recorded choice stays; a time limit keeps the time that was left),
  close and count it as it stands, or annul it; a secret ballot cut short can only be annulled
  and held again (the practice for a failed ballot; the key that counts it went with the process
  that held it: docs/secret-ballot.md);
- a registration round: continue it, or close it (a new round starts registration again);
- a speech: its clock stopped when the servers did; the chair resumes or ends it.

Until then nothing is recorded in it: a cast or a registration is refused (`Interrupted`), and
the vote timer does not close an interrupted vote whose time ran out.

With several server processes (one Redis message queue) one that stops while others serve leaves
nothing interrupted, the others go on; but for a secret ballot it owned: the key that counts it
went with it, and the others flag that ballot at their next heartbeat (`flag_orphaned_ballots`).
A process is taken for stopped when it said so, when
nothing was heard from it for ALIVE_SECONDS, or at once when it ran on this host and its process
id is gone (processes that share a host name must share its process ids: not two containers with
one host name).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from voting.adapters import orm
from voting.domain import votes as rules
from voting.domain.actors import PROCEDURE, SYSTEM, Actor
from voting.domain.errors import InvalidTransition
from voting.domain.floor import ClockState
from voting.domain.votes import VoteKind, VoteState

from .sittings import open_sitting_row
from .uow import UnitOfWork

#: How often a server process says it is alive.
HEARTBEAT_SECONDS = 2.0
#: A process not heard of for this long is taken for stopped.
ALIVE_SECONDS = 5 * HEARTBEAT_SECONDS


@dataclass
class Flagged:
    """What one start found left open and flagged as interrupted."""

    stopped_at: datetime | None = None
    votes: list[int] = field(default_factory=list)
    rounds: list[tuple[int, int]] = field(default_factory=list)  # (sitting_id, round number)
    speeches: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.votes or self.rounds or self.speeches)


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def process_started(uow: UnitOfWork, name: str) -> tuple[int, Flagged]:
    """A server process starts: its row, and, when no other process is alive, everything the
    last ones left open flagged as interrupted (and journaled)."""
    with uow:
        now = uow.now()
        others = list(uow.session.scalars(select(orm.ServerProcess)))
        row = orm.ServerProcess(name=name, started_at=now, seen_at=now)
        uow.session.add(row)
        uow.session.flush()
        alive = [other for other in others if _alive(other, now)]
        flagged = Flagged()
        if others and not alive:  # no row at all: no server served it yet (a script, a demo)
            last = max(other.stopped_at or other.seen_at for other in others)
            flagged = _flag_left_open(uow, last)
            # Their story is told: keep only this process's row.
            uow.session.execute(delete(orm.ServerProcess).where(orm.ServerProcess.id != row.id))
        uow.commit()
        return row.id, flagged


def _may_run(name: str) -> bool:
    """Whether the process of this `process_name` may still run: one of this host whose process id
    is gone is known dead at once (a service manager that restarts a crashed server at once must
    not find it "alive" for ALIVE_SECONDS); of another host, only its silence tells."""
    host, _, pid = name.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)  # signal 0: asks only whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def may_serve(uow: UnitOfWork, process_id: int) -> bool:
    """Whether the server process `process_id` may still serve: it did not say it stopped, and
    its process id is not known to be gone (read in `uow`'s transaction; its silence is judged
    by `OwnerWatch`, not here, so that clocks that disagree cannot make it look dead)."""
    other = uow.session.get(orm.ServerProcess, process_id)
    return other is not None and _not_stopped(other)


def _not_stopped(other: orm.ServerProcess) -> bool:
    return other.stopped_at is None and _may_run(other.name)


def _alive(other: orm.ServerProcess, now: datetime) -> bool:
    return _not_stopped(other) and other.seen_at > now - timedelta(seconds=ALIVE_SECONDS)


@dataclass(frozen=True)
class BallotOwner:
    """An open secret ballot and the server process whose memory holds its key."""

    vote_id: int
    owner_id: int
    name: str | None  # None: the process's row is gone
    seen_at: datetime | None
    stopped_at: datetime | None


def secret_ballot_owners(uow: UnitOfWork) -> list[BallotOwner]:
    """The open secret ballots not yet flagged, each with its owner's row (read only)."""
    process = orm.ServerProcess
    with uow:
        rows = uow.session.execute(
            select(
                orm.Vote.id, orm.Vote.tally_owner, process.name, process.seen_at, process.stopped_at
            )
            .outerjoin(process, process.id == orm.Vote.tally_owner)
            .where(
                orm.Vote.state == VoteState.OPEN,
                orm.Vote.kind == VoteKind.SECRET,
                orm.Vote.tally_owner.is_not(None),
                orm.Vote.interrupted_at.is_(None),
            )
            .order_by(orm.Vote.id)
        ).all()
    return [
        BallotOwner(vote_id, owner, name, seen_at, stopped_at)
        for vote_id, owner, name, seen_at, stopped_at in rows
        if owner is not None
    ]


class OwnerWatch:
    """Tells which owners of open secret ballots are gone, as one serving process sees them: one
    that said it stopped, whose row is gone, or that ran on this host and whose process id is
    gone, at once; one that is only silent, once its heartbeat has stood still for `silent_after`
    seconds as this process counts them (its own monotonic clock), all the while this process's
    own heartbeats got through. So neither a database outage nor two hosts' clocks disagreeing
    can make a live owner look dead."""

    def __init__(self, silent_after: float = ALIVE_SECONDS) -> None:
        self.silent_after = silent_after
        self._last: dict[int, tuple[datetime | None, float]] = {}  # owner -> seen_at, since

    def gone(
        self, owners: list[BallotOwner], healthy_since: float, now: float
    ) -> dict[int, datetime | None]:
        """vote -> when its owner was last known alive (None: not known), for the owners gone."""
        found: dict[int, datetime | None] = {}
        for owner in owners:
            last = self._last.get(owner.owner_id)
            if last is None or last[0] != owner.seen_at:
                last = self._last[owner.owner_id] = (owner.seen_at, now)
            if owner.name is None or owner.stopped_at is not None or not _may_run(owner.name):
                found[owner.vote_id] = owner.stopped_at or owner.seen_at  # known gone
            elif now - max(last[1], healthy_since) >= self.silent_after:
                found[owner.vote_id] = owner.seen_at
        watched = {owner.owner_id for owner in owners}
        for owner_id in set(self._last) - watched:
            del self._last[owner_id]
        return found


def flag_orphaned_ballots(uow: UnitOfWork, gone: dict[int, datetime | None]) -> list[int]:
    """Flag the secret ballots whose owner is gone (`OwnerWatch`) as interrupted, with when the
    owner was last known alive, and journal it: the key that counts them went with it, so they
    must be annulled and held again. The first process to start after all stopped flags them
    with the rest."""
    flagged = []
    with uow:
        now = uow.now()
        for vote_id, stopped_at in sorted(gone.items()):
            vote = uow.lock_vote(vote_id)
            if vote.state != VoteState.OPEN or vote.interrupted_at is not None:
                continue
            vote.interrupted_at = stopped_at or now
            _journal_interrupted(uow, vote, vote.interrupted_at.isoformat())
            flagged.append(vote_id)
        uow.commit()
    return flagged


def process_alive(uow: UnitOfWork, process_id: int) -> None:
    """The heartbeat: this process still serves."""
    _seen(uow, process_id, stopping=False)


def process_stopped(uow: UnitOfWork, process_id: int) -> None:
    """A clean stop: the next start knows exactly when."""
    _seen(uow, process_id, stopping=True)


def _seen(uow: UnitOfWork, process_id: int, stopping: bool) -> None:
    with uow:
        now = uow.now()
        values = {"seen_at": now, **({"stopped_at": now} if stopping else {})}
        uow.session.execute(
            update(orm.ServerProcess).where(orm.ServerProcess.id == process_id).values(values)
        )
        uow.commit()


def _flag_left_open(uow: UnitOfWork, stopped_at: datetime) -> Flagged:
    shown = stopped_at.isoformat()
    flagged = Flagged(stopped_at=stopped_at)
    s = uow.session
    votes = s.scalars(
        select(orm.Vote)
        .where(orm.Vote.state == VoteState.OPEN, orm.Vote.interrupted_at.is_(None))
        .order_by(orm.Vote.id)
        .with_for_update()
    )
    for vote in votes:
        vote.interrupted_at = stopped_at
        flagged.votes.append(vote.id)
        _journal_interrupted(uow, vote, shown)
    rounds = s.scalars(
        select(orm.RegistrationRound)
        .where(
            orm.RegistrationRound.closed_at.is_(None),
            orm.RegistrationRound.interrupted_at.is_(None),
        )
        .order_by(orm.RegistrationRound.id)
        .with_for_update()
    )
    for round_ in rounds:
        round_.interrupted_at = stopped_at
        flagged.rounds.append((round_.sitting_id, round_.number))
        uow.journal(
            SYSTEM,
            "registration_interrupted",
            {"sitting_id": round_.sitting_id, "round": round_.number, "stopped_at": shown},
        )
    speeches = s.scalars(
        select(orm.Speech)
        .where(orm.Speech.state != ClockState.ENDED.value, orm.Speech.interrupted_at.is_(None))
        .order_by(orm.Speech.id)
        .with_for_update()
    )
    for speech in speeches:
        _stop_clock(speech, stopped_at)
        speech.interrupted_at = stopped_at
        flagged.speeches.append(speech.id)
        uow.journal(
            SYSTEM,
            "speech_interrupted",
            {
                "speech_id": speech.id,
                "sitting_id": speech.sitting_id,
                "stopped_at": shown,
                "used_seconds": round(speech.used_seconds, 1),
            },
        )
    return flagged


def _journal_interrupted(uow: UnitOfWork, vote: orm.Vote, shown: str) -> None:
    uow.journal(
        SYSTEM,
        "vote_interrupted",
        {"vote_id": vote.id, "sitting_id": vote.sitting_id, "kind": vote.kind, "stopped_at": shown},
    )


def _stop_clock(speech: orm.Speech, at: datetime) -> None:
    """The speech's clock stops when the servers stopped: a pause from then on."""
    if speech.state != ClockState.RUNNING.value or speech.running_since is None:
        return
    ran = max(0.0, (at - speech.running_since).total_seconds())
    speech.used_seconds = speech.used_seconds + ran
    speech.running_since = None
    speech.state = ClockState.PAUSED.value
    pauses = json.loads(speech.pauses or "[]")
    speech.pauses = json.dumps([*pauses, [at.isoformat(), None]])


def continue_vote(uow: UnitOfWork, actor: Actor, vote_id: object) -> dict[str, object]:
    """The secretary continues an interrupted vote: every recorded choice stays, casting goes on,
    and a time limit gets back the time that was left when the servers stopped."""
    actor.require(*PROCEDURE)
    with uow:
        vote = uow.lock_vote(vote_id)
        open_sitting_row(uow, vote.sitting_id)
        stopped = vote.interrupted_at
        rules.ensure_can_continue(VoteKind(vote.kind), VoteState(vote.state), stopped is not None)
        assert stopped is not None
        now = uow.now()
        if vote.deadline is not None:
            left = max(timedelta(0), vote.deadline - stopped)
            vote.deadline = now + left
        vote.interrupted_at = None
        deadline = None if vote.deadline is None else vote.deadline.isoformat()
        uow.journal(
            actor,
            "vote_continued",
            {"vote_id": vote.id, "sitting_id": vote.sitting_id, "deadline": deadline},
        )
        uow.commit()
        return {"vote_id": vote.id, "deadline": deadline}


def continue_registration(uow: UnitOfWork, actor: Actor, sitting_id: object) -> dict[str, object]:
    """The secretary continues an interrupted registration round: who registered in it stays
    registered, and deputies may register again."""
    actor.require(*PROCEDURE)
    with uow:
        sitting = open_sitting_row(uow, sitting_id)
        round_ = uow.session.scalars(
            select(orm.RegistrationRound)
            .where(
                orm.RegistrationRound.sitting_id == sitting.id,
                orm.RegistrationRound.closed_at.is_(None),
            )
            .with_for_update()
        ).first()
        if round_ is None or round_.interrupted_at is None:
            raise InvalidTransition(
                "only an open registration round that the server's stop interrupted continues"
            )
        round_.interrupted_at = None
        uow.journal(
            actor, "registration_continued", {"sitting_id": sitting.id, "round": round_.number}
        )
        uow.commit()
        return {"sitting_id": sitting.id, "round": round_.number}
