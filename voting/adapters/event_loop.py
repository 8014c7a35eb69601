"""Blocking work kept off the server's event loop.

Under `voting serve` every thread is a greenlet of one OS thread (gevent): a call that blocks
it (waiting for a worker process, a password hash, a check over the whole journal) would stop
every cast and push meanwhile. `off_the_event_loop` hands such a call to gevent's hub
threadpool, a real OS thread (hashlib's scrypt and hashing release the GIL there), and the
calling greenlet sleeps on the result cooperatively. Without gevent (tests, the CLI) the call
runs in the calling thread.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _on_gevent() -> bool:
    """Whether this process runs on gevent's loop (threading monkey-patched: `voting serve`)."""
    if "gevent" not in sys.modules:
        return False
    from gevent import monkey

    return bool(monkey.is_module_patched("threading"))


def off_the_event_loop(call: Callable[..., T], *args: Any) -> T:
    """Run a blocking call without blocking gevent's loop: in the hub's threadpool when
    threading is monkey-patched, else right here."""
    if _on_gevent():
        from gevent import get_hub

        result: T = get_hub().threadpool.apply(call, args)
        return result
    return call(*args)


_background: Any = None  # a thread pool of one thread, made on first use under gevent
_lowered: set[int] = set()  # native ids of the threads already at the lowest priority


def at_low_priority(call: Callable[..., T], *args: Any) -> T:
    """Run CPU-heavy work that may wait (a password hash) off gevent's loop, in a thread of its
    own at the lowest CPU priority (nice 19 on Linux), so that under a flood of it the casts,
    the pushes and the database still get the CPU first. Without gevent: right here."""
    if _on_gevent():
        global _background
        if _background is None:
            from gevent.threadpool import ThreadPool

            _background = ThreadPool(1)
        result: T = _background.apply(_lowest_priority, (call, *args))
        return result
    return call(*args)


def _lowest_priority(call: Callable[..., T], *args: Any) -> T:
    native = threading.get_native_id()
    if native not in _lowered:
        _lowered.add(native)
        try:  # Linux: a thread's own nice value (its id names it); elsewhere nothing changes
            os.setpriority(os.PRIO_PROCESS, native, 19)
        except (AttributeError, OSError):
            pass
    return call(*args)
