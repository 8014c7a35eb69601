"""A crash never goes unnoticed (issue 15, item 6): when the first server process starts after all
of them stopped, a vote, a registration round or a speech left open is flagged as interrupted,
with when the servers stopped as far as known, and journaled; nothing is recorded in it until the
secretary continues, closes or annuls it; a roll-call vote continues with every acknowledged
choice intact.

Each server process here is a real runtime, started and stopped; a crash is one whose jobs (its
heartbeat among them) stop without a word, leaving its last sign of life in `server_process`.
The test's clock stands still unless moved."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from halls import CHAIR, SECRETARY, Hall
from sqlalchemy import func, select, update

from voting.adapters import orm
from voting.bootstrap import Runtime, build_runtime
from voting.domain.errors import Interrupted, InvalidTransition
from voting.jobs import Heartbeat
from voting.services import floor, interruptions, journal, queries, sittings, votes
from voting.services.commands import GrantFloor, RequestFloor, SetItemStatus, SpeechAction

STARTED: list[Runtime] = []


@pytest.fixture(autouse=True)
def serving(hall: Hall) -> Iterator[None]:
    """The hall's council is served by a server process from the start."""
    start(hall)
    yield
    while STARTED:
        STARTED.pop().stop()


def start(hall: Hall) -> Runtime:
    runtime = build_runtime(hall.rt.config, clock=hall.clock)
    STARTED.append(runtime)
    runtime.start()
    return runtime


def crash(hall: Hall, alive_for: float) -> datetime:
    """The serving process lives `alive_for` seconds more, then dies without a word; returns
    when it was last seen."""
    hall.clock.advance(alive_for)
    process = STARTED.pop()
    for job in process.jobs:  # the heartbeat (and the timers) stop: nothing more from it
        job.stop()
    assert process.process_id is not None
    interruptions.process_alive(process.uow(), process.process_id)  # its last heartbeat
    process.process_id = None  # a dead process does not say it stopped
    process.stop()
    return hall.clock.now


def restart(hall: Hall, after: float = 60.0) -> Runtime:
    """`after` seconds pass, and a server process starts on the same database."""
    hall.clock.advance(after)
    return start(hall)


def entries(hall: Hall, kind: str) -> list[dict[str, Any]]:
    read = journal.read_journal(hall.rt.reader(), 0)
    return [cast(dict[str, Any], e["payload"]) for e in read if e["kind"] == kind]


def ballots(hall: Hall, vote_id: int) -> dict[int, str]:
    with hall.rt.reader() as uow:
        rows = uow.session.execute(
            select(orm.Ballot.deputy_id, orm.Ballot.outcome).where(orm.Ballot.vote_id == vote_id)
        )
        return {deputy: outcome for deputy, outcome in rows}


def registration(hall: Hall) -> dict[str, Any]:
    """The sitting's newest round as the API shows it, with the count of those registered."""
    sitting: dict[str, Any] = queries.sitting(hall.rt.reader(), hall.sitting)
    return {**sitting["registration"], "registered": sitting["registered"]}


def verified(hall: Hall) -> Any:
    return journal.verify_journal(hall.rt.reader())


def test_a_roll_call_vote_cut_short_waits_for_the_secretary_and_continues_intact(
    hall: Hall,
) -> None:
    d = hall.deputies
    hall.open_registration()
    hall.register(*d[:30])
    hall.close_registration()
    vote_id = hall.open_vote(title="Про бюджет", kind="roll_call", time_limit_seconds=60)
    hall.cast_many(vote_id, d[:6], "for")
    hall.cast_many(vote_id, d[6:9], "against")
    acknowledged = ballots(hall, vote_id)
    last_seen = crash(hall, alive_for=20)  # 40 s of the vote's minute were left

    restart(hall, after=300)  # five minutes later: the vote's time has long run out

    shown = queries.vote(hall.rt.reader(), vote_id, staff=True)
    assert shown["state"] == "open"
    assert shown["interrupted_at"] == last_seen.isoformat()
    assert entries(hall, "vote_interrupted") == [
        {
            "vote_id": vote_id,
            "sitting_id": hall.sitting,
            "kind": "roll_call",
            "stopped_at": last_seen.isoformat(),
        }
    ]
    with pytest.raises(Interrupted):  # nobody casts meanwhile ...
        hall.cast(vote_id, d[20], "for")
    assert votes.close_expired_votes(hall.rt.uow) == []  # ... and the timer leaves it alone
    assert ballots(hall, vote_id) == acknowledged
    assert verified(hall).ok, verified(hall).describe()

    interruptions.continue_vote(hall.rt.uow(), SECRETARY, vote_id)
    continued = queries.vote(hall.rt.reader(), vote_id, staff=True)
    assert continued["interrupted_at"] is None
    assert continued["deadline"] == (hall.clock.now + timedelta(seconds=40)).isoformat()
    assert entries(hall, "vote_continued")[0]["deadline"] == continued["deadline"]
    hall.cast(vote_id, d[20], "abstain")
    with pytest.raises(InvalidTransition):  # continued once: not again
        interruptions.continue_vote(hall.rt.uow(), SECRETARY, vote_id)

    result = hall.close(vote_id)
    assert (result["for"], result["against"], result["abstain"]) == (6, 3, 1)
    sheet = ballots(hall, vote_id)  # the roll-call sheet: every acknowledged choice intact
    assert {deputy: sheet[deputy] for deputy in acknowledged} == acknowledged
    assert sheet[d[20]] == "abstain"
    assert verified(hall).ok, verified(hall).describe()


def test_an_interrupted_vote_may_be_closed_as_it_stands_or_annulled(hall: Hall) -> None:
    d = hall.deputies
    hall.open_registration()
    hall.register(*d[:30])
    first = hall.open_vote(title="Про бюджет", kind="open")
    hall.cast_many(first, d[:25], "for")
    crash(hall, alive_for=3)
    restart(hall)
    assert hall.close(first)["for"] == 25  # counted as it stood

    hall.close_registration()
    second = hall.open_vote(title="Про бюджет", kind="open")
    hall.cast_many(second, d[:2], "against")
    crash(hall, alive_for=3)
    restart(hall)
    hall.annul(second, "Збій сервера")
    assert queries.vote(hall.rt.reader(), second)["state"] == "annulled"
    assert verified(hall).ok, verified(hall).describe()


def test_a_secret_ballot_cut_short_can_only_be_annulled_and_held_again(hall: Hall) -> None:
    d = hall.deputies
    hall.open_registration()
    hall.register(*d[:30])
    vote_id = hall.open_vote(title="Про бюджет", kind="secret")
    hall.cast_many(vote_id, d[:12], "for")
    crash(hall, alive_for=3)
    restart(hall)
    with pytest.raises(InvalidTransition, match="annul it and hold it again"):
        interruptions.continue_vote(hall.rt.uow(), SECRETARY, vote_id)
    with pytest.raises(InvalidTransition, match="annul it and hold it again"):
        hall.close(vote_id)
    with pytest.raises(Interrupted):
        hall.cast(vote_id, d[20], "for")
    hall.annul(vote_id, "Збій сервера під час таємного голосування")
    shown = queries.vote(hall.rt.reader(), vote_id)
    assert shown["state"] == "annulled" and "result" not in shown
    again = hall.open_vote(title="Про бюджет", kind="secret")  # held again, from the start
    held = queries.vote(hall.rt.reader(), again, staff=True)
    assert (held["state"], held["interrupted_at"], held["votes_cast"]) == ("open", None, 0)
    hall.cast(again, d[0], "for")  # those who had voted vote anew


def test_a_registration_round_cut_short_waits_and_then_goes_on_or_closes(hall: Hall) -> None:
    d = hall.deputies
    hall.open_registration()
    hall.register(*d[:10])
    last_seen = crash(hall, alive_for=7)
    restart(hall)
    assert registration(hall)["interrupted_at"] == last_seen.isoformat()
    assert registration(hall)["registered"] == 10  # who registered stays registered
    assert entries(hall, "registration_interrupted") == [
        {"sitting_id": hall.sitting, "round": 1, "stopped_at": last_seen.isoformat()}
    ]
    with pytest.raises(Interrupted):
        hall.register(d[10])
    interruptions.continue_registration(hall.rt.uow(), SECRETARY, hall.sitting)
    hall.register(d[10])
    assert registration(hall)["registered"] == 11
    assert verified(hall).ok, verified(hall).describe()

    crash(hall, alive_for=1)
    restart(hall)
    hall.close_registration()  # closed as it stands: a new round starts registration again
    assert registration(hall)["interrupted_at"] is None
    assert hall.open_registration() == 2
    assert verified(hall).ok, verified(hall).describe()


def test_a_speech_cut_short_stops_its_clock_when_the_servers_stopped(hall: Hall) -> None:
    rules = hall.rt.floor_rules
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    sittings.set_item_status(
        hall.rt.uow(),
        SECRETARY,
        SetItemStatus.parse({"status": "under_consideration"}, item_id=hall.items[0]),
    )
    floor.request_floor(
        hall.rt.uow(),
        SECRETARY,
        RequestFloor.parse(
            {"type": "speech", "deputy_id": hall.deputies[0]}, sitting_id=hall.sitting
        ),
        rules,
    )
    speech_id = floor.grant_floor(
        hall.rt.uow(), CHAIR, GrantFloor.parse({}, sitting_id=hall.sitting), rules
    )
    crash(hall, alive_for=42)
    restart(hall, after=600)

    def live() -> dict[str, Any]:
        with hall.rt.reader() as uow:
            row = floor.live_speech(uow, hall.sitting)
            assert row is not None
            return floor.speech_view(row, hall.clock.now, rules)

    shown = live()
    assert shown["state"] == "paused"
    assert shown["spoken_seconds"] == 42  # not the ten minutes nobody spoke
    assert shown["interrupted_at"] is not None
    assert [e["speech_id"] for e in entries(hall, "speech_interrupted")] == [speech_id]
    floor.resume_speech(hall.rt.uow(), CHAIR, SpeechAction.parse({}, speech_id=speech_id))
    assert live()["interrupted_at"] is None and live()["state"] == "running"


def test_nothing_is_interrupted_while_another_server_process_serves(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    vote_id = hall.open_vote(title="Про бюджет", kind="roll_call")
    restart(hall, after=interruptions.HEARTBEAT_SECONDS)  # a second process beside the first
    crash(hall, alive_for=1)  # the second dies ...
    restart(hall, after=interruptions.HEARTBEAT_SECONDS)  # ... and starts again: the first serves
    assert queries.vote(hall.rt.reader(), vote_id)["interrupted_at"] is None
    assert entries(hall, "vote_interrupted") == []
    hall.cast(vote_id, hall.deputies[0], "for")


def test_a_clean_stop_is_known_to_the_second(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    vote_id = hall.open_vote(title="Про бюджет", kind="roll_call")
    hall.clock.advance(12.5)
    stopped = hall.clock.now
    STARTED.pop().stop()  # SIGTERM while the vote was open: it is left open all the same
    restart(hall, after=3600)
    assert queries.vote(hall.rt.reader(), vote_id)["interrupted_at"] == stopped.isoformat()
    with hall.rt.reader() as uow:  # the dead processes' rows are gone: only the one serving
        assert uow.session.scalar(select(func.count()).select_from(orm.ServerProcess)) == 1


def test_clearing_the_flag_behind_the_services_back_is_found(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    vote_id = hall.open_vote(title="Про бюджет", kind="roll_call")
    crash(hall, alive_for=1)
    restart(hall)
    with hall.rt.engine.begin() as connection:  # casting resumed without the secretary
        connection.execute(
            update(orm.table_of(orm.Vote))
            .where(orm.table_of(orm.Vote).c.id == vote_id)
            .values(interrupted_at=None)
        )
    got = verified(hall)
    assert not got.ok
    assert f"vote ({vote_id},)" in got.describe() or str(vote_id) in got.describe()


# --- a secret ballot's key lives in one server process's memory --------------------------------


def served_by(hall: Hall, runtime: Runtime) -> Hall:
    """The same council, driven through another server process."""
    return Hall(runtime, hall.clock, hall.deputies, hall.head, hall.sitting, hall.items)


def secret_ballot_of_two_processes(hall: Hall) -> tuple[Hall, Hall, int]:
    """Two server processes serve the council, 30 deputies are registered, and a secret ballot
    is opened in the first (which holds its key): (first, second, the ballot)."""
    first = served_by(hall, STARTED[0])
    second = served_by(hall, start(hall))
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    return first, second, first.open_vote(title="Обрання секретаря ради", kind="secret")


def wait_until(check: Any, seconds: float = 8.0) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.1)
    return found


def test_a_secret_ballot_is_counted_by_the_process_that_holds_its_key(hall: Hall) -> None:
    """Two server processes serve the council: the ballot opened in the first is sealed to a key
    only the first holds; casts go through either; the close asked of the second is handed to
    the first, which counts it, and the second answers with the result."""
    first, second, vote_id = secret_ballot_of_two_processes(hall)
    d = hall.deputies
    assert first.rt.ballot_keys.holds(vote_id) and not second.rt.ballot_keys.holds(vote_id)
    second.cast_many(vote_id, d[:9], "for")
    first.cast_many(vote_id, d[9:13], "against")
    second.cast(vote_id, d[13], "abstain")
    result = second.close(vote_id)
    assert (result["for"], result["against"], result["abstain"]) == (9, 4, 1)
    closed = entries(hall, "vote_closed")[-1]
    assert (closed["vote_id"], closed["for"], closed["against"]) == (vote_id, 9, 4)
    read = journal.read_journal(hall.rt.reader(), 0)
    assert [e["actor"] for e in read if e["kind"] == "vote_closed"][-1] == SECRETARY.label
    wait_until(lambda: not first.rt.ballot_keys.holds(vote_id))  # the key is forgotten
    with hall.rt.reader() as uow:
        vote = uow.session.get(orm.Vote, vote_id)
        assert vote is not None
        assert (vote.tally_key, vote.tally_owner, vote.close_requested_by) == (None, None, None)
        assert uow.session.scalar(select(func.count()).select_from(orm.SealedBallot)) == 0


def test_a_secret_ballot_whose_owner_stops_is_interrupted_while_others_serve(hall: Hall) -> None:
    """The key goes with the process that held it: the processes still serving flag the ballot
    as interrupted at their next heartbeat, to be annulled and held again; nothing of its sealed
    ballots is left after the annulment."""
    owner, other, vote_id = secret_ballot_of_two_processes(hall)
    d = hall.deputies
    other.cast_many(vote_id, d[:5], "for")
    STARTED.remove(owner.rt)
    owner.rt.stop()  # a clean stop: its key is gone all the same
    flagged = wait_until(lambda: entries(hall, "vote_interrupted"))
    assert [e["vote_id"] for e in flagged] == [vote_id]
    with pytest.raises(Interrupted):
        other.cast(vote_id, d[6], "for")
    with pytest.raises(InvalidTransition, match="annul it and hold it again"):
        other.close(vote_id)
    other.annul(vote_id, "Сервер, що зберігав ключ бюлетеня, зупинився")
    with hall.rt.reader() as uow:
        assert uow.session.scalar(select(func.count()).select_from(orm.SealedBallot)) == 0
    assert verified(hall).ok, verified(hall).describe()


def test_a_secret_ballot_whose_owner_dies_silently_is_interrupted_by_the_others(
    hall: Hall,
) -> None:
    """The owner dies without a word and its process id lives on (here: this test's own), so
    only its silence tells: the others flag the ballot once its heartbeat has stood still for
    the wait (cut short here; a live owner's heartbeat moves: tests/unit/test_owner_watch.py)."""
    owner, other, vote_id = secret_ballot_of_two_processes(hall)
    d = hall.deputies
    other.cast_many(vote_id, d[:3], "against")
    crash_owner = STARTED.pop(0)
    for job in crash_owner.jobs:
        job.stop()
    crash_owner.process_id = None  # a dead process does not say it stopped
    crash_owner.stop()
    assert entries(hall, "vote_interrupted") == []
    (heartbeat,) = [job for job in other.rt.jobs if isinstance(job, Heartbeat)]
    heartbeat.owners.silent_after = 1.0
    flagged = wait_until(lambda: entries(hall, "vote_interrupted"))
    assert [e["vote_id"] for e in flagged] == [vote_id]
    with pytest.raises(InvalidTransition, match="annul it and hold it again"):
        other.close(vote_id)
