"""The floor end to end: `voting serve` as an operator runs it, with a council's short speaking
times in its config.toml; deputies ask for the floor over real websockets, two public displays
follow, the secretary gives the floor over HTTP, and the server's own speech timer switches the
(simulated) microphone off at zero after the grace time; the speech is then in the archive."""

from __future__ import annotations

from typing import Any

import pytest
import socketio
from planning import plan_sitting
from serving import ServerProcess, write_config
from test_live_sockets import Screen
from waiting import until

pytestmark = pytest.mark.e2e

FLOOR_CONFIG = """
[floor]
warning_seconds = 1
grace_seconds = 1

[speech_types.reply]
seconds = 2
"""


def test_requests_over_sockets_the_countdown_and_the_timer_cut_off(
    council_roster: Any, db_url: str, tmp_path: Any
) -> None:
    config = write_config(tmp_path / "config.toml", db_url)
    config.write_text(config.read_text(encoding="utf-8") + FLOOR_CONFIG, encoding="utf-8")
    process = ServerProcess("serve", config, tmp_path)
    clients: list[socketio.Client] = []
    screens: list[Screen] = []
    try:
        hall = council_roster
        secretary = hall.caller(hall.secretary_token)
        secretary.base = process.api
        sitting = plan_sitting(secretary)
        item = secretary.ok(
            "post", f"/sittings/{sitting}/agenda", {"title": "Про бюджет"}, status=201
        )["id"]
        secretary.ok("post", f"/sittings/{sitting}/open")
        secretary.ok("put", f"/agenda-items/{item}/status", {"status": "under_consideration"})
        secretary.ok("post", f"/sittings/{sitting}/registration/open")
        speakers = hall.deputies[:3]
        screens = [Screen(process.url), Screen(process.url)]
        for deputy_id in speakers:
            token = secretary.ok(
                "post", "/tokens", {"role": "deputy", "deputy_id": deputy_id}, status=201
            )["token"]
            client = socketio.Client(reconnection=False)
            client.connect(
                process.url, auth={"token": token}, transports=["websocket"], wait_timeout=10
            )
            clients.append(client)
        late = clients[2].call("request_floor", {"sitting_id": sitting}, timeout=10)
        assert late["ok"] is False and late["error"]["code"] == "not_registered"
        for client in clients:
            assert client.call("register", {"sitting_id": sitting}, timeout=10)["ok"]
        answers = [
            client.call("request_floor", {"sitting_id": sitting, "type": kind}, timeout=10)
            for client, kind in zip(clients, ["reply", "speech", "point_of_order"], strict=True)
        ]
        assert all(a["ok"] for a in answers), answers
        assert [a["place"] for a in answers] == [1, 2, 1]  # the point of order goes first
        shown = [
            s.wait_for(lambda st: len((st["floor"] or {}).get("queue", [])) == 3)["state"]["floor"]
            for s in screens
        ]
        assert shown[0]["queue"] == shown[1]["queue"]
        assert [e["deputy_id"] for e in shown[0]["queue"]] == [speakers[2], *speakers[:2]]
        withdrawn = clients[2].call(
            "withdraw_request", {"request_id": answers[2]["request_id"]}, timeout=10
        )
        assert withdrawn["ok"] is True
        granted = secretary.ok("post", f"/sittings/{sitting}/floor/grant", status=201)
        assert granted["speech"]["deputy_id"] == speakers[0]
        live = [
            s.wait_for(lambda st: (st["floor"] or {}).get("speech") is not None)["state"]["floor"]
            for s in screens
        ]
        assert live[0]["speech"]["deadline"] == live[1]["speech"]["deadline"]
        mine = f"deputy:{speakers[0]}"
        assert mine in secretary.ok("get", "/microphones")["on"]
        # two seconds, then one of grace: the server's timer ends it and the microphone goes off
        until(lambda: mine not in secretary.ok("get", "/microphones")["on"])
        record = secretary.ok("get", f"/sittings/{sitting}/speeches")["speeches"][0]
        assert (record["deputy_id"], record["ended_by"], record["type"]) == (
            speakers[0],
            "timer",
            "reply",
        )
        assert 3 <= record["duration_seconds"] <= 5
        for screen in screens:
            screen.wait_for(lambda st: st["floor"]["speech"] is None and st["floor"]["spoke"] == 1)
    finally:
        for client in [*clients, *(s.client for s in screens)]:
            client.disconnect()
        process.stop()
    assert process.process.returncode == 0, process.output()
    assert "Traceback" not in process.output(), process.output()
