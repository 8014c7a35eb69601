"""The live push gives way to casts: before each chunk of a fan-out it waits while casts are
being written (bounded), so that a batch of casts never queues behind fifty sends; and a push
still reaches everyone when the casts never stop."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from voting.web import push


class FakeServer:
    """What SnapshotPusher._send uses of python-socketio's server: the room's members and emit."""

    def __init__(self, sids: list[str]) -> None:
        self.manager = SimpleNamespace(get_participants=lambda _ns, _room: [(s, s) for s in sids])
        self.sent: list[tuple[float, list[str]]] = []

    def emit(self, _event: str, _data: Any, to: list[str], namespace: str) -> None:
        self.sent.append((time.monotonic(), list(to)))


def pusher_with(sids: list[str], give_way_to: Any) -> tuple[push.SnapshotPusher, FakeServer]:
    server = FakeServer(sids)
    pusher = push.SnapshotPusher(
        SimpleNamespace(server=server),
        lambda _a: {},  # type: ignore[arg-type]
        give_way_to=give_way_to,
    )
    return pusher, server


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(push, "FANOUT_CHUNK", 2)


def test_a_chunk_waits_while_casts_are_written_then_goes() -> None:
    casts_until = time.monotonic() + 0.03  # a batch of casts being written for 30 ms
    pusher, server = pusher_with(
        [f"d{n}" for n in range(5)], lambda: time.monotonic() < casts_until
    )
    started = time.monotonic()
    pusher._send("public", {"state": {}})
    assert [to for _, to in server.sent] == [["d0", "d1"], ["d2", "d3"], ["d4"]]
    assert server.sent[0][0] >= casts_until  # nothing went out while the casts were written
    assert server.sent[0][0] - started < push.CASTS_FIRST_LIMIT + 0.02


def test_a_push_still_reaches_everyone_when_casts_never_stop() -> None:
    pusher, server = pusher_with([f"d{n}" for n in range(5)], lambda: True)
    started = time.monotonic()
    pusher._send("public", {"state": {}})
    took = time.monotonic() - started
    assert sorted(s for _, to in server.sent for s in to) == [f"d{n}" for n in range(5)]
    assert took >= 3 * push.CASTS_FIRST_LIMIT * 0.9  # it waited before each of the 3 chunks
    assert took < 3 * push.CASTS_FIRST_LIMIT + 1.0  # but only so long


def test_without_casts_a_push_does_not_wait() -> None:
    pusher, server = pusher_with([f"d{n}" for n in range(5)], lambda: False)
    started = time.monotonic()
    pusher._send("public", {"state": {}})
    assert len(server.sent) == 3
    assert time.monotonic() - started < 2 * push.FANOUT_PAUSE + 0.05
