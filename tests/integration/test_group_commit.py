"""Group commit of casts, on SQLite and PostgreSQL: casts arriving together share a transaction,
each is acknowledged only after that commit, each refused one is refused for its own reason and
leaves no trace, and a transaction that fails as a whole is split so that exactly the casts it
could not write are refused. The journal stays one unbroken chain, in order, event for entry."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest
from halls import opened_counts
from sqlalchemy import create_engine, func, select, text

from voting.adapters import orm
from voting.domain.actors import Actor
from voting.domain.errors import AlreadyVoted, NotFound, NotRegistered, PermissionDenied
from voting.domain.events import DomainEvent
from voting.domain.presence import Standing
from voting.domain.votes import Choice
from voting.services import casting, journal, votes
from voting.services.commands import (
    AddCommittee,
    CastChoice,
    ChangeDeputy,
    ChangeSettings,
    CreateSitting,
    OpenRegistration,
    OpenVote,
    Register,
)

if TYPE_CHECKING:
    from halls import Hall

CHOICES = ("for", "against", "abstain")


def deputy(deputy_id: int) -> Actor:
    return Actor("deputy", f"deputy:{deputy_id}", deputy_id)


def request(deputy_id: int, vote_id: object, choice: str) -> casting.CastRequest:
    return casting.CastRequest(deputy(deputy_id), vote_id, Choice(choice))


def all_at_once(hall: Hall, vote_id: int, choices: dict[int, str]) -> dict[int, Any]:
    """Every deputy presses at the same instant, each from their own thread."""
    answers: dict[int, Any] = {}
    barrier = threading.Barrier(len(choices))

    def press(deputy_id: int, choice: str) -> None:
        barrier.wait()
        try:
            answers[deputy_id] = casting.cast_choice(
                hall.rt.uow(),
                deputy(deputy_id),
                CastChoice.parse({"choice": choice}, vote_id=vote_id),
            )
        except Exception as error:  # noqa: BLE001 - checked by the caller
            answers[deputy_id] = error

    threads = [threading.Thread(target=press, args=item) for item in choices.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return answers


def cast_entries(hall: Hall, after: int) -> list[dict[str, Any]]:
    return [
        e
        for e in journal.read_journal(hall.rt.reader(), after=after, limit=100_000)
        if e["kind"] in ("choice_cast", "secret_ballot_cast")
    ]


def head(hall: Hall) -> int:
    return len(journal.read_journal(hall.rt.reader(), limit=100_000))


def ballots(hall: Hall, vote_id: int) -> dict[int, str]:
    with hall.rt.session_factory() as session:
        return {
            b.deputy_id: b.outcome
            for b in session.scalars(select(orm.Ballot).where(orm.Ballot.vote_id == vote_id))
        }


def test_casts_pressed_together_share_transactions_and_each_is_answered_after_commit(
    hall: Hall,
) -> None:
    hall.open_registration()
    hall.register(*hall.everyone)
    vote_id = hall.open_vote(title="Разом")
    events: list[DomainEvent] = []
    committed_at_publish: list[int] = []

    def on_event(event: DomainEvent) -> None:
        events.append(event)
        if event.kind == "choice_cast":  # the ballot is readable by anyone once published
            committed_at_publish.append(len(ballots(hall, vote_id)))

    hall.rt.bus.subscribe(on_event)
    committer = hall.rt.casts
    before, batches = head(hall), committer.batches
    choices = {d: CHOICES[i % 3] for i, d in enumerate(hall.everyone)}
    answers = all_at_once(hall, vote_id, choices)

    assert answers == {
        d: {"vote_id": vote_id, "deputy_id": d, "choice": c, "recorded": True}
        for d, c in choices.items()
    }
    assert ballots(hall, vote_id) == choices
    assert committer.batches - batches < len(choices)  # some casts shared a transaction
    assert committer.largest > 1
    assert all(n >= 1 for n in committed_at_publish)
    entries = cast_entries(hall, before)
    assert [e["seq"] for e in entries] == list(range(before + 1, before + 1 + len(choices)))
    assert {e["payload"]["deputy_id"]: e["payload"]["choice"] for e in entries} == choices
    assert [e.seq for e in events] == [e["seq"] for e in entries]  # one event per entry, in order
    assert journal.verify_journal(hall.rt.uow()).ok
    result = hall.close(vote_id)
    assert (result["for"], result["against"], result["abstain"]) == tuple(
        Counter(choices.values())[c] for c in CHOICES
    )


def test_a_batch_refuses_each_cast_for_its_own_reason_and_writes_the_others(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    vote_id = hall.open_vote(title="Змішана партія")
    early = hall.deputies[3]
    hall.cast(vote_id, early, "for")
    before = head(hall)
    not_registered = hall.deputies[35]
    batch = [
        request(hall.deputies[0], vote_id, "for"),
        request(not_registered, vote_id, "for"),
        request(hall.deputies[1], vote_id, "against"),
        request(early, vote_id, "against"),  # second vote, not allowed
        request(hall.deputies[2], 10_000, "for"),  # no such vote
        request(hall.deputies[4], vote_id, "abstain"),
        request(10_000, vote_id, "for"),
    ]  # not a member of the body
    casting.write_casts(hall.rt.uow(), batch)

    assert all(r.settled for r in batch)
    outcomes = [r.error.__class__ if r.error else r.result["choice"] for r in batch]
    assert outcomes == [
        "for",
        NotRegistered,
        "against",
        AlreadyVoted,
        NotFound,
        "abstain",
        PermissionDenied,
    ]
    assert ballots(hall, vote_id) == {
        early: "for",
        hall.deputies[0]: "for",
        hall.deputies[1]: "against",
        hall.deputies[4]: "abstain",
    }
    entries = cast_entries(hall, before)
    assert [(e["seq"], e["payload"]["deputy_id"]) for e in entries] == [
        (before + 1, hall.deputies[0]),
        (before + 2, hall.deputies[1]),
        (before + 3, hall.deputies[4]),
    ]
    assert head(hall) == before + 3
    assert journal.verify_journal(hall.rt.uow()).ok


def test_a_failure_in_the_middle_of_a_batch_refuses_exactly_the_cast_it_could_not_write(
    hall: Hall, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    hall.open_registration()
    hall.register(*hall.everyone)
    vote_id = hall.open_vote(title="Збій посередині")
    poisoned = hall.deputies[2]
    real = casting.journal_cast

    def journal_cast(uow: Any, req: casting.CastRequest, vote: Any, changed: bool) -> Any:
        if req.actor.deputy_id == poisoned:
            raise OSError("the disk failed while writing this cast")
        return real(uow, req, vote, changed)

    monkeypatch.setattr(casting, "journal_cast", journal_cast)
    events: list[DomainEvent] = []
    hall.rt.bus.subscribe(events.append)
    before = head(hall)
    batch = [request(d, vote_id, CHOICES[i % 3]) for i, d in enumerate(hall.deputies[:5])]
    with caplog.at_level(logging.WARNING, logger="voting.services.group_commit"):
        casting.write_casts(hall.rt.uow(), batch)

    assert isinstance(batch[2].error, OSError)
    assert [r.result["deputy_id"] for r in batch if r.error is None] == [
        hall.deputies[0],
        hall.deputies[1],
        hall.deputies[3],
        hall.deputies[4],
    ]
    stored = ballots(hall, vote_id)
    assert poisoned not in stored and len(stored) == 4
    entries = cast_entries(hall, before)
    assert [e["payload"]["deputy_id"] for e in entries] == [
        hall.deputies[0],
        hall.deputies[1],
        hall.deputies[3],
        hall.deputies[4],
    ]
    assert [e["seq"] for e in entries] == list(range(before + 1, before + 5))
    assert [e.seq for e in events] == [e["seq"] for e in entries]  # the failed batch sent none
    assert journal.verify_journal(hall.rt.uow()).ok
    assert "writing them one by one" in caplog.text

    # The deputy whose cast failed presses again, and is counted.
    monkeypatch.setattr(casting, "journal_cast", real)
    hall.cast(vote_id, poisoned, "for")
    assert hall.close(vote_id)["for"] == 3


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_ballot_written_by_another_process_meanwhile_refuses_that_cast_alone(
    hall: Hall, db_url: str
) -> None:
    """PostgreSQL: another server process writes deputy X's ballot after this batch read who has
    voted; the primary key stops the batch's insert, the batch is split, X is refused and the
    others land. (SQLite lets one writer at a time: no other process can write meanwhile, so the
    test runs on PostgreSQL only.)"""
    hall.open_registration()
    hall.register(*hall.everyone)
    vote_id = hall.open_vote(title="Два процеси")
    x = hall.deputies[1]
    batch = [request(d, vote_id, "for") for d in hall.deputies[:3]]
    other = create_engine(db_url)
    try:
        with other.connect() as connection:
            transaction = connection.begin()
            connection.execute(
                text(
                    "INSERT INTO ballot (vote_id, deputy_id, outcome, cast_at) "
                    "VALUES (:v, :d, 'against', now())"
                ),
                {"v": vote_id, "d": x},
            )
            writer = threading.Thread(target=casting.write_casts, args=(hall.rt.uow(), batch))
            writer.start()
            time.sleep(0.5)  # the batch is now waiting on X's key
            assert writer.is_alive()
            transaction.commit()
            writer.join(timeout=30)
    finally:
        other.dispose()
    assert isinstance(batch[1].error, AlreadyVoted)
    assert batch[0].error is None and batch[2].error is None
    assert ballots(hall, vote_id) == {
        hall.deputies[0]: "for",
        x: "against",
        hall.deputies[2]: "for",
    }
    assert [e["payload"]["deputy_id"] for e in cast_entries(hall, 0)] == [
        hall.deputies[0],
        hall.deputies[2],
    ]
    # The chain holds; the one row it does not cover is X's ballot, written here behind the
    # journal's back (another server process would have journaled it).
    report = journal.verify_journal(hall.rt.reader())
    assert (report.table, report.row) == ("ballot", (vote_id, x)), report.describe()


def test_secret_casts_in_one_batch_add_up_and_answer_alike_whatever_the_choice(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.everyone)
    vote_id = hall.open_vote(title="Таємне разом", kind="secret")
    before = head(hall)
    choices = {d: CHOICES[i % 3] for i, d in enumerate(hall.deputies[:22])}
    answers = all_at_once(hall, vote_id, choices)

    for deputy_id, answer in answers.items():
        shown = json.dumps(answer, separators=(",", ":"))
        assert shown == json.dumps(
            {"vote_id": vote_id, "deputy_id": deputy_id, "recorded": True, "secret": True},
            separators=(",", ":"),
        )
    with hall.rt.session_factory() as session:
        counts = opened_counts(hall.rt, vote_id)
        took_part = set(
            session.scalars(
                select(orm.SecretParticipation.deputy_id).where(
                    orm.SecretParticipation.vote_id == vote_id
                )
            )
        )
        assert (
            session.scalar(
                select(func.count()).select_from(orm.Ballot).where(orm.Ballot.vote_id == vote_id)
            )
            == 0
        )
    assert counts == dict(Counter(choices.values()))
    assert took_part == set(choices)
    entries = cast_entries(hall, before)
    assert all(
        e["payload"] == {"vote_id": vote_id, "deputy_id": e["payload"]["deputy_id"]}
        for e in entries
    )
    assert {e["payload"]["deputy_id"] for e in entries} == set(choices)
    result = hall.close(vote_id)
    assert (result["for"], result["against"], result["abstain"]) == (8, 7, 7)
    assert journal.verify_journal(hall.rt.uow()).ok


def test_events_are_published_in_commit_order_even_when_a_thread_is_slow_to_publish(
    hall: Hall, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Transactions committing from many threads at once (registrations: one each) publish their
    events in journal order, even when a thread is held up between its commit and its publish."""
    import random

    seen: list[int] = []
    hall.rt.bus.subscribe(lambda event: seen.append(event.seq))
    publish = hall.rt.bus.publish
    rng = random.Random(7)

    def slow_publish(events: list[DomainEvent]) -> None:
        time.sleep(rng.uniform(0, 0.003))  # preempted right after the commit
        publish(events)

    monkeypatch.setattr(hall.rt.bus, "publish", slow_publish)
    hall.open_registration()
    barrier = threading.Barrier(len(hall.everyone))

    def register(deputy_id: int) -> None:
        barrier.wait()
        hall.register(deputy_id)

    threads = [threading.Thread(target=register, args=(d,)) for d in hall.everyone]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(seen) == 1 + len(hall.everyone)
    assert seen == sorted(seen) == list(range(seen[0], seen[0] + len(seen)))


def test_a_batch_reads_the_same_standing_as_the_presence_of_the_whole_hall(hall: Hall) -> None:
    """The lock of a vote for a batch's casts reads the standing of the batch's own deputies in
    the same statement, and it agrees with `presence` (the whole roster): plenary with the head
    voting or not, a deputy who left, a vacant seat, a committee, a sitting with no
    registration round yet, and one whose second round registered fewer than its first; and
    it knows who has voted already, in a roll-call vote and in a secret ballot."""
    from voting.services import council, registration, sittings

    secretary = Actor("secretary", "secretary:test")
    uow = hall.rt.uow
    members = [*hall.deputies[:4], hall.deputies[40]]
    body = council.add_committee(
        uow(),
        secretary,
        AddCommittee.parse({"name": "Комісія з питань бюджету", "members": members}),
    )
    committee = sittings.create_sitting(
        uow(), secretary, CreateSitting.parse({"date": "2026-11-24", "body_id": body})
    )
    sittings.open_sitting(uow(), secretary, committee)
    registration.open_registration(
        uow(), secretary, OpenRegistration.parse({}, sitting_id=committee)
    )
    for member in members[:3]:
        registration.register(uow(), deputy(member), Register.parse({}, sitting_id=committee))
    hall.open_registration()
    hall.register(*hall.deputies[:30], hall.head)
    hall.close_registration()
    hall.open_registration()  # a second round, nobody carried over: only it counts
    hall.register(*hall.deputies[:24], hall.head)
    plenary_vote = hall.open_vote(title="Хто вже голосував")
    with pytest.raises(NotRegistered):  # registered in the first round only
        hall.cast(plenary_vote, hall.deputies[26], "for")
    hall.cast_many(plenary_vote, hall.deputies[2:7], "for")
    committee_vote = votes.open_vote(
        uow(),
        secretary,
        OpenVote.parse({"title": "Таємно", "kind": "secret"}, sitting_id=committee),
    )
    for member in members[1:3]:
        casting.cast_choice(
            uow(), deputy(member), CastChoice.parse({"choice": "against"}, vote_id=committee_vote)
        )
    # a sitting whose registration never opened: no round, nobody registered
    unopened = sittings.create_sitting(
        uow(), secretary, CreateSitting.parse({"date": "2026-11-26", "body_id": body})
    )
    sittings.open_sitting(uow(), secretary, unopened)
    unopened_vote = votes.open_vote(
        uow(),
        secretary,
        OpenVote.parse({"title": "Без реєстрації", "override_quorum": True}, sitting_id=unopened),
    )
    hall.unregister(hall.deputies[5])
    council.update_deputy(
        uow(), secretary, ChangeDeputy.parse({"active": False}, deputy_id=hall.deputies[40])
    )
    everyone = {*hall.everyone, 10_000}
    cases = [
        (hall.sitting, plenary_vote, set(hall.everyone), set(hall.deputies[2:7])),
        (committee, committee_vote, set(members), set(members[1:3])),
        (unopened, unopened_vote, set(members), set()),
    ]

    def agree() -> None:
        for sitting_id, vote_id, _body_deputies, voters in cases:
            with hall.rt.uow() as unit:
                sitting = unit.session.get(orm.Sitting, sitting_id)
                assert sitting is not None
                state = registration.presence_of(unit, sitting)
                for ids in (
                    everyone,
                    set(hall.deputies[:10]),
                    {hall.head, hall.deputies[5]},
                    set(hall.deputies[20:30]),
                ):
                    vote, found = casting.lock_for_casting(unit, vote_id, ids)
                    assert vote.id == vote_id
                    assert (found.participants, found.registered) == (
                        set(state.participants) & ids,
                        set(state.registered) & ids,
                    )
                    # who has voted, of those who take part
                    assert found.voted == voters & ids & set(state.participants)

    agree()
    council.update_settings(uow(), secretary, ChangeSettings.parse({"head_votes": False}))
    agree()
    with hall.rt.uow() as unit:  # none of the batch's deputies takes part: the vote all the same
        vote, found = casting.lock_for_casting(unit, committee_vote, {hall.deputies[20], 10_000})
        assert (vote.id, found) == (committee_vote, Standing(*[frozenset()] * 3))
