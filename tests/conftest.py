"""Shared fixtures: a database (SQLite file, or the real PostgreSQL server), a runtime with a
controllable clock, and a `hall` of 42 deputies and the mayor with an open sitting (the helpers
are in tests/halls.py)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from halls import Clock, Hall, build_hall, postgres_schema

from voting.adapters.schema import upgrade
from voting.bootstrap import Runtime, build_runtime
from voting.config import database_config

# Every runtime the tests build, and every server process they start, journals with one key
# (config.toml [journal] key_env); tests of the key's own handling set or remove it themselves.
os.environ.setdefault("VOTING_JOURNAL_KEY", secrets.token_urlsafe(32))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    with postgres_schema() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'voting.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request) -> str:  # type: ignore[no-untyped-def]
    """Each test using this runs on SQLite and on the real PostgreSQL server."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def runtime(db_url: str, clock: Clock) -> Iterator[Runtime]:
    rt = build_runtime(database_config(db_url), clock=clock)
    upgrade(rt.engine)
    yield rt
    rt.stop()


@pytest.fixture
def hall(runtime: Runtime, clock: Clock) -> Hall:
    return build_hall(runtime, clock)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The gallery of the run's screenshots (tests/e2e/gallery.py): written once, by the process
    that ran the tests or, with pytest-xdist, led the workers."""
    if hasattr(session.config, "workerinput"):
        return
    from e2e.chromium import ARTIFACTS
    from e2e.gallery import write_index

    if ARTIFACTS.is_dir():
        write_index(ARTIFACTS)
