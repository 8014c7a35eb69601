"""A council for fuzzing, on SQLite or on the real PostgreSQL server: a sitting with
registration open and thirty deputies registered, a closed vote and an open one (so that the ids
1 and 2 exist for what the fuzzers make up), the web application over it, and the gateway's
secret in its instance folder (the /consoles door opens). On SQLite a fresh copy of one built
council is cheap, so each fuzzed operation can start from the same state."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from halls import Clock, Tokens, build_hall, postgres_schema

from voting.adapters.schema import upgrade
from voting.bootstrap import build_runtime
from voting.config import database_config
from voting.web import create_app, runtime_of

GATEWAY_SECRET = "fuzz-gateway-secret"


@dataclass
class Target:
    app: Flask
    tokens: Tokens


@contextmanager
def _served(url: str, folder: Path, build: bool) -> Iterator[Target]:
    with ExitStack() as stack:
        clock = Clock()
        runtime = build_runtime(database_config(url), clock=clock)
        stack.callback(runtime.stop)
        if build:
            upgrade(runtime.engine)
            hall = build_hall(runtime, clock)
            hall.open_registration()
            hall.register(*hall.deputies[:30])
            first = hall.open_vote(item_id=hall.items[0])
            hall.cast_many(first, hall.deputies[:25], "for")
            hall.close(first)
            hall.open_vote(item_id=hall.items[1])
        (folder / "console-gateway.secret").write_text(GATEWAY_SECRET + "\n", encoding="utf-8")
        app = create_app(
            runtime=runtime,
            overrides={"database": {"url": url}, "server": {"instance_path": str(folder)}},
        )
        app.config["TESTING"] = True
        stack.callback(runtime_of(app).stop)
        yield Target(app, Tokens(runtime))


@contextmanager
def fuzz_target(database: str, folder: Path) -> Iterator[Target]:
    """The council built afresh; `database` is "sqlite" or "postgres"; `folder` holds the SQLite
    file and the instance."""
    with ExitStack() as stack:
        if database == "sqlite":
            url = f"sqlite:///{folder / 'voting.sqlite3'}"
        else:
            url = stack.enter_context(postgres_schema())
        yield stack.enter_context(_served(url, folder, build=True))


def sqlite_template(folder: Path) -> Path:
    """Build the council once on SQLite; the file to copy."""
    with fuzz_target("sqlite", folder):
        pass
    return folder / "voting.sqlite3"


@contextmanager
def copied_target(template: Path, folder: Path) -> Iterator[Target]:
    """A fresh copy of the council built by sqlite_template, served from `folder`."""
    copy = folder / "voting.sqlite3"
    with sqlite3.connect(template) as source, sqlite3.connect(copy) as destination:
        source.backup(destination)
    with _served(f"sqlite:///{copy}", folder, build=False) as target:
        yield target
