"""The web door: the Flask application factory, the JSON API and (later) the live screens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, render_template

from voting.config import Config, ConfigError, load_config, shown_queue_url
from voting.services import queries
from voting.services.runtime import Runtime, build_runtime

MAX_BODY_BYTES = 1_000_000


def create_app(
    config: Config | None = None,
    runtime: Runtime | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Flask:
    """Build the application; tests pass a config or overrides and may share a runtime."""
    config = config or load_config(overrides=overrides)
    app = Flask(
        __name__,
        instance_path=None,
        template_folder="../../templates",
        static_folder="../../static",
    )
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["voting.config"] = config
    app.extensions["voting.runtime"] = runtime or build_runtime(config.database_url_resolved())

    from . import api, errors, pages
    from .i18n import init_i18n

    init_i18n(app, config)
    errors.register(app)
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(pages.bp)
    from .live import create_socketio

    check_message_queue(config)
    app.extensions["voting.socketio"] = create_socketio(app, runtime_of(app))

    @app.get("/")
    def index() -> str:
        """The public landing page: the sitting in progress and links to the open data."""
        state = queries.current_state(runtime_of(app).reader())
        return render_template("index.html", council=state["council"], sitting=state["sitting"])

    return app


def check_message_queue(config: Config) -> None:
    """With a message queue configured, make sure its Redis server answers before serving, or
    refuse to start naming the URL (Flask-SocketIO would only log its failures, later)."""
    url = config.server.message_queue
    if not url:
        return
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        raise ConfigError(
            f"server.message_queue: the Redis server at {shown_queue_url(url)} "
            f"does not answer: {error}"
        ) from None
    finally:
        client.close()


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["voting.runtime"]
