"""Real python-socketio clients over websockets against a live server on 127.0.0.1: 43 deputies
register and vote over the socket, and a public display sees every step, numbered, and the
result of the roll-call."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import socketio

pytestmark = pytest.mark.e2e


class Display:
    """A public screen: no token; keeps the snapshot and every event in arrival order."""

    def __init__(self, url: str) -> None:
        self.snapshots: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        self.client.on("snapshot", self.snapshots.append)
        self.client.on("event", self._event)
        self.client.connect(url, transports=["websocket"], wait_timeout=10)

    def _event(self, event: dict[str, Any]) -> None:
        with self.lock:
            self.events.append(event)

    def wait_for(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [e for e in self.events if e["kind"] == kind]
            if found:
                return found[-1]
            time.sleep(0.02)
        raise AssertionError(f"the display never saw {kind}")


def test_deputies_vote_over_sockets_and_the_display_follows(council_roster) -> None:
    hall = council_roster
    base = hall.server.url.removesuffix("/api/v1")
    secretary = hall.caller(hall.secretary_token)
    convocation = secretary.ok("post", "/convocations", {
        "number": 8, "label": "VIII скликання", "date_from": "2020-12-01"}, status=201)["id"]
    session = secretary.ok("post", "/sessions", {"convocation_id": convocation, "number": 17},
                           status=201)["id"]
    sitting = secretary.ok("post", "/sittings", {"date": "2026-11-25", "session_id": session},
                           status=201)["id"]
    item = secretary.ok("post", f"/sittings/{sitting}/agenda", {"title": "Про бюджет"},
                        status=201)["id"]
    secretary.ok("post", f"/sittings/{sitting}/open")
    tokens = {d: secretary.ok("post", "/tokens", {"role": "deputy", "deputy_id": d},
                              status=201)["token"] for d in hall.everyone}

    display = Display(base)
    clients: dict[int, socketio.Client] = {}
    try:
        for deputy_id, token in tokens.items():
            client = socketio.Client(reconnection=False)
            client.connect(base, auth={"token": token}, transports=["websocket"],
                           wait_timeout=10)
            clients[deputy_id] = client
        assert len(display.snapshots) == 1
        secretary.ok("post", f"/sittings/{sitting}/registration/open")

        def act(deputy_id: int, event: str, data: dict[str, Any]) -> dict[str, Any]:
            return clients[deputy_id].call(event, data, timeout=30)

        with ThreadPoolExecutor(max_workers=12) as pool:
            registered = list(pool.map(lambda d: act(d, "register", {"sitting_id": sitting}),
                                       hall.everyone))
        assert all(answer["ok"] and answer["registered"] for answer in registered)
        assert display.wait_for("deputy_registered")["payload"]["registered"] == 43

        vote = secretary.ok("post", f"/sittings/{sitting}/votes", {"item_id": item},
                            status=201)["vote_id"]
        choices = {d: ("for" if i < 30 else "against" if i < 38 else "abstain")
                   for i, d in enumerate(hall.everyone[:41])}  # two do not press
        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(
                lambda pair: act(pair[0], "cast", {"vote_id": vote, "choice": pair[1]}),
                choices.items()))
        assert all(a["ok"] and a["recorded"] for a in answers)
        assert [a["choice"] for a in answers] == list(choices.values())  # the server's record

        secretary.ok("post", f"/votes/{vote}/close")
        closed = display.wait_for("vote_closed")["payload"]
        assert (closed["for"], closed["against"], closed["abstain"], closed["not_voted"],
                closed["absent"]) == (30, 8, 3, 2, 0)
        assert (closed["total_composition"], closed["threshold"], closed["result"]) == (
            43, 22, "adopted")
        with display.lock:
            seqs = [e["seq"] for e in display.events]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # every event, none missing
        assert seqs[0] == display.snapshots[0]["seq"] + 1
        casts = [e for e in display.events if e["kind"] == "choice_cast"]
        assert {e["payload"]["deputy_id"]: e["payload"]["choice"] for e in casts} == choices
        roll_call = secretary.ok("get", f"/votes/{vote}")["roll_call"]
        assert sum(line["outcome_uk"] == "Не голосував" for line in roll_call) == 2
    finally:
        # werkzeug's server answers a websocket close only after a 3 s timeout (see the note in
        # voting/web/live.py): close them all at once.
        with ThreadPoolExecutor(max_workers=len(clients) + 1) as pool:
            list(pool.map(lambda c: c.disconnect(), [*clients.values(), display.client]))
