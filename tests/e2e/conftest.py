"""A real HTTP server on 127.0.0.1 (werkzeug, threaded) over SQLite or PostgreSQL, a council with
its roster (set up through the services, as `voting init` and the roster import would), and
people who call the server with `requests`, each with their own bearer token."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from halls import found_council
from werkzeug.serving import WSGIRequestHandler, make_server

from voting.adapters.schema import upgrade
from voting.bootstrap import Runtime, build_runtime
from voting.config import database_config
from voting.domain.actors import SYSTEM, Actor
from voting.services import auth, council
from voting.services.commands import AddDeputy, CreateToken
from voting.web import create_app

FACTIONS = ("Світанок", "Каштанова алея", "Громада-2030", "Зелений берег")


class QuietHandler(WSGIRequestHandler):
    """No access log line per request."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class LiveServer:
    url: str  # http://127.0.0.1:<port>/api/v1
    runtime: Runtime


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    """config.toml settings of the live server beyond the test's own (a test parametrizes it)."""
    return {}


@pytest.fixture
def live_server(
    db_url: str, tmp_path: Path, live_overrides: dict[str, Any]
) -> Iterator[LiveServer]:
    """The application served over loopback on a free port, stopped afterwards; its instance
    folder (the record's files) is the test's own, not the checkout's."""
    runtime = build_runtime(database_config(db_url))
    upgrade(runtime.engine)
    app = create_app(
        runtime=runtime,
        overrides={
            **live_overrides,
            "database": {"url": db_url},
            "server": {"instance_path": str(tmp_path)},
        },
    )
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}/api/v1", runtime)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        runtime.stop()


class Caller:
    """Someone with a token (or none) talking to the live server; one HTTP session each."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, json: Any = None) -> requests.Response:
        return self.http.request(method, self.base + path, json=json, timeout=30)

    def ok(self, method: str, path: str, json: Any = None, status: int = 200) -> Any:
        response = self.call(method, path, json)
        assert response.status_code == status, (
            method,
            path,
            response.status_code,
            response.text[:500],
        )
        assert response.headers["Content-Type"].startswith("application/json")
        return response.json()

    def close(self) -> None:
        self.http.close()


@dataclass
class Council:
    """The roster: 42 deputies and the mayor, and the secretary's first token."""

    server: LiveServer
    deputies: list[int] = field(default_factory=list)
    head: int = 0
    secretary_token: str = ""
    callers: list[Caller] = field(default_factory=list)

    @property
    def everyone(self) -> list[int]:
        return [*self.deputies, self.head]

    def caller(self, token: str | None = None) -> Caller:
        person = Caller(self.server.url, token)
        self.callers.append(person)
        return person


@pytest.fixture
def council_roster(live_server: LiveServer) -> Iterator[Council]:
    rt = live_server.runtime
    secretary = Actor("secretary", "secretary:setup")
    found_council(rt, 42)
    roster = Council(live_server)
    for n in range(1, 43):
        roster.deputies.append(
            council.add_deputy(
                rt.uow(),
                secretary,
                AddDeputy.parse(
                    {
                        "full_name": f"Депутатенко{n:02d} Іван Петрович",
                        "faction": FACTIONS[n % 4],
                        "seat_number": n,
                        "voting_identifier": f"dep-{n}",
                    }
                ),
            )
        )
    roster.head = council.add_deputy(
        rt.uow(),
        secretary,
        AddDeputy.parse(
            {"full_name": "Головенко Мер Мерович", "is_head": True, "voting_identifier": "head"}
        ),
    )
    roster.secretary_token = auth.create_token(
        rt.uow(), SYSTEM, CreateToken.parse({"role": "secretary"})
    )
    try:
        yield roster
    finally:
        for person in roster.callers:
            person.close()
