"""The recording hook: a command from config.toml started when a speech starts and stopped when
it ends, its file kept with the speech in the archive.

It follows the bus (`speech_started`, `speech_ended`), so it never holds up the floor: the
command starts and stops on a background thread, and a command that cannot start, exits with an
error, or does not stop within `STOP_SECONDS` of SIGTERM (it is then killed) is noted against
the speech and journaled as `recording_failed`, which the control screen shows. With several
server processes, configure the hook on one of them: each process that has it records.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from voting.domain.events import DomainEvent
from voting.jobs import Background
from voting.services import floor
from voting.services.uow import UnitOfWork

log = logging.getLogger(__name__)

#: How long a stopped recording command may take to exit before it is killed.
STOP_SECONDS = 5.0


class SpeechRecorder:
    def __init__(
        self,
        command: str,
        folder: Path,
        uow_factory: Callable[[], UnitOfWork],
        stop_seconds: float = STOP_SECONDS,
    ) -> None:
        self.command = shlex.split(command)
        self.folder = folder
        self.uow_factory = uow_factory
        self.stop_seconds = stop_seconds
        self.background = Background()
        self._lock = threading.Lock()
        self._running: dict[int, tuple[subprocess.Popen[bytes], Path, IO[bytes]]] = {}
        # Speeches that ended before their recording had started (the two run on different
        # threads): the recording is stopped as soon as it starts, or not started at all.
        self._ended: set[int] = set()

    def follow(self, event: DomainEvent) -> None:
        speech_id = event.payload.get("speech_id")
        if not isinstance(speech_id, int):
            return
        if event.kind == "speech_started":
            sitting_id = event.payload.get("sitting_id")
            self.background.run(self._start, speech_id, sitting_id)
        elif event.kind == "speech_ended":
            self.background.run(self._stop, speech_id)

    def path_of(self, sitting_id: object, speech_id: int) -> Path:
        return self.folder / f"sitting-{sitting_id}-speech-{speech_id}"

    def _start(self, speech_id: int, sitting_id: object) -> None:
        with self._lock:
            if speech_id in self._ended:
                self._ended.discard(speech_id)
                return  # the speech is over already
        stem = self.path_of(sitting_id, speech_id)
        args = [part.replace("{path}", str(stem)) for part in self.command]
        # What the command says on stderr goes to a temporary file, never a pipe that could
        # fill up and stall it; it is quoted when the command fails.
        errors = tempfile.TemporaryFile()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors
            )
        except OSError as error:
            errors.close()
            self._failed(speech_id, f"the recording command could not start: {error}")
            return
        with self._lock:
            self._running[speech_id] = (process, stem, errors)
            ended = speech_id in self._ended
            self._ended.discard(speech_id)
        if ended:
            self._stop(speech_id)  # the speech ended while the command was starting
            return
        self._watch(speech_id, process)

    def _watch(self, speech_id: int, process: subprocess.Popen[bytes]) -> None:
        """A command that fails while the speech goes on is reported at once (the control
        screen shows it during the speech)."""
        status = process.wait()
        if status == 0:
            return  # done by itself (a fixed length?): its file is looked for at the end
        with self._lock:
            mine = self._running.get(speech_id)
            if mine is None or mine[0] is not process:
                return  # stopped by us: _stop reports
            del self._running[speech_id]
        with mine[2] as errors:
            self._failed(speech_id, exited(status, errors))

    def _stop(self, speech_id: int) -> None:
        with self._lock:
            running = self._running.pop(speech_id, None)
            if running is None:
                self._ended.add(speech_id)  # not started yet (or never: noted then)
        if running is None:
            return
        process, stem, errors = running
        with errors:
            early = process.poll()
            if early is None:
                process.terminate()
                try:
                    process.wait(timeout=self.stop_seconds)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                    self._failed(
                        speech_id,
                        f"the recording command did not stop within {self.stop_seconds:g} s "
                        "of SIGTERM and was killed",
                    )
                    return
            elif early != 0:
                self._failed(speech_id, exited(early, errors))
                return
        written = sorted(stem.parent.glob(stem.name + "*"))
        if not written:
            self._failed(speech_id, f"the recording command wrote no file {stem}*")
            return
        self._note(speech_id, file=str(written[0]))

    def _failed(self, speech_id: int, message: str) -> None:
        log.warning("speech %s: %s", speech_id, message)
        self._note(speech_id, error=message)

    def _note(self, speech_id: int, **what: str) -> None:
        try:
            floor.note_recording(self.uow_factory(), speech_id, **what)
        except Exception:
            log.exception("could not note the recording of speech %s", speech_id)

    def stop(self) -> None:
        """Stop every recording still running (the process is stopping), then the threads."""
        with self._lock:
            running = list(self._running)
        for speech_id in running:
            self.background.run(self._stop, speech_id)
        self.background.stop()


def exited(status: int, errors: IO[bytes]) -> str:
    """Why a recording failed: the command's exit status and the start of what it said."""
    errors.seek(0)
    detail = errors.read(2000).decode(errors="replace").strip()
    return f"the recording command exited with status {status} during the speech" + (
        f": {detail[:300]}" if detail else ""
    )
