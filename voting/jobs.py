"""A process's background work: periodic jobs and short tasks, each stopped before the runtime's
database goes.

They run on threads; under `voting serve` (gevent, voting/__main__.py) every thread is a greenlet
of the one OS thread. The runtime (voting/bootstrap.py) owns the jobs: the vote timer, the token
sweep of the live screens, the collector pacer of a serving process, and the speech timer.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterable

from voting.domain.events import DomainEvent
from voting.domain.floor import FloorRules
from voting.services.bus import EventBus
from voting.services.floor import check_speech_clocks
from voting.services.interruptions import (
    HEARTBEAT_SECONDS,
    OwnerWatch,
    flag_orphaned_ballots,
    process_alive,
    secret_ballot_owners,
)
from voting.services.uow import UnitOfWork, Units
from voting.services.votes import close_expired_votes

log = logging.getLogger(__name__)

#: How often the vote timer looks for votes whose time has run out.
VOTE_TIMER_SECONDS = 0.5


def join(threads: Iterable[threading.Thread]) -> None:
    """Wait (up to 10 s each) for threads being stopped, never for the calling one."""
    for thread in threads:
        if thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=10)


class Periodic:
    """Runs `task` every `interval` seconds on a daemon thread of its own until stopped."""

    def __init__(self, task: Callable[[], object], interval: float, name: str) -> None:
        self.task = task
        self.interval = interval
        self.name = name
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self.task()

    def stop(self) -> None:
        self._stopping.set()
        join([self._thread])


class Background:
    """Short tasks on their own threads, all finished before the runtime's database goes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._stopped = False

    def run(self, task: Callable[..., None], *args: object) -> None:
        def wrapped() -> None:
            try:
                task(*args)
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

        with self._lock:
            if self._stopped:
                return
            thread = threading.Thread(target=wrapped, daemon=True)
            self._threads.add(thread)
            thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            running = list(self._threads)
        join(running)


class VoteTimer(Periodic):
    """Closes every vote whose time limit has run out, every `interval` seconds. Every process
    that serves a council runs one; the close locks the vote, so a timed vote closes once."""

    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], interval: float = VOTE_TIMER_SECONDS
    ) -> None:
        self.uow_factory = uow_factory
        super().__init__(self.tick, interval, "vote-timer")

    def tick(self) -> list[int]:
        """Close the expired votes once; a failure is logged, never raised (the timer lives on)."""
        try:
            closed = close_expired_votes(self.uow_factory)
        except Exception:  # a busy or unreachable database must not stop the timer for good
            log.exception("the vote timer could not close expired votes; it will try again")
            return []
        for vote_id in closed:
            log.info("vote %s closed: its time limit ran out", vote_id)
        return closed


class Heartbeat(Periodic):
    """Says every HEARTBEAT_SECONDS that this server process is alive (services/interruptions.py):
    the next start after all the servers stopped knows since when nothing ran. Then looks at the
    owners of the open secret ballots, and flags a ballot whose owner is gone (`OwnerWatch`)."""

    def __init__(self, units: Units, process_id: int) -> None:
        self.units = units
        self.process_id = process_id
        #: Since when (monotonic) every heartbeat got through; None after one failed.
        self.healthy_since: float | None = None
        #: Which owners of open secret ballots are gone (services/interruptions.py).
        self.owners = OwnerWatch()
        super().__init__(self.tick, HEARTBEAT_SECONDS, "heartbeat")

    def tick(self) -> None:
        try:
            process_alive(self.units.uow(), self.process_id)
        except Exception:  # a busy database must not stop the heartbeat for good
            self.healthy_since = None
            log.exception("the heartbeat could not be recorded; it will try again")
            return
        now = time.monotonic()
        if self.healthy_since is None:
            self.healthy_since = now
        try:
            owners = secret_ballot_owners(self.units.reader())
            gone = self.owners.gone(owners, self.healthy_since, now)
            for vote_id in flag_orphaned_ballots(self.units.uow(), gone) if gone else []:
                log.warning(
                    "secret ballot %s interrupted: the server process that held its key "
                    "stopped; it must be annulled and held again",
                    vote_id,
                )
        except Exception:
            log.exception("the owners of open secret ballots could not be checked; again soon")


#: How often the speech timer looks at the running speeches' clocks.
SPEECH_TIMER_SECONDS = 0.25


class SpeechTimer(Periodic):
    """Journals a speech's time running out and, when the council mutes at zero, ends it and
    switches its microphone off after the grace time. Screens count down by themselves (to the
    deadline the server gave): this only records and acts."""

    def __init__(
        self, units: Units, rules: FloorRules, interval: float = SPEECH_TIMER_SECONDS
    ) -> None:
        self.units = units
        self.rules = rules
        super().__init__(self.tick, interval, "speech-timer")

    def tick(self) -> list[int]:
        try:
            return check_speech_clocks(self.units, self.rules)
        except Exception:  # a busy database must not stop the timer for good
            log.exception("the speech timer could not check the speeches; it will try again")
            return []


class CollectorPacer(Periodic):
    """Keeps the cyclic garbage collector's full passes out of the votes (a serving process).

    A full pass over a server holding 1,450 connections takes over 100 ms and stops everything
    (with gevent, every connection at once): it showed as the slowest acknowledgements of
    bench/live_load.py. So every `interval` seconds what has survived so far is frozen
    (`gc.freeze`, which costs nothing: frozen objects are left out of the automatic passes, which
    then stay short); and at most every `full_every` seconds, when nothing has happened for
    `quiet` seconds (no event on the bus: no cast, no registration), everything is thawed,
    collected in one pass and frozen again, so that garbage frozen in the meantime is freed then.
    Objects freed by reference counting, most of them, go at once as always.
    """

    def __init__(
        self, bus: EventBus, interval: float = 2.0, quiet: float = 5.0, full_every: float = 60.0
    ) -> None:
        super().__init__(self.tend, interval, "collector-pacer")
        self.bus = bus
        self.quiet = quiet
        self.full_every = full_every
        self.last_event = self.last_full = time.monotonic()
        self.passes = 0  # full passes made at quiet moments

    def start(self) -> None:
        self.bus.subscribe(self._seen)
        gc.freeze()
        super().start()

    def _seen(self, _event: DomainEvent) -> None:
        self.last_event = time.monotonic()

    def tend(self) -> bool:
        """Freeze what survived; first collect everything when quiet and due. Whether it
        collected."""
        moment = time.monotonic()
        full = moment - self.last_event >= self.quiet and moment - self.last_full >= self.full_every
        if full:
            gc.unfreeze()
            gc.collect()
            self.last_full = time.monotonic()
            self.passes += 1
        gc.freeze()
        return full

    def stop(self) -> None:
        super().stop()
        gc.unfreeze()
