"""Group commit: requests that arrive while a transaction is being written share the next one.

Callers `submit` a request and block until it is settled. The first caller to find nobody writing
becomes the leader: it takes the waiting requests (at most `max_batch`, never two with the same
key), writes them in one transaction with its own unit of work, settles each of them, and hands
the leadership to the oldest request still waiting. No thread of its own: the callers' threads (or
greenlets) do the writing, one batch at a time per committer, so a request is answered only after
the transaction holding it has committed (or has been refused).

Nothing here knows what is written: `write` does that, and must settle every request it is given.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:  # the unit of work holds its runtime's committer: no import at run time
    from .uow import UnitOfWork

R = TypeVar("R", bound="Request")

log = logging.getLogger(__name__)


class Request:
    """One caller's request: settled with either `result` or `error`."""

    def __init__(self, key: Hashable) -> None:
        self.key = key  # two requests with the same key never share a batch
        self.result: object = None
        self.error: BaseException | None = None
        self.settled = False
        self._leader = False
        self._wake = threading.Event()

    def settle(self, result: object = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.settled = result, error, True

    def outcome(self) -> object:
        assert self.settled
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommitter(Generic[R]):
    """Batches requests into shared transactions; `write(uow, batch)` settles every request."""

    def __init__(self, write: Callable[[UnitOfWork, list[R]], None], max_batch: int = 64) -> None:
        self._write = write
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._pending: deque[R] = deque()
        self._writing = False
        self.batches = 0  # statistics, for tests and benchmarks
        self.largest = 0

    @property
    def busy(self) -> bool:
        """Whether requests are being written or waiting to be (read without the lock: a hint)."""
        return self._writing or bool(self._pending)

    def submit(self, uow: UnitOfWork, request: R) -> object:
        """Queue the request, wait until it is written (or refused), return its result or raise."""
        with self._lock:
            self._pending.append(request)
            if not self._writing:
                self._writing = request._leader = True
        while not request._leader:
            request._wake.wait()
            if request.settled:
                return request.outcome()
            request._wake.clear()
        self._lead(uow)
        return request.outcome()

    def _take(self) -> list[R]:
        batch: list[R] = []
        keys: set[Hashable] = set()
        left: deque[R] = deque()
        while self._pending and len(batch) < self.max_batch:
            request = self._pending.popleft()
            if request.key in keys:
                left.append(request)  # the same deputy twice: the later one waits its turn
            else:
                keys.add(request.key)
                batch.append(request)
        left.extend(self._pending)
        self._pending = left
        return batch

    def _lead(self, uow: UnitOfWork) -> None:
        """Write one batch (it holds the leader's own request), then pass the leadership on."""
        # Let the others run first: on gevent, casts already received but not yet submitted
        # join this batch instead of each waiting for a transaction of its own (one OS thread
        # runs everything there, and the write below never yields).
        time.sleep(0)
        with self._lock:
            batch = self._take()
        try:
            self._write(uow, batch)
        except BaseException as error:  # a bug must not leave anyone waiting for ever
            for request in batch:
                if not request.settled:
                    request.settle(error=error)
            raise
        finally:
            for request in batch:
                if not request.settled:
                    request.settle(error=RuntimeError("the batch writer left a request unsettled"))
            with self._lock:
                self.batches += 1
                self.largest = max(self.largest, len(batch))
                if self._pending:
                    successor = self._pending[0]
                    successor._leader = True
                    successor._wake.set()
                else:
                    self._writing = False
            for request in batch:
                request._wake.set()


def one_by_one_on_failure(
    write_batch: Callable[[UnitOfWork, list[R]], None], what: str
) -> Callable[[UnitOfWork, list[R]], None]:
    """A batch writer that, when the batch's transaction fails as a whole (a constraint, a busy
    database), writes each request not yet settled again alone: a failure then refuses exactly
    the requests it could not write. `what` names them in the log ("casts")."""

    def write(uow: UnitOfWork, batch: list[R]) -> None:
        try:
            write_batch(uow, batch)
        except Exception as error:  # settled below, or split and retried one by one
            if len(batch) == 1:
                batch[0].settle(error=error)
                return
            log.warning(
                "a batch of %d %s failed (%s); writing them one by one",
                len(batch),
                what,
                error.__class__.__name__,
            )
            for request in batch:
                if not request.settled:
                    write(uow, [request])

    return write
