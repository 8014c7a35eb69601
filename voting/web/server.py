"""Running the web application: a WSGI server over the runtime, whose jobs (the vote timer, the
live screens' token sweep) run while it serves.

`voting serve` (and `voting demo`) serve on gevent's WSGI server, in a process monkey-patched
for it (voting/__main__.py): every request and websocket is a greenlet. An application run inside
another program (the tests) is served by werkzeug's threaded server (`start_server`). Either way
every request takes its own unit of work, so requests share nothing but the engine's connection
pool.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from signal import SIGINT, SIGTERM
from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from voting.adapters.event_loop import at_low_priority
from voting.bootstrap import Runtime

from . import runtime_of
from .live import async_mode

if TYPE_CHECKING:  # gevent is imported only where it serves (a process patched for it)
    from gevent.pywsgi import WSGIServer

log = logging.getLogger(__name__)


def display_url(host: str, port: int) -> str:
    """The address to type in a browser: a wildcard host is reachable as loopback."""
    shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


class ServerHandle:
    """A running werkzeug server over a started runtime: its address, and stop() to shut both
    down."""

    def __init__(self, server: BaseWSGIServer, runtime: Runtime) -> None:
        self.server = server
        self.runtime = runtime
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
        """Stop accepting requests, free the port and stop the runtime (safe to call twice)."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=10)
        self.server.server_close()
        self.runtime.stop()


class GeventHandle:
    """A gevent WSGI server (`voting serve`) over a started runtime: its address,
    serve_forever() and stop()."""

    def __init__(self, server: WSGIServer, runtime: Runtime, url: str) -> None:
        self.server = server
        self.runtime = runtime
        self.url = url

    def serve_forever(self) -> None:
        """Serve until Ctrl+C or SIGTERM (a service manager's stop)."""
        import gevent

        stops = [gevent.signal_handler(sig, self.server.stop) for sig in (SIGTERM, SIGINT)]
        try:
            self.server.serve_forever()
        finally:
            for handler in stops:
                handler.cancel()

    def stop(self) -> None:
        self.server.stop(timeout=5)
        self.runtime.stop()


class CannotListen(OSError):
    """The address is taken or not ours; werkzeug has already printed why."""


def _bind(app: Flask, host: str, port: int) -> ServerHandle:
    """The runtime is started first (a shared bus that does not answer stops everything before
    the port opens), and stopped again if the port cannot be had."""
    runtime = runtime_of(app)
    runtime.start()
    try:
        server = make_server(host, port, app, threaded=True)
    except SystemExit:  # werkzeug prints the reason (e.g. the port is in use) and exits
        runtime.stop()
        raise CannotListen(f"cannot listen on {host}:{port}") from None
    return ServerHandle(server, runtime)


def _bind_gevent(app: Flask, host: str, port: int) -> GeventHandle:
    """As `_bind`, on gevent's WSGI server."""
    from gevent import pywsgi

    class Handler(pywsgi.WSGIHandler):
        def handle_one_response(self) -> None:
            super().handle_one_response()
            if (self.environ or {}).get("HTTP_UPGRADE", "").lower() == "websocket":
                # The connection was the websocket's: once it ends, no HTTP request follows
                # (else its last frames would be read as one, and logged as garbage).
                self.close_connection = True

    runtime = runtime_of(app)
    # Password hashing leaves the event loop for a thread of its own, at the lowest priority.
    runtime.offload = at_low_priority
    runtime.start()
    server = pywsgi.WSGIServer((host, port), app, log=None, handler_class=Handler)
    try:
        server.init_socket()
    except OSError as error:
        runtime.stop()
        raise CannotListen(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    assert server.server_port is not None  # the socket is bound
    return GeventHandle(server, runtime, display_url(host, server.server_port))


def start_server(app: Flask, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Serve `app` from background threads and start its runtime; port 0 picks a free port.
    Call .stop() when done: it stops the runtime too."""
    handle = _bind(app, host, port)
    handle.serve_in_background()
    return handle


def _stop_on_sigterm() -> Callable[[], None]:
    """Make SIGTERM (a service manager's stop) end serve() like Ctrl+C; returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(SIGTERM, interrupt)

    def restore() -> None:
        signal.signal(SIGTERM, previous)

    return restore


def serve(app: Flask, host: str, port: int, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve `app` and run its runtime until Ctrl+C or SIGTERM; `on_ready(url)` runs once the
    port is open, before the URL is printed. On gevent's server in a process patched for it
    (`voting serve`), else on werkzeug's."""
    handle: ServerHandle | GeventHandle = (
        _bind_gevent(app, host, port) if async_mode() == "gevent" else _bind(app, host, port)
    )
    try:
        if on_ready is not None:
            on_ready(handle.url)
        print(f"Serving on {handle.url} (press Ctrl+C to stop)", flush=True)
        handle.serve_forever()
    finally:
        handle.stop()
    print("Stopped.", flush=True)
