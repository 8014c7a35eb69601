"""Guards that keep a result lawful when the procedure is pushed off its usual path."""

from __future__ import annotations

from typing import Any

import pytest

from voting.domain.actors import Actor
from voting.domain.errors import (
    InvalidInput,
    InvalidTransition,
    RevoteLimitReached,
    SittingNotOpen,
)
from voting.services import casting, journal, queries, sittings, votes
from voting.services.commands import (
    AnnulVote,
    CastChoice,
    ChangeItem,
    ManualResult,
    Revote,
    SetItemStatus,
)

SECRETARY = Actor("secretary", "secretary:test")
Hall = Any  # tests/conftest.py's `hall` fixture


def deputy_actor(deputy_id: int) -> Actor:
    return Actor("deputy", f"deputy:{deputy_id}", deputy_id)


def item_status(hall: Hall, item_id: int) -> str:
    return next(
        i["status"] for i in queries.agenda(hall.rt.reader(), hall.sitting) if i["id"] == item_id
    )


def test_the_mayor_who_arrives_during_a_vote_counts_in_the_total_composition(hall: Hall) -> None:
    """Art. 59: the head counts in the total composition when taking part. Two thirds of 43 is
    29, so 28 votes "for" (27 deputies and the mayor) do not adopt."""
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    vote = hall.open_vote(title="Подолання вето", stage="other", rule="two_thirds_of_total")
    assert queries.vote(hall.rt.reader(), vote)["total_composition"] == 42
    hall.register(hall.head)  # the round is still open: the mayor arrives late
    hall.cast(vote, hall.head, "for")
    hall.cast_many(vote, hall.deputies[:27], "for")
    result = hall.close(vote)
    assert (result["total_composition"], result["threshold"], result["for"]) == (43, 29, 28)
    assert result["result"] == "not_adopted"
    assert sum(result[k] for k in ("for", "against", "abstain", "not_voted", "absent")) == 43
    assert len(queries.vote(hall.rt.reader(), vote)["roll_call"]) == 43


def test_registration_rounds_cannot_change_under_a_running_vote(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    hall.close_registration()
    vote = hall.open_vote(title="Процедурне", rule="majority_of_registered")
    hall.cast_many(vote, hall.deputies[:10], "for")
    hall.cast_many(vote, hall.deputies[10:25], "against")
    before = len(journal.read_journal(hall.rt.reader()))
    with pytest.raises(InvalidTransition, match="a vote is open"):
        hall.open_registration()
    assert len(journal.read_journal(hall.rt.reader())) == before
    result = hall.close(vote)
    assert (result["registered"], result["threshold"], result["result"]) == (30, 16, "not_adopted")


def test_a_deputy_who_voted_and_left_still_counts_as_present(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:24])
    vote = hall.open_vote(title="Процедурне", rule="majority_of_registered")
    hall.cast_many(vote, hall.deputies[:12], "for")
    hall.unregister(hall.deputies[0])  # voted, then left the hall before the close
    result = hall.close(vote)
    # 24 present at the vote: 12 "for" is not more than half of them.
    assert (result["registered"], result["for"], result["not_voted"]) == (24, 12, 12)
    assert result["result"] == "not_adopted"


def test_annulling_an_earlier_attempt_keeps_the_later_decision(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    item = hall.items[0]
    first = hall.open_vote(item_id=item)
    hall.cast_many(first, hall.deputies[:10], "for")
    hall.close(first)
    assert item_status(hall, item) == "not_adopted"
    second = votes.revote(hall.rt.uow(), SECRETARY, Revote.parse({}, vote_id=first))
    hall.cast_many(second, hall.deputies[:25], "for")
    hall.close(second)
    assert item_status(hall, item) == "adopted"
    votes.annul_vote(
        hall.rt.uow(), SECRETARY, AnnulVote.parse({"reason": "помилка оператора"}, vote_id=first)
    )
    assert item_status(hall, item) == "adopted"
    votes.annul_vote(
        hall.rt.uow(), SECRETARY, AnnulVote.parse({"reason": "порушення процедури"}, vote_id=second)
    )
    assert item_status(hall, item) == "under_consideration"


def test_decided_withdrawn_and_postponed_items_are_not_voted_afresh(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    decided, withdrawn = hall.items[0], hall.items[1]
    vote = hall.open_vote(item_id=decided)
    hall.cast_many(vote, hall.deputies[:25], "for")
    hall.close(vote)
    with pytest.raises(InvalidTransition, match="already decided"):
        hall.open_vote(item_id=decided)
    sittings.set_item_status(
        hall.rt.uow(), SECRETARY, SetItemStatus.parse({"status": "withdrawn"}, item_id=withdrawn)
    )
    with pytest.raises(InvalidTransition, match="withdrawn"):
        hall.open_vote(item_id=withdrawn)
    with pytest.raises(InvalidInput, match="comes from a vote"):
        sittings.set_item_status(
            hall.rt.uow(), SECRETARY, SetItemStatus.parse({"status": "adopted"}, item_id=withdrawn)
        )
    assert item_status(hall, withdrawn) == "withdrawn"


def test_a_closed_sittings_record_is_final(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    vote = hall.open_vote(item_id=hall.items[0])
    hall.cast_many(vote, hall.deputies[:25], "for")
    hall.close(vote)
    sittings.close_sitting(hall.rt.uow(), SECRETARY, hall.sitting)
    before = len(journal.read_journal(hall.rt.reader()))
    with pytest.raises(InvalidTransition):
        sittings.update_item(
            hall.rt.uow(), SECRETARY, ChangeItem.parse({"title": "Інше"}, item_id=hall.items[0])
        )
    with pytest.raises(InvalidTransition):
        sittings.set_item_status(
            hall.rt.uow(),
            SECRETARY,
            SetItemStatus.parse({"status": "postponed"}, item_id=hall.items[1]),
        )
    with pytest.raises(SittingNotOpen):
        votes.annul_vote(
            hall.rt.uow(), SECRETARY, AnnulVote.parse({"reason": "запізно"}, vote_id=vote)
        )
    assert len(journal.read_journal(hall.rt.reader())) == before
    assert queries.vote(hall.rt.reader(), vote)["state"] == "closed"


def test_a_manual_result_obeys_the_revote_rules_and_is_never_shown_as_opened(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    item = hall.items[0]
    first = hall.open_vote(item_id=item)
    hall.close(first)
    uow = hall.rt.uow
    with pytest.raises(InvalidInput, match="another question"):
        votes.enter_manual_result(
            uow(),
            SECRETARY,
            ManualResult.parse(
                {"item_id": hall.items[1], "previous_vote_id": first, "choices": {}},
                sitting_id=hall.sitting,
            ),
        )
    second = votes.revote(uow(), SECRETARY, Revote.parse({}, vote_id=first))
    hall.close(second)
    with pytest.raises(InvalidTransition, match="already has a re-vote"):
        votes.enter_manual_result(
            uow(),
            SECRETARY,
            ManualResult.parse(
                {"item_id": item, "previous_vote_id": first, "choices": {}}, sitting_id=hall.sitting
            ),
        )
    third = votes.revote(uow(), SECRETARY, Revote.parse({}, vote_id=second))
    votes.annul_vote(uow(), SECRETARY, AnnulVote.parse({"reason": "збій системи"}, vote_id=third))
    with pytest.raises(RevoteLimitReached):
        votes.enter_manual_result(
            uow(),
            SECRETARY,
            ManualResult.parse(
                {"item_id": item, "previous_vote_id": third, "choices": {}}, sitting_id=hall.sitting
            ),
        )
    before = len(journal.read_journal(hall.rt.reader()))
    manual = votes.enter_manual_result(
        uow(),
        SECRETARY,
        ManualResult.parse(
            {
                "title": "Процедурне",
                "stage": "procedural",
                "choices": {str(d): "for" for d in hall.deputies[:23]},
            },
            sitting_id=hall.sitting,
        ),
    )
    kinds = [e["kind"] for e in journal.read_journal(hall.rt.reader(), before)]
    assert "vote_opened" not in kinds and kinds[-2:] == ["manual_result_entered", "vote_closed"]
    assert manual["result"] == "adopted"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_secret_answer_is_the_same_whatever_the_choice(hall: Hall) -> None:
    """The answer's size must not tell a listener on the hall network what was chosen."""
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    vote = hall.open_vote(title="Обрання секретаря ради", stage="other", kind="secret")
    answers = [
        casting.cast_choice(
            hall.rt.uow(), deputy_actor(d), CastChoice.parse({"choice": choice}, vote_id=vote)
        )
        for d, choice in zip(hall.deputies, ("for", "against", "abstain"), strict=False)
    ]
    shapes = {tuple(sorted((k, v) for k, v in a.items() if k != "deputy_id")) for a in answers}
    assert len(shapes) == 1 and "choice" not in answers[0] and answers[0]["recorded"] is True


def test_a_manual_result_never_overrides_a_counted_vote_nor_speaks_for_the_absent(
    hall: Hall,
) -> None:
    """The holes a careless operator found: after an electronic vote was counted, a "manual
    result" turned a deputy's own "against" into "for" and adopted the item; and it recorded
    choices for deputies who never registered. A manual result is a new attempt after an
    annulled vote, for deputies present only."""
    hall.open_registration()
    hall.register(*hall.deputies[:25])
    item = hall.items[0]
    first = hall.open_vote(item_id=item)
    hall.cast(first, hall.deputies[0], "against")
    for deputy_id in hall.deputies[1:10]:
        hall.cast(first, deputy_id, "for")
    assert hall.close(first)["result"] == "not_adopted"
    uow = hall.rt.uow
    all_for = {str(d): "for" for d in hall.deputies[:25]}

    def manual(spec: dict[str, Any]) -> dict[str, object]:
        return votes.enter_manual_result(
            uow(), SECRETARY, ManualResult.parse(spec, sitting_id=hall.sitting)
        )

    before = (
        queries.votes(hall.rt.reader(), hall.sitting),
        len(journal.read_journal(hall.rt.reader())),
    )
    with pytest.raises(InvalidTransition, match=f"vote {first} was counted.*annul it first"):
        manual({"item_id": item, "previous_vote_id": first, "choices": all_for})
    with pytest.raises(InvalidTransition):  # nor beside it, as if it were the first attempt
        manual({"item_id": item, "choices": all_for})
    after = (
        queries.votes(hall.rt.reader(), hall.sitting),
        len(journal.read_journal(hall.rt.reader())),
    )
    assert after == before
    assert queries.vote(hall.rt.reader(), first)["result"]["against"] == 1

    votes.annul_vote(uow(), SECRETARY, AnnulVote.parse({"reason": "збій пульта"}, vote_id=first))
    absent = hall.deputies[30]  # never registered
    with pytest.raises(InvalidInput, match=f"deputy {absent} is not registered"):
        manual({"item_id": item, "previous_vote_id": first, "choices": {str(absent): "for"}})
    entered = manual(
        {
            "item_id": item,
            "previous_vote_id": first,
            "choices": all_for,
            "note": "Лічильна комісія, протокол № 2",
        }
    )
    assert entered["for"] == 25 and entered["result"] == "adopted"
    shown = queries.vote(hall.rt.reader(), entered["vote_id"])
    assert shown["manual"] is True and shown["attempt"] == 2
    assert shown["previous_vote_id"] == first
    # the electronic vote stays as it was counted, annulled, with its deputy's own choice
    kept = queries.vote(hall.rt.reader(), first)
    assert kept["state"] == "annulled" and kept["result"]["against"] == 1
