"""The agenda, the roster and the council settings, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from voting.domain.actors import SYSTEM, Actor
from voting.domain.errors import InvalidInput, PermissionDenied
from voting.services import council, journal, queries, sittings
from voting.services.commands import (
    AddDeputy,
    AddItem,
    ChangeDeputy,
    ChangeItem,
    ChangeSettings,
    ReorderAgenda,
    SetItemStatus,
)
from voting.services.roster_import import DeputyRecord

if TYPE_CHECKING:
    from halls import Hall

    from voting.bootstrap import Runtime


SECRETARY = Actor("secretary", "secretary:test")
CHAIR = Actor("chair", "chair:test")


def agenda(hall: Hall) -> list[dict[str, object]]:
    return queries.agenda(hall.rt.reader(), hall.sitting)


def order(hall: Hall) -> list[object]:
    items = agenda(hall)
    assert [i["position"] for i in items] == list(range(1, len(items) + 1))
    return [i["id"] for i in items]


def journal_entries(hall: Hall) -> list[dict[str, object]]:
    return journal.read_journal(hall.rt.reader(), limit=100_000)


def roster(hall: Hall) -> list[dict[str, object]]:
    return queries.deputies(hall.rt.reader())


def refused(field: str, action, *args: object) -> InvalidInput:  # type: ignore[no-untyped-def]
    """Run an action that must be refused as invalid input naming `field`."""
    with pytest.raises(InvalidInput) as caught:
        action(*args)
    assert caught.value.details.get("field") == field, caught.value.message
    return caught.value


def test_items_go_where_asked_and_the_agenda_reorders(hall: Hall) -> None:
    uow = hall.rt.uow
    one, two, three = hall.items
    first = sittings.add_item(
        uow(),
        SECRETARY,
        AddItem.parse({"title": "Про бюджет", "position": 1}, sitting_id=hall.sitting),
    )
    last = sittings.add_item(
        uow(), SECRETARY, AddItem.parse({"title": "Різне"}, sitting_id=hall.sitting)
    )
    middle = sittings.add_item(
        uow(),
        SECRETARY,
        AddItem.parse({"title": "Про тарифи", "position": 3}, sitting_id=hall.sitting),
    )
    assert order(hall) == [first, one, middle, two, three, last]
    for bad in (0, 8, "2"):
        refused(
            "position",
            lambda bad=bad: sittings.add_item(
                uow(),
                SECRETARY,
                AddItem.parse({"title": "Зайве", "position": bad}, sitting_id=hall.sitting),
            ),
        )
    refused(
        "speaker",
        lambda: sittings.add_item(
            uow(),
            SECRETARY,
            AddItem.parse({"title": "Зайве", "speaker": "Хтось"}, sitting_id=hall.sitting),
        ),
    )

    wanted = [last, three, two, middle, one, first]
    sittings.reorder_agenda(
        uow(), CHAIR, ReorderAgenda.parse({"order": wanted}, sitting_id=hall.sitting)
    )
    assert order(hall) == wanted
    error = refused(
        "order",
        lambda: sittings.reorder_agenda(
            uow(), SECRETARY, ReorderAgenda.parse({"order": wanted[1:]}, sitting_id=hall.sitting)
        ),
    )
    assert f"missing [{last}]" in error.message
    error = refused(
        "order",
        lambda: sittings.reorder_agenda(
            uow(),
            SECRETARY,
            ReorderAgenda.parse({"order": [*wanted[:-1], 999_999]}, sitting_id=hall.sitting),
        ),
    )
    assert f"missing [{first}]" in error.message and "not on this agenda [999999]" in error.message
    error = refused(
        "order",
        lambda: sittings.reorder_agenda(
            uow(),
            SECRETARY,
            ReorderAgenda.parse({"order": [*wanted, last]}, sitting_id=hall.sitting),
        ),
    )
    assert "exactly once" in error.message
    refused(
        "order",
        lambda: sittings.reorder_agenda(
            uow(),
            SECRETARY,
            ReorderAgenda.parse({"order": ",".join(map(str, wanted))}, sitting_id=hall.sitting),
        ),
    )
    refused(
        "order",
        lambda: sittings.reorder_agenda(
            uow(), SECRETARY, ReorderAgenda.parse({"order": [True] * 6}, sitting_id=hall.sitting)
        ),
    )
    with pytest.raises(PermissionDenied):
        sittings.reorder_agenda(
            uow(),
            Actor("deputy", "deputy:1", hall.deputies[0]),
            ReorderAgenda.parse({"order": list(reversed(wanted))}, sitting_id=hall.sitting),
        )
    assert order(hall) == wanted
    assert len(agenda(hall)) == 6


def test_item_status_and_details_change_only_when_valid(hall: Hall) -> None:
    uow, item = hall.rt.uow, hall.items[1]
    sittings.set_item_status(
        uow(), CHAIR, SetItemStatus.parse({"status": "withdrawn"}, item_id=item)
    )
    shown = next(i for i in agenda(hall) if i["id"] == item)
    assert (shown["status"], shown["status_uk"]) == ("withdrawn", "Знято з розгляду")
    error = refused(
        "status",
        lambda: sittings.set_item_status(
            uow(), SECRETARY, SetItemStatus.parse({"status": "done"}, item_id=item)
        ),
    )
    assert (
        "pending, under_consideration, adopted, not_adopted, withdrawn, postponed" in error.message
    )

    sittings.update_item(
        uow(),
        SECRETARY,
        ChangeItem.parse(
            {"title": "Про внесення змін до бюджету", "draft_number": "1024/3"}, item_id=item
        ),
    )
    entry = journal_entries(hall)[-1]
    assert entry["kind"] == "item_changed"
    assert entry["payload"] == {
        "item_id": item,
        "before": {"title": "Про питання 2", "draft_number": "752/2"},
        "after": {"title": "Про внесення змін до бюджету", "draft_number": "1024/3"},
    }

    before, seen = agenda(hall), len(journal_entries(hall))
    error = refused(
        "title",
        lambda: sittings.add_item(
            uow(), SECRETARY, AddItem.parse({"title": "Д" * 5001}, sitting_id=hall.sitting)
        ),
    )
    assert "5001 characters" in error.message and "at most 5000" in error.message
    refused(
        "title",
        lambda: sittings.update_item(
            uow(), SECRETARY, ChangeItem.parse({"title": "Д" * 5001}, item_id=item)
        ),
    )
    refused(
        "draft_number",
        lambda: sittings.update_item(
            uow(),
            SECRETARY,
            ChangeItem.parse({"title": "Коротка назва", "draft_number": "9" * 41}, item_id=item),
        ),
    )
    refused(
        "title",
        lambda: sittings.update_item(
            uow(), SECRETARY, ChangeItem.parse({"title": "   "}, item_id=item)
        ),
    )
    assert (agenda(hall), len(journal_entries(hall))) == (before, seen)
    sittings.update_item(
        uow(), SECRETARY, ChangeItem.parse({"title": "Д" * 5000}, item_id=item)
    )  # the limit itself fits
    assert next(i for i in agenda(hall) if i["id"] == item)["title"] == "Д" * 5000


def new_deputy(n: int, **more: object) -> dict[str, object]:
    return {"full_name": f"Новенко{n} Петро Іванович", "voting_identifier": f"new-{n}", **more}


def test_the_roster_fills_up_to_the_statutory_number_with_unique_identifiers(hall: Hall) -> None:
    uow = hall.rt.uow
    with pytest.raises(InvalidInput, match="42 statutory seats and they are all filled"):
        council.add_deputy(uow(), SECRETARY, AddDeputy.parse(new_deputy(1)))
    council.update_deputy(
        uow(), SECRETARY, ChangeDeputy.parse({"active": False}, deputy_id=hall.deputies[0])
    )
    newcomer = council.add_deputy(uow(), SECRETARY, AddDeputy.parse(new_deputy(1)))
    with pytest.raises(InvalidInput, match="all filled"):
        council.add_deputy(uow(), SECRETARY, AddDeputy.parse(new_deputy(2)))
    with pytest.raises(InvalidInput, match="all filled"):  # the old mandate cannot come back
        council.update_deputy(
            uow(), SECRETARY, ChangeDeputy.parse({"active": True}, deputy_id=hall.deputies[0])
        )
    # A vacant seat may stay on the roster inactive; the statutory number cannot drop below 42.
    refused(
        "statutory_deputies",
        lambda: council.update_settings(
            uow(), SECRETARY, ChangeSettings.parse({"statutory_deputies": 41})
        ),
    )
    council.update_settings(uow(), SECRETARY, ChangeSettings.parse({"statutory_deputies": 43}))
    council.add_deputy(uow(), SECRETARY, AddDeputy.parse(new_deputy(2)))
    people = roster(hall)
    assert sum(1 for p in people if p["active"] and not p["is_head"]) == 43
    assert next(p for p in people if p["id"] == newcomer)["short_name"] == "Новенко1 П. І."
    with pytest.raises(PermissionDenied):
        council.add_deputy(uow(), CHAIR, AddDeputy.parse(new_deputy(3)))

    # Identifiers are unique within the council, and there is one head.
    d = hall.deputies
    council.update_deputy(
        uow(), SECRETARY, ChangeDeputy.parse({"active": False}, deputy_id=d[-1])
    )  # room for one more
    seen = len(roster(hall))
    error = refused(
        "voting_identifier",
        lambda: council.add_deputy(
            uow(), SECRETARY, AddDeputy.parse(new_deputy(3, voting_identifier="dep-2"))
        ),
    )
    assert "Депутатенко02 Іван Петрович" in error.message
    refused(
        "voting_identifier",
        lambda: council.add_deputy(
            uow(), SECRETARY, AddDeputy.parse(new_deputy(3, voting_identifier="new-1"))
        ),
    )
    refused(
        "card_uid",
        lambda: council.add_deputy(
            uow(), SECRETARY, AddDeputy.parse(new_deputy(3, card_uid="CARD0002"))
        ),
    )
    refused(
        "seat_number",
        lambda: council.add_deputy(uow(), SECRETARY, AddDeputy.parse(new_deputy(3, seat_number=3))),
    )
    refused(
        "voting_identifier",
        lambda: council.update_deputy(
            uow(), SECRETARY, ChangeDeputy.parse({"voting_identifier": "dep-2"}, deputy_id=d[2])
        ),
    )
    refused(
        "card_uid",
        lambda: council.update_deputy(
            uow(), SECRETARY, ChangeDeputy.parse({"card_uid": "CARD0002"}, deputy_id=d[2])
        ),
    )
    error = refused(
        "is_head",
        lambda: council.add_deputy(
            uow(), SECRETARY, AddDeputy.parse({"full_name": "Другий Мер Мерович", "is_head": True})
        ),
    )
    assert "already has a head" in error.message
    assert len(roster(hall)) == seen
    assert queries.deputy(hall.rt.reader(), d[2])["voting_identifier"] == "dep-3"
    # Keeping one's own identifier is not a clash.
    council.update_deputy(
        uow(),
        SECRETARY,
        ChangeDeputy.parse({"voting_identifier": "dep-3", "seat_number": 3}, deputy_id=d[2]),
    )
    council.add_deputy(uow(), SECRETARY, AddDeputy.parse(new_deputy(3)))


def record(n: int, voting_identifier: str | None = None) -> DeputyRecord:
    return DeputyRecord(
        external_id=f"EXT-{n}",
        voting_identifier=voting_identifier or f"imp-{n}",
        family_name=f"Імпортенко{n}",
        given_name="Олена",
        patronymic="Василівна",
        faction_name="Громада-2030",
        committee_name=None,
        area_id=n,
        katottg="UA12345678901234567",
    )


def test_importing_deputies_is_all_or_nothing(hall: Hall) -> None:
    uow = hall.rt.uow
    for deputy_id in hall.deputies[-3:]:
        council.update_deputy(
            uow(), SECRETARY, ChangeDeputy.parse({"active": False}, deputy_id=deputy_id)
        )
    before, seen = roster(hall), len(journal_entries(hall))
    clash = [record(1), record(2), record(3, voting_identifier="dep-1")]
    error = refused("voting_identifier", lambda: council.import_deputies(uow(), SECRETARY, clash))
    assert "EXT-3" in error.message and "Імпортенко3 Олена Василівна" in error.message
    too_many = [record(1), record(2), record(3), record(4)]
    with pytest.raises(InvalidInput, match="EXT-4.*all filled"):
        council.import_deputies(uow(), SECRETARY, too_many)
    assert (roster(hall), len(journal_entries(hall))) == (before, seen)

    ids = council.import_deputies(uow(), SECRETARY, too_many[:3])
    imported = [p for p in roster(hall) if p["id"] in ids]
    assert sorted(p["full_name"] for p in imported) == [  # type: ignore[type-var]
        f"Імпортенко{n} Олена Василівна" for n in (1, 2, 3)
    ]
    assert {p["faction"] for p in imported} == {"Громада-2030"}
    assert journal_entries(hall)[-1]["payload"] == {"count": 3, "deputy_ids": ids}


def test_settings_changes_are_journaled_with_before_and_after(hall: Hall) -> None:
    uow = hall.rt.uow
    council.update_settings(
        uow(),
        SECRETARY,
        ChangeSettings.parse(
            {
                "revote_limit": 3,
                "show_running_split": True,
                "default_rule": "majority_of_registered",
            }
        ),
    )
    entry = journal_entries(hall)[-1]
    assert (entry["kind"], entry["actor"]) == ("settings_changed", "secretary:test")
    assert entry["payload"] == {
        "before": {
            "revote_limit": 2,
            "show_running_split": False,
            "default_rule": "majority_of_total",
        },
        "after": {
            "revote_limit": 3,
            "show_running_split": True,
            "default_rule": "majority_of_registered",
        },
    }
    info = queries.council_info(hall.rt.reader())
    assert (info["revote_limit"], info["default_rule"]) == (3, "majority_of_registered")

    seen = len(journal_entries(hall))
    refused(
        "revote_limit",
        lambda: council.update_settings(
            uow(), SECRETARY, ChangeSettings.parse({"revote_limit": 50})
        ),
    )
    refused(
        "quorum_numerator",
        lambda: council.update_settings(
            uow(), SECRETARY, ChangeSettings.parse({"quorum_numerator": 3})
        ),
    )
    refused(
        "default_rule",
        lambda: council.update_settings(
            uow(), SECRETARY, ChangeSettings.parse({"default_rule": "unanimity"})
        ),
    )
    refused(
        "colour",
        lambda: council.update_settings(uow(), SECRETARY, ChangeSettings.parse({"colour": "blue"})),
    )
    refused(
        "head_votes",
        lambda: council.update_settings(
            uow(), SECRETARY, ChangeSettings.parse({"head_votes": "yes"})
        ),
    )
    with pytest.raises(PermissionDenied):
        council.update_settings(uow(), CHAIR, ChangeSettings.parse({"revote_limit": 1}))
    assert len(journal_entries(hall)) == seen
    assert queries.council_info(hall.rt.reader()) == info


def small_council(rt: Runtime) -> tuple[int, list[int]]:
    """A council of three deputies and a head, without sittings: cheaper than the hall."""
    council.create_council(
        rt.uow(),
        SYSTEM,
        {
            "name": "Мала рада",
            "edrpou": "87654321",
            "katottg": "UA12345678901234567",
            "statutory_deputies": 3,
        },
    )
    head = council.add_deputy(
        rt.uow(), SECRETARY, AddDeputy.parse({"full_name": "Голова Ради", "is_head": True})
    )
    return head, [
        council.add_deputy(rt.uow(), SECRETARY, AddDeputy.parse({"full_name": f"Депутат{n} Малий"}))
        for n in range(3)
    ]


def test_a_second_head_cannot_be_made_by_an_update(runtime: Runtime) -> None:
    _, deputies = small_council(runtime)
    refused(
        "is_head",
        lambda: council.update_deputy(
            runtime.uow(), SECRETARY, ChangeDeputy.parse({"is_head": True}, deputy_id=deputies[0])
        ),
    )
