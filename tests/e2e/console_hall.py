"""A hall with seat consoles for the end-to-end tests: simulated consoles on a real
pseudo-terminal, the gateway's bus master driving them, the gateway reporting over Socket.IO to
a live server (werkzeug's threads in this process). Import it by module name, like serving.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from halls import Hall, build_hall
from werkzeug.serving import make_server

from hardware.bus import PortSettings
from hardware.gateway import Gateway, Segment
from hardware.simulator import ConsoleSimulator, demo_fleet
from voting.adapters.schema import upgrade
from voting.bootstrap import build_runtime
from voting.config import database_config
from voting.domain.actors import Actor, Role
from voting.services import consoles, council
from voting.services.commands import ChangeDeputy
from voting.services.journal import read_journal
from voting.services.registration import registered_ids
from voting.web import create_app

SEATS = 6
SECRETARY = Actor(Role.SECRETARY, "secretary:test")


def card(n: int) -> bytes:
    return bytes([0x04, 0xA0, 0, 0, 0, 0, n])  # a 7-byte UID, as a MIFARE card reports it


@dataclass
class HallWithConsoles:
    hall: Hall
    simulator: ConsoleSimulator
    gateway: Gateway
    base: str  # http://127.0.0.1:<port>

    def registered(self) -> set[int]:
        with self.hall.rt.reader() as uow:
            return registered_ids(uow, self.hall.sitting)

    def seat(self, seat: int) -> dict[str, object]:
        states = consoles.consoles_state(self.hall.rt.reader())
        return next((s for s in states if s["seat"] == seat), {"online": False})

    def journal(self, kind: str) -> list[dict[str, object]]:
        entries = read_journal(self.hall.rt.reader(), limit=10_000)
        return [e for e in entries if e["kind"] == kind]


@contextmanager
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
        yield HallWithConsoles(hall, simulator, gateway, f"http://127.0.0.1:{server.server_port}")
    finally:
        gateway.stop()
        simulator.close()
        server.shutdown()
        serving.join(timeout=10)
        server.server_close()
        runtime.stop()
