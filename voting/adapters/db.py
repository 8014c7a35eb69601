"""Engines and sessions: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL via psycopg 3."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
READ_ONLY = "voting_read_only"  # execution option of a session that only reads
_HOLDS_WRITE_LOCK = "voting_holds_write_lock"  # in a connection's info while it is writing
_LAST_USED = "voting_last_used"  # in a PostgreSQL connection's info: when it was last returned

#: A pooled PostgreSQL connection idle for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0


def make_engine(url: str) -> Engine:
    """Create an engine; SQL parameters are never logged, so no log line can reveal a choice."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            hide_parameters=True,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        _configure_sqlite(engine)
        return engine
    # Last in, first out: the connection used a moment ago goes out again (no ping needed), and
    # those beyond a quiet hall's needs sit idle.
    engine = create_engine(
        url, hide_parameters=True, pool_size=10, max_overflow=20, pool_use_lifo=True
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it has been idle for a while.

    SQLAlchemy's pre-ping would ping at every checkout: one more round trip for every
    transaction, a ninth for each batch of casts, each one a chance to wait for a core on a
    busy server. A connection used a moment ago is handed out as it is. A database restarted
    while its connections sat idle is found out here: the pool then drops every connection it
    made before, and the request goes on with a new one. A restart in the very moment between
    two uses fails that one transaction, as a restart during a transaction always does (a
    batch of casts is then written again one by one), and the pool reconnects after it.
    """

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(
        dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: object
    ) -> None:
        last = record.info.get(_LAST_USED)
        if last is None or time.monotonic() - last < PING_AFTER_IDLE_SECONDS:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if not engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise
            log.info(
                "a pooled database connection was gone (%s); reconnecting", error.__class__.__name__
            )
            raise exc.InvalidatePoolError("the database connection was lost") from error


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=FULL")
        # Freed space is zeroed, so a deleted or overwritten row leaves nothing to read back.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    # This process's writers take turns on a lock of its own before SQLite's: a writer waiting
    # for SQLite's lock sleeps inside SQLite (the busy timeout), which on gevent (`voting serve`)
    # would stop the one thread that must finish the transaction holding it; waiting here
    # yields instead, and the next writer goes as soon as the last one ends. Other processes
    # are still kept out by SQLite's own lock.
    writers = threading.Lock()

    def release(info: dict[str, object]) -> None:
        if info.pop(_HOLDS_WRITE_LOCK, False):
            writers.release()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        # Take the write lock at the start: a check-then-write (is the vote open? has this deputy
        # voted?) can then never interleave with another writer. Readers (READ_ONLY) need no lock:
        # in WAL mode they see the last commit while a writer works.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
            return
        if not writers.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise sqlite3.OperationalError("database is locked (by a writer of this process)")
        connection.info[_HOLDS_WRITE_LOCK] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            release(connection.info)
            raise

    @event.listens_for(engine, "commit")
    def on_commit(connection: Connection) -> None:
        release(connection.info)

    @event.listens_for(engine, "rollback")
    def on_rollback(connection: Connection) -> None:
        release(connection.info)

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        release(record.info)  # however the transaction ended, the turn ends with it

    @event.listens_for(engine, "invalidate")
    def on_invalidate(
        _dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _exception: object
    ) -> None:
        release(record.info)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
