"""An event bus shared by the server processes of one council, over Redis publish/subscribe.

Each process hands the events it committed to its own subscribers at once (as the in-process bus
does), and publishes them on the council's channel; every other process hands them to its
subscribers when they arrive. So a screen or a seat console sees every event of the council
whichever process committed it. The database stays the only truth: Redis carries notices, never
votes. While Redis is away, events do not reach the other processes (logged); their screens see a
gap in the journal's numbers and fetch a fresh snapshot when Redis is back.

Publishing never holds up a commit: the events go into an outbox that one thread sends in order.
A notice that could not be sent within `STALE_SECONDS` (Redis stalled or away) is dropped rather
than sent late: by then the other processes' screens have seen the gap and fetched a snapshot.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence

import redis

from voting.domain.events import DomainEvent
from voting.services.bus import BusUnavailable, EventBus

log = logging.getLogger(__name__)

#: How long a Redis call may take before it counts as failed, and the longest pause before
#: trying again after one.
TIMEOUT_SECONDS = 5.0
MAX_RETRY_SECONDS = 5.0
#: Events not sent within this long are dropped (the other processes' screens catch up by a
#: snapshot); also bounds the outbox while Redis is away.
STALE_SECONDS = 2.0


class RedisEventBus(EventBus):
    """Events of every process of one council, through one Redis channel."""

    def __init__(self, url: str, channel: str) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self.origin = uuid.uuid4().hex  # this process: its own events come back, and are skipped
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
        )
        # (when they were queued, the events of one commit): encoded by the sender, not here
        self._outbox: deque[tuple[float, list[DomainEvent]]] = deque()
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.received = 0  # events delivered from other processes (statistics, tests)

    def check(self) -> None:
        """BusUnavailable unless the Redis server answers now."""
        try:
            self._client.ping()
        except redis.RedisError as error:
            raise BusUnavailable(str(error)) from None

    def start(self) -> None:
        """Check the server, then listen to the channel and send what this process commits."""
        if self._threads:
            return
        self.check()
        listening = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._listen, args=(listening,), name="bus-listen", daemon=True
            ),
            threading.Thread(target=self._send, name="bus-send", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        listening.wait(TIMEOUT_SECONDS)  # subscribed: events committed from now on reach us

    def stop(self) -> None:
        """Send what is waiting in the outbox (briefly), then stop listening."""
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=TIMEOUT_SECONDS * 2)
        self._threads = []
        self._client.close()

    def publish(self, events: Sequence[DomainEvent]) -> None:
        """Events this process committed: to its own subscribers now, to the others through the
        outbox (the commit does not wait for Redis, nor for the encoding)."""
        self.deliver(events)
        if not self._threads or not events:
            return  # not started (a one-shot command of the CLI): the screens catch up later
        with self._wake:
            self._outbox.append((time.monotonic(), list(events)))
            self._wake.notify()

    def _encoded(self, events: list[DomainEvent]) -> bytes:
        batch = [[event.seq, event.kind, event.payload] for event in events]
        message = {"origin": self.origin, "events": batch}
        return json.dumps(message, ensure_ascii=False, default=str).encode()

    def _next_batch(self) -> list[DomainEvent] | None:
        """The oldest batch still worth sending (stale ones are dropped); None when stopping
        with nothing left to send."""
        with self._wake:
            while True:
                while not self._outbox and not self._stopping.is_set():
                    self._wake.wait()
                if not self._outbox:
                    return None
                queued, events = self._outbox.popleft()
                now = time.monotonic()
                if now - queued <= STALE_SECONDS:
                    return events
                stale = 1  # the oldest come first: drop them up to the first fresh one
                while self._outbox and now - self._outbox[0][0] > STALE_SECONDS:
                    self._outbox.popleft()
                    stale += 1
                log.warning(
                    "dropped %d batches of events that could not reach the other server "
                    "processes in time; their screens fetch a fresh snapshot",
                    stale,
                )

    def _send(self) -> None:
        while (events := self._next_batch()) is not None:
            try:
                self._client.publish(self.channel, self._encoded(events))
            except redis.RedisError as error:
                if self._stopping.is_set():
                    return
                log.warning(
                    "could not publish events to the other server processes (%s); "
                    "their screens will fetch a fresh snapshot",
                    error.__class__.__name__,
                )
            except Exception:  # never let the sender die: later events must still go out
                log.exception("could not publish events to the other server processes")

    def _listen(self, listening: threading.Event) -> None:
        pause = 0.1
        while not self._stopping.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                listening.set()
                pause = 0.1
                while not self._stopping.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None:
                        self._arrived(message["data"])
            except Exception as error:  # a lost connection (or worse): listen again, never die
                if self._stopping.is_set():
                    break
                log.warning(
                    "lost the message queue (%s); listening again in %.1f s",
                    error.__class__.__name__,
                    pause,
                    exc_info=not isinstance(error, redis.RedisError),
                )
                time.sleep(pause)
                pause = min(pause * 2, MAX_RETRY_SECONDS)
            finally:
                try:
                    pubsub.close()
                except redis.RedisError:
                    pass

    def _arrived(self, data: bytes) -> None:
        try:
            message = json.loads(data)
            if message["origin"] == self.origin:
                return
            events = [DomainEvent(seq, kind, payload) for seq, kind, payload in message["events"]]
        except (ValueError, KeyError, TypeError):
            log.warning("a message on %s is not a batch of events; ignored", self.channel)
            return
        self.received += len(events)
        self.deliver(events)
