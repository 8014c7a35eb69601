"""Running the web application: a WSGI server and the timer that closes votes on time.

`voting serve` (and `voting demo`) serve on gevent's WSGI server, in a process monkey-patched
for it (voting/__main__.py): every request and websocket is a greenlet. An application run inside
another program (the tests) is served by werkzeug's threaded server (`start_server`). Either way
every request takes its own unit of work, so requests share nothing but the engine's connection
pool. Beside it the vote timer closes every vote whose time limit has run out, twice a second,
and the collector pacer keeps the garbage collector's long pauses out of the votes.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
import time
from collections.abc import Callable

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from voting.domain.events import DomainEvent
from voting.services.runtime import Runtime
from voting.services.votes import close_expired_votes

from . import runtime_of
from .live import async_mode
from .push import Periodic

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5


class VoteTimer(Periodic):
    """A daemon thread that closes expired votes every `interval` seconds until stopped."""

    def __init__(self, runtime: Runtime, interval: float = TICK_SECONDS) -> None:
        self.runtime = runtime
        super().__init__(self.tick, interval, "vote-timer")

    def tick(self) -> list[int]:
        """Close the expired votes once; a failure is logged, never raised (the timer lives on)."""
        try:
            closed = close_expired_votes(self.runtime.uow)
        except Exception:  # a busy or unreachable database must not stop the timer for good
            log.exception("the vote timer could not close expired votes; it will try again")
            return []
        for vote_id in closed:
            log.info("vote %s closed: its time limit ran out", vote_id)
        return closed


class CollectorPacer(Periodic):
    """Keeps the cyclic garbage collector's full passes out of the votes.

    A full pass over a server holding 1,450 connections takes over 100 ms and stops everything
    (with gevent, every connection at once): it showed as the slowest acknowledgements of
    bench/live_load.py. So every `interval` seconds what has survived so far is frozen
    (`gc.freeze`, which costs nothing: frozen objects are left out of the automatic passes, which
    then stay short); and at most every `full_every` seconds, when nothing has happened for
    `quiet` seconds (no journal entry: no cast, no registration), everything is thawed, collected
    in one pass and frozen again, so that garbage frozen in the meantime is freed then. Objects
    freed by reference counting, most of them, go at once as always.
    """

    def __init__(
        self, runtime: Runtime, interval: float = 2.0, quiet: float = 5.0, full_every: float = 60.0
    ) -> None:
        super().__init__(self.tend, interval, "collector-pacer")
        self.runtime = runtime
        self.quiet = quiet
        self.full_every = full_every
        self.last_event = self.last_full = time.monotonic()
        self.passes = 0  # full passes made at quiet moments

    def start(self) -> None:
        self.runtime.bus.subscribe(self._seen)
        gc.freeze()
        super().start()

    def _seen(self, _event: DomainEvent) -> None:
        self.last_event = time.monotonic()

    def tend(self) -> bool:
        """Freeze what survived; first collect everything when quiet and due. Whether it
        collected."""
        moment = time.monotonic()
        full = moment - self.last_event >= self.quiet and moment - self.last_full >= self.full_every
        if full:
            gc.unfreeze()
            gc.collect()
            self.last_full = time.monotonic()
            self.passes += 1
        gc.freeze()
        return full

    def stop(self) -> None:
        super().stop()
        gc.unfreeze()


def display_url(host: str, port: int) -> str:
    """The address to type in a browser: a wildcard host is reachable as loopback."""
    shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


class ServerHandle:
    """A running werkzeug server: its address, and stop() to shut it and its timer down."""

    def __init__(self, server: BaseWSGIServer, timer: VoteTimer) -> None:
        self.server = server
        self.timer = timer
        self.host = server.host
        self.port = server.server_port
        self.url = display_url(server.host, self.port)
        self._thread: threading.Thread | None = None
        self._stopped = False

    def serve_in_background(self) -> None:
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="web-server", daemon=True
        )
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve in this thread until Ctrl+C or SIGTERM (a service manager's stop)."""
        restore = _stop_on_sigterm()
        try:
            self.server.serve_forever()  # werkzeug's returns on Ctrl+C
        except KeyboardInterrupt:
            pass
        finally:
            restore()

    def stop(self) -> None:
        """Stop accepting requests, stop the timer and free the port (safe to call twice)."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=10)
        self.timer.stop()
        self.server.server_close()


class GeventHandle:
    """A gevent WSGI server (`voting serve`): its address, serve_forever() and stop()."""

    def __init__(self, server: object, timer: VoteTimer, url: str) -> None:
        self.server = server
        self.timer = timer
        self.url = url

    def serve_forever(self) -> None:
        """Serve until Ctrl+C or SIGTERM (a service manager's stop)."""
        import gevent

        stops = [
            gevent.signal_handler(sig, self.server.stop)  # type: ignore[attr-defined]
            for sig in (signal.SIGTERM, signal.SIGINT)
        ]
        try:
            self.server.serve_forever()  # type: ignore[attr-defined]
        finally:
            for handler in stops:
                handler.cancel()

    def stop(self) -> None:
        self.server.stop(timeout=5)  # type: ignore[attr-defined]
        self.timer.stop()


class CannotListen(OSError):
    """The address is taken or not ours; werkzeug has already printed why."""


def _start_timers(app: Flask) -> VoteTimer:
    """The vote timer, started; and a purge cut short by the last stop (or a crash) is
    finished now, in the background."""
    timer = VoteTimer(runtime_of(app))
    timer.start()
    assert runtime_of(app).purger is not None
    runtime_of(app).purger.request()
    return timer


def _bind(app: Flask, host: str, port: int) -> ServerHandle:
    try:
        server = make_server(host, port, app, threaded=True)
    except SystemExit:  # werkzeug prints the reason (e.g. the port is in use) and exits
        raise CannotListen(f"cannot listen on {host}:{port}") from None
    return ServerHandle(server, _start_timers(app))


def _bind_gevent(app: Flask, host: str, port: int) -> GeventHandle:
    from gevent import pywsgi

    class Handler(pywsgi.WSGIHandler):  # type: ignore[misc]
        def handle_one_response(self) -> None:
            super().handle_one_response()
            if self.environ.get("HTTP_UPGRADE", "").lower() == "websocket":
                # The connection was the websocket's: once it ends, no HTTP request follows
                # (else its last frames would be read as one, and logged as garbage).
                self.close_connection = True

    server = pywsgi.WSGIServer((host, port), app, log=None, handler_class=Handler)
    try:
        server.init_socket()
    except OSError as error:
        raise CannotListen(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return GeventHandle(server, _start_timers(app), display_url(host, server.server_port))


def start_server(app: Flask, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Serve `app` from background threads; port 0 picks a free port. Call .stop() when done."""
    handle = _bind(app, host, port)
    handle.serve_in_background()
    return handle


def _stop_on_sigterm() -> Callable[[], None]:
    """Make SIGTERM (a service manager's stop) end serve() like Ctrl+C; returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    return lambda: signal.signal(signal.SIGTERM, previous)


def serve(app: Flask, host: str, port: int, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve `app` until Ctrl+C or SIGTERM; `on_ready(url)` runs once the port is open, before
    the URL is printed. On gevent's server in a process patched for it (`voting serve`), else
    on werkzeug's."""
    handle: ServerHandle | GeventHandle = (
        _bind_gevent(app, host, port) if async_mode() == "gevent" else _bind(app, host, port)
    )
    pacer = CollectorPacer(runtime_of(app))
    try:
        if on_ready is not None:
            on_ready(handle.url)
        pacer.start()
        print(f"Serving on {handle.url} (press Ctrl+C to stop)", flush=True)
        handle.serve_forever()
    finally:
        pacer.stop()
        handle.stop()
    print("Stopped.", flush=True)
