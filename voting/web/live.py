"""Live push over Socket.IO: a snapshot on connect, then fresh snapshots as the sitting moves.

Every connection first receives `snapshot` {seq, state[, me]}: the live state
(queries.live_state) and the journal's sequence number read after it, so no part of the state is
newer than `seq` (a commit during the read is followed by another push); a deputy's
connection also gets `me` (their own registration and recorded choice). After each commit the
server pushes a fresh snapshot to every audience, computed once per audience and coalesced so
that a burst of casts costs one push per pause (50-500 ms by what a push costs: push.py)
rather than one per cast and screen.
Staff connections also receive `event` {seq, kind, payload} for every journal entry, in order;
a client that sees a gap in `seq`, or reconnects, asks for `snapshot` again. A client drops a
snapshot older (lower `seq`) than the one it shows, so no screen is left showing a stale result.

A screen may ask `clock` at any time: the answer is the server's time ({now}), from which the
screen corrects its own clock by the round trip; countdowns (a vote's, a speech's) run to
deadlines on the server's clock.

Rooms (each connection is in exactly one audience): "public" (displays and the public web page),
"terminal" (deputies' terminals: a lighter state without per-deputy lists; each asks for its
own line when the registration round changes) and "staff" (secretary and chair); a
deputy also joins "deputy:<id>", which gets the deputy's own line when the secretary registers
them or marks them gone, and when they vote from elsewhere (another device, HTTP, a seat
console; the casting connection has its answer). A connection joins its rooms before its first
snapshot is read, so no push is lost in between.
Connections may authenticate with {"token": "<bearer token>"}; the public display needs none.
Mutating events (`register`, `cast`, `request_floor`, `withdraw_request`) are parsed into the
same commands as the HTTP API's requests and act through the same services, answering
{ok: true, ...} or {ok: false, error: {code, message}}; nothing changes on an error. Every event
sent with a callback is answered, also a bad packet or an unknown event (voting/web/events.py).

This layer only translates: it subscribes to the runtime's event bus (which carries the events of
every server process of the council when they share Redis) and sends each process's own
connections what they may see.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any, Literal

from flask import Flask, request
from flask_socketio import SocketIO, join_room, leave_room
from socketio.exceptions import ConnectionRefusedError

from voting.bootstrap import Runtime
from voting.config import Config
from voting.domain.actors import Actor, Role
from voting.domain.errors import DomainError, PermissionDenied
from voting.domain.events import DomainEvent
from voting.jobs import Background
from voting.services import auth as auth_service
from voting.services import casting, commands, floor, queries, registration

from .events import PacketJSON, answer, keep_packets_out_of_logs, the_object, unknown_event
from .push import EventSequencer, SnapshotPusher, server_of

log = logging.getLogger(__name__)

#: Every connection's token is checked this often, acting or not, in one read for all of them:
#: a token revoked through another server process, or expired, loses its connection within this.
TOKEN_SWEEP_SECONDS = 5.0

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
        "speech_started",
        "speech_ended",
        "speech_paused",
        "speech_resumed",
        "speech_time_added",
        "microphone_switched",
    }
)


def async_mode() -> Literal["gevent", "threading"]:
    """Flask-SocketIO's async mode, given explicitly: "gevent" in a process monkey-patched for it
    (`voting serve` and `voting demo`: voting/__main__.py), else "threading" (the application
    inside another program, the tests' servers). Never eventlet (deprecated).

    Measured with bench/live_load.py (docs/benchmarks.md): with 1,450 websockets, threads (four
    per connection) convoy on the interpreter lock, and a batch of casts that needs 15 ms of CPU
    took up to 650 ms to commit; on gevent it takes its 15 ms.
    """
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        return "gevent"
    return "threading"


def allowed_origins(
    others: tuple[str, ...],
) -> Callable[[str | None, dict[str, Any]], bool] | None:
    """Engine.IO's origin check: None (its own: the request's scheme and host, or the
    X-Forwarded-Proto and -Host a reverse proxy sets) when no other site is named; else that
    same check, and the sites named."""
    if not others:
        return None
    named = frozenset(others)

    def allowed(origin: str | None, environ: dict[str, Any]) -> bool:
        if origin in named:
            return True
        scheme, host = environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST", "")
        own = {f"{scheme}://{host}"}
        if "HTTP_X_FORWARDED_PROTO" in environ or "HTTP_X_FORWARDED_HOST" in environ:
            forwarded_scheme = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0]
            forwarded_host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0]
            own.add(f"{forwarded_scheme.strip()}://{forwarded_host.strip()}")
        return origin in own

    return allowed


def create_socketio(app: Flask, runtime: Runtime) -> SocketIO:
    """Bind a Socket.IO server to the app and relay the runtime's events to its connections."""
    keep_packets_out_of_logs()
    config: Config = app.extensions["voting.config"]
    socketio = SocketIO(
        app,
        async_mode=async_mode(),
        # A page of this server only, or of the sites config.toml names ([server]
        # allowed_origins); another site's page is refused at the handshake. (An empty list
        # would switch the check off: tests/web/test_security_headers.py.)
        # the stubs omit the callable python-engineio takes (origin, environ) -> bool
        cors_allowed_origins=allowed_origins(config.server.origins()),  # type: ignore[arg-type]
        json=PacketJSON(app.json),
        # no Flask session per socket event: the connection's actor is all
        manage_session=False,
    )
    screens = LiveScreens(socketio, runtime)
    app.extensions["voting.pusher"] = screens.pusher
    return socketio


#: What a terminal is told when its action failed on the server.
FAILED = "the server could not complete this; try again (the screen shows what is recorded)"


class LiveScreens:
    """The connections of this process: who each one is, what they may do, and what they see."""

    def __init__(self, socketio: SocketIO, runtime: Runtime) -> None:
        self.socketio = socketio
        self.runtime = runtime
        # sid of a connection with a token -> the token and who it stands for until when (the
        # public's connections are not kept). Acting checks the expiry here, with no database
        # read; a revoked token's connection is dropped (drop_invalid).
        self.signed: dict[str, tuple[str, auth_service.TokenHolder]] = {}
        self.pusher = SnapshotPusher(
            socketio,
            lambda audiences: audience_snapshots(runtime, audiences),
            give_way_to=lambda: runtime.casts_in_flight,
        )
        self.sequencer = EventSequencer(self._send_event, self._journal_head())
        self.background = Background()
        # (vote id, deputy id) -> the connection casting it: it learns the outcome from the
        # answer, and the deputy's other connections (a second device) from a push of their own
        # line when the cast is committed (relay).
        self.casting: dict[tuple[object, object], str] = {}

        socketio.on_event("connect", self.connect)
        socketio.on_event("disconnect", self.disconnect)
        socketio.on_event("snapshot", self.fresh_snapshot)
        socketio.on_event("clock", self.server_clock)
        socketio.on_event("register", self._acting(self.register, commands.Register))
        socketio.on_event("cast", self._acting(self.cast, commands.CastChoice))
        socketio.on_event("request_floor", self._acting(self.request_floor, commands.RequestFloor))
        socketio.on_event("withdraw_request", self._acting(self.withdraw, commands.WithdrawRequest))
        socketio.on_event("*", unknown_event)

        runtime.bus.subscribe(self.relay)
        # expired sign-in tokens, and revocations made through another server process
        runtime.every(TOKEN_SWEEP_SECONDS, self.drop_invalid, "token-sweeper")
        for stop in (self.pusher.stop, self.sequencer.stop, self.background.stop):
            runtime.on_stop(stop)

    def _journal_head(self) -> int | None:
        try:
            return queries.journal_head(self.runtime.reader())
        except Exception:  # no schema yet (`voting init` not run): start from the first event
            return None

    # --- connections --------------------------------------------------------------------------

    def actor_of(self, sid: str) -> Actor | None:
        held = self.signed.get(sid)
        return None if held is None else held[1].actor

    def connect(self, auth: object = None) -> bool:
        token = auth.get("token") if isinstance(auth, dict) else None
        holder = None
        try:
            if token is not None:
                if not isinstance(token, str) or not token:
                    return False
                try:
                    holder = auth_service.token_holder(self.runtime.reader(), token)
                except PermissionDenied:
                    return False  # refused: the client signs in again
            actor = None if holder is None else holder.actor
            # In the rooms before the first snapshot is read: a push of a change committed
            # while it is read reaches this screen too (the screen keeps the newer of the two).
            # Joined after the read, such a push was lost and the screen stayed stale.
            rooms = [audience_of(actor)]
            if actor is not None and actor.deputy_id is not None:
                rooms.append(f"deputy:{actor.deputy_id}")
            for room in rooms:
                join_room(room)
            try:
                first = snapshot(self.runtime, actor)
            except Exception:
                for room in rooms:
                    leave_room(room)
                raise
        except Exception:  # a busy database: refuse for now; the client tries again
            log.exception("a screen could not be connected")
            raise ConnectionRefusedError("the server is busy; try again") from None
        sid = _sid()
        if holder is not None:
            self.signed[sid] = (str(token), holder)
        self.socketio.emit("snapshot", first, to=sid)
        return True

    def disconnect(self, *_reason: object) -> None:
        self.signed.pop(_sid(), None)

    def server_clock(self, *_args: object) -> dict[str, object]:
        """The server's time now: a screen sets its clock by it from the round trip (as NTP
        does), so that every screen counts down to a deadline on the same clock."""
        return {"now": self.runtime.clock().isoformat()}

    def fresh_snapshot(self, *_args: object) -> dict[str, object]:
        return snapshot(self.runtime, self.actor_of(_sid()))

    # --- acting -------------------------------------------------------------------------------

    def _acting(
        self,
        handler: Callable[[Actor, Any], dict[str, object]],
        command: type[commands.Command],
    ) -> Callable[..., dict[str, object]]:
        """An event that acts: the connection's actor is checked (signed in, token unexpired,
        a role that may send it) before its data is read, then the data is parsed into the
        command. Every outcome is answered."""

        def act(args: tuple[object, ...]) -> dict[str, object]:
            held = self.signed.get(_sid())
            if held is None:  # never signed in, or its token was revoked
                raise PermissionDenied("connect with a token to act")
            actor = held[1].actor
            # The token may have expired since the connection opened; a revoked one has lost
            # its connection (drop_invalid), at once when revoked through this process.
            held[1].ensure_unexpired(self.runtime.clock())
            command.authorize(actor)
            return handler(actor, command.parse(the_object(args)))

        def wrapped(*args: object) -> dict[str, object]:
            return answer(lambda: act(args), command.__name__, FAILED)

        return wrapped

    def register(self, actor: Actor, command: commands.Register) -> dict[str, object]:
        return registration.register(self.runtime.uow(), actor, command)

    def cast(self, actor: Actor, command: commands.CastChoice) -> dict[str, object]:
        key = (command.vote_id, actor.deputy_id)
        self.casting[key] = _sid()  # kept until the commit's event is relayed
        try:
            return casting.cast_choice(self.runtime.uow(), actor, command)
        except BaseException:
            self.casting.pop(key, None)  # nothing committed: no event comes
            raise

    def request_floor(self, actor: Actor, command: commands.RequestFloor) -> dict[str, object]:
        return floor.request_floor(self.runtime.uow(), actor, command, self.runtime.floor_rules)

    def withdraw(self, actor: Actor, command: commands.WithdrawRequest) -> dict[str, object]:
        floor.withdraw_request(self.runtime.uow(), actor, command)
        return {"request_id": command.request_id}

    # --- what the bus brings ------------------------------------------------------------------

    def _send_event(self, event: DomainEvent) -> None:
        self.socketio.emit(
            "event", {"seq": event.seq, "kind": event.kind, "payload": event.payload}, to="staff"
        )

    def relay(self, event: DomainEvent) -> None:
        """Every event committed by any process of the council: staff get it in order, every
        audience a fresh snapshot, a deputy their own line when their registration changed."""
        self.sequencer.accept(event)
        self.pusher.poke(urgent=event.kind in URGENT_EVENTS)
        if event.kind == "token_revoked" and self.signed:
            self.background.run(self.drop_invalid)
        if event.kind in ("deputy_registered", "deputy_left"):
            deputy_id = event.payload.get("deputy_id")
            if isinstance(deputy_id, int) and self.pusher.anyone_in(f"deputy:{deputy_id}"):
                self.background.run(self.push_own_line, deputy_id)
        if event.kind in ("choice_cast", "secret_ballot_cast"):
            self._own_line_elsewhere(event.payload)

    def _own_line_elsewhere(self, payload: dict[str, Any]) -> None:
        """A deputy's cast reaches their other connections in this process (a phone beside the
        tablet, or any terminal when the cast came over HTTP or from the seat console): their
        own line, so none of them shows a vote still to cast. The casting connection has its
        answer; with one connection per deputy (the usual hall) nothing more is sent."""
        deputy_id = payload.get("deputy_id")
        caster = self.casting.pop((payload.get("vote_id"), deputy_id), None)
        if not isinstance(deputy_id, int):
            return
        room = f"deputy:{deputy_id}"
        if not self.pusher.anyone_in(room):
            return
        manager = server_of(self.socketio).manager
        others = [sid for sid, _ in manager.get_participants("/", room) if sid != caster]
        if others:
            self.background.run(self.push_own_line, deputy_id, others)

    def drop_invalid(self) -> None:
        """Disconnect every connection whose token no longer holds (revoked, or expired): one
        read for all of them."""
        held = {sid: token for sid, (token, _) in list(self.signed.items())}
        if not held:
            return
        try:
            gone = auth_service.invalid_tokens(self.runtime.reader(), held.values())
        except Exception:  # a busy database: the next sweep checks again
            log.exception("could not check the connections' tokens")
            return
        for sid, token in held.items():
            if token in gone:
                self.signed.pop(sid, None)  # it can no longer act, even before it is disconnected
                server_of(self.socketio).disconnect(sid, namespace="/")

    def push_own_line(self, deputy_id: int, sids: list[str] | None = None) -> None:
        """A deputy's own line, to their terminals (registered or left by the secretary), or to
        the connections `sids` of theirs."""
        try:
            line = snapshot(self.runtime, Actor(Role.DEPUTY, "live push", deputy_id))
            for to in [f"deputy:{deputy_id}"] if sids is None else sids:
                self.socketio.emit("snapshot", line, to=to)
        except Exception:  # the terminal asks again when the registration round changes
            log.exception("could not push deputy %s their own line", deputy_id)


def _sid() -> str:
    """The Socket.IO session id of the event being handled."""
    sid: str = request.sid  # type: ignore[attr-defined]  # Flask-SocketIO sets it on the request
    return sid


def audience_of(actor: Actor | None) -> str:
    """The room a connection is pushed to: staff, a deputy's terminal, or the public."""
    if actor is not None and actor.is_staff:
        return "staff"
    return "terminal" if actor is not None and actor.deputy_id is not None else "public"


def snapshot(runtime: Runtime, actor: Actor | None = None) -> dict[str, object]:
    """The state, then the journal's last sequence number (see audience_snapshots);
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
    """{seq, state} for each audience, read at once: the states, then the journal's last
    sequence number (read after them, so no part of a state is newer than its number: a state
    newer than its number would make the next push, with the same state and the right number,
    look like nothing new, and an older snapshot with a higher number could replace it)."""
    wanted = list(audiences)
    try:
        seq, states = queries.live_states(
            runtime.reader(), wanted, with_head=True, floor_rules=runtime.floor_rules
        )
    except DomainError:  # no council yet
        seq = queries.journal_head(runtime.reader())
        return {audience: {"seq": seq, "state": None} for audience in wanted}
    return {audience: {"seq": seq, "state": states[audience]} for audience in wanted}
