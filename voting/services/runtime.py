"""Wiring: one engine, one session factory and one event bus per process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from voting.adapters.db import make_engine, make_session_factory
from voting.adapters.secret_purge import SecretHistoryPurger

from .uow import Clock, EventBus, UnitOfWork, utcnow


@dataclass
class Runtime:
    engine: Engine
    session_factory: sessionmaker[Session]
    bus: EventBus = field(default_factory=EventBus)
    clock: Clock = utcnow
    purger: SecretHistoryPurger | None = None
    #: Called first by dispose(): background work over this runtime stops (the live push).
    on_dispose: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.purger is None:
            self.purger = SecretHistoryPurger(self.engine)

    def uow(self) -> UnitOfWork:
        """A fresh unit of work (one per use case call)."""
        return UnitOfWork(
            self.engine, self.session_factory, self.bus, self.clock, purger=self.purger
        )

    def reader(self) -> UnitOfWork:
        """A unit of work that only reads (on SQLite it takes no write lock)."""
        return UnitOfWork(self.engine, self.session_factory, self.bus, self.clock, read_only=True)

    def dispose(self) -> None:
        for stop in self.on_dispose:
            stop()
        assert self.purger is not None
        self.purger.wait_idle(timeout=10)
        self.purger.stop()
        self.engine.dispose()


def build_runtime(database_url: str, clock: Clock = utcnow) -> Runtime:
    engine = make_engine(database_url)
    return Runtime(engine, make_session_factory(engine), EventBus(), clock)
