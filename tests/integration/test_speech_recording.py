"""The recording hook, with harmless stand-in commands (a small Python script): a recording kept
with its speech, and a hook that cannot start, fails, or hangs reported and journaled without
ever holding up the floor."""

from __future__ import annotations

import dataclasses
import shlex
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from halls import CHAIR, Clock, Hall, build_hall, deputy_actor
from waiting import until

from voting.adapters import recorder as recorder_module
from voting.adapters.schema import upgrade
from voting.bootstrap import Runtime, build_runtime
from voting.config import FloorConfig, ServerConfig, database_config
from voting.services import floor, journal, sittings
from voting.services.commands import GrantFloor, RequestFloor, SetItemStatus, SpeechAction
from voting.services.uow import UnitOfWork

PYTHON = shlex.quote(sys.executable)


def script(code: str) -> str:
    """A stand-in recording command: Python running `code`, given the recording's path."""
    return f"{PYTHON} -c {shlex.quote(code)} {{path}}"


#: Writes "<path>.txt" and runs until stopped.
RECORDS = script("import sys, time; open(sys.argv[1] + '.txt', 'w').write('audio'); time.sleep(60)")
#: Ignores SIGTERM: it has to be killed.
HANGS = script("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)")
FAILS = script("import sys; sys.stderr.write('no sound card'); sys.exit(3)")
MISSING = "/nonexistent/recorder {path}"


@pytest.fixture
def recording_hall(
    sqlite_url: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Hall]:
    monkeypatch.setattr(recorder_module, "STOP_SECONDS", 0.5)
    config = dataclasses.replace(
        database_config(sqlite_url),
        server=ServerConfig(instance_path=str(tmp_path)),
        floor=FloorConfig(recording_command=request.param),
    )
    clock = Clock()
    rt: Runtime = build_runtime(config, clock=clock)
    upgrade(rt.engine)
    hall = build_hall(rt, clock)
    hall.open_registration()
    hall.register(hall.deputies[0])
    sittings.set_item_status(
        rt.uow(),
        CHAIR,
        SetItemStatus.parse({"status": "under_consideration"}, item_id=hall.items[0]),
    )
    yield hall
    rt.stop()


def speak(hall: Hall) -> int:
    rt = hall.rt
    floor.request_floor(
        rt.uow(),
        deputy_actor(hall.deputies[0]),
        RequestFloor.parse({}, sitting_id=hall.sitting),
        rt.floor_rules,
    )
    return floor.grant_floor(
        rt.uow(), CHAIR, GrantFloor.parse({}, sitting_id=hall.sitting), rt.floor_rules
    )


def end(hall: Hall, speech_id: int) -> None:
    floor.end_speech(
        hall.rt.uow(), CHAIR, SpeechAction.parse({}, speech_id=speech_id), hall.rt.floor_rules
    )


def record(rt: Runtime, speech_id: int) -> dict[str, object]:
    return floor.speeches_one(rt.reader(), speech_id)


def recorded_kinds(uow: UnitOfWork) -> list[str]:
    return [
        e["kind"]
        for e in journal.read_journal(uow, 0)
        if e["kind"] in ("speech_recorded", "recording_failed")
    ]


@pytest.mark.parametrize("recording_hall", [RECORDS], indirect=True)
def test_a_speech_is_recorded_and_its_file_kept(recording_hall: Hall, tmp_path: Path) -> None:
    hall = recording_hall
    speech = speak(hall)
    stem = tmp_path / "recordings" / f"sitting-{hall.sitting}-speech-{speech}"
    until(lambda: Path(f"{stem}.txt").exists())
    end(hall, speech)
    until(lambda: record(hall.rt, speech)["recording_file"])
    assert record(hall.rt, speech)["recording_file"] == f"{stem}.txt"
    # where it lies on the server is for staff: the public archive leaves it out
    public = floor.speeches(hall.rt.reader(), sitting_id=hall.sitting)[0]
    assert "recording_file" not in public and "recording_error" not in public
    staff = floor.speeches(hall.rt.reader(), sitting_id=hall.sitting, staff=True)[0]
    assert staff["recording_file"] == f"{stem}.txt"
    assert record(hall.rt, speech)["recording_error"] is None
    assert recorded_kinds(hall.rt.reader()) == ["speech_recorded"]


@pytest.mark.parametrize("recording_hall", [HANGS], indirect=True)
def test_a_hanging_hook_is_killed_and_reported_without_holding_up_the_floor(
    recording_hall: Hall,
) -> None:
    hall = recording_hall
    speech = speak(hall)
    time.sleep(0.3)  # let the stand-in start and ignore SIGTERM
    end(hall, speech)
    # the floor has moved on at once: the speech has ended, the hook is still being stopped
    assert record(hall.rt, speech)["state"] == "ended"
    assert record(hall.rt, speech)["recording_error"] is None
    error = until(lambda: record(hall.rt, speech)["recording_error"])
    assert "did not stop" in str(error) and "killed" in str(error)
    assert recorded_kinds(hall.rt.reader()) == ["recording_failed"]
    with hall.rt.reader() as uow:
        view = floor.floor_view(
            uow, sittings.get_sitting(uow, hall.sitting), hall.rt.floor_rules, staff=True
        )
    assert view["speech"] is None


@pytest.mark.parametrize("recording_hall", [FAILS, MISSING], indirect=True)
def test_a_hook_that_fails_is_reported_on_the_live_speech(recording_hall: Hall) -> None:
    hall = recording_hall
    speech = speak(hall)
    # reported while the speech goes on: the control screen shows it on the live speech
    error = until(lambda: record(hall.rt, speech)["recording_error"])
    with hall.rt.reader() as uow:
        view = floor.floor_view(
            uow, sittings.get_sitting(uow, hall.sitting), hall.rt.floor_rules, staff=True
        )
    assert view["speech"]["state"] == "running"
    assert view["speech"]["recording_error"] == error
    assert "recording_error" not in floor.public_floor(view)["speech"]
    if "nonexistent" in hall.rt.config.floor.recording_command:
        assert "could not start" in str(error)
    else:
        assert "status 3" in str(error) and "no sound card" in str(error)
    end(hall, speech)
    assert recorded_kinds(hall.rt.reader()) == ["recording_failed"]
