"""The official record's files, produced in the background and kept in versions.

Where: `[server] instance_path`/records/ (`RecordStore`), one folder per sitting and per vote:

    sittings/<id>/protocol.v1.pdf, attendance.v1.pdf, opendata/voteEvents.v1.csv, ...
    votes/<id>/rollcall.v1.pdf

A production that gives other bytes than the latest version adds the next version (`.v2`, ...)
and keeps the old ones; the same bytes add nothing (documents render reproducibly). A version's
name is claimed with a hard link, which fails if the name exists, so two processes (or two
requests) producing at once never overwrite each other's file. The archive's stable URLs serve
the latest version; its JSON lists every version.

Who produces: `RecordProducer`, on first request for a file (voting/web/archive.py) and from
`RecordJob`, a job of the runtime that follows the bus: `sitting_closed` produces the protocol,
every roll-call sheet, the attendance and the open data; `vote_closed` and `vote_annulled`
refresh the vote's sheet (once its sitting is closed) and the sitting's open data;
`sitting_changed` (its place, chair or secretary) produces a closed sitting's record again. The
bus handler only notes the id (no work on the committing thread); the job's own thread does the
work on its next tick, but not while a vote is open (its casts come first; at most
`RECORD_JOB_PATIENCE_SECONDS`): the hall going straight on to the next item gets the record of
the vote before once that one closes. The open data's checking, serialising and writing run off
the event loop too. Staff asking for the record again start a `Production` (`Productions`):
it runs on a thread of its own and reports how far it has got, so the control screen shows a
percentage while the worker processes render.

How: a PDF is rendered in a separate process (protocols.worker.render_in_worker). Under
`voting serve` every thread is a greenlet of one OS thread (gevent), and waiting for the worker
(reading its pipe, joining it) would block them all: `off_the_event_loop`
(adapters/event_loop.py) hands that wait to gevent's hub threadpool, a real OS thread, and the
calling greenlet sleeps on the result cooperatively while the hub keeps serving casts. Without
gevent (tests, the CLI) the call runs in the calling thread. At most `RENDERS_AT_ONCE` renders
run at a time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from protocols.render import Model, Progress
from protocols.worker import render_in_worker
from voting.adapters.event_loop import off_the_event_loop
from voting.domain.errors import DomainError
from voting.domain.events import DomainEvent
from voting.domain.sittings import SittingState
from voting.domain.votes import VoteState
from voting.jobs import Background, Periodic
from voting.opendata import RESOURCES
from voting.services import archive, records
from voting.services.export import (
    ExportError,
    Resources,
    Selection,
    build_resources,
    problems,
    to_csv,
    to_json,
)
from voting.services.uow import Units

log = logging.getLogger(__name__)

#: Renders running at once (each is a process of its own).
RENDERS_AT_ONCE = 2
#: How often the job looks for sittings and votes to produce.
RECORD_JOB_SECONDS = 0.5
#: How long the job's work waits for an open vote to close (its casts come first), at most.
RECORD_JOB_PATIENCE_SECONDS = 60.0
#: The open-data files of a sitting: <resource>.csv and <resource>.json.
OPENDATA_FORMATS = ("csv", "json")


@dataclass(frozen=True, slots=True)
class Document:
    """One file of the record: `scope` "sittings" or "votes", the owner's id, and its name
    ("protocol.pdf", "attendance.pdf", "rollcall.pdf", "opendata/vote.csv")."""

    scope: str
    owner: int
    name: str

    @property
    def kind(self) -> str:
        return self.name.rsplit(".", 1)[0].split("/")[-1]

    @property
    def suffix(self) -> str:
        return self.name.rsplit(".", 1)[1]

    @property
    def is_opendata(self) -> bool:
        return self.name.startswith("opendata/")

    def folder(self, root: Path) -> Path:
        return root / self.scope / str(self.owner) / Path(self.name).parent

    def file_name(self, version: int) -> str:
        return f"{self.kind}.v{version}.{self.suffix}"


def protocol(sitting_id: int) -> Document:
    return Document("sittings", sitting_id, "protocol.pdf")


def attendance(sitting_id: int) -> Document:
    return Document("sittings", sitting_id, "attendance.pdf")


def roll_call(vote_id: int) -> Document:
    return Document("votes", vote_id, "rollcall.pdf")


def opendata(sitting_id: int, resource: str, fmt: str) -> Document:
    return Document("sittings", sitting_id, f"opendata/{resource}.{fmt}")


def opendata_documents(sitting_id: int) -> list[Document]:
    return [opendata(sitting_id, r, f) for r in RESOURCES for f in OPENDATA_FORMATS]


@dataclass(frozen=True, slots=True)
class Version:
    """A version of a document on disk."""

    number: int
    path: Path
    size: int
    created_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.number,
            "size": self.size,
            "created_at": self.created_at.isoformat(timespec="seconds"),
        }


def _digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class RecordStore:
    """The versions of the record's documents in a folder (see the module's docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def versions(self, document: Document) -> list[Version]:
        """Every version, oldest first."""
        folder = document.folder(self.root)
        prefix, suffix = f"{document.kind}.v", f".{document.suffix}"
        found = []
        if folder.is_dir():
            for entry in folder.iterdir():
                number = entry.name[len(prefix) : -len(suffix)]
                if entry.name.startswith(prefix) and entry.name.endswith(suffix):
                    if number.isdigit():
                        stat = entry.stat()
                        moment = datetime.fromtimestamp(stat.st_mtime, UTC)
                        found.append(Version(int(number), entry, stat.st_size, moment))
        return sorted(found, key=lambda v: v.number)

    def latest(self, document: Document) -> Version | None:
        found = self.versions(document)
        return found[-1] if found else None

    def scratch(self, document: Document) -> Path:
        """A new empty temporary file in the document's folder (made if missing)."""
        folder = document.folder(self.root)
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{document.kind}.", suffix=".part", dir=folder)
        os.close(handle)
        return Path(name)

    def publish(self, document: Document, scratch: Path) -> Version:
        """Make the finished `scratch` file the next version, unless it says exactly what the
        latest says (then the latest stays). The scratch file is gone afterwards."""
        try:
            latest = self.latest(document)
            if latest is not None and _digest(latest.path) == _digest(scratch):
                return latest
            os.chmod(scratch, 0o644)  # mkstemp made it private; the record is public
            number = 1 if latest is None else latest.number + 1
            while True:
                target = document.folder(self.root) / document.file_name(number)
                try:
                    os.link(scratch, target)  # fails if another producer took the number
                except FileExistsError:
                    number += 1
                    continue
                stat = target.stat()
                return Version(
                    number, target, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)
                )
        finally:
            scratch.unlink(missing_ok=True)


#: The units of one document's progress (its layout's done/total scaled to them).
STEP = 1000


class _Steps:
    """A production's progress over its documents: each one STEP units, the current one
    reported by its render as it lays out its pages."""

    def __init__(self, count: int, progress: Progress | None) -> None:
        self.count, self.progress, self.current = count, progress, -1
        self._report(0)

    def _report(self, done: int) -> None:
        if self.progress is not None:
            self.progress(min(done, self.count * STEP), self.count * STEP)

    def next(self) -> Progress:
        """The next document begins: its render's progress callback."""
        self.current += 1
        base = self.current * STEP
        self._report(base)

        def within(done: int, total: int) -> None:
            # A document whose layout has begun (its worker told its size) is a unit on: its
            # first parts (a long table) may take most of its time.
            if total > 0:
                self._report(base + max(1, done * (STEP - 1) // total))

        return within

    def finish(self) -> None:
        self._report(self.count * STEP)


class RecordProducer:
    """Produces the record's documents from the database into a `RecordStore`."""

    def __init__(
        self,
        units: Units,
        store: RecordStore,
        render: Callable[[str, Model, Path, Progress | None], object] = render_in_worker,
    ) -> None:
        self.units = units
        self.store = store
        self.render = render
        self._renders = threading.BoundedSemaphore(RENDERS_AT_ONCE)
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, int], threading.Lock] = {}

    def _lock(self, scope: str, owner: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault((scope, owner), threading.Lock())

    # --- what the archive's URLs ask ---------------------------------------------------------

    def ensure(self, document: Document) -> Version:
        """The latest version, produced first if there is none. Raises what the services raise
        for a sitting or vote not (yet) in the record."""
        latest = self.store.latest(document)
        if latest is not None:
            return latest
        with self._lock(document.scope, document.owner):
            latest = self.store.latest(document)  # made meanwhile by someone else
            if latest is not None:
                return latest
            if document.is_opendata:
                return self._opendata(document.owner)[document]
            return self._pdf(document)

    # --- whole productions ----------------------------------------------------------------

    def produce_sitting(
        self, sitting_id: int, progress: Progress | None = None
    ) -> dict[Document, Version]:
        """Everything of a closed sitting: the protocol, the attendance, every counted vote's
        roll-call sheet, the open data. New versions where anything changed. `progress(done,
        total)` follows it: each document is STEP units, laid out page by page in its worker."""
        sheets = records.roll_call_sheets(self.units.reader(), sitting_id)
        steps = _Steps(2 + len(sheets) + 1, progress)  # the PDFs, then the open data
        with self._lock("sittings", sitting_id):
            made = {
                d: self._pdf(d, steps.next())
                for d in (protocol(sitting_id), attendance(sitting_id))
            }
        for sheet in sheets:
            document = roll_call(sheet.vote.vote_id)
            with self._lock("votes", document.owner):
                made[document] = self._render_to_store(document, sheet, steps.next())
        with self._lock("sittings", sitting_id):
            steps.next()
            made.update(self._opendata_if_any(sitting_id))
        steps.finish()
        return made

    def refresh_vote(self, vote_id: int) -> dict[Document, Version]:
        """After a vote closes (or is annulled): its sitting's open data and its roll-call
        sheet, public the same day, while the sitting goes on."""
        sitting_id, sitting_state, vote_state = archive.vote_place(self.units.reader(), vote_id)
        if vote_state == VoteState.OPEN:
            return {}
        made: dict[Document, Version] = {}
        with self._lock("sittings", sitting_id):
            made.update(self._opendata_if_any(sitting_id))
        if vote_state == VoteState.CLOSED:
            with self._lock("votes", vote_id):
                made[roll_call(vote_id)] = self._pdf(roll_call(vote_id))
        return made

    # --- the pieces -----------------------------------------------------------------------

    def _pdf(self, document: Document, progress: Progress | None = None) -> Version:
        reader = self.units.reader()
        model: Model
        if document.kind == "protocol":
            model = records.sitting_record(reader, document.owner)
        elif document.kind == "attendance":
            model = records.attendance_report(reader, sitting_id=document.owner)
        elif document.kind == "rollcall":
            archive.vote_place(self.units.reader(), document.owner)  # NotFound first
            model = records.roll_call_sheet(reader, document.owner)
        else:
            raise ValueError(f"no such document: {document.name}")
        return self._render_to_store(document, model, progress)

    def _render_to_store(
        self, document: Document, model: Model, progress: Progress | None = None
    ) -> Version:
        scratch = self.store.scratch(document)
        try:
            with self._renders:
                off_the_event_loop(self.render, document.kind, model, scratch, progress)
        except BaseException:
            scratch.unlink(missing_ok=True)
            raise
        return self.store.publish(document, scratch)

    def _opendata_if_any(self, sitting_id: int) -> dict[Document, Version]:
        """The open data, or nothing for a sitting the structures do not cover (a
        committee's)."""
        try:
            return self._opendata(sitting_id)
        except ExportError as error:
            log.warning("no open data for sitting %s: %s", sitting_id, error.message)
            return {}

    def _opendata(self, sitting_id: int) -> dict[Document, Version]:
        """Every open-data file of a sitting (its closed votes while it is still open)."""
        state = archive.sitting_state(self.units.reader(), sitting_id)
        resources = build_resources(
            self.units.reader(),
            Selection(sitting_id=sitting_id),
            include_open=state == SittingState.OPEN,
        )
        # Checking, serialising and writing the files is CPU and disk, no database: off the
        # event loop, so that the casts of the next vote go on meanwhile (a sitting of many
        # votes makes files that take tens of milliseconds).
        return off_the_event_loop(self._write_opendata, sitting_id, resources)

    def _write_opendata(self, sitting_id: int, resources: Resources) -> dict[Document, Version]:
        found = problems(resources)
        if found:
            raise ExportError(f"the open data of sitting {sitting_id} is not valid: {found[0]}")
        made = {}
        for resource, rows in resources.items():
            for fmt, text in (("csv", to_csv(resource, rows)), ("json", to_json(resource, rows))):
                document = opendata(sitting_id, resource, fmt)
                scratch = self.store.scratch(document)
                scratch.write_text(text, encoding="utf-8", newline="")
                made[document] = self.store.publish(document, scratch)
        return made


def listing(made: dict[Document, Version]) -> list[dict[str, object]]:
    """The files of a production, as the API lists them."""
    return [
        {"scope": d.scope, "id": d.owner, "name": d.name, **v.to_dict()}
        for d, v in sorted(made.items(), key=lambda pair: (pair[0].scope, pair[0].owner))
    ]


@dataclass
class Production:
    """A sitting's record produced on request (the control screen's button), and how far it
    has got: `done` of `total` units (STEP per document)."""

    id: str
    sitting_id: int
    state: str = "running"  # running, done, failed
    done: int = 0
    total: int = 0
    files: list[dict[str, object]] = field(default_factory=list)
    error: str | None = None

    def advance(self, done: int, total: int) -> None:
        """The producer's progress callback. It may run on a thread of gevent's hub pool, so it
        only assigns (no lock a greenlet might hold)."""
        self.done, self.total = done, total

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        return 0 if self.total <= 0 else min(99, self.done * 100 // self.total)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "job_id": self.id,
            "sitting_id": self.sitting_id,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "percent": self.percent,
        }
        if self.state == "done":
            out["files"] = self.files
        if self.error is not None:
            out["error"] = self.error
        return out


class Productions:
    """The productions asked for: each runs on a thread of its own (a greenlet under `voting
    serve`) that only waits for the render processes; a request asks how far one has got. The
    last KEEP finished ones are kept; one sitting has at most one running."""

    KEEP = 50

    def __init__(self, producer: RecordProducer) -> None:
        self.producer = producer
        self._lock = threading.Lock()
        self._all: dict[str, Production] = {}  # in the order they were started
        # Finished (or waited for) before the runtime's database goes: a production left
        # running past it read through a pool nobody closed any more.
        self._threads = Background()

    def start(self, sitting_id: int) -> Production:
        """A production of the sitting's record: the one running already, or a new one."""
        with self._lock:
            for production in self._all.values():
                if production.sitting_id == sitting_id and production.state == "running":
                    return production
            production = Production(secrets.token_hex(8), sitting_id)
            self._all[production.id] = production
            finished = [p.id for p in self._all.values() if p.state != "running"]
            for old in finished[: max(0, len(finished) - self.KEEP)]:
                del self._all[old]
        self._threads.run(self._run, production)
        return production

    def stop(self) -> None:
        """Start no more productions; wait for those running (when the runtime stops)."""
        self._threads.stop()

    def get(self, production_id: str) -> Production | None:
        with self._lock:
            return self._all.get(production_id)

    def _run(self, production: Production) -> None:
        try:
            made = self.producer.produce_sitting(production.sitting_id, production.advance)
        except DomainError as error:
            production.error, production.state = error.message, "failed"
        except Exception as error:  # noqa: BLE001 - told to whoever asks, and logged
            log.exception("the record of sitting %s could not be produced", production.sitting_id)
            production.error, production.state = f"{error.__class__.__name__}: {error}", "failed"
        else:
            production.files, production.state = listing(made), "done"


class RecordJob(Periodic):
    """Follows the bus and produces the record in the background (see the module's
    docstring). `follow` only notes what to do; `tick` does it, on the job's own thread."""

    def __init__(
        self,
        producer: RecordProducer,
        interval: float = RECORD_JOB_SECONDS,
        patience: float = RECORD_JOB_PATIENCE_SECONDS,
    ) -> None:
        super().__init__(self.tick, interval, "record-job")
        self.producer = producer
        self.patience = patience
        self._pending: dict[tuple[str, int], None] = {}  # in order of arrival, each once
        self._pending_lock = threading.Lock()
        self._waiting_since: float | None = None

    def follow(self, event: DomainEvent) -> None:
        # closed, or its place, chair or secretary changed (in the protocol): once per tick
        if event.kind in ("sitting_closed", "sitting_changed"):
            key = ("sitting", event.payload.get("sitting_id"))
        elif event.kind in ("vote_closed", "vote_annulled"):
            key = ("vote", event.payload.get("vote_id"))
        else:
            return
        if isinstance(key[1], int):
            with self._pending_lock:
                self._pending[(key[0], key[1])] = None

    def tick(self) -> Sequence[tuple[str, int]]:
        """Produce what is pending; a failure is logged and the rest goes on. Nothing while a
        vote is open (see `_waits`)."""
        with self._pending_lock:
            if not self._pending:
                return []
        if self._waits():
            return []
        with self._pending_lock:
            pending, self._pending = list(self._pending), {}
        for what, owner in pending:
            try:
                if what == "sitting":
                    state = archive.sitting_state(self.producer.units.reader(), owner)
                    if state != SittingState.CLOSED:
                        continue  # changed while open: its record is made when it closes
                    made = self.producer.produce_sitting(owner)
                else:
                    made = self.producer.refresh_vote(owner)
                log.info("the record of %s %s: %d files up to date", what, owner, len(made))
            except Exception:
                log.exception("the record of %s %s could not be produced", what, owner)
        return pending

    def _waits(self) -> bool:
        """Whether the work waits: while a vote is open its casts come first (the open data of
        a long sitting takes tens of milliseconds of the server's CPU to write), so the record
        catches up in the pause after it, as the hall goes on to the next item; at most
        `patience` seconds, so that a vote left open does not hold the record back."""
        try:
            voting_now = archive.a_vote_is_open(self.producer.units.reader())
        except Exception:  # the database away for a moment: go on (each piece is guarded)
            log.exception("the record job could not tell whether a vote is open")
            voting_now = False
        if not voting_now:
            self._waiting_since = None
            return False
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        if now - self._waiting_since < self.patience:
            return True
        self._waiting_since = None
        return False
