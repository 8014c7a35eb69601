"""The collector pacer: what survived is frozen out of the automatic passes; a full pass runs
only at a quiet moment, and frees the garbage frozen meanwhile."""

from __future__ import annotations

import gc
import time
import weakref

from voting.domain.events import DomainEvent
from voting.jobs import CollectorPacer
from voting.services.bus import EventBus


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_garbage_frozen_during_activity_is_freed_at_the_next_quiet_moment() -> None:
    bus = EventBus()
    pacer = CollectorPacer(bus, interval=3600, quiet=0.2, full_every=0)
    try:
        pacer.start()  # freezes what exists now
        garbage = Cycle()
        gone = weakref.ref(garbage)
        del garbage  # a cycle: only the collector frees it
        bus.publish([DomainEvent(seq=1, kind="choice_cast", payload={})])
        assert pacer.tend() is False  # a cast just now: no full pass, only a freeze
        assert gc.get_freeze_count() > 0
        gc.collect()  # an automatic pass would not see it either: it is frozen
        assert gone() is not None
        time.sleep(0.25)
        assert pacer.tend() is True  # quiet: thawed, collected, frozen again
        assert gone() is None and pacer.passes == 1
    finally:
        pacer.stop()
    assert gc.get_freeze_count() == 0  # stopping thaws everything
