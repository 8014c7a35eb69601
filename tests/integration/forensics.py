"""Forensic readers and scene builders for the secret-ballot tests (test_secret_ballot_*.py); no
tests here. Import it by name (`from forensics import Scene`): tests/integration is on sys.path.

A secret vote in which 22 deputies choose differently (10 for, 7 against, 5 abstain, a known
mapping, cast in a shuffled order) is held and closed, and the purge of what is left of its sealed
ballots that follows the close (in the background) is waited for (`hold_secret_vote`,
`observed_secret_vote`; the shared scenes, one per database, are the fixtures of
tests/integration/conftest.py). A roll-call vote held first is the control: its per-deputy lines
must be found by the same detectors. The readers here look where someone with full access to the
database and the logs would look: every row of every table in physical order (with PostgreSQL's
system columns and row versions), the raw pages of the SQLite file and its write-ahead log,
PostgreSQL's own write-ahead log and pages; `snapshot_held` and `reader_busy_for_a_while` hold a
snapshot or a reader across the close. How the link is prevented, what is left:
docs/secret-ballot.md. The ballot while it is open, cast by `cast_openly`, is looked at in
test_secret_ballot_open.py.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from halls import Clock, build_hall, postgres_database, postgres_schema
from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from voting.adapters.schema import upgrade
from voting.bootstrap import Runtime, build_runtime
from voting.config import database_config
from voting.domain.actors import SYSTEM, Actor
from voting.domain.events import DomainEvent
from voting.services import auth
from voting.services.commands import CreateToken

CHOICES = ("for", "against", "abstain")
PLAN = {"for": 10, "against": 7, "abstain": 5}
SECRETARY = Actor("secretary", "secretary:test")
PURGE_TIMEOUT = 30.0  # seconds to wait for the background purge (it takes well under one)
HOLD_SECONDS = 1.0  # how long a reader or a snapshot goes on after the close has answered
BOTH = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


# The open ballot, looked at while it is open (test_secret_ballot_open.py): `cast_openly`.


# ---------------------------------------------------------------------------------------------
# the scene: a roll-call vote (the control), then the secret vote under observation


@dataclass
class Scene:
    rt: Runtime
    url: str
    roll_call: int
    vote: int
    choice_of: dict[int, str]  # the truth that nobody may be able to rebuild
    order: list[int]  # the casting order
    closed: dict[str, Any]
    close_seconds: float  # how long the secretary waited for the close to answer
    events: list[DomainEvent]  # every event published, roll-call vote included
    first_secret_event: int  # index in `events` where the secret vote starts
    records: list[logging.LogRecord]  # every log record while the secret vote and its purge ran
    staff_token: str  # a secretary's bearer token, issued before the vote
    held: Held | None = None  # what was seen while a session held the purge back
    sqlite_wal_before_close: int | None = None
    pg_wal: tuple[str, str] | None = None  # WAL positions before opening and after the purge
    pg_files: dict[str, int] | None = None  # the secret tables' file nodes while the vote ran

    @property
    def secret_events(self) -> list[DomainEvent]:
        return self.events[self.first_secret_event :]

    @property
    def postgres(self) -> bool:
        return self.rt.engine.dialect.name == "postgresql"

    def sqlite_path(self) -> str:
        return self.url.split("///", 1)[1]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def every_log_record() -> Iterator[list[logging.LogRecord]]:
    """Collect all records at DEBUG: the root logger, and SQLAlchemy's engine, pool and ORM."""
    handler = _Collect()
    loggers = [logging.getLogger(name) for name in ("", "sqlalchemy", "sqlalchemy.engine")]
    levels = [each.level for each in loggers]
    logging.getLogger().addHandler(handler)
    for each in loggers:
        each.setLevel(logging.DEBUG)
    try:
        yield handler.records
    finally:
        logging.getLogger().removeHandler(handler)
        for each, level in zip(loggers, levels, strict=True):
            each.setLevel(level)


def planned_choices(voters: list[int]) -> dict[int, str]:
    """10 for, 7 against, 5 abstain, spread over the voters in no particular pattern."""
    choices = [choice for choice in CHOICES for _ in range(PLAN[choice])]
    random.Random(1).shuffle(choices)
    return dict(zip(voters, choices, strict=True))


def shuffled(choice_of: dict[int, str]) -> list[int]:
    order = list(choice_of)
    random.Random(2026).shuffle(order)
    return order


@dataclass
class Held:
    """What an observer saw of the casts' history while a session held the purge back, from the
    moment the close answered until the session ended: SQLite's log size, or PostgreSQL's dead
    sealed-ballot versions, looked at every quarter of a second. None: not observable here."""

    history: list[int] | None = None


Holder = Callable[[str], AbstractContextManager[Held]]


def hold_secret_vote(
    hall: Any,
    url: str,
    order: Callable[[dict[int, str]], list[int]] = shuffled,
    while_closing: Holder | None = None,
) -> Scene:
    """Register everyone, hold a roll-call vote, then the secret vote, wait for the purge that
    follows the close; return what was seen.

    `while_closing(url)` is entered just before the close and left after it has answered (when
    the session it stands for has finished)."""
    rt: Runtime = hall.rt
    events: list[DomainEvent] = []
    rt.bus.subscribe(events.append)
    staff_token = auth.create_token(rt.uow(), SYSTEM, CreateToken.parse({"role": "secretary"}))
    hall.open_registration()
    hall.register(*hall.everyone)

    roll_call = hall.open_vote(item_id=hall.items[0], kind="roll_call")
    for n, deputy_id in enumerate(hall.deputies[:6]):
        hall.cast(roll_call, deputy_id, CHOICES[n % 3])
    hall.close(roll_call)

    choice_of = planned_choices(hall.deputies[:22])
    casting = order(choice_of)
    postgres = rt.engine.dialect.name == "postgresql"
    pg_start, files = None, None
    if postgres:
        with rt.engine.connect() as connection:
            pg_start = connection.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
            files = {
                table: connection.execute(
                    text(f"SELECT pg_relation_filenode('{table}')")
                ).scalar_one()
                for table in ("sealed_ballot", "secret_participation")
            }

    first_secret_event = len(events)
    wal_before_close = None
    with every_log_record() as records:
        vote = hall.open_vote(title="Обрання секретаря ради", kind="secret")
        for deputy_id in casting:
            hall.clock.advance(7)
            hall.cast(vote, deputy_id, choice_of[deputy_id])
        hall.clock.advance(10)
        if not postgres:
            wal_before_close = os.path.getsize(url.split("///", 1)[1] + "-wal")
        with while_closing(url) if while_closing else nullcontext() as held:
            started = time.perf_counter()
            closed = hall.close(vote)
            close_seconds = time.perf_counter() - started
        # The close answered before the purge; storage is inspected once it has run.
        assert rt.purger is not None and rt.purger.wait_idle(PURGE_TIMEOUT), (
            f"the secret-ballot history was not purged within {PURGE_TIMEOUT:.0f} s"
        )

    pg_wal = None
    if postgres:
        with rt.engine.connect() as connection:
            pg_end = connection.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
        pg_wal = (pg_start, pg_end)
    return Scene(
        rt,
        url,
        roll_call,
        vote,
        choice_of,
        casting,
        closed,
        close_seconds,
        events,
        first_secret_event,
        records,
        staff_token,
        held,
        wal_before_close,
        pg_wal,
        files,
    )


@contextmanager
def fresh_database(backend: str, folder: Path, alone: bool = False) -> Iterator[str]:
    """An empty SQLite file, or a fresh schema on the PostgreSQL test server (`alone`: a database
    of its own, where no other test's transaction decides when old row versions go)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    with postgres_database() if alone else postgres_schema() as url:  # skips without a server
        yield url


@contextmanager
def council_on(backend: str, folder: Path, alone: bool = False) -> Iterator[tuple[Any, str]]:
    """A fresh database with the council, an open sitting and everyone registered: (hall, url)
    (`alone`: see fresh_database)."""
    with fresh_database(backend, folder, alone) as url:
        clock = Clock()
        runtime = build_runtime(database_config(url), clock=clock)
        try:
            upgrade(runtime.engine)
            hall = build_hall(runtime, clock)
            hall.open_registration()
            hall.register(*hall.everyone)
            yield hall, url
        finally:
            runtime.stop()


@contextmanager
def observed_secret_vote(backend: str, folder: Path, **options: Any) -> Iterator[Scene]:
    with fresh_database(backend, folder) as url:
        clock = Clock()
        runtime = build_runtime(database_config(url), clock=clock)
        try:
            upgrade(runtime.engine)
            yield hold_secret_vote(build_hall(runtime, clock), url, **options)
        finally:
            runtime.stop()


# ---------------------------------------------------------------------------------------------
# sessions that hold the purge back across the close


@contextmanager
def snapshot_held(url: str) -> Iterator[Held]:
    """Another session inside a REPEATABLE READ transaction when the vote closes, as a long
    report or pg_dump would be; it goes on for HOLD_SECONDS after the close has answered. It read
    only `council`, so it holds no lock the purge needs: only its snapshot holds the purge back."""
    held = Held()
    engine = create_engine(url)
    schema = pg_extension(engine, "pageinspect")
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            connection.execute(text("SELECT count(*) FROM council")).scalar_one()
            yield held

            def look() -> int:
                assert schema is not None
                with engine.connect() as observer:  # not the snapshot's session: it takes no lock
                    return stale_sealed_versions(observer, schema)

            if schema is None:
                time.sleep(HOLD_SECONDS)
            else:
                held.history = observe_for(HOLD_SECONDS, look)
            connection.rollback()
    finally:
        engine.dispose()


@contextmanager
def reader_busy_for_a_while(url: str, seconds: float = HOLD_SECONDS) -> Iterator[Held]:
    """A reader in the middle of a transaction over the secret tables when the vote closes (an
    export, a backup, a slow screen); it goes on for `seconds` after the close has answered (or
    whatever else its block did), looking at what the purge has not removed yet."""
    held = Held()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            raw.execute("BEGIN")
            raw.execute("SELECT count(*) FROM secret_participation").fetchone()
            yield held
            # Its snapshot needs the log's frames: the log cannot be emptied while it reads.
            held.history = observe_for(seconds, lambda: sqlite_wal_size(path))
            raw.execute("COMMIT")
        finally:
            raw.close()
        return
    engine = create_engine(url)
    schema = pg_extension(engine, "pageinspect")
    try:
        with engine.connect() as connection:  # READ COMMITTED: it holds locks but no old snapshot
            connection.execute(text("SELECT count(*) FROM sealed_ballot")).scalar_one()
            connection.execute(text("SELECT count(*) FROM secret_participation")).scalar_one()
            yield held
            if schema is None:
                time.sleep(seconds)
            else:  # under the locks it already holds: it does not queue behind the purge
                held.history = observe_for(
                    seconds, lambda: stale_sealed_versions(connection, schema)
                )
            connection.rollback()
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------
# reading the database as an intruder would: every row, in physical order


@dataclass(frozen=True)
class StoredRow:
    table: str
    values: dict[str, Any]  # every column, plus "_rowid" or "_ctid", "_xmin", "_xmax"
    deputies: frozenset[int]  # deputies this row names (columns, journal payloads, actor labels)
    votes: frozenset[int]  # votes this row is about
    choices: frozenset[str]  # choice values it holds (for / against / abstain)

    @property
    def columns(self) -> list[str]:
        return sorted(name for name in self.values if not name.startswith("_"))


ACTOR_LABEL = re.compile(r"^deputy:(\d+)$")


def read_json(
    node: Any, key: str | None, deputies: set[int], votes: set[int], choices: set[str]
) -> None:
    if isinstance(node, dict):
        for name, value in node.items():
            if name in ("choice", "outcome"):
                choices.add(str(value))
            if name == "choices" and isinstance(value, dict):  # a manual result: {deputy: choice}
                deputies.update(int(k) for k in value if str(k).isdigit())
            read_json(value, name, deputies, votes, choices)
    elif isinstance(node, list):
        for value in node:
            read_json(value, key, deputies, votes, choices)
    elif isinstance(node, bool):
        return
    elif isinstance(node, int):
        if key is not None and "deputy" in key:
            deputies.add(node)
        if key in ("vote_id", "previous_vote_id"):
            votes.add(node)
    elif isinstance(node, str):
        read_text(node, deputies, votes, choices)


def read_text(value: str, deputies: set[int], votes: set[int], choices: set[str]) -> None:
    if value in CHOICES:
        choices.add(value)
    label = ACTOR_LABEL.match(value)
    if label:
        deputies.add(int(label[1]))
    if value.startswith(("{", "[")):
        try:
            parsed = json.loads(value)
        except ValueError:
            return
        read_json(parsed, None, deputies, votes, choices)


def _physical_order_sql(connection: Any, table: str) -> str:
    if connection.dialect.name == "postgresql":
        # ctid is the row's place in the heap; xmin/xmax the transactions that wrote/ended it.
        return (
            f'SELECT ctid::text AS "_ctid", xmin::text AS "_xmin", xmax::text AS "_xmax", * '
            f'FROM "{table}" ORDER BY ctid'
        )
    ddl = connection.execute(
        text("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = :t"), {"t": table}
    ).scalar_one()
    if "WITHOUT ROWID" in ddl.upper():
        return f'SELECT * FROM "{table}"'  # stored as a B-tree on the primary key: that order
    return f'SELECT rowid AS "_rowid", * FROM "{table}" ORDER BY rowid'


def dump_database(engine: Engine) -> list[StoredRow]:
    """Every row of every table, each tagged with the deputies, votes and choices it mentions."""
    rows: list[StoredRow] = []
    with engine.connect() as connection:
        inspector = inspect(connection)
        for table in sorted(inspector.get_table_names()):
            keys = inspector.get_foreign_keys(table)
            deputy_columns = {"deputy_id"} | {
                c for k in keys if k["referred_table"] == "deputy" for c in k["constrained_columns"]
            }
            vote_columns = {
                c for k in keys if k["referred_table"] == "vote" for c in k["constrained_columns"]
            }
            if table == "deputy":
                deputy_columns.add("id")
            if table == "vote":
                vote_columns.add("id")
            query = text(_physical_order_sql(connection, table))
            for mapping in connection.execute(query).mappings():
                values = dict(mapping)
                deputies: set[int] = set()
                votes: set[int] = set()
                choices: set[str] = set()
                for column, value in values.items():
                    if column.startswith("_"):
                        continue
                    if isinstance(value, int) and not isinstance(value, bool):
                        if column in deputy_columns:
                            deputies.add(value)
                        if column in vote_columns:
                            votes.add(value)
                    elif isinstance(value, str):
                        read_text(value, deputies, votes, choices)
                rows.append(
                    StoredRow(
                        table, values, frozenset(deputies), frozenset(votes), frozenset(choices)
                    )
                )
    return rows


# ---------------------------------------------------------------------------------------------
# PostgreSQL: row versions and the write-ahead log


def pg_extension(engine: Engine, name: str) -> str | None:
    """The schema of a contrib extension, created in `public` if missing; None if impossible."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        try:
            connection.execute(text(f"CREATE EXTENSION IF NOT EXISTS {name} SCHEMA public"))
        except DBAPIError:
            pass  # not installed on the server, not permitted, or created concurrently
        return connection.execute(
            text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = :n"),
            {"n": name},
        ).scalar()


def heap_tuples(engine: Engine, schema: str, table: str) -> list[dict[str, Any]]:
    """Every line pointer on every page of a table, dead or alive, as pageinspect sees it."""
    with engine.connect() as connection:
        return heap_tuples_on(connection, schema, table)


def heap_tuples_on(connection: Connection, schema: str, table: str) -> list[dict[str, Any]]:
    pages = connection.execute(
        text(f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int")
    ).scalar_one()
    found: list[dict[str, Any]] = []
    for block in range(pages):
        found += [
            dict(row)
            for row in connection.execute(
                text(
                    f"SELECT :b AS block, lp, lp_off, lp_flags, lp_len, t_xmin::text AS t_xmin, "
                    f"t_xmax::text AS t_xmax, t_ctid::text AS t_ctid, "
                    f"encode(t_data, 'hex') AS t_data "
                    f"FROM {schema}.heap_page_items({schema}.get_raw_page('{table}', :b)) "
                    "ORDER BY lp"
                ),
                {"b": block},
            ).mappings()
        ]
    return found


def stale(tuples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Row versions that are not live: superseded (xmax set) or dead line pointers."""
    return [t for t in tuples if t["t_xmax"] != "0" or t["lp_flags"] != 1]


def stale_sealed_versions(connection: Connection, schema: str) -> int:
    return len(stale(heap_tuples_on(connection, schema, "sealed_ballot")))


def observe_for(seconds: float, look: Callable[[], int]) -> list[int]:
    """Look now and every quarter of a second until `seconds` have passed."""
    until, seen = time.monotonic() + seconds, [look()]
    while time.monotonic() < until:
        time.sleep(min(0.25, max(0.0, until - time.monotonic())))
        seen.append(look())
    return seen


def wal_record_files(blocks: str | None) -> set[int]:
    """The file nodes a WAL record's blocks belong to (any fork)."""
    return {int(node) for node in re.findall(r"rel \d+/\d+/(\d+)", blocks or "")}


# ---------------------------------------------------------------------------------------------
# SQLite: the write-ahead log and the raw bytes of the file


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = 0
    for n in range(9):
        byte = data[at + n]
        if n == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at + n + 1
    raise AssertionError("unreachable")


def _record(data: bytes, at: int) -> list[Any]:
    header_size, cursor = _varint(data, at)
    types = []
    while cursor < at + header_size:
        serial, cursor = _varint(data, cursor)
        types.append(serial)
    values: list[Any] = []
    cursor = at + header_size
    for serial in types:
        if serial in (8, 9):
            values.append(serial - 8)
        elif 1 <= serial <= 6:
            size = (0, 1, 2, 3, 4, 6, 8)[serial]
            values.append(int.from_bytes(data[cursor : cursor + size], "big", signed=True))
            cursor += size
        elif serial >= 13 and serial % 2:
            size = (serial - 13) // 2
            values.append(data[cursor : cursor + size].decode())
            cursor += size
        elif serial >= 12:  # a blob: a sealed ballot
            size = (serial - 12) // 2
            values.append(data[cursor : cursor + size])
            cursor += size
        else:
            raise AssertionError(f"serial type {serial} is not expected in the secret tables")
    return values


@dataclass(frozen=True)
class Page:
    raw: bytes
    cells: list[tuple[int, list[Any]]]  # (byte offset in the page, record), in offset order


def sqlite_table_page(path: str, table: str) -> Page:
    """The single leaf page of a small WITHOUT ROWID table, read from the file's bytes."""
    catalog = create_engine(f"sqlite:///{path}")
    try:
        with catalog.connect() as connection:
            size = connection.execute(text("PRAGMA page_size")).scalar_one()
            root = connection.execute(
                text("SELECT rootpage FROM sqlite_schema WHERE name = :t"), {"t": table}
            ).scalar_one()
    finally:
        catalog.dispose()
    raw = Path(path).read_bytes()[(root - 1) * size : root * size]
    assert raw[0] == 0x0A, "expected the table to fit on one leaf page of its B-tree"
    count = int.from_bytes(raw[3:5], "big")
    offsets = [int.from_bytes(raw[8 + 2 * n : 10 + 2 * n], "big") for n in range(count)]
    cells = [(offset, _record(raw, _varint(raw, offset)[1])) for offset in sorted(offsets)]
    return Page(raw, cells)


def sqlite_wal_frames(path: str, table: str) -> list[list[list[Any]]]:
    """Every image of a small WITHOUT ROWID table's single leaf page in the SQLite file's
    write-ahead log, oldest first, each as its records."""
    catalog = create_engine(f"sqlite:///{path}")
    try:
        with catalog.connect() as connection:
            root = connection.execute(
                text("SELECT rootpage FROM sqlite_schema WHERE name = :t"), {"t": table}
            ).scalar_one()
    finally:
        catalog.dispose()
    wal = Path(path + "-wal").read_bytes()
    size = int.from_bytes(wal[8:12], "big")
    images = []
    for at in range(32, len(wal) - size + 1, 24 + size):
        if int.from_bytes(wal[at : at + 4], "big") != root:
            continue
        raw = wal[at + 24 : at + 24 + size]
        assert raw[0] == 0x0A, "expected the table to fit on one leaf page of its B-tree"
        count = int.from_bytes(raw[3:5], "big")
        offsets = [int.from_bytes(raw[8 + 2 * n : 10 + 2 * n], "big") for n in range(count)]
        images.append([_record(raw, _varint(raw, offset)[1]) for offset in offsets])
    return images


def sqlite_wal_size(path: str) -> int:
    wal = Path(path + "-wal")
    return wal.stat().st_size if wal.exists() else 0


# ---------------------------------------------------------------------------------------------
# both databases: what the storage of the secret tables still holds


def leftover_bytes(scene: Scene, table: str) -> list[tuple[int, int]]:
    """(page, non-zero bytes) in the unused space of a secret table's pages, where an overwritten
    or removed row would leave its old bytes (and on PostgreSQL its transaction id)."""
    if not scene.postgres:
        raw = sqlite_table_page(scene.sqlite_path(), table).raw
        count, content = int.from_bytes(raw[3:5], "big"), int.from_bytes(raw[5:7], "big")
        freed = raw[8 + 2 * count : content or 65536]
        # A freed cell inside the content area (a freeblock, or fragment bytes) is a remnant too.
        loose = (raw[1:3] != b"\0\0") + raw[7]
        return [(0, sum(1 for byte in freed if byte) + loose)]
    schema = pg_extension(scene.rt.engine, "pageinspect")
    if schema is None:
        pytest.skip("the pageinspect extension cannot be created on this server")
    found = []
    with scene.rt.engine.connect() as connection:
        pages = connection.execute(
            text(f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int")
        ).scalar_one()
        for block in range(pages):
            raw = bytes(
                connection.execute(
                    text(f"SELECT {schema}.get_raw_page('{table}', :b)"), {"b": block}
                ).scalar_one()
            )
            lower, upper = (int.from_bytes(raw[at : at + 2], "little") for at in (12, 14))
            found.append((block, sum(1 for byte in raw[lower:upper] if byte)))
    return found


def history_left(scene: Scene) -> int:
    """What the purge has not yet removed: SQLite's log size; PostgreSQL's dead sealed ballots."""
    if not scene.postgres:
        return sqlite_wal_size(scene.sqlite_path())
    schema = pg_extension(scene.rt.engine, "pageinspect")
    if schema is None:
        return 0
    return len(stale(heap_tuples(scene.rt.engine, schema, "sealed_ballot")))
