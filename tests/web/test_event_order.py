"""Events reach the staff screens in journal order, though commits publish from many threads."""

from __future__ import annotations

import time

from voting.domain.events import DomainEvent
from voting.web.push import EventSequencer


def event(seq: int) -> DomainEvent:
    return DomainEvent(seq, "choice_cast", {"vote_id": 1})


def test_an_event_published_early_waits_for_the_one_before_it() -> None:
    sent: list[int] = []
    sequencer = EventSequencer(lambda e: sent.append(e.seq), head=151)
    sequencer.accept(event(153))  # its thread published first
    assert sent == []
    sequencer.accept(event(152))
    assert sent == [152, 153]
    sequencer.accept(event(154))
    assert sent == [152, 153, 154]
    sequencer.stop()


def test_an_entry_never_published_here_stalls_the_stream_only_briefly() -> None:
    sent: list[int] = []
    sequencer = EventSequencer(lambda e: sent.append(e.seq), head=10, patience=0.3)
    sequencer.accept(event(12))  # 11 was written by another process: it never comes here
    sequencer.accept(event(14))
    deadline = time.monotonic() + 2
    while sent != [12] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sent == [12]  # sent after the patience ran out; the client sees the gap
    sequencer.accept(event(13))
    assert sent == [12, 13, 14]
    sequencer.stop()


def test_a_stopped_sequencer_sends_nothing_more() -> None:
    """A server that is stopping sends its screens no more events (a late timer's close)."""
    sent: list[int] = []
    sequencer = EventSequencer(lambda e: sent.append(e.seq), head=20)
    sequencer.accept(event(21))
    sequencer.stop()
    sequencer.accept(event(22))
    assert sent == [21]
