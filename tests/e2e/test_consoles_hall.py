"""The whole hardware path on one machine (tests/e2e/console_hall.py): cards register deputies,
keys cast their choices and light only after the commit, a forged frame is refused, a console that
stops answering is shown offline, and the ballots are exactly the key presses acknowledged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from console_hall import SEATS, HallWithConsoles, card, hall_with_consoles
from waiting import until

from hardware import protocol
from voting.services import queries

pytestmark = pytest.mark.e2e


@pytest.fixture
def consoles_hall(db_url: str, tmp_path: Path) -> Iterator[HallWithConsoles]:
    with hall_with_consoles(db_url, tmp_path) as hall:
        yield hall


def test_cards_register_keys_vote_and_lights_follow_the_commit(
    consoles_hall: HallWithConsoles,
) -> None:
    h, sim = consoles_hall, consoles_hall.simulator
    hall = h.hall
    until(lambda: all(h.seat(s)["online"] for s in range(1, SEATS + 1)))
    hall.open_registration()
    for seat in (1, 2, 3):
        sim.insert_card(seat, card(seat))
    until(lambda: set(hall.deputies[:3]) <= h.registered())
    until(lambda: protocol.Lights.REGISTERED in sim.lights(1))
    hall.register(*hall.deputies[10:40])
    hall.close_registration()
    vote = hall.open_vote(title="Про бюджет")
    until(lambda: protocol.Lights.VOTE_OPEN in sim.lights(1))
    sim.tap(1, protocol.Key.FOR)
    sim.tap(2, protocol.Key.AGAINST)
    sim.tap(4, protocol.Key.FOR)  # no card in seat 4: refused, the console beeps
    until(lambda: protocol.Lights.FOR in sim.lights(1) and protocol.Lights.AGAINST in sim.lights(2))
    until(lambda: sim.beeps(4) > 0)
    assert not sim.lights(4) & (protocol.Lights.FOR | protocol.Lights.AGAINST)

    sim.forge_event(3, protocol.EventKind.KEY_DOWN, bytes([protocol.Key.FOR]))  # no key: forged
    until(lambda: h.gateway.masters[sim.pty_path].stats["counts"].get("forged", 0) >= 1)
    until(
        lambda: any(
            "forged" in e["payload"].get("reason", "") for e in h.journal("console_bus_trouble")
        )
    )

    sim.stop_answering(5)
    until(lambda: not h.seat(5)["online"], timeout=5)
    sim.resume(5)
    until(lambda: h.seat(5)["online"], timeout=5)

    hall.close(vote)
    sheet = queries.vote(hall.rt.reader(), vote, staff=True)["roll_call"]
    outcome = {line["deputy_id"]: line["outcome"] for line in sheet}
    assert outcome[hall.deputies[0]] == "for" and outcome[hall.deputies[1]] == "against"
    assert outcome[hall.deputies[2]] != "for"  # the forged key press of seat 3 counted nothing
    keys_acknowledged = {
        seat: [d for k, d in sim.acknowledged(seat) if k is protocol.EventKind.KEY_DOWN]
        for seat in (1, 2, 3)
    }
    assert keys_acknowledged == {1: [bytes([1])], 2: [bytes([2])], 3: []}
    assert len(h.journal("console_card_inserted")) == 3
    assert {e["payload"]["seat"] for e in h.journal("console_offline")} >= {5}


def test_faults_on_the_bus_neither_create_change_duplicate_nor_lose_a_choice(
    consoles_hall: HallWithConsoles,
) -> None:
    """Noise, a babbling console, a pulled cable, a lost acknowledgement, a replayed frame and the
    whole port vanishing, between the key presses of a vote: each seat's ballot is its first
    vote key that the bus acknowledged, and the recorded choice is lit on its console."""
    h, sim = consoles_hall, consoles_hall.simulator
    hall = h.hall
    until(lambda: all(h.seat(s)["online"] for s in range(1, SEATS + 1)))
    hall.open_registration()
    for seat in range(1, SEATS + 1):
        sim.insert_card(seat, card(seat))
    until(lambda: set(hall.deputies[:SEATS]) <= h.registered())
    hall.register(*hall.deputies[10:40])
    hall.close_registration()
    vote = hall.open_vote(title="Про тарифи")
    until(lambda: all(protocol.Lights.VOTE_OPEN in sim.lights(s) for s in range(1, SEATS + 1)))
    keys = [protocol.Key.FOR, protocol.Key.AGAINST, protocol.Key.ABSTAIN]
    faults = [
        lambda: sim.send_garbage(b"\x13\x37\x00\xff\xfe\x00"),
        lambda: sim.babble(2, 300),
        lambda: sim.stop_answering(3),
        lambda: sim.ignore_next_ack(4),
        lambda: sim.replay_last_event(1, back=2),
        sim.unplug,
    ]
    for seat in range(1, SEATS + 1):
        sim.tap(seat, keys[seat % 3])
        until(lambda seat=seat: sim.pending(seat) == 0)
        faults[seat - 1]()
        if seat == 3:
            sim.resume(3)
        if seat == SEATS:
            sim.plug()
        sim.tap(seat, keys[(seat + 1) % 3])  # a second key: refused, the first one stands
    until(lambda: all(sim.pending(s) == 0 for s in range(1, SEATS + 1)), timeout=20)
    expected = {}
    for seat in range(1, SEATS + 1):
        pressed = [d for k, d in sim.acknowledged(seat) if k is protocol.EventKind.KEY_DOWN]
        expected[seat] = {1: "for", 2: "against", 3: "abstain"}[pressed[0][0]]
    choice_light = {
        "for": protocol.Lights.FOR,
        "against": protocol.Lights.AGAINST,
        "abstain": protocol.Lights.ABSTAIN,
    }
    until(lambda: all(choice_light[expected[s]] in sim.lights(s) for s in expected), timeout=10)
    hall.close(vote)
    sheet = queries.vote(hall.rt.reader(), vote, staff=True)["roll_call"]
    outcome = {line["deputy_id"]: line["outcome"] for line in sheet}
    assert {s: outcome[hall.deputies[s - 1]] for s in expected} == expected
    casts = [e for e in h.journal("choice_cast") if e["payload"]["vote_id"] == vote]
    from_consoles = [e for e in casts if "@seat:" in e["actor"]]
    assert len(from_consoles) == SEATS  # one per seat: nothing duplicated, nothing invented
