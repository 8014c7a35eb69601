"""Under concurrency: a double vote is impossible by constraint, and no choice lands after close.

Deputies press their keys from many threads at once (30 deputies twice each within 0.3 s, one
deputy on five terminals at the same instant, latecomers after "close" was pressed) while the
secretary, from another server process (its own engine and pool), closes the vote at a random
moment. Afterwards every acknowledged choice (cast_choice returned) is counted,
every refused one is not, and the result equals what is stored. SQLite serializes writers
(BEGIN IMMEDIATE and a busy timeout); PostgreSQL uses row locks (a cast takes FOR SHARE on the
vote, the close FOR UPDATE). Runs on both.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from halls import Hall
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from voting.adapters import orm
from voting.adapters.sealed_ballots import SEALED_SIZE
from voting.bootstrap import Runtime, build_runtime
from voting.config import database_config
from voting.domain.actors import Actor
from voting.domain.errors import (
    AlreadyVoted,
    SecretCountersLost,
    VoteAlreadyClosed,
    VoteNotOpen,
)
from voting.services import casting, votes
from voting.services.commands import CastChoice

CHOICES = ("for", "against", "abstain")
SECRETARY = Actor("secretary", "secretary:test")
REFUSALS = (VoteAlreadyClosed, VoteNotOpen, AlreadyVoted)
ROUNDS = 3


def deputy(deputy_id: int) -> Actor:
    return Actor("deputy", f"deputy:{deputy_id}", deputy_id)


@pytest.fixture
def secretary_process(db_url: str, clock: Any) -> Iterator[Runtime]:
    """The secretary's close comes from another server process: its own engine and pool, so it
    does not queue behind the deputies' requests for a connection. The votes are opened there
    too: a secret ballot is counted by the process that opened it (it holds the key)."""
    runtime = build_runtime(database_config(db_url), clock=clock)
    yield runtime
    runtime.stop()


@dataclass
class Race:
    acknowledged: list[tuple[int, str]] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # deputy, choice, code
    failures: list[str] = field(default_factory=list)
    closed: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Attempt:
    deputy_id: int
    choice: str
    delay: float  # seconds after the start, or after the secretary pressed "close"
    after_close_pressed: bool = False


def race(
    hall: Any, secretary_process: Runtime, vote_id: int, attempts: list[Attempt], close_after: int
) -> Race:
    """Start every thread at once (a barrier), each pressing after its own delay; the secretary
    presses "close" once `close_after` choices are acknowledged (or all early attempts are
    over), while others are still in flight or yet to come."""
    outcome = Race()
    progress = threading.Condition()
    close_pressed = threading.Event()
    finished = 0
    early = sum(not a.after_close_pressed for a in attempts)
    barrier = threading.Barrier(len(attempts) + 1)

    def cast(attempt: Attempt) -> None:
        nonlocal finished
        deputy_id, choice = attempt.deputy_id, attempt.choice
        barrier.wait()
        if attempt.after_close_pressed:
            close_pressed.wait(timeout=30)
        time.sleep(attempt.delay)
        try:
            casting.cast_choice(
                hall.rt.uow(),
                deputy(deputy_id),
                CastChoice.parse({"choice": choice}, vote_id=vote_id),
            )
        except REFUSALS as error:
            with progress:
                outcome.refused.append((deputy_id, choice, error.code))
        except Exception as error:  # noqa: BLE001 - anything else is a failure to report
            with progress:
                outcome.failures.append(f"deputy {deputy_id} {choice}: {error!r}")
        else:
            with progress:
                outcome.acknowledged.append((deputy_id, choice))
        with progress:
            finished += 1
            progress.notify_all()

    def close() -> None:
        barrier.wait()
        with progress:
            progress.wait_for(
                lambda: len(outcome.acknowledged) >= close_after or finished >= early, timeout=30
            )
        close_pressed.set()
        try:
            outcome.closed.update(votes.close_vote(secretary_process.uow(), SECRETARY, vote_id))
        except Exception as error:  # noqa: BLE001
            outcome.failures.append(f"close: {error!r}")

    threads = [threading.Thread(target=cast, args=(attempt,)) for attempt in attempts]
    threads.append(threading.Thread(target=close))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return outcome


def attempts_for(hall: Any, rng: random.Random) -> list[Attempt]:
    """30 deputies press twice (two different keys) within 0.3 s of the start; one deputy
    presses on five terminals at the very same moment; six latecomers press within 0.5 s after
    the secretary pressed "close" (before or after the close is committed: both must hold)."""
    attempts = [
        Attempt(deputy_id, choice, rng.uniform(0, 0.15 if n == 0 else 0.3))
        for deputy_id in hall.deputies[:30]
        for n, choice in enumerate(rng.sample(CHOICES, 2))
    ]
    together = rng.uniform(0, 0.15)
    attempts += [
        Attempt(hall.deputies[30], choice, together)
        for choice in ("for", "against", "abstain", "for", "against")
    ]
    attempts += [
        Attempt(deputy_id, rng.choice(CHOICES), rng.uniform(0, 0.5), True)
        for deputy_id in hall.deputies[31:37]
    ]
    rng.shuffle(attempts)
    return attempts


def stored(hall: Any, vote_id: int, kind: str) -> tuple[dict[int, str], Counter[str], int]:
    """(deputy -> choice where stored per deputy, counts per choice, rows per deputy at most)."""
    with hall.rt.session_factory() as session:
        if kind == "secret":
            took_part = list(
                session.scalars(
                    select(orm.SecretParticipation.deputy_id).where(
                        orm.SecretParticipation.vote_id == vote_id
                    )
                )
            )
            # Counted once, at the close, into the vote's row; no sealed ballot is left.
            vote = session.get(orm.Vote, vote_id)
            assert vote is not None and vote.state == "closed"
            counts = Counter(
                {
                    "for": vote.count_for,
                    "against": vote.count_against,
                    "abstain": vote.count_abstain,
                }
            )
            left = session.scalar(
                select(func.count())
                .select_from(orm.SealedBallot)
                .where(orm.SealedBallot.vote_id == vote_id)
            )
            assert left == 0
            most = max(Counter(took_part).values(), default=0)
            return {deputy_id: "?" for deputy_id in took_part}, counts, most
        ballots = list(session.scalars(select(orm.Ballot).where(orm.Ballot.vote_id == vote_id)))
        most = (
            session.scalar(
                select(func.count())
                .select_from(orm.Ballot)
                .where(orm.Ballot.vote_id == vote_id)
                .group_by(orm.Ballot.deputy_id)
                .order_by(func.count().desc())
                .limit(1)
            )
            or 0
        )
        chosen = {b.deputy_id: b.outcome for b in ballots if b.outcome in CHOICES}
        return chosen, Counter(chosen.values()), most


def assert_counted_exactly(hall: Any, vote_id: int, kind: str, run: Race) -> None:
    assert run.failures == []
    assert run.closed, "the vote was not closed"
    acknowledged: dict[int, str] = {}
    for deputy_id, choice in run.acknowledged:
        assert deputy_id not in acknowledged, f"deputy {deputy_id} was acknowledged twice"
        acknowledged[deputy_id] = choice
    expected = Counter(acknowledged.values())

    # The announced result counts every acknowledged choice and nothing else...
    assert {c: run.closed[c] for c in CHOICES} == {c: expected[c] for c in CHOICES}
    parts = ("for", "against", "abstain", "not_voted", "absent")
    assert sum(run.closed[p] for p in parts) == run.closed["total_composition"] == 43
    # ...and what is stored afterwards is exactly that: nothing landed after the close.
    per_deputy, counts, most = stored(hall, vote_id, kind)
    assert most == 1
    assert {c: counts[c] for c in CHOICES} == {c: expected[c] for c in CHOICES}
    if kind == "secret":
        assert set(per_deputy) == set(acknowledged)
        assert sum(counts.values()) == len(per_deputy) == len(run.acknowledged)
    else:
        assert per_deputy == acknowledged
    with hall.rt.session_factory() as session:
        vote = session.get(orm.Vote, vote_id)
        assert vote is not None and vote.state == "closed"
        assert (vote.count_for, vote.count_against, vote.count_abstain) == (
            expected["for"],
            expected["against"],
            expected["abstain"],
        )
        if kind != "secret":
            lines = session.scalar(
                select(func.count()).select_from(orm.Ballot).where(orm.Ballot.vote_id == vote_id)
            )
            assert lines == 43  # one line per member of the total composition, no more


@pytest.mark.parametrize("kind", ["roll_call", "secret"])
def test_a_close_racing_the_casts_counts_every_acknowledged_choice_and_no_later_one(
    hall: Any, secretary_process: Runtime, kind: str
) -> None:
    hall.open_registration()
    hall.register(*hall.everyone)

    # First one deputy alone, pressing on five terminals at the same instant: counted once.
    secretary = Hall(secretary_process, hall.clock, hall.deputies, hall.head, hall.sitting)
    vote_id = secretary.open_vote(title="П'ять терміналів", kind=kind)
    presses = [
        Attempt(hall.deputies[0], choice, 0.0)
        for choice in ("for", "against", "abstain", "for", "abstain")
    ]
    run = race(hall, secretary_process, vote_id, presses, close_after=len(presses) + 1)
    assert len(run.acknowledged) == 1
    assert sorted(code for _, _, code in run.refused) == ["already_voted"] * 4
    assert_counted_exactly(hall, vote_id, kind, run)

    # Then the whole hall, with the secretary closing at a random moment.
    rng = random.Random(f"race-{kind}")
    refusals: Counter[str] = Counter()
    for round_number in range(ROUNDS):
        vote_id = secretary.open_vote(title=f"Гонка {round_number + 1}", kind=kind)
        run = race(
            hall,
            secretary_process,
            vote_id,
            attempts_for(hall, rng),
            close_after=rng.randint(1, 20),
        )
        assert_counted_exactly(hall, vote_id, kind, run)
        refusals.update(code for _, _, code in run.refused)
        # The five terminals of one deputy: at most one press counted.
        assert sum(d == hall.deputies[30] for d, _ in run.acknowledged) <= 1
    # The race was real: some presses came after the close, some were second presses.
    assert refusals["vote_already_closed"] > 0 and refusals["already_voted"] > 0
    assert set(refusals) <= {"vote_already_closed", "vote_not_open", "already_voted"}


def test_the_database_itself_refuses_a_second_line_for_the_same_deputy(hall: Any) -> None:
    """Bypassing the services: the primary keys (vote, deputy) refuse it, and a sealed ballot
    slipped in beside the services' is refused at the close (one per participant)."""
    hall.open_registration()
    hall.register(*hall.everyone)
    first = hall.deputies[0]
    roll_call = hall.open_vote(title="Поіменне", kind="roll_call")
    hall.cast(roll_call, first, "for")
    with hall.rt.session_factory() as session:
        session.add(
            orm.Ballot(vote_id=roll_call, deputy_id=first, outcome="against", cast_at=hall.clock())
        )
        with pytest.raises(IntegrityError):
            session.commit()
    assert hall.close(roll_call)["for"] == 1

    secret = hall.open_vote(title="Таємне", kind="secret")
    hall.cast(secret, first, "against")
    with hall.rt.session_factory() as session:
        session.add(orm.SecretParticipation(vote_id=secret, deputy_id=first))
        with pytest.raises(IntegrityError):
            session.commit()
    forged = os.urandom(SEALED_SIZE)  # a ballot's size, but not made by a server
    with hall.rt.session_factory() as session:
        session.add(orm.SealedBallot(vote_id=secret, sealed=forged))
        session.commit()
    with pytest.raises(SecretCountersLost, match="2 sealed ballots for 1 deputies"):
        hall.close(secret)
    with hall.rt.session_factory() as session:
        session.execute(
            delete(orm.SealedBallot).where(
                orm.SealedBallot.vote_id == secret, orm.SealedBallot.sealed == forged
            )
        )
        session.commit()
    result = hall.close(secret)
    assert (result["for"], result["against"], result["abstain"]) == (0, 1, 0)
    with hall.rt.session_factory() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(orm.SecretParticipation)
                .where(orm.SecretParticipation.vote_id == secret)
            )
            == 1
        )
        assert (
            session.scalar(
                select(func.count())
                .select_from(orm.Ballot)
                .where(orm.Ballot.vote_id == roll_call, orm.Ballot.deputy_id == first)
            )
            == 1
        )
