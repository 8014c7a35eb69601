"""PostgreSQL's pooled connections: checked by a ping only after they sat idle, so a busy hall
pays no extra round trip per transaction, and a connection the database dropped meanwhile (a
restart) is replaced before the request uses it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from voting.adapters import db

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The server's engine, with its pings counted."""
    engine = db.make_engine(postgres_url)
    ping = engine.dialect.do_ping
    engine.pings = 0  # type: ignore[attr-defined]

    def counted(connection: object) -> bool:
        engine.pings += 1  # type: ignore[attr-defined]
        return ping(connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    yield engine
    engine.dispose()


def backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_used_a_moment_ago_is_handed_out_without_a_ping(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 60.0)  # "a moment", on a busy machine
    first = backend(engine)
    assert [backend(engine) for _ in range(5)] == [first] * 5  # the same pooled connection
    assert engine.pings == 0  # type: ignore[attr-defined]


def test_a_connection_the_database_dropped_while_idle_is_replaced_before_use(
    engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = backend(engine)
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:  # what a restart of the database does to it
            # and waits (up to 10 s) until that backend has gone
            assert connection.execute(
                text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": first}
            ).scalar_one()
    finally:
        admin.dispose()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has now been idle long enough
    second = backend(engine)  # no error reaches the request
    assert second != first
    assert engine.pings == 1  # type: ignore[attr-defined]
