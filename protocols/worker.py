"""Rendering in a separate process, so that a long document never holds up the process that asks
for it (the web server, later: issue 14 item 3).

A "spawn" process starts clean (no inherited database connections, sockets or locks); the model
is pickled to it, the PDF is written to a temporary file beside the target and moved into place,
so the target is either the whole document or untouched.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path

from .document import Progress
from .render import Model, render


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file in the target's folder, then move it into place."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


#: The worker's scheduling priority (nice value): a render takes a core for a second or more and
#: must give way to the server's casts and pushes on a machine with few cores.
NICENESS = 10


#: Progress goes to the parent at most once per this share of the document (and at its end):
#: every message wakes the parent, the web process, which has casts to answer.
PROGRESS_STEP = 0.01


def _reporter(channel: Connection) -> Progress:
    """A progress callback that sends (done, total) when it has moved a step since the last."""
    sent = [-1, 0]

    def report(done: int, total: int) -> None:
        step = max(1, int(total * PROGRESS_STEP))
        if total != sent[1] or done >= total or done - sent[0] >= step:
            sent[0], sent[1] = done, total
            channel.send(("progress", done, total))

    return report


def _child(kind: str, model: Model, path: str, channel: Connection) -> None:
    try:
        if hasattr(os, "nice"):
            os.nice(NICENESS)
        data = render(kind, model, _reporter(channel))
        write_atomically(Path(path), data)
        channel.send(("done", len(data)))
    except Exception as error:  # noqa: BLE001 - reported to the parent, which raises it
        channel.send(("error", f"{error.__class__.__name__}: {error}"))
    finally:
        channel.close()


class RenderFailed(RuntimeError):
    """The worker process could not render or write the document."""


def render_in_worker(
    kind: str, model: Model, path: str | os.PathLike[str], progress_callback: Progress | None = None
) -> int:
    """Render in a spawned process and write `path`; returns the file's size in bytes."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(kind, model, os.fspath(path), sender), name=f"render-{kind}"
    )
    process.start()
    sender.close()
    outcome: tuple[object, ...] | None = None
    try:
        while outcome is None:
            try:
                message = receiver.recv()
            except EOFError:
                break
            if message[0] == "progress":
                if progress_callback is not None:
                    progress_callback(message[1], message[2])
            else:
                outcome = message
    finally:
        receiver.close()
        process.join()
    if outcome is None:
        raise RenderFailed(f"the render process ended without a result (exit {process.exitcode})")
    if outcome[0] == "error":
        raise RenderFailed(str(outcome[1]))
    size = outcome[1]
    assert isinstance(size, int)
    return size
