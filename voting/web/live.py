"""Live push over Socket.IO: a snapshot on connect, then fresh snapshots as the sitting moves.

Every connection first receives `snapshot` {seq, state[, me]}: the journal's sequence number and
the live state (queries.live_state) read after it, so never older than `seq`; a deputy's
connection also gets `me` (their own registration and recorded choice). After each commit the
server pushes a fresh snapshot to every audience, computed once per audience and coalesced so
that a burst of casts costs one push per `PUSH_INTERVAL` rather than one per cast and screen.
Staff connections also receive `event` {seq, kind, payload} for every journal entry, in order;
a client that sees a gap in `seq`, or reconnects, asks for `snapshot` again. A client drops a
snapshot older (lower `seq`) than the one it shows, so no screen is left showing a stale result.

Rooms (each connection is in exactly one audience): "public" (displays and the public web page),
"terminal" (deputies' terminals: a lighter state without per-deputy lists; each asks for its
own line when the registration round changes) and "staff" (secretary and chair); a
deputy also joins "deputy:<id>".
Connections may authenticate with {"token": "<bearer token>"}; the public display needs none.
Mutating events (`register`, `cast`) act through the same services as the HTTP API and answer
with an acknowledgement {ok: true, ...} or {ok: false, error: {code, message}}; nothing changes
on an error.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room

from voting.domain.errors import DomainError, InvalidInput, PermissionDenied
from voting.domain.events import DomainEvent
from voting.services import auth as auth_service
from voting.services import queries, registration, votes
from voting.services.runtime import Runtime
from voting.services.uow import Actor

from .push import TOKEN_SWEEP_SECONDS, Background, EventSequencer, Periodic, SnapshotPusher

log = logging.getLogger(__name__)


def async_mode() -> str:
    """Flask-SocketIO's async mode, given explicitly: "gevent" in a process monkey-patched for it
    (`voting serve` and `voting demo`: voting/__main__.py), else "threading" (the application
    inside another program, the tests' servers). Never eventlet (deprecated).

    Measured with bench/live_load.py (docs/benchmarks.md): with 1,450 websockets, threads (four
    per connection) convoy on the interpreter lock, and a batch of casts that needs 15 ms of CPU
    took up to 650 ms to commit; on gevent it takes its 15 ms.
    """
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):  # type: ignore[attr-defined]
        return "gevent"
    return "threading"


#: Pushed at once, not coalesced (push.PUSH_INTERVAL): what a screen must show without delay.
URGENT_EVENTS = frozenset(
    {
        "vote_opened",
        "vote_closed",
        "vote_annulled",
        "revote_called",
        "manual_result_entered",
        "result_announced",
        "registration_opened",
        "registration_closed",
        "sitting_opened",
        "sitting_closed",
    }
)


def create_socketio(app: Flask, runtime: Runtime) -> SocketIO:
    """Bind a Socket.IO server to the app and relay the runtime's events to the rooms."""
    socketio = SocketIO(
        app,
        async_mode=async_mode(),
        cors_allowed_origins=[],
        json=app.json,
        # several server processes: Redis carries every emit to all their clients
        message_queue=app.extensions["voting.config"].server.message_queue or None,
        channel=app.extensions["voting.config"].server.message_channel,
        # no Flask session per socket event: the connection's actor is all
        manage_session=False,
    )
    # sid of a connection with a token -> the token and who it stands for until when (the
    # public's connections are not kept). Acting checks the expiry here, with no database read;
    # a revoked token's connection is dropped (drop_invalid).
    signed: dict[str, tuple[str, auth_service.TokenHolder]] = {}

    def actor_of(sid: str) -> Actor | None:
        held = signed.get(sid)
        return None if held is None else held[1].actor

    @socketio.on("connect")
    def connect(auth: object = None) -> bool:
        token = auth.get("token") if isinstance(auth, dict) else None
        holder = None
        try:
            if token is not None:
                if not isinstance(token, str) or not token:
                    return False
                try:
                    holder = auth_service.token_holder(runtime.reader(), token)
                except PermissionDenied:
                    return False  # refused: the client signs in again
            actor = None if holder is None else holder.actor
            first = snapshot(runtime, actor)
        except Exception:  # a busy database: refuse for now; the client tries again
            log.exception("a screen could not be connected")
            raise ConnectionRefusedError("the server is busy; try again") from None
        sid = request.sid  # type: ignore[attr-defined]
        if holder is not None:
            signed[sid] = (token, holder)
        join_room(audience_of(actor))
        if actor is not None and actor.deputy_id is not None:
            join_room(f"deputy:{actor.deputy_id}")
        socketio.emit("snapshot", first, to=sid)
        return True

    @socketio.on("disconnect")
    def disconnect(*_reason: object) -> None:
        signed.pop(request.sid, None)  # type: ignore[attr-defined]

    @socketio.on("snapshot")
    def fresh_snapshot(*_args: object) -> dict[str, object]:
        return snapshot(runtime, actor_of(request.sid))  # type: ignore[attr-defined]

    def acting(
        handler: Callable[[Actor, dict[str, Any]], dict[str, object]],
    ) -> Callable[..., dict[str, object]]:
        def wrapped(data: object = None) -> dict[str, object]:
            sid = request.sid  # type: ignore[attr-defined]
            held = signed.get(sid)
            try:
                if held is None:  # never signed in, or its token was revoked
                    raise PermissionDenied("connect with a token to act")
                actor = held[1].actor
                # The token may have expired since the connection opened; a revoked one has
                # lost its connection (drop_invalid), at once when revoked through this process.
                held[1].ensure_unexpired(runtime.clock())
                if not isinstance(data, dict):
                    raise InvalidInput("the event needs an object")
                return {"ok": True, **handler(actor, data)}
            except DomainError as error:
                return {"ok": False, "error": {"code": error.code, "message": error.message}}
            except Exception:  # never leave a terminal waiting: say it failed, nothing recorded
                log.exception("socket event %s failed", handler.__name__)
                return {
                    "ok": False,
                    "error": {
                        "code": "server_error",
                        "message": "the server could not complete this; try again (the screen "
                        "shows what is recorded)",
                    },
                }

        wrapped.__name__ = handler.__name__
        return wrapped

    @acting
    def register(actor: Actor, data: dict[str, Any]) -> dict[str, object]:
        _only(data, {"sitting_id", "deputy_id"})
        return registration.register(
            runtime.uow(), actor, data.get("sitting_id"), data.get("deputy_id")
        )

    @acting
    def cast(actor: Actor, data: dict[str, Any]) -> dict[str, object]:
        # `pad`: spaces a terminal adds so that every cast is the same size on the wire, whatever
        # the choice (a secret choice must not show in the length of an encrypted frame).
        _only(data, {"vote_id", "choice", "pad"})
        pad = data.get("pad", "")
        if not isinstance(pad, str) or len(pad) > 16 or pad.strip(" "):
            raise InvalidInput("pad must be at most 16 spaces", field="pad")
        if "choice" not in data:
            raise InvalidInput("choice is required: for, against or abstain", field="choice")
        return votes.cast_choice(runtime.uow(), actor, data.get("vote_id"), data["choice"])

    socketio.on_event("register", register)
    socketio.on_event("cast", cast)

    pusher = SnapshotPusher(
        socketio,
        lambda audiences: audience_snapshots(runtime, audiences),
        shared=bool(app.extensions["voting.config"].server.message_queue),
        give_way_to=lambda: votes.casts_in_flight(runtime.engine),
    )

    def send(event: DomainEvent) -> None:
        socketio.emit(
            "event", {"seq": event.seq, "kind": event.kind, "payload": event.payload}, to="staff"
        )

    try:
        head = queries.journal_head(runtime.reader())
    except Exception:  # no schema yet (`voting init` not run): start from the first event seen
        head = None
    sequencer = EventSequencer(send, head)

    def drop_invalid() -> None:
        """Disconnect every connection whose token no longer holds (revoked, or expired): one
        read for all of them."""
        held = {sid: token for sid, (token, _) in list(signed.items())}
        if not held:
            return
        try:
            gone = auth_service.invalid_tokens(runtime.reader(), held.values())
        except Exception:  # a busy database: the next sweep checks again
            log.exception("could not check the connections' tokens")
            return
        for sid, token in held.items():
            if token in gone:
                signed.pop(sid, None)  # it can no longer act, even before it is disconnected
                socketio.server.disconnect(sid, namespace="/")

    def push_own_line(deputy_id: int) -> None:
        """A deputy's own line, to their terminals (registered or left by the secretary)."""
        try:
            socketio.emit(
                "snapshot",
                snapshot(runtime, Actor("deputy", "live push", deputy_id)),
                to=f"deputy:{deputy_id}",
            )
        except Exception:  # the terminal asks again when the registration round changes
            log.exception("could not push deputy %s their own line", deputy_id)

    def relay(event: DomainEvent) -> None:
        sequencer.accept(event)
        pusher.poke(urgent=event.kind in URGENT_EVENTS)
        if event.kind == "token_revoked" and signed:
            background.run(drop_invalid)
        if event.kind in ("deputy_registered", "deputy_left"):
            deputy_id = event.payload.get("deputy_id")
            if isinstance(deputy_id, int) and pusher.anyone_in(f"deputy:{deputy_id}"):
                background.run(push_own_line, deputy_id)

    background = Background()
    # expired sign-in tokens, and revocations made through another server process
    sweeper = Periodic(drop_invalid, TOKEN_SWEEP_SECONDS, "token-sweeper")

    runtime.bus.subscribe(relay)
    runtime.on_dispose.append(pusher.stop)
    runtime.on_dispose.append(sequencer.stop)
    runtime.on_dispose.append(sweeper.stop)
    runtime.on_dispose.append(background.stop)
    sweeper.start()
    app.extensions["voting.pusher"] = pusher
    return socketio


def is_staff(actor: Actor | None) -> bool:
    return actor is not None and actor.role in ("secretary", "chair")


def audience_of(actor: Actor | None) -> str:
    """The room a connection is pushed to: staff, a deputy's terminal, or the public."""
    if is_staff(actor):
        return "staff"
    return "terminal" if actor is not None and actor.deputy_id is not None else "public"


def snapshot(runtime: Runtime, actor: Actor | None = None) -> dict[str, object]:
    """The journal's last sequence number, then the state (read after it, so never older);
    a deputy's own line as `me`."""
    return audience_snapshot(runtime, audience_of(actor), actor)


def audience_snapshot(
    runtime: Runtime, audience: str, actor: Actor | None = None
) -> dict[str, object]:
    out = audience_snapshots(runtime, (audience,))[audience]
    if actor is not None and actor.deputy_id is not None:
        out["me"] = queries.my_live_state(runtime.reader(), actor.deputy_id)
    return out


def audience_snapshots(runtime: Runtime, audiences: Iterable[str]) -> dict[str, dict[str, object]]:
    """{seq, state} for each audience, read at once: the journal's last sequence number, then
    the states (read after it, so never older)."""
    wanted = list(audiences)
    try:
        seq, states = queries.live_states(runtime.reader(), wanted, with_head=True)
    except DomainError:  # no council yet
        seq = queries.journal_head(runtime.reader())
        return {audience: {"seq": seq, "state": None} for audience in wanted}
    return {audience: {"seq": seq, "state": states[audience]} for audience in wanted}


def _only(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", field=unknown[0])
