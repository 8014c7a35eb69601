"""Votes through the services, on SQLite and PostgreSQL: kinds, rules, guards, re-votes, annulment,
time limits and manual results."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from voting.adapters import orm
from voting.domain.actors import SYSTEM, Actor
from voting.domain.errors import (
    AlreadyVoted,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotRegistered,
    PermissionDenied,
    QuorumNotMet,
    RevoteLimitReached,
    VoteAlreadyClosed,
    VoteAlreadyOpen,
    VoteNotOpen,
)
from voting.domain.events import DomainEvent
from voting.services import casting, council, journal, queries, registration, sittings, votes
from voting.services.commands import (
    AddDeputy,
    AnnulVote,
    CastChoice,
    ChangeDeputy,
    ChangeSettings,
    CreateConvocation,
    CreateSession,
    CreateSitting,
    ManualResult,
    OpenRegistration,
    OpenVote,
    Register,
    Revote,
    SetItemStatus,
)

if TYPE_CHECKING:
    from halls import Hall

    from voting.bootstrap import Runtime


SECRETARY = Actor("secretary", "secretary:test")
CHAIR = Actor("chair", "chair:test")


def as_deputy(deputy_id: int) -> Actor:
    return Actor("deputy", f"deputy:{deputy_id}", deputy_id)


def vote_of(hall: Hall, vote_id: int, staff: bool = False) -> dict[str, object]:
    return queries.vote(hall.rt.reader(), vote_id, staff=staff)


def item_status(hall: Hall, item_id: int) -> str:
    return next(
        i["status"] for i in queries.agenda(hall.rt.reader(), hall.sitting) if i["id"] == item_id
    )  # type: ignore[return-value]


def journal_tail(hall: Hall, after: int) -> list[dict[str, object]]:
    return journal.read_journal(hall.rt.reader(), after=after)


def journal_length(hall: Hall) -> int:
    return len(journal.read_journal(hall.rt.reader(), limit=100_000))


def result_counts(result: dict[str, object]) -> tuple[object, ...]:
    keys = (
        "total_composition",
        "registered",
        "for",
        "against",
        "abstain",
        "not_voted",
        "absent",
        "threshold",
        "result",
    )
    return tuple(result[k] for k in keys)


def quorate(hall: Hall, extra: int = 0) -> None:
    """Open registration and register exactly the 22 deputies a quorum needs (plus `extra`)."""
    hall.open_registration()
    hall.register(*hall.deputies[: 22 + extra])


def test_no_quorum_no_vote_unless_overridden_in_the_journal(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:21])
    item = hall.items[0]
    with pytest.raises(QuorumNotMet, match="21 present, 22 needed") as caught:
        hall.open_vote(item_id=item)
    assert caught.value.details["quorum_required"] == 22
    assert queries.votes(hall.rt.reader(), hall.sitting) == []
    assert item_status(hall, item) == "pending"

    seen = journal_length(hall)
    vote = hall.open_vote(item_id=item, override_quorum=True)
    kinds = [(e["kind"], e["payload"]) for e in journal_tail(hall, seen)]
    assert kinds[0] == (
        "quorum_overridden",
        {
            "vote_id": vote,
            "total_composition": 42,
            "registered": 21,
            "quorum_required": 22,
            "quorum_present": 21,
            "quorum": False,
            "head_takes_part": False,
        },
    )
    assert [k for k, _ in kinds] == ["quorum_overridden", "item_status_changed", "vote_opened"]
    assert vote_of(hall, vote)["state"] == "open"
    assert item_status(hall, item) == "under_consideration"


CUSTOM_FEW = {"base": "registered", "comparator": "more_than", "numerator": 1, "denominator": 8}
CUSTOM_THIRD = {"base": "total", "comparator": "at_least", "numerator": 1, "denominator": 3}
# With the mayor and 22 deputies registered (total 43) and 3 for, 1 against, 1 abstaining:
RULES = [
    ("majority_of_total", "majority_of_total", 22, "not_adopted"),
    ("two_thirds_of_total", "two_thirds_of_total", 29, "not_adopted"),
    ("majority_of_registered", "majority_of_registered", 12, "not_adopted"),  # of 23
    ("majority_of_voting", "majority_of_voting", 3, "adopted"),  # of 5
    (CUSTOM_FEW, "custom", 3, "adopted"),  # more than 23/8
    (CUSTOM_THIRD, "custom", 15, "not_adopted"),  # at least 43/3
]


def test_every_kind_and_rule_counts_and_decides(hall: Hall) -> None:
    hall.open_registration()
    hall.register(hall.head, *hall.deputies[:22])
    d = hall.deputies
    for kind in ("roll_call", "open", "secret"):
        for rule, name, threshold, outcome in RULES:
            vote = hall.open_vote(title=f"{kind} {name} {threshold}", kind=kind, rule=rule)
            hall.cast_many(vote, [hall.head, d[0], d[1]], "for")
            hall.cast(vote, d[2], "against")
            hall.cast(vote, d[3], "abstain")
            result = hall.close(vote)
            expected = (43, 23, 3, 1, 1, 18, 20, threshold, outcome)
            assert result_counts(result) == expected, (kind, rule)
            shown = vote_of(hall, vote)
            assert shown["result"]["threshold"] == threshold, (kind, rule)  # type: ignore[index]
            assert shown["result"]["result"] == outcome, (kind, rule)  # type: ignore[index]
            assert shown["rule"]["name"] == name, (kind, rule)  # type: ignore[index]
            assert (shown["kind"], shown["state"]) == (kind, "closed")


def test_a_roll_call_lists_every_deputy_with_not_voted_and_absent(hall: Hall) -> None:
    vacant = hall.deputies[-1]
    council.update_deputy(
        hall.rt.uow(), SECRETARY, ChangeDeputy.parse({"active": False}, deputy_id=vacant)
    )
    hall.open_registration()
    d = hall.deputies
    hall.register(hall.head, *d[:24])
    events: list[DomainEvent] = []
    hall.rt.bus.subscribe(events.append)
    vote = hall.open_vote(item_id=hall.items[0])
    hall.cast_many(vote, d[:22], "for")
    hall.cast(vote, d[22], "against")
    hall.cast(vote, hall.head, "abstain")
    running = vote_of(hall, vote)
    assert running["votes_cast"] == 24 and "roll_call" not in running
    cast = [e.payload for e in events if e.kind == "choice_cast"]
    assert cast[-1] == {
        "vote_id": vote,
        "deputy_id": hall.head,
        "changed": False,
        "choice": "abstain",
    }  # a roll-call choice is public as it happens
    result = hall.close(vote)
    assert result_counts(result) == (43, 25, 22, 1, 1, 1, 18, 22, "adopted")

    lines = vote_of(hall, vote)["roll_call"]
    assert isinstance(lines, list)
    by_id = {line["deputy_id"]: line for line in lines}
    assert len(lines) == 42 and vacant not in by_id  # 41 deputies and the mayor; no empty seat
    assert lines[0]["deputy_id"] == hall.head and lines[0]["outcome_uk"] == "Утримався"
    assert by_id[d[0]]["outcome_uk"] == "За"
    assert by_id[d[22]]["outcome_uk"] == "Проти"
    assert by_id[d[23]]["outcome_uk"] == "Не голосував"
    assert {by_id[x]["outcome_uk"] for x in d[24:41]} == {"Відсутній"}
    assert by_id[d[23]]["full_name"] == "Депутатенко24 Іван Петрович"


def test_open_and_secret_votes_keep_their_per_deputy_lines_private(hall: Hall) -> None:
    quorate(hall)
    d = hall.deputies
    events: list[DomainEvent] = []
    hall.rt.bus.subscribe(events.append)

    open_vote = hall.open_vote(title="Про порядок денний", kind="open")
    hall.cast_many(open_vote, d[:3], "for")
    # Neither the choice nor who pressed reaches the screens (with a running split, who pressed
    # would tell the choice); the journal keeps both for the protocol.
    assert [e.payload for e in events if e.kind == "choice_cast"][-1] == {"vote_id": open_vote}
    assert "not_yet_voted" not in vote_of(hall, open_vote)
    assert vote_of(hall, open_vote, staff=True)["not_yet_voted"] == sorted(d[3:22])
    hall.close(open_vote)
    assert "roll_call" not in vote_of(hall, open_vote)
    staff_lines = vote_of(hall, open_vote, staff=True)["roll_call"]
    assert isinstance(staff_lines, list)
    assert {x["deputy_id"]: x["outcome"] for x in staff_lines if x["outcome"] == "for"} == {
        x: "for" for x in d[:3]
    }
    assert len(staff_lines) == 42

    secret = hall.open_vote(title="Про обрання секретаря ради", kind="secret")
    hall.cast(secret, d[0], "for")
    hall.cast_many(secret, d[1:3], "against")
    result = hall.close(secret)
    assert (result["for"], result["against"], result["not_voted"]) == (1, 2, 19)
    for staff in (False, True):
        shown = vote_of(hall, secret, staff=staff)
        assert "roll_call" not in shown and "not_yet_voted" not in shown
    assert vote_of(hall, secret, staff=True)["participants"] == sorted(d[:3])
    with hall.rt.reader() as uow:  # no per-deputy record of a secret choice exists at all
        assert (
            uow.session.scalar(
                select(func.count()).select_from(orm.Ballot).where(orm.Ballot.vote_id == secret)
            )
            == 0
        )
    secret_entries = [
        e
        for e in journal.read_journal(hall.rt.reader(), limit=100_000)
        if e["kind"] == "secret_ballot_cast"
    ]
    assert [e["payload"] for e in secret_entries] == [
        {"vote_id": secret, "deputy_id": x} for x in d[:3]
    ]


def test_choices_and_procedure_are_refused_when_they_must_be(hall: Hall) -> None:
    quorate(hall)
    d, uow = hall.deputies, hall.rt.uow
    outsider = d[30]  # not registered
    with pytest.raises(NotFound):
        hall.cast(999_999, d[0], "for")
    with pytest.raises(PermissionDenied):
        votes.open_vote(
            uow(),
            as_deputy(d[0]),
            OpenVote.parse({"title": "Моє питання"}, sitting_id=hall.sitting),
        )
    vote = votes.open_vote(
        uow(), CHAIR, OpenVote.parse({"title": "Процедурне"}, sitting_id=hall.sitting)
    )
    with pytest.raises(VoteAlreadyOpen):
        hall.open_vote(title="Ще одне")
    with pytest.raises(NotRegistered):
        hall.cast(vote, outsider, "for")
    with pytest.raises(PermissionDenied, match="only for themselves"):
        casting.cast_choice(
            uow(),
            as_deputy(d[0]),
            CastChoice.parse({"choice": "for", "deputy_id": d[1]}, vote_id=vote),
        )
    with pytest.raises(PermissionDenied):
        casting.cast_choice(uow(), SECRETARY, CastChoice.parse({"choice": "for"}, vote_id=vote))
    with pytest.raises(InvalidInput) as caught:
        hall.cast(vote, d[0], "yes")
    assert caught.value.details["field"] == "choice"
    hall.cast(vote, d[0], "for")
    with pytest.raises(AlreadyVoted):
        hall.cast(vote, d[0], "against")
    assert vote_of(hall, vote)["votes_cast"] == 1
    for action in (
        lambda a: votes.close_vote(uow(), a, vote),
        lambda a: votes.annul_vote(uow(), a, AnnulVote.parse({"reason": "Збій"}, vote_id=vote)),
        lambda a: votes.enter_manual_result(
            uow(), a, ManualResult.parse({"title": "X"}, sitting_id=hall.sitting)
        ),
    ):
        with pytest.raises(PermissionDenied):
            action(as_deputy(d[0]))
    result = votes.close_vote(uow(), CHAIR, vote)
    assert (result["for"], result["against"], result["not_voted"]) == (1, 0, 21)
    with pytest.raises(VoteAlreadyClosed):
        hall.close(vote)
    with pytest.raises(VoteAlreadyClosed):
        hall.cast(vote, d[1], "for")
    with pytest.raises(PermissionDenied):
        votes.revote(uow(), as_deputy(d[0]), Revote.parse({}, vote_id=vote))
    assert vote_of(hall, vote)["result"]["for"] == 1  # type: ignore[index]


def test_a_changed_roll_call_choice_counts_once_and_a_secret_one_cannot_change(hall: Hall) -> None:
    quorate(hall)
    d = hall.deputies
    vote = hall.open_vote(title="Поправка 1", stage="amendment", allow_change=True)
    hall.cast(vote, d[0], "for")
    hall.cast(vote, d[0], "against")
    assert hall.cast(vote, d[0], "abstain")["choice"] == "abstain"
    hall.cast(vote, d[1], "for")
    result = hall.close(vote)
    assert (result["for"], result["against"], result["abstain"], result["not_voted"]) == (
        1,
        0,
        1,
        20,
    )
    lines = {x["deputy_id"]: x["outcome_uk"] for x in vote_of(hall, vote)["roll_call"]}  # type: ignore[union-attr]
    assert (lines[d[0]], lines[d[1]]) == ("Утримався", "За")

    with pytest.raises(InvalidInput, match="secret ballot cannot allow") as caught:
        hall.open_vote(title="Таємне", kind="secret", allow_change=True)
    assert caught.value.details["field"] == "allow_change"
    # A council that lets choices change still cannot let a secret one change: asked for by
    # name (even as null, which means the council's default), it is refused; not named, the
    # ballot opens without it.
    council.update_settings(
        hall.rt.uow(), SECRETARY, ChangeSettings.parse({"allow_change_choice": True})
    )
    with pytest.raises(InvalidInput, match="secret ballot cannot allow"):
        hall.open_vote(title="Таємне", kind="secret", allow_change=None)
    secret = hall.open_vote(title="Таємне", kind="secret")
    hall.cast(secret, d[0], "for")
    with pytest.raises(AlreadyVoted):
        hall.cast(secret, d[0], "against")
    assert (hall.close(secret)["for"], len(queries.votes(hall.rt.reader(), hall.sitting))) == (1, 2)


def test_a_time_limited_vote_closes_on_time(hall: Hall) -> None:
    quorate(hall)
    d, item = hall.deputies, hall.items[1]
    vote = hall.open_vote(item_id=item, time_limit_seconds=60)
    assert vote_of(hall, vote)["deadline"] == "2026-11-25T08:01:00+00:00"
    hall.cast(vote, d[0], "for")
    hall.clock.advance(59)
    assert votes.close_expired_votes(hall.rt.uow) == []
    hall.cast(vote, d[1], "for")
    hall.clock.advance(1)
    with pytest.raises(VoteNotOpen, match="run out"):
        hall.cast(vote, d[2], "for")
    assert votes.close_expired_votes(hall.rt.uow) == [vote]
    assert votes.close_expired_votes(hall.rt.uow) == []
    shown = vote_of(hall, vote)
    assert shown["state"] == "closed"
    assert (shown["result"]["for"], shown["result"]["result"]) == (2, "not_adopted")  # type: ignore[index]
    assert item_status(hall, item) == "not_adopted"
    with pytest.raises(VoteAlreadyClosed):
        hall.close(vote)
    # A vote without a time limit is never closed by the timer.
    untimed = hall.open_vote(title="Без обмеження часу")
    hall.clock.advance(24 * 3600)
    assert votes.close_expired_votes(hall.rt.uow) == []
    assert vote_of(hall, untimed)["state"] == "open"


def test_revotes_link_to_the_previous_attempt_up_to_the_limit(hall: Hall) -> None:
    quorate(hall)
    uow, item = hall.rt.uow, hall.items[0]
    first = hall.open_vote(item_id=item, rule="majority_of_voting")
    with pytest.raises(InvalidTransition, match="close the vote"):
        votes.revote(uow(), SECRETARY, Revote.parse({}, vote_id=first))
    hall.cast(first, hall.deputies[0], "against")
    hall.close(first)
    second = votes.revote(uow(), CHAIR, Revote.parse({}, vote_id=first))
    with pytest.raises(InvalidTransition, match="already has a re-vote"):
        votes.revote(uow(), SECRETARY, Revote.parse({}, vote_id=first))
    shown = vote_of(hall, second)
    assert (shown["attempt"], shown["previous_vote_id"], shown["item_id"]) == (2, first, item)
    assert (shown["rule"]["name"], shown["title"]) == ("majority_of_voting", "Про питання 1")  # type: ignore[index]
    hall.cast(second, hall.deputies[0], "for")
    assert hall.close(second)["result"] == "adopted"
    assert item_status(hall, item) == "adopted"
    third = votes.revote(uow(), SECRETARY, Revote.parse({}, vote_id=second))
    assert (vote_of(hall, third)["attempt"], vote_of(hall, third)["previous_vote_id"]) == (
        3,
        second,
    )
    hall.close(third)
    assert item_status(hall, item) == "not_adopted"  # nobody voted: the last attempt decides
    with pytest.raises(RevoteLimitReached, match="limit is 2"):
        votes.revote(uow(), SECRETARY, Revote.parse({}, vote_id=third))
    assert [v["attempt"] for v in queries.votes(hall.rt.reader(), hall.sitting)] == [1, 2, 3]


def consider(hall: Hall, item: int) -> None:
    sittings.set_item_status(
        hall.rt.uow(),
        SECRETARY,
        SetItemStatus.parse({"status": "under_consideration"}, item_id=item),
    )


def test_the_hall_considers_one_item_at_a_time_and_an_annulled_item_waits_to_be_taken_up(
    hall: Hall,
) -> None:
    quorate(hall)
    first, second, third = hall.items[:3]
    consider(hall, first)
    whole = hall.open_vote(item_id=first, rule="majority_of_voting")
    hall.cast(whole, hall.deputies[0], "for")
    hall.close(whole)
    consider(hall, second)  # the hall moves on
    assert [item_status(hall, i) for i in (first, second)] == ["adopted", "under_consideration"]
    # The first item's vote is annulled: it is set aside (postponed, not "never considered"),
    # the second stays the one now.
    votes.annul_vote(hall.rt.uow(), CHAIR, AnnulVote.parse({"reason": "Збій"}, vote_id=whole))
    assert [item_status(hall, i) for i in (first, second)] == ["postponed", "under_consideration"]
    assert queries.current_state(hall.rt.reader())["current_item"]["id"] == second  # type: ignore[index]
    # Taken up again: the second is set aside (undecided), the first is voted again.
    consider(hall, first)
    assert [item_status(hall, i) for i in (first, second)] == ["under_consideration", "postponed"]
    again = hall.open_vote(item_id=first, rule="majority_of_voting")
    # While that vote is open no other item is taken up: it runs to its end first.
    with pytest.raises(InvalidTransition, match=f"vote {again} on agenda item {first} is open"):
        consider(hall, third)
    assert [item_status(hall, i) for i in (first, third)] == ["under_consideration", "pending"]
    hall.cast(again, hall.deputies[0], "for")
    hall.close(again)
    assert item_status(hall, first) == "adopted"
    consider(hall, second)
    kinds = [
        (e["payload"].get("item_id"), e["payload"].get("after"), e["payload"].get("reason"))
        for e in journal.read_journal(hall.rt.reader())
        if e["kind"] == "item_status_changed"
    ]
    assert (second, "postponed", f"item {first} taken up") in kinds
    assert (first, "postponed", f"vote {whole} annulled") in kinds


def test_a_vote_as_a_whole_decides_its_item_until_annulled(hall: Hall) -> None:
    quorate(hall)
    uow, d = hall.rt.uow, hall.deputies
    item = hall.items[2]
    basis = hall.open_vote(item_id=item, stage="as_a_basis", rule="majority_of_voting")
    hall.cast(basis, d[0], "for")
    assert hall.close(basis)["result"] == "adopted"
    assert item_status(hall, item) == "under_consideration"  # adopted as a basis only
    whole = hall.open_vote(item_id=item, rule="majority_of_voting")
    hall.cast(whole, d[0], "for")
    assert hall.close(whole)["result"] == "adopted"
    assert item_status(hall, item) == "adopted"

    with pytest.raises(InvalidInput) as caught:
        votes.annul_vote(uow(), SECRETARY, AnnulVote.parse({"reason": "  "}, vote_id=whole))
    assert caught.value.details["field"] == "reason"
    votes.annul_vote(
        uow(), CHAIR, AnnulVote.parse({"reason": "Збій пульта депутата"}, vote_id=whole)
    )
    shown = vote_of(hall, whole)
    assert (shown["state"], shown["annul_reason"]) == ("annulled", "Збій пульта депутата")
    assert shown["result"]["for"] == 1  # type: ignore[index]  # the record is kept
    assert item_status(hall, item) == "under_consideration"
    with pytest.raises(InvalidTransition, match="already annulled"):
        votes.annul_vote(uow(), SECRETARY, AnnulVote.parse({"reason": "Ще раз"}, vote_id=whole))

    # Annulling an open vote stops it; another vote may then open.
    running = hall.open_vote(item_id=hall.items[1])
    votes.annul_vote(
        uow(), SECRETARY, AnnulVote.parse({"reason": "Помилка в назві"}, vote_id=running)
    )
    with pytest.raises(VoteNotOpen):
        hall.cast(running, d[0], "for")
    other = hall.open_vote(item_id=hall.items[1])
    assert hall.close(other)["result"] == "not_adopted"
    assert item_status(hall, hall.items[1]) == "not_adopted"


def test_manual_results_of_the_counting_commission(hall: Hall) -> None:
    quorate(hall, extra=2)  # 24 registered
    uow, d = hall.rt.uow, hall.deputies
    seen = journal_length(hall)
    choices = {str(x): "for" for x in d[:22]} | {str(d[22]): "against"}
    result = votes.enter_manual_result(
        uow(),
        SECRETARY,
        ManualResult.parse(
            {"item_id": hall.items[0], "choices": choices, "note": "Лічильна комісія, протокол 1"},
            sitting_id=hall.sitting,
        ),
    )
    assert result_counts(result) == (42, 24, 22, 1, 0, 1, 18, 22, "adopted")
    shown = vote_of(hall, result["vote_id"])  # type: ignore[arg-type]
    assert (shown["manual"], shown["kind"], shown["state"]) == (True, "roll_call", "closed")
    lines = {x["deputy_id"]: x["outcome_uk"] for x in shown["roll_call"]}  # type: ignore[union-attr]
    assert (lines[d[0]], lines[d[22]], lines[d[23]], lines[d[30]]) == (
        "За",
        "Проти",
        "Не голосував",
        "Відсутній",
    )
    assert item_status(hall, hall.items[0]) == "adopted"
    entry = next(e for e in journal_tail(hall, seen) if e["kind"] == "manual_result_entered")
    assert entry["payload"]["choices"] == choices  # type: ignore[index]

    secret = votes.enter_manual_result(
        uow(),
        SECRETARY,
        ManualResult.parse(
            {
                "title": "Про обрання секретаря ради",
                "kind": "secret",
                "counts": {"for": 15, "against": 3},
            },
            sitting_id=hall.sitting,
        ),
    )
    assert (secret["for"], secret["against"], secret["abstain"], secret["result"]) == (
        15,
        3,
        0,
        "not_adopted",
    )
    shown = vote_of(hall, secret["vote_id"], staff=True)  # type: ignore[arg-type]
    assert shown["manual"] is True and "roll_call" not in shown

    before = queries.votes(hall.rt.reader(), hall.sitting)
    seen = journal_length(hall)
    bad_specs = [
        ({"title": "Т", "kind": "secret", "choices": {str(d[0]): "for"}}, "choices"),
        ({"title": "Т", "counts": {"for": 3}}, "counts"),
        ({"title": "Т", "choices": {str(d[-1] + 1000): "for"}}, "choices"),
        ({"title": "Т", "choices": {str(d[0]): "maybe"}}, f"choices.{d[0]}"),
    ]
    for spec, field in bad_specs:
        with pytest.raises(InvalidInput) as caught:
            votes.enter_manual_result(
                uow(), SECRETARY, ManualResult.parse(spec, sitting_id=hall.sitting)
            )
        assert caught.value.details["field"] == field, spec
    assert queries.votes(hall.rt.reader(), hall.sitting) == before
    assert journal_length(hall) == seen


def small_hall(rt: Runtime) -> tuple[int, list[int]]:
    """An open sitting of a council of five with four registered: cheaper than the hall."""
    council.create_council(
        rt.uow(),
        SYSTEM,
        {
            "name": "Мала рада",
            "edrpou": "87654321",
            "katottg": "UA12345678901234567",
            "statutory_deputies": 5,
        },
    )
    people = [
        council.add_deputy(rt.uow(), SECRETARY, AddDeputy.parse({"full_name": f"Депутат{n} Малий"}))
        for n in range(5)
    ]
    convocation = sittings.create_convocation(
        rt.uow(),
        SECRETARY,
        CreateConvocation.parse({"number": 1, "label": "I скликання", "date_from": "2025-01-01"}),
    )
    session = sittings.create_session(
        rt.uow(), SECRETARY, CreateSession.parse({"convocation_id": convocation, "number": 1})
    )
    sitting = sittings.create_sitting(
        rt.uow(), SECRETARY, CreateSitting.parse({"date": "2026-11-25", "session_id": session})
    )
    sittings.open_sitting(rt.uow(), SECRETARY, sitting)
    registration.open_registration(
        rt.uow(), SECRETARY, OpenRegistration.parse({}, sitting_id=sitting)
    )
    for deputy_id in people[:4]:
        registration.register(
            rt.uow(), as_deputy(deputy_id), Register.parse({}, sitting_id=sitting)
        )
    return sitting, people


def test_a_manual_secret_result_adds_up(runtime: Runtime) -> None:
    sitting, _ = small_hall(runtime)  # 4 registered of 5
    result = votes.enter_manual_result(
        runtime.uow(),
        SECRETARY,
        ManualResult.parse(
            {
                "title": "Про обрання секретаря ради",
                "kind": "secret",
                "counts": {"for": 2, "against": 1},
            },
            sitting_id=sitting,
        ),
    )
    assert (result["not_voted"], result["absent"]) == (4 - 3, 5 - 4)
