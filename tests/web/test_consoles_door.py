"""The console gateway's door (Socket.IO namespace /consoles): only the holder of the gateway's
secret may connect; every bad report is answered with an error that names the problem and
changes nothing; a good report acts for the deputy whose card sits in the seat."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from flask import Flask

from voting.bootstrap import Runtime
from voting.domain.actors import Actor, Role
from voting.services import consoles, council
from voting.services.commands import ChangeDeputy
from voting.services.journal import read_journal
from voting.web import create_app

SECRET = "door-test-secret"
SECRETARY = Actor(Role.SECRETARY, "secretary:test")


@pytest.fixture
def door_app(hall, runtime: Runtime, db_url: str, tmp_path: Path) -> Flask:  # type: ignore[no-untyped-def]
    (tmp_path / "console-gateway.secret").write_text(SECRET + "\n", encoding="utf-8")
    app = create_app(
        runtime=runtime,
        overrides={"database": {"url": db_url}, "server": {"instance_path": str(tmp_path)}},
    )
    app.config["TESTING"] = True
    return app


def gateway(app: Flask, secret: object = SECRET):  # type: ignore[no-untyped-def]
    socketio = app.extensions["voting.socketio"]
    return socketio.test_client(app, namespace="/consoles", auth={"secret": secret})


def test_only_the_secret_opens_the_door(door_app: Flask) -> None:
    for wrong in ("guess", "", None, 12, SECRET + "x"):
        assert not gateway(door_app, wrong).is_connected("/consoles")
    assert gateway(door_app).is_connected("/consoles")


def test_bad_reports_are_named_and_change_nothing(door_app: Flask, runtime: Runtime) -> None:
    client = gateway(door_app)
    ask = lambda event, data: client.emit(event, data, namespace="/consoles", callback=True)  # noqa: E731
    assert ask("seats", {"seats": [{"seat": 1, "port": "p", "address": 1}]})["ok"]
    before = len(read_journal(runtime.reader(), limit=100_000))
    cases = [
        ("card", {"seat": 1, "uid": "not-hex"}, "card UID"),
        ("card", {"seat": 0, "uid": "04A0000000000001"[:14]}, "seat"),
        ("card", {"seat": 1, "uid": "0102030405060708", "deputy_id": 5}, "unknown field"),
        ("key", {"seat": 1, "key": "yes"}, "key"),
        ("key", {"seat": 1, "key": "for", "held_ms": -1}, "held_ms"),
        ("key", {"seat": "1", "key": "for"}, "seat"),
        ("health", {"seat": 1, "online": "yes"}, "online"),
        ("health", {"seat": 1, "online": True, "faults": 256}, "faults"),
        ("trouble", {"reason": 5}, "reason"),
        ("seats", {"seats": [{"seat": 1, "port": "p", "address": 0}]}, "address"),
        ("seats", {"seats": "all"}, "seats"),
        ("card", ["not", "an", "object"], "object"),
    ]
    for event, data, named in cases:
        answer = ask(event, data)
        assert answer["ok"] is False, (event, data)
        assert named in answer["error"]["message"], (event, data, answer)
    # an extra argument, and an event the door does not have: answered too, not left waiting
    extra = client.emit(
        "key", {"seat": 1, "key": "for"}, "again", namespace="/consoles", callback=True
    )
    assert extra["ok"] is False and "2 arguments" in extra["error"]["message"], extra
    unknown = client.emit("vote", {"seat": 1}, namespace="/consoles", callback=True)
    assert unknown["ok"] is False and unknown["error"]["code"] == "unknown_event", unknown
    assert len(read_journal(runtime.reader(), limit=100_000)) == before
    assert [s["seat"] for s in consoles.consoles_state(runtime.reader())] == [1]


def test_a_card_in_a_seat_acts_for_its_deputy(door_app: Flask, hall, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    council.update_deputy(
        runtime.uow(),
        SECRETARY,
        ChangeDeputy.parse({"card_uid": "04a1b2c3d4e5f6"}, deputy_id=hall.deputies[2]),
    )
    client = gateway(door_app)
    hall.open_registration()
    early = client.emit(
        "card", {"seat": 3, "uid": "04A1B2C3D4E5F6"}, namespace="/consoles", callback=True
    )
    assert early["ok"] is False and "not in this gateway's seat map" in early["error"]["message"]
    seats = [{"seat": n, "port": "/dev/ttyUSB0", "address": n} for n in (3, 4)]
    assert client.emit("seats", {"seats": seats}, namespace="/consoles", callback=True)["ok"]
    answer = client.emit(
        "card", {"seat": 3, "uid": "04A1B2C3D4E5F6"}, namespace="/consoles", callback=True
    )
    assert answer == {
        "ok": True,
        "seat": 3,
        "deputy_id": hall.deputies[2],
        "alarm": False,
        "registered": True,
    }
    refused = client.emit("key", {"seat": 3, "key": "for"}, namespace="/consoles", callback=True)
    assert refused["ok"] is False and refused["error"]["message"] == "no vote is open"
    elsewhere = client.emit("key", {"seat": 5, "key": "for"}, namespace="/consoles", callback=True)
    assert "seat 5 is not in this gateway's seat map" in elsewhere["error"]["message"]


def test_after_a_commit_the_gateways_get_only_the_seats_that_changed(
    door_app: Flask,
    hall,  # type: ignore[no-untyped-def]
    runtime: Runtime,
) -> None:
    """A hall of 450 casting must not receive 450 seats ten times a second: after the seat map
    (answered with every seat), a push holds the seats whose lights or text changed."""
    for n in (3, 4, 5):
        council.update_deputy(
            runtime.uow(),
            SECRETARY,
            ChangeDeputy.parse({"card_uid": f"04a1b2c3d4e5f{n}"}, deputy_id=hall.deputies[n]),
        )
    client = gateway(door_app)
    seats = [{"seat": n, "port": "/dev/ttyUSB0", "address": n} for n in (3, 4, 5)]
    answer = client.emit("seats", {"seats": seats}, namespace="/consoles", callback=True)
    assert [s["seat"] for s in answer["seats"]] == [3, 4, 5]

    def pushed() -> list[list[int]]:
        time.sleep(0.3)  # the door coalesces its pushes (0.1 s)
        got = client.get_received("/consoles")
        return [[s["seat"] for s in m["args"][0]["seats"]] for m in got if m["name"] == "consoles"]

    pushed()  # whatever followed the seat map
    hall.open_registration()
    card = {"seat": 4, "uid": "04A1B2C3D4E5F4"}
    assert client.emit("card", card, namespace="/consoles", callback=True)["registered"]
    assert pushed()[-1:] == [[4]]  # seat 4 is lit as registered; 3 and 5 did not change
    assert pushed() == []  # nothing changed since


def test_a_new_seat_map_makes_the_next_push_whole(door_app: Flask, runtime: Runtime) -> None:
    first, second = gateway(door_app), gateway(door_app)
    seats = [{"seat": n, "port": "/dev/ttyUSB0", "address": n} for n in (1, 2)]
    assert first.emit("seats", {"seats": seats}, namespace="/consoles", callback=True)["ok"]
    time.sleep(0.3)
    first.get_received("/consoles")
    assert second.emit("seats", {"seats": seats}, namespace="/consoles", callback=True)["ok"]
    time.sleep(0.3)
    got = [m for m in first.get_received("/consoles") if m["name"] == "consoles"]
    assert got and [s["seat"] for s in got[-1]["args"][0]["seats"]] == [1, 2]
