"""Registration rounds, the total composition and the quorum, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from voting.domain.actors import Actor
from voting.domain.errors import (
    AlreadyRegistered,
    InvalidInput,
    NoOpenRegistration,
    NotRegistered,
    PermissionDenied,
    RegistrationAlreadyOpen,
)
from voting.services import casting, council, queries, registration, sittings, votes
from voting.services.commands import (
    AddCommittee,
    CastChoice,
    ChangeDeputy,
    ChangeSettings,
    CreateSitting,
    Leave,
    OpenRegistration,
    OpenVote,
    Register,
)

if TYPE_CHECKING:
    from halls import Hall

SECRETARY = Actor("secretary", "secretary:test")
CHAIR = Actor("chair", "chair:test")


def as_deputy(deputy_id: int) -> Actor:
    return Actor("deputy", f"deputy:{deputy_id}", deputy_id)


def shown(hall: Hall) -> dict[str, object]:
    """What the control screen shows about the sitting right now."""
    return queries.sitting(hall.rt.reader(), hall.sitting)


def counts(state: dict[str, object]) -> tuple[object, ...]:
    """Total, registered, quorum needed, present for quorum, quorum met: from a sitting or an
    acknowledgement of (un)registering."""
    state = state.get("presence", state)  # type: ignore[assignment]
    return (
        state["total_composition"],
        state["registered"],
        state["quorum_required"],
        state["quorum_present"],
        state["quorum"],
    )


def test_rounds_open_and_close_and_every_change_recounts(hall: Hall) -> None:
    assert shown(hall)["registration"] is None
    with pytest.raises(NoOpenRegistration):
        hall.register(hall.deputies[0])
    assert hall.open_registration() == 1
    with pytest.raises(RegistrationAlreadyOpen):
        hall.open_registration()
    assert shown(hall)["registration"]["open"] is True  # type: ignore[index]
    d = hall.deputies
    hall.register(*d[:20])
    assert counts(hall.register(d[20])) == (42, 21, 22, 21, False)
    assert counts(hall.register(d[21])) == (42, 22, 22, 22, True)
    assert counts(shown(hall)) == (42, 22, 22, 22, True)
    with pytest.raises(AlreadyRegistered):
        hall.register(d[21])
    with pytest.raises(AlreadyRegistered):
        registration.register(
            hall.rt.uow(), SECRETARY, Register.parse({"deputy_id": d[21]}, sitting_id=hall.sitting)
        )
    assert counts(hall.unregister(d[0])) == (42, 21, 22, 21, False)
    with pytest.raises(NotRegistered):
        hall.unregister(d[0])
    assert counts(hall.register(d[0])) == (42, 22, 22, 22, True)
    assert counts(hall.close_registration()) == (42, 22, 22, 22, True)
    assert shown(hall)["registration"] == {
        "round": 1,
        "open": False,
        "opened_at": "2026-11-25T08:00:00+00:00",
        "interrupted_at": None,  # no server stopped while it was open
    }
    # After the round closes, latecomers wait for the next round; those registered stay so.
    with pytest.raises(NoOpenRegistration):
        hall.register(d[30])
    with pytest.raises(NoOpenRegistration):
        hall.close_registration()
    assert counts(shown(hall)) == (42, 22, 22, 22, True)


def test_quorum_at_exactly_22_of_42_and_the_mayor(hall: Hall) -> None:
    assert shown(hall)["total_composition"] == 42
    hall.open_registration()
    hall.register(*hall.deputies[:20])
    # The mayor counts in the total composition only once registered (art. 59 part 2).
    assert counts(hall.register(hall.head)) == (43, 21, 22, 20, False)
    # Total composition 43, quorum 22. By default the Regulation counts deputies only: 21.
    assert counts(hall.register(hall.deputies[20])) == (43, 22, 22, 21, False)
    council.update_settings(
        hall.rt.uow(), SECRETARY, ChangeSettings.parse({"quorum_counts_head": True})
    )
    assert counts(shown(hall)) == (43, 22, 22, 22, True)
    # Without the mayor the total composition drops to 42, the quorum is still 22, 21 present.
    assert counts(hall.unregister(hall.head)) == (42, 21, 22, 21, False)
    assert counts(hall.register(hall.deputies[21])) == (42, 22, 22, 22, True)
    council.update_settings(
        hall.rt.uow(), SECRETARY, ChangeSettings.parse({"quorum_counts_head": False})
    )
    assert counts(hall.register(hall.head)) == (43, 23, 22, 22, True)
    assert counts(hall.unregister(hall.deputies[0])) == (43, 22, 22, 21, False)
    # A council whose head does not vote never counts them, registered or not.
    council.update_settings(hall.rt.uow(), SECRETARY, ChangeSettings.parse({"head_votes": False}))
    assert counts(shown(hall)) == (42, 21, 22, 21, False)  # the registered mayor is ignored
    hall.unregister(hall.head)
    with pytest.raises(InvalidInput, match="does not take part"):
        hall.register(hall.head)


def test_only_the_staff_register_someone_else(hall: Hall) -> None:
    hall.open_registration()
    first, second = hall.deputies[:2]
    uow = hall.rt.uow
    with pytest.raises(PermissionDenied, match="only themselves"):
        registration.register(
            uow(), as_deputy(first), Register.parse({"deputy_id": second}, sitting_id=hall.sitting)
        )
    with pytest.raises(PermissionDenied, match="only themselves"):
        registration.unregister(
            uow(), as_deputy(first), Leave.parse({"deputy_id": second}, sitting_id=hall.sitting)
        )
    assert shown(hall)["registered"] == 0
    # The deputy may name themselves; the secretary and the chair may mark anyone present.
    assert (
        registration.register(
            uow(), as_deputy(first), Register.parse({"deputy_id": first}, sitting_id=hall.sitting)
        )["presence"]["registered"]
        == 1
    )
    assert (
        registration.register(
            uow(), SECRETARY, Register.parse({"deputy_id": second}, sitting_id=hall.sitting)
        )["presence"]["registered"]
        == 2
    )
    assert (
        registration.register(
            uow(), CHAIR, Register.parse({"deputy_id": hall.head}, sitting_id=hall.sitting)
        )["presence"]["total_composition"]
        == 43
    )
    with pytest.raises(InvalidInput) as caught:
        registration.register(uow(), SECRETARY, Register.parse({}, sitting_id=hall.sitting))
    assert caught.value.details["field"] == "deputy_id"
    with pytest.raises(PermissionDenied):
        registration.open_registration(
            uow(), as_deputy(first), OpenRegistration.parse({}, sitting_id=hall.sitting)
        )
    with pytest.raises(PermissionDenied):
        registration.close_registration(uow(), as_deputy(first), hall.sitting)
    left = registration.unregister(
        uow(), SECRETARY, Leave.parse({"deputy_id": second}, sitting_id=hall.sitting)
    )
    assert left["registered"] is False and left["presence"]["registered"] == 2


def test_a_new_round_starts_empty_unless_carried_over(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:10], hall.head)
    hall.close_registration()
    assert hall.open_registration(carry_over=True) == 2
    assert counts(shown(hall)) == (43, 11, 22, 10, False)
    # Already registered through the carry-over: a second press is refused, latecomers add up.
    with pytest.raises(AlreadyRegistered):
        hall.register(hall.deputies[0])
    assert counts(hall.register(*hall.deputies[10:22])) == (43, 23, 22, 22, True)
    hall.close_registration()
    assert hall.open_registration() == 3
    assert counts(shown(hall)) == (42, 0, 22, 0, False)
    hall.register(hall.deputies[5])
    assert shown(hall)["registration"]["round"] == 3  # type: ignore[index]
    assert shown(hall)["registered"] == 1


def test_a_vacant_seat_does_not_reduce_the_total_composition(hall: Hall) -> None:
    vacant = hall.deputies[-1]
    council.update_deputy(
        hall.rt.uow(), SECRETARY, ChangeDeputy.parse({"active": False}, deputy_id=vacant)
    )
    hall.open_registration()
    with pytest.raises(InvalidInput, match="does not take part"):
        hall.register(vacant)
    assert counts(hall.register(*hall.deputies[:21])) == (42, 21, 22, 21, False)
    assert counts(hall.register(hall.deputies[21])) == (42, 22, 22, 22, True)
    # The empty seat counts against adoption: 22 "for" of 42 still adopts, the vacancy is absent.
    vote = hall.open_vote(item_id=hall.items[0])
    hall.cast_many(vote, hall.deputies[:22], "for")
    result = hall.close(vote)
    assert (result["total_composition"], result["threshold"], result["result"]) == (
        42,
        22,
        "adopted",
    )
    assert result["absent"] == 20  # 19 deputies not registered and the vacant seat


def test_a_committee_sitting_has_its_own_composition_and_quorum(hall: Hall) -> None:
    uow = hall.rt.uow
    members = hall.deputies[:5]
    body = council.add_committee(
        uow(),
        SECRETARY,
        AddCommittee.parse({"name": "Постійна комісія з питань бюджету", "members": members}),
    )
    sitting = sittings.create_sitting(
        uow(), SECRETARY, CreateSitting.parse({"date": "2026-11-24", "body_id": body})
    )
    sittings.open_sitting(uow(), SECRETARY, sitting)
    registration.open_registration(uow(), SECRETARY, OpenRegistration.parse({}, sitting_id=sitting))
    for outsider in (hall.deputies[5], hall.head):
        with pytest.raises(InvalidInput, match="does not take part"):
            registration.register(
                uow(), as_deputy(outsider), Register.parse({}, sitting_id=sitting)
            )
    registration.register(uow(), as_deputy(members[0]), Register.parse({}, sitting_id=sitting))
    state = registration.register(
        uow(), as_deputy(members[1]), Register.parse({}, sitting_id=sitting)
    )
    assert counts(state) == (5, 2, 3, 2, False)
    state = registration.register(
        uow(), as_deputy(members[2]), Register.parse({}, sitting_id=sitting)
    )
    assert counts(state) == (5, 3, 3, 3, True)
    # The plenary is untouched by the committee's registration.
    assert shown(hall)["registered"] == 0
    vote = votes.open_vote(
        uow(), SECRETARY, OpenVote.parse({"title": "Рекомендувати проєкт"}, sitting_id=sitting)
    )
    for member in members[:3]:
        casting.cast_choice(
            uow(), as_deputy(member), CastChoice.parse({"choice": "for"}, vote_id=vote)
        )
    with pytest.raises(PermissionDenied):
        casting.cast_choice(
            uow(), as_deputy(hall.deputies[6]), CastChoice.parse({"choice": "for"}, vote_id=vote)
        )
    result = votes.close_vote(uow(), SECRETARY, vote)
    assert (
        result["total_composition"],
        result["for"],
        result["absent"],
        result["threshold"],
        result["result"],
    ) == (5, 3, 2, 3, "adopted")
