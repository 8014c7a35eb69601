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

#: Snapshots after casts are coalesced: the first after a quiet spell goes at once, the next no
#: sooner than the pause the last push earned, which follows what pushing costs here: the last
#: push's cost (reading the state, handing it to every screen of this process, and SEND_COST a
#: screen) divided by PUSH_SHARE, between MIN_PUSH_INTERVAL and PUSH_INTERVAL. A hall display
#: and a few screens follow casts within MIN_PUSH_INTERVAL (a key press at a console reaches
#: the display within the consoles' target: bench/console_bus.py); a thousand displays, whose
#: push costs a few hundred milliseconds, are pushed every PUSH_INTERVAL, so the casts keep the
#: interpreter (bench/live_load.py). Urgent events push at once: live.URGENT_EVENTS.
PUSH_INTERVAL = 0.5
MIN_PUSH_INTERVAL = 0.05
PUSH_SHARE = 0.25
#: What one connection's copy of a push costs after the push has handed it over (its writer
#: encodes the frame and writes the socket): counted into the push's cost, so that a push to a
#: thousand displays earns the longest pause although handing over takes only milliseconds.
SEND_COST = 0.0002
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

    The first poke after a quiet spell pushes at once; pokes during the following pause (between
    `min_interval` and `interval` seconds, by the last push's cost: PUSH_SHARE) are folded into
    one more push at its end, and pokes while a push is reading or sending into one more push
    after it (at once if one of them was urgent), so a commit that lands during a push is always
    followed by another push, and a slow database never piles up pushes behind it.
    Timer threads end after each push: nothing lingers when the app is dropped.
    """

    def __init__(
        self,
        socketio: SocketIO,
        read: Callable[[list[str]], dict[str, dict[str, object]]],
        interval: float = PUSH_INTERVAL,
        give_way_to: Callable[[], bool] = lambda: False,
        min_interval: float = MIN_PUSH_INTERVAL,
    ):
        self.socketio = socketio
        self.read = read  # audiences -> each one's snapshot, read at once
        self.give_way_to = give_way_to  # whether more urgent work (casts) is under way
        self.interval = interval
        self.min_interval = min(min_interval, interval)
        self.pause = self.min_interval  # the pause the last push earned (see PUSH_SHARE)
        self._lock = threading.Lock()
        self._scheduled = False
        self._stopped = False
        self._last = float("-inf")
        self._timers: list[threading.Timer] = []  # a push may still run when the next is due
        self._pushing = threading.Lock()
        self._under_way = False  # a push is reading or sending: pokes wait for its end
        self._again: bool | None = None  # poked during it (None: not; True: urgently)
        self._shown: dict[str, object] = {}  # audience -> the state it was last pushed

    def poke(self, urgent: bool = False) -> None:
        """Schedule a push; `urgent` (a vote opened, closed, annulled...) pushes at once even
        within the interval, so a result never waits behind the coalescing of casts."""
        with self._lock:
            if self._stopped:
                return
            if self._under_way:  # one more push after it, not a pile of timers behind it
                self._again = bool(self._again) or urgent
                return
            if self._scheduled and not urgent:
                return
            if self._scheduled and urgent:
                pending = self._timers[-1] if self._timers else None
                if pending is None or pending.interval == 0:
                    return  # already due at once
                pending.cancel()  # a timer already running pushes anyway; one more is harmless
            self._scheduled = True
            delay = 0.0 if urgent else max(0.0, self._last + self.pause - time.monotonic())
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
            self._last = started = time.monotonic()
            self._under_way = True
        failed = False
        try:
            took = self._push_once(started)
        except Exception:  # a busy database, or a send that failed: again after the pause
            log.exception("could not push the state to the screens")
            took, failed = time.monotonic() - started, True
        finally:
            with self._lock:
                self._under_way = False
                again, self._again = self._again, None
        self.pause = min(self.interval, max(self.min_interval, took / PUSH_SHARE))
        log.debug("pushed in %.1f ms; next pause %.0f ms", took * 1000, self.pause * 1000)
        if again is not None or failed:
            # after the pause (or at once if urgent): a screen must not stay on a stale state
            self.poke(urgent=bool(again))

    def _push_once(self, started: float) -> float:
        """Read every audience's state and send what changed; what that cost (the time it took,
        less what it left to casts, plus SEND_COST a connection)."""
        # One push at a time: two interleaved pushes would reach some screens newest first.
        with self._pushing:
            audiences = [a for a in queries.AUDIENCES if self.anyone_in(a)]
            shown = self.read(audiences) if audiences else {}
            gave_way, sent = 0.0, 0  # the time left to casts is not what the push costs
            for audience, state in shown.items():
                if self._same_as_last(audience, state):
                    continue  # e.g. terminals while casts stream in: nothing they show changed
                waited, reached = self._send(audience, state)
                gave_way, sent = gave_way + waited, sent + reached
            return time.monotonic() - started - gave_way + sent * SEND_COST

    def _send(self, audience: str, shown: dict[str, object]) -> tuple[float, int]:
        """To every connection of the audience in this process, FANOUT_CHUNK at a time (every
        server process pushes to its own connections); the time it gave way to casts, and how
        many connections it reached."""
        server = server_of(self.socketio)
        sids = [sid for sid, _ in server.manager.get_participants("/", audience)]
        gave_way = 0.0
        for start in range(0, len(sids), FANOUT_CHUNK):
            if start:
                time.sleep(FANOUT_PAUSE)  # the woken writers and waiting casts go first
            gave_way += self._give_way()
            # a list of rooms (each connection is a room of its own): encoded once per chunk
            server.emit("snapshot", shown, to=sids[start : start + FANOUT_CHUNK], namespace="/")
        return gave_way, len(sids)

    def _give_way(self) -> float:
        """Wait while casts are being written, at most CASTS_FIRST_LIMIT; how long it waited."""
        started = time.monotonic()
        waited = 0.0
        while waited < CASTS_FIRST_LIMIT and self.give_way_to():
            time.sleep(CASTS_FIRST_STEP)
            waited += CASTS_FIRST_STEP
        return time.monotonic() - started if waited else 0.0

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
