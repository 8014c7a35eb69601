"""The official record is produced in the background: a closed vote refreshes its sitting's open
data, closing a sitting produces the protocol, the attendance, every roll-call sheet and the open
data without anyone asking, a later production after a correction adds a version and keeps the
first; the job waits while a vote is open (its casts come first) and goes on if it cannot tell;
and waiting for a render process never blocks gevent's loop (the web server's)."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from halls import SECRETARY, Hall
from sqlalchemy.exc import OperationalError
from waiting import until

from voting.bootstrap import Runtime
from voting.domain.events import DomainEvent
from voting.record_jobs import RecordJob, RecordStore, attendance, opendata, protocol, roll_call
from voting.services import archive, council, sittings
from voting.services.commands import ChangeDeputy
from voting.web import create_app

ROOT = Path(__file__).resolve().parents[2]


def test_closing_a_sitting_produces_its_record_and_a_correction_a_new_version(
    hall: Hall, runtime: Runtime, db_url: str, tmp_path: Path
) -> None:
    app = create_app(
        runtime=runtime,
        overrides={"database": {"url": db_url}, "server": {"instance_path": str(tmp_path)}},
    )
    job: RecordJob = app.extensions["voting.record_job"]
    store = RecordStore(tmp_path / "records")
    assert job.producer.store.root == store.root
    runtime.start()  # the job runs from here, as under `voting serve`
    s, d = hall.sitting, hall.deputies

    hall.open_registration()
    hall.register(*d[:30], hall.head)
    first = hall.open_vote(item_id=hall.items[0], stage="as_a_whole", kind="roll_call")
    hall.cast_many(first, d[:25], "for")
    hall.close(first)
    # The vote closed: the sitting's open data is published (the same day), unasked.
    events = until(lambda: store.latest(opendata(s, "voteEvents", "csv")), timeout=20)
    assert str(first) in events.path.read_text(encoding="utf-8")
    assert store.latest(protocol(s)) is None  # the protocol waits for the close

    second = hall.open_vote(item_id=hall.items[1], stage="as_a_whole", kind="secret")
    hall.cast_many(second, d[:23], "for")
    hall.close(second)
    sittings.close_sitting(hall.rt.uow(), SECRETARY, s)

    wanted = [protocol(s), attendance(s), roll_call(first), roll_call(second)]
    wanted += [
        opendata(s, r, f) for r in ("vote", "voteEvents", "deputies") for f in ("csv", "json")
    ]
    until(lambda: all(store.latest(doc) for doc in wanted), timeout=30)
    for doc in wanted:
        latest = store.latest(doc)
        assert latest is not None and latest.size > 0, doc
    first_protocol = store.latest(protocol(s))
    assert first_protocol is not None and first_protocol.path.read_bytes().startswith(b"%PDF-")
    original = first_protocol.path.read_bytes()

    # A correction after the close (a name misspelt), then the record is produced again: the
    # protocol gets version 2, version 1 stays as it was; what did not change gets no version.
    council.update_deputy(
        runtime.uow(),
        SECRETARY,
        ChangeDeputy.parse({"full_name": "Депутатенко01 Іван Павлович"}, deputy_id=d[0]),
    )
    job.follow(DomainEvent(0, "sitting_closed", {"sitting_id": s}))
    until(lambda: len(store.versions(protocol(s))) == 2, timeout=30)
    old, new = store.versions(protocol(s))
    assert old.path.read_bytes() == original and new.path.read_bytes() != original
    assert store.latest(protocol(s)) == new
    assert [v.number for v in store.versions(roll_call(second))] == [1]  # a secret sheet: no names


def test_the_record_waits_while_a_vote_is_open_and_catches_up_after_it(
    hall: Hall, runtime: Runtime, db_url: str, tmp_path: Path
) -> None:
    """The hall votes on the next item straight after a close: the record's files of the vote
    before wait until that vote is closed too (its casts come first), then both are there; a
    vote left open holds the record back no longer than the job's patience."""
    app = create_app(
        runtime=runtime,
        overrides={"database": {"url": db_url}, "server": {"instance_path": str(tmp_path)}},
    )
    job: RecordJob = app.extensions["voting.record_job"]  # not started: ticked by hand here
    store = RecordStore(tmp_path / "records")
    events = opendata(hall.sitting, "voteEvents", "csv")
    d = hall.deputies
    hall.open_registration()
    hall.register(*d[:30], hall.head)
    first = hall.open_vote(item_id=hall.items[0], stage="as_a_whole", kind="roll_call")
    hall.cast_many(first, d[:25], "for")
    hall.close(first)
    second = hall.open_vote(item_id=hall.items[1], stage="as_a_whole", kind="roll_call")
    hall.cast_many(second, d[:20], "against")

    assert job.tick() == []  # the second vote is open: nothing is written meanwhile
    assert store.latest(events) is None

    hall.close(second)
    assert job.tick() == [("vote", first), ("vote", second)]
    made = store.latest(events)
    assert made is not None
    with made.path.open(encoding="utf-8", newline="") as file:
        results = {row["uid"]: row["result"] for row in csv.DictReader(file)}
    assert results == {str(first): "Прийнято", str(second): "Не прийнято"}

    third = hall.open_vote(item_id=hall.items[2], stage="as_a_whole", kind="roll_call")
    shutil.rmtree(store.root)  # what the next production writes is seen
    job.follow(DomainEvent(0, "vote_closed", {"vote_id": second}))
    assert job.tick() == [] and store.latest(events) is None
    job.patience = 0.0  # the third vote has been open "too long"
    assert job.tick() == [("vote", second)]
    assert store.latest(events) is not None
    hall.close(third)


def test_the_record_job_goes_on_when_it_cannot_tell_whether_a_vote_is_open(
    hall: Hall, runtime: Runtime, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(
        runtime=runtime,
        overrides={"database": {"url": db_url}, "server": {"instance_path": str(tmp_path)}},
    )
    job: RecordJob = app.extensions["voting.record_job"]
    hall.open_registration()
    hall.register(*hall.deputies[:30], hall.head)
    vote = hall.open_vote(item_id=hall.items[0], stage="as_a_whole", kind="roll_call")
    hall.cast_many(vote, hall.deputies[:25], "for")
    hall.close(vote)

    def unreachable(uow: object) -> bool:
        raise OperationalError("SELECT", {}, Exception("the database restarts"))

    monkeypatch.setattr(archive, "a_vote_is_open", unreachable)
    assert job.tick() == [("vote", vote)]  # no exception: the job's thread lives on
    assert RecordStore(tmp_path / "records").latest(opendata(hall.sitting, "voteEvents", "csv"))


GEVENT_SCRIPT = """
from gevent import monkey

monkey.patch_all()

import sys
import time
from datetime import date, datetime, timezone

import gevent

from protocols.model import (
    BallotLine, CouncilDetails, Counts, FactionGroup, RollCallSheet, SittingHeader, VoteRecord,
)
from protocols.worker import render_in_worker
from voting.adapters.event_loop import off_the_event_loop

MOMENT = datetime(2026, 11, 25, 10, tzinfo=timezone.utc)


def sheet():
    header = SittingHeader(
        1, CouncilDetails("Рада", "12345678", "UA12345678901234567"), "Засідання",
        date(2026, 11, 25), 8, "VIII", 1, 1, opened_at=MOMENT, closed_at=MOMENT,
    )
    vote = VoteRecord(
        1, "Про бюджет", "в цілому", "поіменне", False, "більше половини", MOMENT, MOMENT,
        450, 450, 450, 226, Counts(450, 0, 0, 0, 0), "Прийнято",
    )
    lines = tuple(BallotLine(f"Депутат{n:03d}", "Фракція", "За") for n in range(450))
    return RollCallSheet(header, vote, "Про бюджет", "1/2", (FactionGroup("Фракція", lines),))


def main():
    gaps = []

    def ticker():
        last = time.monotonic()
        while True:
            gevent.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    gevent.spawn(ticker)
    gevent.sleep(0.05)
    gaps.clear()
    started = time.monotonic()
    size = off_the_event_loop(render_in_worker, "rollcall", sheet(), sys.argv[1])
    took = time.monotonic() - started
    print(size, took, len(gaps), max(gaps))


if __name__ == "__main__":
    main()
"""


def test_waiting_for_a_render_leaves_gevents_loop_free(tmp_path: Path) -> None:
    """Under gevent (as `voting serve` runs), a greenlet that waits for a render process does
    not stop the others: a greenlet ticking every 10 ms keeps ticking throughout."""
    script = tmp_path / "render_under_gevent.py"
    script.write_text(textwrap.dedent(GEVENT_SCRIPT), encoding="utf-8")
    out = tmp_path / "sheet.pdf"
    done = subprocess.run(
        [sys.executable, str(script), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    size, took, ticks, longest = done.stdout.split()
    assert int(size) > 1000 and out.read_bytes().startswith(b"%PDF-")
    # The render took a while; the loop ticked through it (a blocked loop ticks once, late).
    assert int(ticks) >= float(took) / 0.01 / 4, done.stdout
    assert float(longest) < 0.5, done.stdout
