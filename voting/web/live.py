"""Live push over Socket.IO: a snapshot on connect, then every journal event, numbered.

Every connection first receives `snapshot` {seq, state}; then `event` {seq, kind, payload} for each
procedural event after commit, in journal order. A client that sees a gap in `seq` (or
reconnects) asks for `snapshot` again, so no screen is left showing a stale result.

Rooms: everyone joins "public"; the secretary and the chair also "staff"; a deputy "deputy:<id>".
Connections may authenticate with {"token": "<bearer token>"}; the public display needs none.
Mutating events (`register`, `cast`) act through the same services as the HTTP API and answer
with an acknowledgement {ok: true, ...} or {ok: false, error: {code, message}}; nothing changes
on an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, request
from flask_socketio import SocketIO, join_room

from voting.domain.errors import DomainError, InvalidInput, PermissionDenied
from voting.domain.events import DomainEvent
from voting.services import auth as auth_service
from voting.services import queries, registration, votes
from voting.services.runtime import Runtime
from voting.services.uow import Actor

log = logging.getLogger(__name__)

#: Plain threads (werkzeug + simple-websocket), measured against gevent with bench/live_load.py
#: (docs/benchmarks.md): at the same load gevent used a fifth less CPU but answered casts later
#: (p50 380-440 ms against 220-240 ms, p99 alike at about 0.75 s, on SQLite): SQLite's calls
#: hold its single hub, so fewer casts queue into each shared transaction; and it needs
#: monkey-patching before any import. eventlet is deprecated and never used. Known limit: werkzeug's server
#: completes a client's websocket close only after a 3 s timeout.
ASYNC_MODE = "threading"


def create_socketio(app: Flask, runtime: Runtime) -> SocketIO:
    """Bind a Socket.IO server to the app and relay the runtime's events to the rooms."""
    socketio = SocketIO(app, async_mode=ASYNC_MODE, cors_allowed_origins=[], json=app.json)
    actors: dict[str, Actor | None] = {}

    @socketio.on("connect")
    def connect(auth: object = None) -> bool:
        token = auth.get("token") if isinstance(auth, dict) else None
        actor = None
        if token is not None:
            if not isinstance(token, str) or not token:
                return False
            try:
                actor = auth_service.actor_for_token(runtime.reader(), token)
            except PermissionDenied:
                return False  # the client sees a refused connection, and may retry without one
        actors[request.sid] = actor  # type: ignore[attr-defined]
        join_room("public")
        if actor is not None and actor.role in ("secretary", "chair"):
            join_room("staff")
        if actor is not None and actor.deputy_id is not None:
            join_room(f"deputy:{actor.deputy_id}")
        socketio.emit("snapshot", snapshot(runtime), to=request.sid)  # type: ignore[attr-defined]
        return True

    @socketio.on("disconnect")
    def disconnect(*_reason: object) -> None:
        actors.pop(request.sid, None)  # type: ignore[attr-defined]

    @socketio.on("snapshot")
    def fresh_snapshot(*_args: object) -> dict[str, object]:
        return snapshot(runtime)

    def acting(handler: Callable[[Actor, dict[str, Any]], dict[str, object]]
               ) -> Callable[..., dict[str, object]]:
        def wrapped(data: object = None) -> dict[str, object]:
            actor = actors.get(request.sid)  # type: ignore[attr-defined]
            try:
                if actor is None:
                    raise PermissionDenied("connect with a token to act")
                if not isinstance(data, dict):
                    raise InvalidInput("the event needs an object")
                return {"ok": True, **handler(actor, data)}
            except DomainError as error:
                return {"ok": False, "error": {"code": error.code, "message": error.message}}
        wrapped.__name__ = handler.__name__
        return wrapped

    @acting
    def register(actor: Actor, data: dict[str, Any]) -> dict[str, object]:
        _only(data, {"sitting_id", "deputy_id"})
        return registration.register(runtime.uow(), actor, data.get("sitting_id"),
                                     data.get("deputy_id"))

    @acting
    def cast(actor: Actor, data: dict[str, Any]) -> dict[str, object]:
        _only(data, {"vote_id", "choice"})
        if "choice" not in data:
            raise InvalidInput("choice is required: for, against or abstain", field="choice")
        return votes.cast_choice(runtime.uow(), actor, data.get("vote_id"), data["choice"])

    socketio.on_event("register", register)
    socketio.on_event("cast", cast)

    def relay(event: DomainEvent) -> None:
        socketio.emit("event", {"seq": event.seq, "kind": event.kind, "payload": event.payload},
                      to="public")

    runtime.bus.subscribe(relay)
    return socketio


def snapshot(runtime: Runtime) -> dict[str, object]:
    """The journal's last sequence number, then the state (read after it, so never older)."""
    seq = queries.journal_head(runtime.reader())
    try:
        state: dict[str, object] | None = queries.current_state(runtime.reader())
    except DomainError:
        state = None  # no council yet
    return {"seq": seq, "state": state}


def _only(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", field=unknown[0])
