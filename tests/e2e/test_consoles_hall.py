"""The whole hardware path on one machine: simulated consoles on a real pseudo-terminal, the
gateway's bus master driving them, the gateway reporting over Socket.IO to a live server, and the
server acting through the same services as every other door. Cards register deputies, keys cast
their choices and light only after the commit, a forged frame is refused, a console that stops
answering is shown offline, and the ballots are exactly the key presses acknowledged."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from halls import Hall, build_hall
from waiting import until
from werkzeug.serving import make_server

from hardware import protocol
from hardware.bus import PortSettings
from hardware.gateway import Gateway, Segment
from hardware.simulator import ConsoleSimulator, demo_fleet
from voting.adapters.schema import upgrade
from voting.bootstrap import build_runtime
from voting.config import database_config
from voting.domain.actors import Actor, Role
from voting.services import consoles, council, queries
from voting.services.commands import ChangeDeputy
from voting.services.journal import read_journal
from voting.services.registration import registered_ids
from voting.web import create_app

pytestmark = pytest.mark.e2e

SEATS = 6
SECRETARY = Actor(Role.SECRETARY, "secretary:test")


def card(n: int) -> bytes:
    return bytes([0x04, 0xA0, 0, 0, 0, 0, n])  # a 7-byte UID, as a MIFARE card reports it


@dataclass
class HallWithConsoles:
    hall: Hall
    simulator: ConsoleSimulator
    gateway: Gateway

    def registered(self) -> set[int]:
        with self.hall.rt.reader() as uow:
            return registered_ids(uow, self.hall.sitting)

    def seat(self, seat: int) -> dict[str, object]:
        states = consoles.consoles_state(self.hall.rt.reader())
        return next((s for s in states if s["seat"] == seat), {"online": False})

    def journal(self, kind: str) -> list[dict[str, object]]:
        entries = read_journal(self.hall.rt.reader(), limit=10_000)
        return [e for e in entries if e["kind"] == kind]


@pytest.fixture
def hall_with_consoles(db_url: str, tmp_path: Path) -> Iterator[HallWithConsoles]:
    runtime = build_runtime(database_config(db_url))
    upgrade(runtime.engine)
    hall = build_hall(runtime, __import__("halls").Clock())
    for n, deputy in enumerate(hall.deputies[:SEATS], start=1):
        council.update_deputy(
            runtime.uow(),
            SECRETARY,
            ChangeDeputy.parse({"card_uid": card(n).hex()}, deputy_id=deputy),
        )
    (tmp_path / "console-gateway.secret").write_text("test-secret\n", encoding="utf-8")
    app = create_app(
        runtime=runtime,
        overrides={"database": {"url": db_url}, "server": {"instance_path": str(tmp_path)}},
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    fleet = demo_fleet(SEATS)
    simulator = ConsoleSimulator(fleet)
    path = simulator.open_pty()
    port = PortSettings(url=path, reply_timeout=0.05, addresses=tuple(range(1, SEATS + 1)))
    gateway = Gateway(
        [Segment(port, {a: a for a in range(1, SEATS + 1)})],
        {spec.serial: spec.key for spec in fleet},
        f"http://127.0.0.1:{server.server_port}",
        "test-secret",
    )
    gateway.start()
    try:
        yield HallWithConsoles(hall, simulator, gateway)
    finally:
        gateway.stop()
        simulator.close()
        server.shutdown()
        serving.join(timeout=10)
        server.server_close()
        runtime.stop()


def test_cards_register_keys_vote_and_lights_follow_the_commit(
    hall_with_consoles: HallWithConsoles,
) -> None:
    h, sim = hall_with_consoles, hall_with_consoles.simulator
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
            e["payload"].get("reason") == "forged" for e in h.journal("console_bus_trouble")
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
