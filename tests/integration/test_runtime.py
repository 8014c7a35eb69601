"""The runtime of a process: its jobs run from start() to stop(), stop() goes through every step
even when one fails, a server that cannot have its port leaves nothing running, and a shared bus
drops the notices it could not send in time rather than sending them late."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import pytest

from voting.adapters.redis_bus import STALE_SECONDS, RedisEventBus
from voting.bootstrap import Runtime
from voting.domain.events import DomainEvent
from voting.web import create_app
from voting.web.server import CannotListen, start_server


def alive(name: str) -> bool:
    return any(thread.name == name and thread.is_alive() for thread in threading.enumerate())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_stop_goes_through_every_step_when_one_fails(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("a door's background work could not stop")

    stopped: list[str] = []
    runtime.on_stop(broken)
    runtime.on_stop(lambda: stopped.append("the door's next step"))
    runtime.start()
    assert alive("vote-timer")
    pool = runtime.engine.pool
    with caplog.at_level(logging.ERROR, logger="voting.bootstrap"):
        runtime.stop()
    assert not alive("vote-timer")  # the jobs stopped although a step failed
    assert stopped == ["the door's next step"]  # the steps after the failing one ran
    assert runtime.engine.pool is not pool  # and the engine was disposed (a new, empty pool)
    assert [r for r in caplog.records if "a step failed" in r.getMessage()]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_server_that_cannot_have_its_port_leaves_nothing_running(
    runtime: Runtime, hall: object
) -> None:
    app = create_app(runtime=runtime)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(CannotListen):
            start_server(app, "127.0.0.1", taken.getsockname()[1])
    assert not alive("vote-timer") and not alive("token-sweeper")


def test_a_shared_bus_drops_notices_it_could_not_send_in_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = RedisEventBus("redis://127.0.0.1:1/0", "council-voting")  # never connected here
    now = time.monotonic()
    bus._outbox.extend(  # as a stalled Redis leaves it
        [
            (now - STALE_SECONDS - 2, [DomainEvent(7, "choice_cast", {})]),
            (now - STALE_SECONDS - 1, [DomainEvent(8, "choice_cast", {})]),
            (now, [DomainEvent(9, "vote_closed", {"vote_id": 1})]),
        ]
    )
    with caplog.at_level(logging.WARNING, logger="voting.adapters.redis_bus"):
        batch = bus._next_batch()
    assert batch is not None
    sent = json.loads(bus._encoded(batch))
    assert sent == {"origin": bus.origin, "events": [[9, "vote_closed", {"vote_id": 1}]]}
    assert [r.getMessage() for r in caplog.records if "dropped 2 batches" in r.getMessage()]
