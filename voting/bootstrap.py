"""The runtime of one process: built once from the configuration, the same way by every kind of
process (the web server, the CLI, the seat consoles' gateway), with nothing of Flask in it.

A `Runtime` owns what the use cases need and what runs beside them: the database engine and the
units of work, the event bus (in this process, or shared with the council's other server
processes through Redis when `[server] message_queue` is set), the group committer of casts, the
clock, and the periodic jobs (the vote timer; the doors add theirs, such as the live screens'
token sweep). `start()` sets the background work going; `stop()` ends it and frees the database.
A one-shot command builds a runtime and never starts it.

Modelled on the cosmicpython `bootstrap.py`: dependencies are passed in (a test gives its own
clock or bus), not imported by the code that uses them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from voting.adapters.db import make_engine, make_session_factory
from voting.adapters.microphones import SimulatedMicrophones
from voting.adapters.recorder import SpeechRecorder
from voting.adapters.sealed_ballots import BallotKeys
from voting.adapters.secret_purge import SecretHistoryPurger
from voting.config import Config, ConfigError, shown_queue_url
from voting.domain.floor import FloorRules
from voting.jobs import CollectorPacer, Heartbeat, Periodic, SpeechTimer, VoteTimer
from voting.services import casting, interruptions
from voting.services.bus import BusUnavailable, EventBus
from voting.services.casting import CastRequest
from voting.services.floor import FloorRequest, new_request_committer
from voting.services.group_commit import GroupCommitter
from voting.services.microphones import MicrophoneDriver, MicrophonePort
from voting.services.uow import Clock, UnitOfWork, direct, utcnow

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """What one process runs the council's use cases with (see the module's docstring)."""

    config: Config
    engine: Engine
    session_factory: sessionmaker[Session]
    bus: EventBus
    clock: Clock
    purger: SecretHistoryPurger
    casts: GroupCommitter[CastRequest]
    #: The floor's rules (config.toml [floor] and [speech_types]).
    floor_rules: FloorRules = field(default_factory=FloorRules)
    #: The microphones the floor switches (simulated unless a door gives the hall's).
    microphones: MicrophonePort = field(default_factory=SimulatedMicrophones)
    #: The group committer of requests for the floor.
    floor_requests: GroupCommitter[FloorRequest] = field(default_factory=new_request_committer)
    #: The key that authenticates the journal's entries (config.toml [journal]); None: this
    #: process can read but not record (`voting init` creates the key).
    journal_key: bytes | None = None
    #: How the use cases run CPU-heavy work that may wait (password hashing): right here, or,
    #: under `voting serve`, off the event loop (adapters/event_loop.py, set by the server).
    offload: Callable[..., Any] = direct
    jobs: list[Periodic] = field(default_factory=list)
    #: This process's row of `server_process` once started (services/interruptions.py).
    process_id: int | None = None
    #: The private keys of the secret ballots this process opened and alone can count, in
    #: memory only (adapters/sealed_ballots.py).
    ballot_keys: BallotKeys = field(default_factory=BallotKeys)
    _on_stop: list[Callable[[], None]] = field(default_factory=list)
    _started: bool = False
    _stopped: bool = False

    def uow(self) -> UnitOfWork:
        """A fresh unit of work (one per use case call)."""
        return UnitOfWork(
            self.engine,
            self.session_factory,
            self.bus,
            self.clock,
            purger=self.purger,
            casts=self.casts,
            floor_requests=self.floor_requests,
            journal_key=self.journal_key,
            offload=self.offload,
            ballot_keys=self.ballot_keys,
            process_id=self.process_id,
        )

    def reader(self, one_snapshot: bool = False) -> UnitOfWork:
        """A unit of work that only reads (on SQLite it takes no write lock); see
        UnitOfWork.reader."""
        return self.uow().reader(one_snapshot)

    @property
    def casts_in_flight(self) -> bool:
        """Whether casts (or requests for the floor) are being written now, or waiting to be:
        pushes give way to them."""
        return self.casts.busy or self.floor_requests.busy

    def add_job(self, job: Periodic) -> Periodic:
        """A periodic job of this process: it runs from `start()` (at once if started) until
        `stop()`."""
        self.jobs.append(job)
        if self._started and not self._stopped:
            job.start()
        return job

    def every(self, seconds: float, task: Callable[[], object], name: str) -> Periodic:
        """Run `task` every `seconds` as a job of this process."""
        return self.add_job(Periodic(task, seconds, name))

    def on_stop(self, action: Callable[[], None]) -> None:
        """Run `action` first when the runtime stops (a door's background work)."""
        self._on_stop.append(action)

    def start(self) -> None:
        """Start the shared bus, the jobs, and the purge a last stop (or a crash) cut short."""
        if self._started:
            return
        try:
            self.bus.start()
        except BusUnavailable as error:
            url = shown_queue_url(self.config.server.message_queue)
            raise ConfigError(
                f"server.message_queue: the Redis server at {url} does not answer: {error}"
            ) from None
        self._started = True
        self.process_id, flagged = interruptions.process_started(
            self.uow(), interruptions.process_name()
        )
        if flagged:
            log.warning(
                "the servers stopped (last seen %s) with these left open, now flagged as "
                "interrupted for the secretary to decide: votes %s, registration rounds "
                "(sitting, round) %s, speeches %s",
                flagged.stopped_at.isoformat() if flagged.stopped_at else "never",
                flagged.votes,
                flagged.rounds,
                flagged.speeches,
            )
        self.jobs.append(Heartbeat(self, self.process_id))
        self.purger.request()
        for job in self.jobs:
            job.start()

    def stop(self) -> None:
        """Stop the jobs, the bus and the doors' background work; free the database. Each step
        runs even if one before it fails (logged). Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        steps: list[Callable[[], object]] = []
        if self._started:
            steps += [job.stop for job in self.jobs]  # no timer closes a vote any more
        steps.append(self.bus.stop)  # no event arrives from another process any more
        steps += self._on_stop  # then the doors' pushes go quiet
        steps += [lambda: self.purger.wait_idle(timeout=10), self.purger.stop]
        if self.process_id is not None:
            process_id = self.process_id
            steps.append(lambda: interruptions.process_stopped(self.uow(), process_id))
        steps.append(self.ballot_keys.clear)  # a secret ballot still open goes with them
        steps.append(self.engine.dispose)
        for step in steps:
            try:
                step()
            except Exception:
                log.exception("stopping the runtime: a step failed; going on with the others")


def build_runtime(
    config: Config,
    *,
    clock: Clock = utcnow,
    bus: EventBus | None = None,
    collector_pacer: bool = False,
    microphones: MicrophonePort | None = None,
) -> Runtime:
    """The runtime of a process, from its configuration.

    `clock` and `bus` replace the wall clock and the configured bus (tests). `collector_pacer`
    adds the job that keeps the garbage collector's long passes out of the votes: for a process
    that holds many connections (`voting serve`). `microphones` is the port the floor's
    switches reach (simulated microphones when not given).
    """
    engine = make_engine(config.database_url_resolved())
    if bus is None:
        bus = EventBus()
        if config.server.message_queue:  # redis is imported only for a shared bus
            from voting.adapters.redis_bus import RedisEventBus

            bus = RedisEventBus(config.server.message_queue, config.server.message_channel)
    runtime = Runtime(
        config=config,
        engine=engine,
        session_factory=make_session_factory(engine),
        bus=bus,
        clock=clock,
        purger=SecretHistoryPurger(engine),
        casts=casting.new_committer(),
        floor_rules=config.floor_rules(),
        microphones=SimulatedMicrophones() if microphones is None else microphones,
        journal_key=config.journal.key(config.server.instance_path),
    )
    runtime.add_job(VoteTimer(runtime.uow))
    runtime.add_job(SpeechTimer(runtime, runtime.floor_rules))
    bus.subscribe(MicrophoneDriver(runtime.microphones))
    if config.floor.recording_command.strip():
        folder = Path(config.server.instance_path).expanduser().absolute()
        recorder = SpeechRecorder(
            config.floor.recording_command, folder / config.floor.recording_folder, runtime.uow
        )
        bus.subscribe(recorder.follow)
        runtime.on_stop(recorder.stop)
    if collector_pacer:
        runtime.add_job(CollectorPacer(bus))
    return runtime
