"""Real python-socketio clients over websockets against a live server on 127.0.0.1: 43 deputies
register and vote over the socket; a public display follows the pushed snapshots to the result
and the roll-call; the secretary's screen gets every event, numbered, none missing. Served both
ways: werkzeug's threads inside this process, and `voting serve` as an operator runs it (gevent,
one OS thread for every connection)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import socketio
from planning import plan_sitting
from serving import ServerProcess, write_config

pytestmark = pytest.mark.e2e


class Screen:
    """A screen (public without a token); keeps snapshots and events in arrival order."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.snapshots: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        self.client.on("snapshot", self._snapshot)
        self.client.on("event", self._event)
        self.client.connect(
            url,
            auth=None if token is None else {"token": token},
            transports=["websocket"],
            wait_timeout=10,
        )

    def _event(self, event: dict[str, Any]) -> None:
        with self.lock:
            self.events.append(event)

    def _snapshot(self, snapshot: dict[str, Any]) -> None:
        with self.lock:
            self.snapshots.append(snapshot)

    def wait_for(
        self, shows: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """The first snapshot whose state `shows` what is awaited."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [s for s in self.snapshots if s["state"] and shows(s["state"])]
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError("the screen never showed what was awaited")


@pytest.fixture(params=["threads in this process", "voting serve"])
def served(request, council_roster, db_url, tmp_path):  # type: ignore[no-untyped-def]
    """The roster served by the in-process threaded server, or by `voting serve` in a process of
    its own over the same database (then yielded too, to look at its threads)."""
    if request.param == "threads in this process":
        yield council_roster, None
        return
    process = ServerProcess("serve", write_config(tmp_path / "config.toml", db_url), tmp_path)
    try:
        council_roster.server = type(council_roster.server)(
            process.api, council_roster.server.runtime
        )
        yield council_roster, process
    finally:
        process.stop()
        assert process.process.returncode == 0, process.output()
        assert "Stopped." in process.output() and "Traceback" not in process.output(), (
            process.output()
        )
        # a closed websocket's last frames are not read as an HTTP request and logged
        assert "Invalid http" not in process.output(), process.output()


def test_deputies_vote_over_sockets_and_the_display_follows(served) -> None:
    hall, process = served
    base = hall.server.url.removesuffix("/api/v1")
    secretary = hall.caller(hall.secretary_token)
    sitting = plan_sitting(secretary)
    item = secretary.ok("post", f"/sittings/{sitting}/agenda", {"title": "Про бюджет"}, status=201)[
        "id"
    ]
    secretary.ok("post", f"/sittings/{sitting}/open")
    tokens = {
        d: secretary.ok("post", "/tokens", {"role": "deputy", "deputy_id": d}, status=201)["token"]
        for d in hall.everyone
    }

    display = Screen(base)
    staff = Screen(base, hall.secretary_token)
    clients: dict[int, socketio.Client] = {}
    try:
        for deputy_id, token in tokens.items():
            client = socketio.Client(reconnection=False)
            client.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=10)
            clients[deputy_id] = client
        assert display.snapshots  # the first comes on connect
        if process is not None:  # 45 websockets open, on gevent: no thread per connection
            assert process.threads() < 10, process.threads()
        secretary.ok("post", f"/sittings/{sitting}/registration/open")

        def act(deputy_id: int, event: str, data: dict[str, Any]) -> dict[str, Any]:
            return clients[deputy_id].call(event, data, timeout=30)

        with ThreadPoolExecutor(max_workers=12) as pool:
            registered = list(
                pool.map(lambda d: act(d, "register", {"sitting_id": sitting}), hall.everyone)
            )
        assert all(answer["ok"] and answer["registered"] for answer in registered)
        assert (
            display.wait_for(lambda s: s["sitting"]["registered"] == 43)["state"]["sitting"][
                "quorum"
            ]
            is True
        )

        vote = secretary.ok("post", f"/sittings/{sitting}/votes", {"item_id": item}, status=201)[
            "vote_id"
        ]
        choices = {
            d: ("for" if i < 30 else "against" if i < 38 else "abstain")
            for i, d in enumerate(hall.everyone[:41])
        }  # two do not press
        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(
                pool.map(
                    lambda pair: act(pair[0], "cast", {"vote_id": vote, "choice": pair[1]}),
                    choices.items(),
                )
            )
        assert all(a["ok"] and a["recorded"] for a in answers)
        assert [a["choice"] for a in answers] == list(choices.values())  # the server's record

        secretary.ok("post", f"/votes/{vote}/close")
        shown = display.wait_for(lambda s: s["vote"] is not None and s["vote"]["state"] == "closed")
        closed = shown["state"]["vote"]
        result = closed["result"]
        assert (
            result["for"],
            result["against"],
            result["abstain"],
            result["not_voted"],
            result["absent"],
        ) == (30, 8, 3, 2, 0)
        assert (closed["total_composition"], result["threshold"], result["result"]) == (
            43,
            22,
            "adopted",
        )
        # The roll-call, per deputy, for the hall plan and the table.
        assert {
            int(d): o for d, o in closed["outcomes"].items() if o not in ("not_voted", "absent")
        } == choices
        with display.lock:
            assert [s["seq"] for s in display.snapshots] == sorted(
                s["seq"] for s in display.snapshots
            )  # pushed in order, never older
            assert display.events == []  # the public gets snapshots, not the event stream
        staff.wait_for(lambda s: s["vote"] is not None and s["vote"]["state"] == "closed")
        with staff.lock:
            seqs = [e["seq"] for e in staff.events]
            kinds = [e["kind"] for e in staff.events]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # every event, none missing
        assert seqs[0] == staff.snapshots[0]["seq"] + 1
        assert kinds.count("choice_cast") == 41 and kinds.count("deputy_registered") == 43
        roll_call = secretary.ok("get", f"/votes/{vote}")["roll_call"]
        assert sum(line["outcome_uk"] == "Не голосував" for line in roll_call) == 2
    finally:
        # werkzeug's server answers a websocket close only after a 3 s timeout (see the note in
        # voting/web/live.py): close them all at once.
        with ThreadPoolExecutor(max_workers=len(clients) + 1) as pool:
            list(
                pool.map(
                    lambda c: c.disconnect(), [*clients.values(), display.client, staff.client]
                )
            )
