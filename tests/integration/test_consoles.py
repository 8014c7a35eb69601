"""The seat consoles' use cases (services/consoles.py), as the console gateway drives them:
cards, keys, alarms and blocking against proxy button-pressing, all journaled; on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from halls import Hall

from voting.domain.actors import Actor, Role
from voting.domain.errors import InvalidInput, PermissionDenied
from voting.services import consoles, council, queries
from voting.services.commands import (
    ChangeDeputy,
    ConsoleCard,
    ConsoleHealth,
    ConsolePress,
    ResolveSeatAlarm,
)
from voting.services.journal import read_journal

GATEWAY = Actor(Role.CONSOLE_GATEWAY, "console gateway")
SECRETARY = Actor(Role.SECRETARY, "secretary:test")
RULES = consoles.ConsoleRules()


def uid(n: int) -> str:
    return f"04{n:012X}"


@pytest.fixture
def seated(hall: Hall) -> Hall:
    """The first six deputies hold hex card UIDs (as a card reader reports them); seats 1-6."""
    for n, deputy in enumerate(hall.deputies[:6], start=1):
        council.update_deputy(
            hall.rt.uow(),
            SECRETARY,
            ChangeDeputy.parse({"card_uid": uid(n).lower()}, deputy_id=deputy),
        )
    consoles.declare_seats(hall.rt.uow(), GATEWAY, {s: ("/dev/ttyUSB0", s) for s in range(1, 7)})
    return hall


def card(hall: Hall, seat: int, card_uid: str | None, rules: consoles.ConsoleRules = RULES):
    command = ConsoleCard.parse({"seat": seat, "uid": card_uid})
    return consoles.card_changed(hall.rt.uow(), GATEWAY, command, rules)


def press(hall: Hall, seat: int, key: str, held_ms: int | None = None, rules=RULES):
    command = ConsolePress.parse({"seat": seat, "key": key, "held_ms": held_ms})
    return consoles.key_pressed(hall.rt.uow(), GATEWAY, command, rules, hall.rt.floor_rules)


def choices(hall: Hall, vote_id: int) -> dict[int, str]:
    sheet = queries.vote(hall.rt.reader(), vote_id, staff=True)["roll_call"]
    return {line["deputy_id"]: line["outcome"] for line in sheet}


def journal_kinds(hall: Hall) -> list[str]:
    return [e["kind"] for e in read_journal(hall.rt.reader(), limit=10_000)]


def test_a_card_registers_its_deputy_and_a_key_casts_their_choice(seated: Hall) -> None:
    hall, first = seated, seated.deputies[0]
    hall.open_registration()
    answer = card(hall, 1, uid(1))  # the card reader's UID in upper case; stored lower case
    assert answer["deputy_id"] == first and answer["registered"] is True
    card(hall, 2, uid(2))
    hall.register(*hall.deputies[2:30])
    hall.close_registration()
    vote = hall.open_vote(title="Про бюджет")
    assert press(hall, 1, "for")["seat"] == 1
    press(hall, 2, "against")
    lights = {s["seat"]: s for s in consoles.consoles_state(hall.rt.reader())}
    assert lights[1]["choice"] == "for" and lights[2]["choice"] == "against"
    assert lights[1]["registered"] and lights[1]["vote_open"] and not lights[1]["locked"]
    hall.close(vote)
    assert choices(hall, vote)[first] == "for"
    assert {"console_card_inserted", "deputy_registered"} <= set(journal_kinds(hall))


def test_keys_count_only_from_a_seat_with_the_card_of_a_registered_deputy(seated: Hall) -> None:
    hall = seated
    hall.open_registration()
    hall.register(*hall.deputies[10:40])
    card(hall, 3, uid(3), consoles.ConsoleRules(register_on_card=False))  # not registered
    hall.close_registration()
    vote = hall.open_vote(title="Про землю")
    with pytest.raises(consoles.SeatRefused, match="no deputy's card is in seat 4"):
        press(hall, 4, "for")
    with pytest.raises(consoles.SeatRefused, match="not registered"):
        press(hall, 3, "for")
    with pytest.raises(consoles.SeatRefused, match="belongs to no deputy"):
        card(hall, 5, "DEADBEEF")
    with pytest.raises(consoles.SeatRefused, match="no deputy's card"):
        press(hall, 5, "for")
    hall.close(vote)
    assert hall.deputies[2] not in {d for d, o in choices(hall, vote).items() if o == "for"}


def test_one_card_in_two_seats_locks_both_until_the_secretary_settles_it(seated: Hall) -> None:
    hall, first = seated, seated.deputies[0]
    hall.open_registration()
    card(hall, 1, uid(1))
    answer = card(hall, 6, uid(1))  # a copy of deputy 1's card in seat 6
    assert answer["alarm"] is True
    hall.register(*hall.deputies[10:40])
    hall.close_registration()
    vote = hall.open_vote(title="Про тариф")
    for seat in (1, 6):
        with pytest.raises(consoles.SeatRefused, match="secretary must settle"):
            press(hall, seat, "for")
    state = {s["seat"]: s for s in consoles.consoles_state(hall.rt.reader())}
    assert state[1]["alarm"] and state[1]["locked"] and state[6]["locked"]
    with pytest.raises(PermissionDenied):
        consoles.resolve_alarm(hall.rt.uow(), GATEWAY, ResolveSeatAlarm(seat=1))
    settled = consoles.resolve_alarm(hall.rt.uow(), SECRETARY, ResolveSeatAlarm(seat=1))
    assert settled["emptied"] == [6]
    press(hall, 1, "abstain")
    with pytest.raises(consoles.SeatRefused, match="no deputy's card is in seat 6"):
        press(hall, 6, "for")
    hall.close(vote)
    assert choices(hall, vote)[first] == "abstain"
    kinds = journal_kinds(hall)
    assert "console_alarm" in kinds and "console_alarm_resolved" in kinds


def test_taking_the_card_out_during_a_vote_blocks_the_seat_for_that_vote(seated: Hall) -> None:
    hall, second = seated, seated.deputies[1]
    hall.open_registration()
    card(hall, 2, uid(2))
    hall.register(*hall.deputies[10:40])
    hall.close_registration()
    vote = hall.open_vote(title="Про сквер")
    assert card(hall, 2, None)["blocked"] == vote
    card(hall, 2, uid(2))  # back in: still blocked for this vote
    with pytest.raises(consoles.SeatRefused, match="blocked"):
        press(hall, 2, "for")
    hall.close(vote)
    assert choices(hall, vote)[second] != "for"
    following = hall.open_vote(title="Про парк")
    press(hall, 2, "for")  # the next vote: the seat is free again
    hall.close(following)
    assert choices(hall, following)[second] == "for"


def test_removal_may_also_deregister(seated: Hall) -> None:
    hall = seated
    rules = consoles.ConsoleRules(deregister_on_card_removal=True)
    hall.open_registration()
    card(hall, 1, uid(1), rules)
    assert hall.deputies[0] in registered(hall)
    assert card(hall, 1, None, rules)["deregistered"] is True
    assert hall.deputies[0] not in registered(hall)


def registered(hall: Hall) -> set[int]:
    from voting.services.registration import registered_ids

    with hall.rt.reader() as uow:
        return registered_ids(uow, hall.sitting)


def test_hold_to_vote_counts_only_a_key_held_long_enough(seated: Hall) -> None:
    hall = seated
    rules = consoles.ConsoleRules(hold_to_vote_ms=800)
    hall.open_registration()
    card(hall, 1, uid(1), rules)
    hall.register(*hall.deputies[10:40])
    hall.close_registration()
    vote = hall.open_vote(title="Про міст")
    assert press(hall, 1, "for", None, rules)["ignored"] is True  # the key went down: not yet
    with pytest.raises(consoles.SeatRefused, match="hold the key for 800 ms"):
        press(hall, 1, "for", 300, rules)
    press(hall, 1, "against", 900, rules)
    hall.close(vote)
    assert choices(hall, vote)[hall.deputies[0]] == "against"


def test_the_speak_key_asks_for_the_floor_and_a_second_press_withdraws(seated: Hall) -> None:
    hall = seated
    hall.open_registration()
    card(hall, 1, uid(1))
    asked = press(hall, 1, "speak")
    assert "request_id" in asked
    assert next(s for s in consoles.consoles_state(hall.rt.reader()) if s["seat"] == 1)["queued"]
    assert press(hall, 1, "speak")["withdrawn"] is True


def test_only_the_gateway_reports_seats_and_bad_reports_are_refused(seated: Hall) -> None:
    hall = seated
    deputy = Actor(Role.DEPUTY, "deputy", hall.deputies[0])
    for actor in (deputy, SECRETARY):
        with pytest.raises(PermissionDenied):
            consoles.card_changed(hall.rt.uow(), actor, ConsoleCard(seat=1, uid=uid(1)), RULES)
    for bad in ({"seat": 0, "uid": uid(1)}, {"seat": 1, "uid": "XYZ"}, {"seat": 1, "uid": "0A"}):
        with pytest.raises(InvalidInput):
            ConsoleCard.parse(bad)
    with pytest.raises(InvalidInput):
        ConsolePress.parse({"seat": 1, "key": "maybe"})
    assert consoles.health_changed(
        hall.rt.uow(), GATEWAY, ConsoleHealth(seat=3, online=True, faults=0)
    )["changed"]
    assert not consoles.health_changed(
        hall.rt.uow(), GATEWAY, ConsoleHealth(seat=3, online=True, faults=0)
    )["changed"]
    assert "console_online" in journal_kinds(hall)
