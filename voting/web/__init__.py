"""The web door: the Flask application factory, the JSON API and the live screens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, render_template
from werkzeug.middleware.proxy_fix import ProxyFix

from voting.bootstrap import Runtime, build_runtime
from voting.config import Config, load_config
from voting.services import queries

from .events import StrictJSONProvider
from .throttle import SignInThrottle

MAX_BODY_BYTES = 1_000_000


def create_app(
    config: Config | None = None,
    runtime: Runtime | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Flask:
    """Build the application over a runtime (built from the configuration unless given; tests
    share theirs). The server that runs the application starts the runtime."""
    if config is None:
        if runtime is not None and overrides is None:
            config = runtime.config
        else:
            config = load_config(overrides=overrides)
    app = Flask(
        __name__,
        instance_path=None,
        template_folder="../../templates",
        static_folder="../../static",
    )
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json = StrictJSONProvider(app)
    app.extensions["voting.config"] = config
    app.extensions["voting.runtime"] = runtime or build_runtime(config)
    # Sign-in attempts are counted in the council's Redis when there is one (every process).
    app.extensions["sign_in_throttle"] = SignInThrottle(
        config.server.message_queue or "memory://",
        config.server.message_channel,
        per_source=config.sign_in.attempts_per_address_per_minute,
        per_name=config.sign_in.attempts_per_name_per_minute,
    )
    if config.server.trusted_proxies:  # the client's address, scheme and host as they report
        hops = config.server.trusted_proxies
        # Flask's documented way to wrap its WSGI app, which mypy sees as assigning a method
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from . import api, archive, consoles, errors, headers, pages
    from .i18n import init_i18n
    from .live import create_socketio

    init_i18n(app, config)
    errors.register(app)
    headers.install(app)
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(consoles.bp, url_prefix="/api/v1")
    app.register_blueprint(pages.bp)
    archive.install(app, runtime_of(app), config)  # the public archive and its record job
    socketio = create_socketio(app, runtime_of(app))
    app.extensions["voting.socketio"] = socketio
    consoles.ConsoleDoor(socketio, runtime_of(app), config)

    @app.get("/")
    def index() -> str:
        """The public landing page: the sitting in progress and links to the open data."""
        state = queries.current_state(runtime_of(app).reader())
        return render_template("index.html", council=state["council"], sitting=state["sitting"])

    return app


def runtime_of(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["voting.runtime"]
    return runtime
