"""The live push's moving parts: coalesced snapshots to every audience, and the staff's events in
journal order; each stopped before the runtime's database is freed."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask_socketio import SocketIO

from voting.domain.events import DomainEvent
from voting.jobs import join
from voting.services import queries

log = logging.getLogger(__name__)

#: At most one pushed snapshot per audience in this many seconds (the first comes at once;
#: urgent events push at once: live.URGENT_EVENTS).
PUSH_INTERVAL = 0.5
#: A push reaches a room's connections this many at a time, with a pause between: each
#: connection's message wakes its writer thread, and a thousand woken at once would hold up the
#: casts waiting for the interpreter (bench/live_load.py, docs/benchmarks.md).
FANOUT_CHUNK = 50
FANOUT_PAUSE = 0.005
#: Casts first: before each chunk, while casts are being written (`give_way_to`), the push waits
#: in steps of CASTS_FIRST_STEP, at most CASTS_FIRST_LIMIT per chunk. On gevent a batch of casts
#: yields at every round trip to the database, and would otherwise queue each time behind the
#: chunk's fifty sends (bench/live_load.py on PostgreSQL, docs/benchmarks.md).
CASTS_FIRST_STEP = 0.001
CASTS_FIRST_LIMIT = 0.05


def server_of(socketio: SocketIO) -> Any:
    """The python-socketio server under Flask-SocketIO (its rooms, its emit to many sids)."""
    return socketio.server  # type: ignore[attr-defined]  # set by init_app; the stubs leave it out


class EventSequencer:
    """Sends events in journal order although commits publish from many threads.

    Two casts may commit as 152 then 153 yet publish 153 first: 153 waits until 152 arrives.
    An entry this process never publishes (written by another process, say) would stall the
    stream, so a waiting event goes out after `patience` seconds anyway; the client then sees
    the gap and asks for a snapshot.
    """

    def __init__(
        self, send: Callable[[DomainEvent], None], head: int | None, patience: float = 0.2
    ) -> None:
        self.send = send
        self.patience = patience
        self._next = None if head is None else head + 1
        self._waiting: dict[int, DomainEvent] = {}
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._stopped = False

    def accept(self, event: DomainEvent) -> None:
        with self._lock:
            if self._stopped:
                return  # the server is stopping: nothing more goes out
            if self._next is None or event.seq < self._next:
                self._next = event.seq if self._next is None else self._next
                if event.seq < self._next:  # late beyond patience: send it, the client copes
                    self.send(event)
                    return
            self._waiting[event.seq] = event
            self._drain()
            if self._waiting and self._timer is None and not self._stopped:
                self._timer = threading.Timer(self.patience, self._give_up)
                self._timer.daemon = True
                self._timer.start()

    def _drain(self) -> None:
        while self._next in self._waiting:
            self.send(self._waiting.pop(self._next))
            self._next += 1

    def _give_up(self) -> None:
        with self._lock:
            self._timer = None
            if self._waiting:
                self._next = min(self._waiting)
                self._drain()
            if self._waiting and not self._stopped:
                self._timer = threading.Timer(self.patience, self._give_up)
                self._timer.daemon = True
                self._timer.start()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()


class SnapshotPusher:
    """Pushes one fresh snapshot per audience after commits, coalescing bursts.

    The first poke after a quiet spell pushes at once; pokes during the following
    `interval` seconds are folded into one more push at its end. The flag is cleared before the
    state is read, so a commit that lands during a push is always followed by another push.
    Timer threads end after each push: nothing lingers when the app is dropped.
    """

    def __init__(
        self,
        socketio: SocketIO,
        read: Callable[[list[str]], dict[str, dict[str, object]]],
        interval: float = PUSH_INTERVAL,
        give_way_to: Callable[[], bool] = lambda: False,
    ):
        self.socketio = socketio
        self.read = read  # audiences -> each one's snapshot, read at once
        self.give_way_to = give_way_to  # whether more urgent work (casts) is under way
        self.interval = interval
        self._lock = threading.Lock()
        self._scheduled = False
        self._stopped = False
        self._last = float("-inf")
        self._timers: list[threading.Timer] = []  # a push may still run when the next is due
        self._pushing = threading.Lock()
        self._shown: dict[str, object] = {}  # audience -> the state it was last pushed

    def poke(self, urgent: bool = False) -> None:
        """Schedule a push; `urgent` (a vote opened, closed, annulled...) pushes at once even
        within the interval, so a result never waits behind the coalescing of casts."""
        with self._lock:
            if self._stopped or (self._scheduled and not urgent):
                return
            if self._scheduled and urgent:
                pending = self._timers[-1] if self._timers else None
                if pending is None or pending.interval == 0:
                    return  # already due at once
                pending.cancel()  # a timer already running pushes anyway; one more is harmless
            self._scheduled = True
            delay = 0.0 if urgent else max(0.0, self._last + self.interval - time.monotonic())
            self._timers = [t for t in self._timers if t.is_alive()]
            timer = threading.Timer(delay, self.push)
            timer.daemon = True
            self._timers.append(timer)
            timer.start()

    def stop(self) -> None:
        """Push nothing more; wait for a push under way (when the server or a test ends)."""
        with self._lock:
            self._stopped = True
            timers = list(self._timers)
        for timer in timers:
            timer.cancel()
        join(timers)

    def push(self) -> None:
        with self._lock:
            self._scheduled = False
            if self._stopped:
                return
            self._last = time.monotonic()
        # One push at a time: two interleaved pushes would reach some screens newest first.
        failed = False
        with self._pushing:
            audiences = [a for a in queries.AUDIENCES if self.anyone_in(a)]
            try:
                shown = self.read(audiences) if audiences else {}
            except Exception:  # a busy database: try again shortly (below)
                log.exception("could not read the state to push to the screens")
                shown, failed = {}, True
            for audience, state in shown.items():
                if self._same_as_last(audience, state):
                    continue  # e.g. terminals while casts stream in: nothing they show changed
                self._send(audience, state)
        if failed:
            self.poke()  # after the interval: a screen must not stay on a stale state

    def _send(self, audience: str, shown: dict[str, object]) -> None:
        """To every connection of the audience in this process, FANOUT_CHUNK at a time (every
        server process pushes to its own connections)."""
        server = server_of(self.socketio)
        sids = [sid for sid, _ in server.manager.get_participants("/", audience)]
        for start in range(0, len(sids), FANOUT_CHUNK):
            if start:
                time.sleep(FANOUT_PAUSE)  # the woken writers and waiting casts go first
            self._give_way()
            # a list of rooms (each connection is a room of its own): encoded once per chunk
            server.emit("snapshot", shown, to=sids[start : start + FANOUT_CHUNK], namespace="/")

    def _give_way(self) -> None:
        """Wait while casts are being written, at most CASTS_FIRST_LIMIT."""
        waited = 0.0
        while waited < CASTS_FIRST_LIMIT and self.give_way_to():
            time.sleep(CASTS_FIRST_STEP)
            waited += CASTS_FIRST_STEP

    def _same_as_last(self, audience: str, shown: dict[str, object]) -> bool:
        """Whether the state (its clock aside) is what this audience was last pushed."""
        state = shown.get("state")
        key = (
            None if not isinstance(state, dict) else {k: v for k, v in state.items() if k != "now"}
        )
        if key is not None and key == self._shown.get(audience):
            return True
        self._shown[audience] = key
        return False

    def anyone_in(self, audience: str) -> bool:
        """Whether the room (an audience, or a deputy's) has a connection in this process."""
        rooms = server_of(self.socketio).manager.rooms.get("/", {})
        return bool(rooms.get(audience))
