"""Erase what is left of a secret ballot's sealed ballots after it closes, in the background.

A sealed ballot opens only with a private key that its owner forgets at the close
(adapters/sealed_ballots.py), so what is left cannot be opened; the purge removes it anyway, so
that not even a key taken from the owner's memory during the ballot could open it later. Such
remnants are:
- PostgreSQL: dead row versions of `sealed_ballot` in the heap, each with the casting
  transaction's xmin, beside its participation row's;
- SQLite: page images of every commit in the write-ahead log, and freed cells in the database
  pages.
The purge rewrites the tables in key order (PostgreSQL `CLUSTER ... USING` the primary key until
no dead version is kept; SQLite `VACUUM`, then a TRUNCATE checkpoint). It runs after the close is
acknowledged, with short lock timeouts, and retries while readers or snapshots hold it back, so a
close never waits for it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text

if TYPE_CHECKING:  # PostgreSQL's driver, needed only there
    import psycopg

log = logging.getLogger(__name__)

SECRET_TABLES = ("sealed_ballot", "secret_participation")
_KEPT = re.compile(r"(\d+) dead row versions cannot be removed yet")
LOCK_TIMEOUT = "200ms"  # short: other work on the secret tables must not queue behind a purge
BY_HAND = {
    "sqlite": "VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
    "postgresql": "CLUSTER sealed_ballot USING pk_sealed_ballot; "
    "CLUSTER secret_participation USING pk_secret_participation;",
}


class SecretHistoryPurger:
    """A background worker: `request()` after a secret vote closes; `wait_idle()` in tests."""

    def __init__(self, engine: Engine, give_up_after: float = 600.0) -> None:
        self.engine = engine
        self.give_up_after = give_up_after
        self._wanted = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._vacuumed = False  # SQLite: the file is rebuilt; only the checkpoint is left

    def request(self) -> None:
        """Ask for a purge; returns at once."""
        with self._lock:
            if self._stopped:
                return
            self._idle.clear()
            self._wanted.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="secret-purge", daemon=True)
                self._thread.start()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once every requested purge has finished (or given up)."""
        return self._idle.wait(timeout)

    def stop(self) -> None:
        if not self._idle.is_set():
            log.warning(
                "stopping with a secret-ballot purge pending; it is requested again at "
                "the next start (or run by hand: %s)",
                self.by_hand(),
            )
        with self._lock:
            self._stopped = True
            self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stopped or not self._wanted.is_set():
                    self._idle.set()
                    self._thread = None
                    return
                self._wanted.clear()
            self._vacuumed = False
            started, pause = time.monotonic(), 0.05
            while not self._stopped:
                try:
                    if self.purge_once():
                        break
                except Exception as error:  # noqa: BLE001 - retried below, never fatal
                    log.info("secret-ballot purge postponed: %s", error.__class__.__name__)
                if time.monotonic() - started > self.give_up_after:
                    log.error(
                        "secret-ballot history could not be purged for %.0f s; run by hand: %s",
                        self.give_up_after,
                        self.by_hand(),
                    )
                    break
                time.sleep(pause)
                pause = min(pause * 2, 5.0)

    def by_hand(self) -> str:
        """The SQL that purges by hand on this database."""
        return BY_HAND.get(self.engine.dialect.name, BY_HAND["postgresql"])

    def purge_once(self) -> bool:
        """One attempt; True when no history is left."""
        if self.engine.dialect.name == "sqlite":
            return self._purge_sqlite()
        return self._purge_postgres()

    def _purge_sqlite(self) -> bool:
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA busy_timeout=250")
            try:
                if not self._vacuumed:
                    cursor.execute("VACUUM")  # rebuilds every page: no cell keeps its write order
                    self._vacuumed = True
                busy, _frames, _done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                cursor.execute("PRAGMA busy_timeout=10000")
                cursor.close()
            return busy == 0
        finally:
            raw.close()

    def _purge_postgres(self) -> bool:
        clean = True
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            driver = connection.connection.driver_connection
            assert driver is not None  # a live connection from the pool
            notices: list[str] = []

            def handler(diagnostic: psycopg.errors.Diagnostic) -> None:
                notices.append(diagnostic.message_detail or "")

            driver.add_notice_handler(handler)
            try:
                connection.execute(text(f"SET lock_timeout = '{LOCK_TIMEOUT}'"))
                for table in SECRET_TABLES:
                    notices.clear()
                    # Rewritten in primary-key order, without the dead versions.
                    connection.execute(text(f"CLUSTER (VERBOSE) {table} USING pk_{table}"))
                    kept = [int(m.group(1)) for n in notices if (m := _KEPT.search(n))]
                    # Dead versions still visible to an open snapshot: try again later.
                    if not kept or kept[-1] > 0:
                        clean = False
            finally:
                driver.remove_notice_handler(handler)
                connection.execute(text("RESET lock_timeout"))
        return clean
