"""Several server processes on one council: two real `voting serve` processes on the same
PostgreSQL schema and the same Redis (a channel of their own per test), each on its own free port
on 127.0.0.1. What is done through one process reaches the screens connected to the other,
numbered and in order; both vote timers run at once and a timed vote still closes exactly once.

Redis comes from VOTING_TEST_REDIS_URL (skipped without it, failed in CI), like PostgreSQL from
VOTING_TEST_DATABASE_URL."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from halls import found_council
from planning import plan_sitting
from serving import ServerProcess, clean_environment, write_config
from skipping import redis_test_url

from voting.adapters.schema import upgrade
from voting.bootstrap import build_runtime
from voting.config import database_config
from voting.domain.actors import SYSTEM, Actor
from voting.services import auth, council
from voting.services.commands import AddDeputy, CreateToken

pytestmark = pytest.mark.e2e


class Screen:
    """A python-socketio client (a display without a token, or a deputy's console with one);
    keeps the snapshot and every event in arrival order."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.snapshots: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        self.client.on("snapshot", self.snapshots.append)
        self.client.on("event", self._event)
        self.client.connect(
            url, auth={"token": token} if token else None, transports=["websocket"], wait_timeout=10
        )

    def _event(self, event: dict[str, Any]) -> None:
        with self.lock:
            self.events.append(event)

    def seen(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.events)

    def wait_for(self, kind: str, timeout: float = 15.0, **payload: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.seen():
                if event["kind"] == kind and all(
                    event["payload"].get(k) == v for k, v in payload.items()
                ):
                    return event
            time.sleep(0.02)
        raise AssertionError(f"the screen never saw {kind} {payload}")

    def wait_for_seq(self, seq: int, timeout: float = 15.0) -> None:
        """Wait until the screen has seen every event after its snapshot up to number `seq`
        (in whatever order they arrived)."""
        deadline = time.monotonic() + timeout
        wanted = set(range(self.snapshots[0]["seq"] + 1, seq + 1))
        while time.monotonic() < deadline:
            missing = wanted - {event["seq"] for event in self.seen()}
            if not missing:
                return
            time.sleep(0.02)
        raise AssertionError(f"the screen never saw events {sorted(missing)}")

    def act(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        answer = self.client.call(event, data, timeout=30)
        assert answer["ok"], answer
        return answer


@dataclass
class Councils:
    """Two processes A and B serving one council, its tokens, and everyone connected."""

    a: ServerProcess
    b: ServerProcess
    redis_url: str
    channel: str
    deputies: list[int]
    secretary_token: str
    deputy_tokens: dict[int, str]
    screens: list[Screen] = field(default_factory=list)
    http: list[requests.Session] = field(default_factory=list)

    def screen(self, server: ServerProcess, token: str | None = None) -> Screen:
        screen = Screen(server.url, token)
        self.screens.append(screen)
        return screen

    def caller(self, server: ServerProcess, token: str) -> Caller:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        self.http.append(session)
        return Caller(server.api, session)

    def wait_until_both_listen(self, timeout: float = 15.0) -> None:
        """A process subscribes to the channel when its first client connects (Flask-SocketIO
        starts its listener then): wait for both before acting."""
        import redis

        client = redis.Redis.from_url(self.redis_url)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if dict(client.pubsub_numsub(self.channel)).get(self.channel.encode()) == 2:
                    return
                time.sleep(0.05)
        finally:
            client.close()
        raise AssertionError("the two processes never both listened on the channel")


@dataclass
class Caller:
    base: str
    session: requests.Session

    def ok(self, method: str, path: str, json: Any = None, status: int = 200) -> Any:
        response = self.session.request(method, self.base + path, json=json, timeout=30)
        assert response.status_code == status, (
            method,
            path,
            response.status_code,
            response.text[:500],
        )
        return response.json()


@pytest.fixture
def councils(postgres_url: str, tmp_path: Path) -> Iterator[Councils]:
    """A council of 42 deputies and the mayor set up in a fresh schema, as `voting init` and the
    roster import would, then served by two processes sharing one Redis channel."""
    redis_url = redis_test_url()
    rt = build_runtime(database_config(postgres_url))
    try:
        upgrade(rt.engine)
        found_council(rt, 42)
        secretary = Actor("secretary", "secretary:setup")
        deputies = [
            council.add_deputy(
                rt.uow(),
                secretary,
                AddDeputy.parse(
                    {
                        "full_name": f"Депутатенко{n:02d} Іван Петрович",
                        "seat_number": n,
                        "voting_identifier": f"dep-{n}",
                    }
                ),
            )
            for n in range(1, 43)
        ]
        council.add_deputy(
            rt.uow(),
            secretary,
            AddDeputy.parse(
                {"full_name": "Головенко Мер Мерович", "is_head": True, "voting_identifier": "head"}
            ),
        )
        secretary_token = auth.create_token(
            rt.uow(), SYSTEM, CreateToken.parse({"role": "secretary"})
        )
        deputy_tokens = {
            d: auth.create_token(
                rt.uow(), SYSTEM, CreateToken.parse({"role": "deputy", "deputy_id": d})
            )
            for d in deputies[:26]
        }
    finally:
        rt.stop()
    channel = f"test-{uuid.uuid4().hex[:12]}"
    processes: list[ServerProcess] = []
    found: Councils | None = None
    try:
        for name in ("a", "b"):
            folder = tmp_path / name
            folder.mkdir()
            config = write_config(folder / "config.toml", postgres_url, redis_url, channel)
            processes.append(ServerProcess(name, config, folder))
        found = Councils(*processes, redis_url, channel, deputies, secretary_token, deputy_tokens)
        yield found
    finally:
        if found is not None:
            # werkzeug completes a websocket close only after a 3 s timeout: close all at once
            with ThreadPoolExecutor(max_workers=len(found.screens) + 1) as pool:
                list(pool.map(lambda s: s.client.disconnect(), found.screens))
            for session in found.http:
                session.close()
        for process in processes:
            process.stop()
        for process in processes:
            assert process.process.returncode == 0, process.output()
            assert "Traceback" not in process.output(), process.output()


def open_sitting(secretary: Caller) -> tuple[int, list[int]]:
    """A sitting with three agenda items, opened, with registration open."""
    sitting = plan_sitting(secretary)
    items = [
        secretary.ok(
            "post", f"/sittings/{sitting}/agenda", {"title": f"Про питання {n}"}, status=201
        )["id"]
        for n in (1, 2, 3)
    ]
    secretary.ok("post", f"/sittings/{sitting}/open")
    secretary.ok("post", f"/sittings/{sitting}/registration/open")
    return sitting, items


def numbered_without_gaps(screen: Screen) -> list[dict[str, Any]]:
    """The screen's events in journal order: each number after its snapshot's exactly once,
    none missing or repeated. Across processes they may arrive out of order (each process
    waits only `EventSequencer.patience` for a number another process publishes); a screen
    that sees a gap asks for a fresh snapshot, so the order of arrival is not asserted."""
    events = sorted(screen.seen(), key=lambda e: e["seq"])
    first = screen.snapshots[0]["seq"] + 1
    assert [e["seq"] for e in events] == list(range(first, first + len(events)))
    return events


@pytest.mark.postgres
def test_what_is_done_through_one_process_is_seen_on_the_other(councils: Councils) -> None:
    a, b = councils.a, councils.b
    d = councils.deputies
    # The secretary's screens get the numbered event stream; the public gets snapshots.
    display_b = councils.screen(b, councils.secretary_token)
    display_a = councils.screen(a, councils.secretary_token)
    public_b = councils.screen(b)
    on_a = {deputy: councils.screen(a, councils.deputy_tokens[deputy]) for deputy in d[20:25]}
    on_b = councils.screen(b, councils.deputy_tokens[d[25]])
    councils.wait_until_both_listen()
    secretary = councils.caller(a, councils.secretary_token)
    by_http = {deputy: councils.caller(a, councils.deputy_tokens[deputy]) for deputy in d[:20]}

    sitting, items = open_sitting(secretary)
    for deputy in d[:20]:
        by_http[deputy].ok("post", f"/sittings/{sitting}/register")
    for deputy in d[20:25]:
        on_a[deputy].act("register", {"sitting_id": sitting})
    on_b.act("register", {"sitting_id": sitting})
    registered_order = d[:26]

    vote = secretary.ok("post", f"/sittings/{sitting}/votes", {"item_id": items[0]}, status=201)[
        "vote_id"
    ]
    choices: dict[int, str] = {}
    for deputy in d[:20]:
        by_http[deputy].ok("post", f"/votes/{vote}/choices", {"choice": "for"})
        choices[deputy] = "for"
    for deputy, choice in zip(d[20:25], ["for", "for", "for", "against", "against"], strict=True):
        on_a[deputy].act("cast", {"vote_id": vote, "choice": choice})
        choices[deputy] = choice
    on_b.act("cast", {"vote_id": vote, "choice": "abstain"})  # a console on B
    choices[d[25]] = "abstain"
    # the display on A sees the choice cast through B
    assert display_a.wait_for("choice_cast", deputy_id=d[25])["payload"]["choice"] == "abstain"
    secretary.ok("post", f"/votes/{vote}/close")

    closed = display_b.wait_for("vote_closed", vote_id=vote)["payload"]
    assert (closed["for"], closed["against"], closed["abstain"]) == (23, 2, 1)
    assert (closed["total_composition"], closed["threshold"], closed["result"]) == (
        42,
        22,
        "adopted",
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the public display on B, closed through A
        shown = [
            s["state"]["vote"]
            for s in list(public_b.snapshots)
            if s["state"]["vote"] and s["state"]["vote"]["state"] == "closed"
        ]
        if shown:
            break
        time.sleep(0.05)
    assert shown, "the public display on B never showed the closed vote"
    result = shown[0]["result"]
    assert (result["for"], result["against"], result["abstain"], result["result"]) == (
        23,
        2,
        1,
        "adopted",
    )
    assert public_b.seen() == []  # no per-event stream for the public

    # every journal entry written through either process reached both displays, in order
    journal = secretary.ok("get", f"/journal?after={display_b.snapshots[0]['seq']}")["entries"]
    display_a.wait_for_seq(journal[-1]["seq"])
    display_b.wait_for_seq(journal[-1]["seq"])
    on_display_b = numbered_without_gaps(display_b)
    assert numbered_without_gaps(display_a) == on_display_b  # the same stream
    assert [(e["seq"], e["kind"]) for e in journal] == [(e["seq"], e["kind"]) for e in on_display_b]
    assert [
        e["payload"]["deputy_id"] for e in on_display_b if e["kind"] == "deputy_registered"
    ] == registered_order
    assert [
        (e["payload"]["deputy_id"], e["payload"]["choice"])
        for e in on_display_b
        if e["kind"] == "choice_cast"
    ] == list(choices.items())


@pytest.mark.postgres
def test_both_vote_timers_close_a_timed_vote_exactly_once(councils: Councils) -> None:
    a, b = councils.a, councils.b
    d = councils.deputies
    display_a = councils.screen(a, councils.secretary_token)
    display_b = councils.screen(b, councils.secretary_token)
    councils.wait_until_both_listen()
    secretary_a = councils.caller(a, councils.secretary_token)
    secretary_b = councils.caller(b, councils.secretary_token)
    sitting, items = open_sitting(secretary_a)
    for deputy in d[:22]:
        councils.caller(a if deputy % 2 else b, councils.deputy_tokens[deputy]).ok(
            "post", f"/sittings/{sitting}/register"
        )

    timed = []
    for n, item in enumerate(items):
        secretary = secretary_a if n % 2 else secretary_b
        vote = secretary.ok(
            "post",
            f"/sittings/{sitting}/votes",
            {"item_id": item, "time_limit_seconds": 1},
            status=201,
        )["vote_id"]
        councils.caller(a, councils.deputy_tokens[d[0]]).ok(
            "post", f"/votes/{vote}/choices", {"choice": "for"}
        )
        councils.caller(b, councils.deputy_tokens[d[1]]).ok(
            "post", f"/votes/{vote}/choices", {"choice": "against"}
        )
        for display in (display_a, display_b):  # closed by a timer, nobody asked
            closed = display.wait_for("vote_closed", vote_id=vote)["payload"]
            assert (closed["for"], closed["against"], closed["not_voted"]) == (1, 1, 20)
        timed.append(vote)
    time.sleep(1.5)  # both timers tick three more times each

    journal = secretary_a.ok("get", "/journal")["entries"]
    for display in (display_a, display_b):
        display.wait_for_seq(journal[-1]["seq"])
        closes = [
            e["payload"]["vote_id"]
            for e in numbered_without_gaps(display)
            if e["kind"] == "vote_closed"
        ]
        assert closes == timed
    closes = [e for e in journal if e["kind"] == "vote_closed"]
    assert [e["payload"]["vote_id"] for e in closes] == timed
    assert {e["actor"] for e in closes} == {"system"}
    assert secretary_b.ok("get", "/journal/verify")["ok"] is True
    for vote in timed:
        assert secretary_b.ok("get", f"/votes/{vote}")["state"] == "closed"


def test_serve_refuses_to_start_when_redis_does_not_answer(tmp_path: Path) -> None:
    """No traceback: one line naming the URL (its password hidden), exit status 2."""
    with socket.socket() as closed_port:  # bound, never listening: connections are refused
        closed_port.bind(("127.0.0.1", 0))
        port = closed_port.getsockname()[1]
        config = write_config(
            tmp_path / "config.toml", f"sqlite:///{tmp_path / 'v.sqlite3'}", "", "council-voting"
        )
        env = clean_environment()
        done = subprocess.run(
            [sys.executable, "-m", "voting", "init", "--config", str(config)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        env["VOTING_MESSAGE_QUEUE_URL"] = f"redis://:s3cret-word@127.0.0.1:{port}/0"
        done = subprocess.run(
            [sys.executable, "-m", "voting", "serve", "--config", str(config), "--port", "0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"error: server.message_queue: the Redis server at redis://:***@127.0.0.1:{port}/0 "
        "does not answer: "
    )
    assert "s3cret-word" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert "Serving on" not in done.stdout
