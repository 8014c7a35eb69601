"""The live push's coalescing follows what a push costs: a hall display and a few screens get the
counts of a stream of casts every MIN_PUSH_INTERVAL, while a push that takes long (a thousand
displays) earns a pause of up to PUSH_INTERVAL, so that casts keep the interpreter."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

from voting.web import push


class Screens:
    """What SnapshotPusher uses of python-socketio's server: the rooms and emit; one public
    display, each push's arrival time noted."""

    def __init__(self) -> None:
        self.manager = SimpleNamespace(
            rooms={"/": {"public": {"display": "display"}}},
            get_participants=lambda _ns, _room: [("display", "display")],
        )
        self.arrived: list[float] = []
        self.lock = threading.Lock()

    def emit(self, _event: str, _data: Any, to: list[str], namespace: str) -> None:
        with self.lock:
            self.arrived.append(time.monotonic())


def pusher(read_seconds: float) -> tuple[push.SnapshotPusher, Screens]:
    """A pusher whose every read of the state takes `read_seconds` and shows a new count."""
    screens = Screens()
    counter = iter(range(10**6))

    def read(audiences: list[str]) -> dict[str, dict[str, object]]:
        time.sleep(read_seconds)
        return {a: {"state": {"votes_cast": next(counter)}} for a in audiences}

    return push.SnapshotPusher(SimpleNamespace(server=screens), read), screens  # type: ignore[arg-type]


def stream_casts(p: push.SnapshotPusher, seconds: float, every: float = 0.005) -> list[float]:
    """Poke as a stream of casts does; the moments of the pokes."""
    pokes = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pokes.append(time.monotonic())
        p.poke()
        time.sleep(every)
    return pokes


def test_a_cheap_push_follows_the_casts_within_the_shortest_pause() -> None:
    p, screens = pusher(read_seconds=0.002)
    try:
        pokes = stream_casts(p, 1.0)
        time.sleep(0.2)
    finally:
        p.stop()
    assert p.pause == push.MIN_PUSH_INTERVAL
    # every cast is shown by a push that came after it within the short pause (and a margin
    # for a busy machine), far sooner than the longest pause
    waits = []
    for poked in pokes:
        after = [t for t in screens.arrived if t >= poked]
        assert after, "a cast was never followed by a push"
        waits.append(after[0] - poked)
    waits.sort()
    assert waits[int(len(waits) * 0.95)] < push.MIN_PUSH_INTERVAL + 0.04
    assert 8 <= len(screens.arrived) <= 1.0 / push.MIN_PUSH_INTERVAL + 3


def test_a_costly_push_earns_a_longer_pause_up_to_the_longest() -> None:
    p, screens = pusher(read_seconds=0.06)  # a push of 60 ms: 240 ms of pause at PUSH_SHARE
    try:
        stream_casts(p, 1.5)
        time.sleep(0.1)
    finally:
        p.stop()
    assert p.pause >= 0.06 / push.PUSH_SHARE
    gaps = [b - a for a, b in zip(screens.arrived, screens.arrived[1:], strict=False)]
    # the first push teaches the cost (the second was already due after the shortest pause)
    assert len(gaps) > 3 and min(gaps[2:]) >= 0.06 / push.PUSH_SHARE * 0.9
    assert len(screens.arrived) <= 1.5 / (0.06 / push.PUSH_SHARE) + 3

    slow, slow_screens = pusher(read_seconds=0.3)
    try:
        stream_casts(slow, 1.2)
    finally:
        slow.stop()
    assert slow.pause == push.PUSH_INTERVAL  # never longer than the longest pause


def test_an_urgent_event_does_not_wait_for_the_pause() -> None:
    p, screens = pusher(read_seconds=0.1)  # earns 400 ms
    try:
        p.poke()
        time.sleep(0.15)
        assert p.pause >= 0.35
        closed = time.monotonic()
        p.poke(urgent=True)  # a vote closed
        time.sleep(0.2)
    finally:
        p.stop()
    assert any(0 <= t - closed < 0.15 for t in screens.arrived)


def test_a_slow_read_does_not_pile_up_pushes_behind_it() -> None:
    """The database answers slowly once (a burst of 450 cards, say): the casts that keep coming
    meanwhile are folded into one push after it, not a queue of pushes each reading again."""
    screens = Screens()
    reads: list[float] = []

    def read(audiences: list[str]) -> dict[str, dict[str, object]]:
        reads.append(time.monotonic())
        time.sleep(0.6 if len(reads) == 1 else 0.002)
        return {a: {"state": {"votes_cast": len(reads)}} for a in audiences}

    p = push.SnapshotPusher(SimpleNamespace(server=screens), read)  # type: ignore[arg-type]
    try:
        stream_casts(p, 0.55)  # the first push reads all this time
        time.sleep(0.1)
        assert len(reads) == 2  # the slow one, and one more for everything poked meanwhile
        assert reads[1] - reads[0] >= 0.6
        time.sleep(push.PUSH_INTERVAL + 0.1)
        assert len(reads) == 2  # and nothing after: nothing was poked since
    finally:
        p.stop()
    assert len(screens.arrived) == 2


def test_a_thousand_screens_earn_the_longest_pause() -> None:
    """Handing a snapshot to a thousand connections takes the pusher little time, but each
    connection's writer then encodes and sends it: that is counted, and the casts keep the
    interpreter (bench/live_load.py: 1,000 displays)."""
    screens = Screens()
    sids = [f"display{n}" for n in range(1000)]
    screens.manager.get_participants = lambda _ns, _room: [(s, s) for s in sids]
    p = push.SnapshotPusher(
        SimpleNamespace(server=screens),  # type: ignore[arg-type]
        lambda audiences: {a: {"state": {"votes_cast": 1}} for a in audiences},
    )
    try:
        p.push()
    finally:
        p.stop()
    assert p.pause == push.PUSH_INTERVAL
