"""Running the web application: a threaded WSGI server and the timer that closes votes on time.

The server is werkzeug's threaded WSGI server (one thread per request); every request takes its
own unit of work, so the threads share nothing but the engine's connection pool. Beside it a
daemon thread closes every vote whose time limit has run out, twice a second.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from voting.services.runtime import Runtime
from voting.services.votes import close_expired_votes

from . import runtime_of

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5


class VoteTimer:
    """A daemon thread that closes expired votes every `interval` seconds until stopped."""

    def __init__(self, runtime: Runtime, interval: float = TICK_SECONDS) -> None:
        self.runtime = runtime
        self.interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vote-timer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

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

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self.tick()


def display_url(host: str, port: int) -> str:
    """The address to type in a browser: a wildcard host is reachable as loopback."""
    shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


class ServerHandle:
    """A running server: its address, and stop() to shut it and its timer down."""

    def __init__(self, server: BaseWSGIServer, timer: VoteTimer) -> None:
        self.server = server
        self.timer = timer
        self.host = server.host
        self.port = server.server_port
        self.url = display_url(server.host, self.port)
        self._thread: threading.Thread | None = None
        self._stopped = False

    def serve_in_background(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="web-server",
                                        daemon=True)
        self._thread.start()

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


class CannotListen(OSError):
    """The address is taken or not ours; werkzeug has already printed why."""


def _bind(app: Flask, host: str, port: int) -> ServerHandle:
    try:
        server = make_server(host, port, app, threaded=True)
    except SystemExit:  # werkzeug prints the reason (e.g. the port is in use) and exits
        raise CannotListen(f"cannot listen on {host}:{port}") from None
    timer = VoteTimer(runtime_of(app))
    timer.start()
    # A purge cut short by the last stop (or a crash) is finished now, in the background.
    assert runtime_of(app).purger is not None
    runtime_of(app).purger.request()
    return ServerHandle(server, timer)


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


def serve(app: Flask, host: str, port: int,
          on_ready: Callable[[ServerHandle], None] | None = None) -> None:
    """Serve `app` until Ctrl+C or SIGTERM; `on_ready` runs once the port is open, before the URL
    is printed."""
    handle = _bind(app, host, port)
    restore = _stop_on_sigterm()
    try:
        if on_ready is not None:
            on_ready(handle)
        print(f"Serving on {handle.url} (press Ctrl+C to stop)", flush=True)
        handle.server.serve_forever()  # werkzeug's returns on Ctrl+C
    except KeyboardInterrupt:
        pass
    finally:
        restore()
        handle.stop()
    print("Stopped.", flush=True)
