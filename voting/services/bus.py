"""The event bus: domain events reach their subscribers after the transaction that caused them
commits (the live screens, the seat consoles' gateway, the collector pacer).

`EventBus` serves one process. A bus that also carries events between the server processes of
one council (`voting/adapters/redis_bus.py`) keeps this interface: a subscriber then sees every
process's events, each once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from voting.domain.events import DomainEvent

log = logging.getLogger(__name__)

Subscriber = Callable[[DomainEvent], None]


class BusUnavailable(Exception):
    """A bus shared with other processes cannot be reached (its server does not answer)."""


class EventBus:
    """In-process subscribers to events after commit."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        #: Held from a commit to the end of its publication, so that the transactions of this
        #: process publish their events in the order they committed: in journal order.
        self.commit_lock = threading.RLock()  # re-entrant: a subscriber may commit in turn

    def subscribe(self, handler: Subscriber) -> None:
        self._subscribers.append(handler)

    def publish(self, events: Sequence[DomainEvent]) -> None:
        """Events this process committed, in journal order."""
        self.deliver(events)

    def deliver(self, events: Sequence[DomainEvent]) -> None:
        """Hand events to every subscriber of this process; a failing one is logged."""
        for event in events:
            for handler in list(self._subscribers):
                try:
                    handler(event)
                except Exception:  # a broken screen must never undo a committed vote
                    log.exception("event handler failed for %s #%s", event.kind, event.seq)

    def start(self) -> None:
        """Nothing to start in one process (a shared bus connects here, or raises
        BusUnavailable)."""

    def stop(self) -> None:
        """Nothing to stop in one process."""
