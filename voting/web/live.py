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
own line when the vote or the registration round changes) and "staff" (secretary and chair); a
deputy also joins "deputy:<id>".
Connections may authenticate with {"token": "<bearer token>"}; the public display needs none.
Mutating events (`register`, `cast`) act through the same services as the HTTP API and answer
with an acknowledgement {ok: true, ...} or {ok: false, error: {code, message}}; nothing changes
on an error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room

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

#: At most one pushed snapshot per audience in this many seconds (the first comes at once)...
PUSH_INTERVAL = 0.5
#: ...except after these, pushed at once: what a screen must show without delay.
URGENT_EVENTS = frozenset({"vote_opened", "vote_closed", "vote_annulled", "revote_called",
                           "manual_result_entered", "result_announced", "registration_opened",
                           "registration_closed", "sitting_opened", "sitting_closed"})
#: A connection's token is looked up again before it acts, at most this often...
TOKEN_RECHECK_SECONDS = 5.0
#: ...and every connection's token this often, acting or not (a staff screen only watches).
TOKEN_SWEEP_SECONDS = 30.0


def create_socketio(app: Flask, runtime: Runtime) -> SocketIO:
    """Bind a Socket.IO server to the app and relay the runtime's events to the rooms."""
    socketio = SocketIO(app, async_mode=ASYNC_MODE, cors_allowed_origins=[], json=app.json,
                        # several server processes: Redis carries every emit to all their clients
                        message_queue=app.extensions["voting.config"].server.message_queue or None,
                        channel=app.extensions["voting.config"].server.message_channel,
                        # no Flask session per socket event: the connection's actor is all
                        manage_session=False)
    actors: dict[str, Actor | None] = {}
    tokens: dict[str, str] = {}  # sid -> the token it connected with (checked again to act)
    checked: dict[str, float] = {}  # sid -> when its token was last found valid

    @socketio.on("connect")
    def connect(auth: object = None) -> bool:
        token = auth.get("token") if isinstance(auth, dict) else None
        actor = None
        try:
            if token is not None:
                if not isinstance(token, str) or not token:
                    return False
                try:
                    actor = auth_service.actor_for_token(runtime.reader(), token)
                except PermissionDenied:
                    return False  # refused: the client signs in again
            first = snapshot(runtime, actor)
        except Exception:  # a busy database: refuse for now; the client tries again
            log.exception("a screen could not be connected")
            raise ConnectionRefusedError("the server is busy; try again") from None
        sid = request.sid  # type: ignore[attr-defined]
        actors[sid] = actor
        if token is not None:
            tokens[sid] = token
        join_room(audience_of(actor))
        if actor is not None and actor.deputy_id is not None:
            join_room(f"deputy:{actor.deputy_id}")
        socketio.emit("snapshot", first, to=sid)
        return True

    @socketio.on("disconnect")
    def disconnect(*_reason: object) -> None:
        actors.pop(request.sid, None)  # type: ignore[attr-defined]
        tokens.pop(request.sid, None)  # type: ignore[attr-defined]
        checked.pop(request.sid, None)  # type: ignore[attr-defined]

    @socketio.on("snapshot")
    def fresh_snapshot(*_args: object) -> dict[str, object]:
        return snapshot(runtime, actors.get(request.sid))  # type: ignore[attr-defined]

    def acting(handler: Callable[[Actor, dict[str, Any]], dict[str, object]]
               ) -> Callable[..., dict[str, object]]:
        def wrapped(data: object = None) -> dict[str, object]:
            sid = request.sid  # type: ignore[attr-defined]
            actor = actors.get(sid)
            try:
                if actor is None:
                    raise PermissionDenied("connect with a token to act")
                # The token may have been revoked or have expired since the connection opened
                # (a revocation also drops the connection at once: see drop_revoked).
                if time.monotonic() - checked.get(sid, float("-inf")) > TOKEN_RECHECK_SECONDS:
                    auth_service.actor_for_token(runtime.reader(), tokens[sid])
                    checked[sid] = time.monotonic()
                if not isinstance(data, dict):
                    raise InvalidInput("the event needs an object")
                return {"ok": True, **handler(actor, data)}
            except DomainError as error:
                return {"ok": False, "error": {"code": error.code, "message": error.message}}
            except Exception:  # never leave a terminal waiting: say it failed, nothing recorded
                log.exception("socket event %s failed", handler.__name__)
                return {"ok": False, "error": {
                    "code": "server_error",
                    "message": "the server could not complete this; try again (the screen shows what is recorded)"}}
        wrapped.__name__ = handler.__name__
        return wrapped

    @acting
    def register(actor: Actor, data: dict[str, Any]) -> dict[str, object]:
        _only(data, {"sitting_id", "deputy_id"})
        return registration.register(runtime.uow(), actor, data.get("sitting_id"),
                                     data.get("deputy_id"))

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

    pusher = SnapshotPusher(socketio, runtime, shared=bool(
        app.extensions["voting.config"].server.message_queue))

    def send(event: DomainEvent) -> None:
        socketio.emit("event", {"seq": event.seq, "kind": event.kind, "payload": event.payload},
                      to="staff")

    try:
        head = queries.journal_head(runtime.reader())
    except Exception:  # no schema yet (`voting init` not run): start from the first event seen
        head = None
    sequencer = EventSequencer(send, head)

    def drop_revoked() -> None:
        """Disconnect every connection whose token no longer holds (revoked, or expired)."""
        for sid, token in list(tokens.items()):
            try:
                auth_service.actor_for_token(runtime.reader(), token)
            except PermissionDenied:
                socketio.server.disconnect(sid, namespace="/")
            except Exception:  # a busy database: the next action checks the token anyway
                log.exception("could not check a connection's token")

    def push_own_line(deputy_id: int) -> None:
        """A deputy's own line, to their terminals (registered or left by the secretary)."""
        try:
            socketio.emit("snapshot", snapshot(runtime, Actor("deputy", "live push", deputy_id)),
                          to=f"deputy:{deputy_id}")
        except Exception:  # the terminal asks again when the vote or the round changes
            log.exception("could not push deputy %s their own line", deputy_id)

    def relay(event: DomainEvent) -> None:
        sequencer.accept(event)
        pusher.poke(urgent=event.kind in URGENT_EVENTS)
        if event.kind == "token_revoked" and tokens:
            background.run(drop_revoked)
        if event.kind in ("deputy_registered", "deputy_left"):
            deputy_id = event.payload.get("deputy_id")
            if isinstance(deputy_id, int):
                background.run(push_own_line, deputy_id)

    background = Background()
    sweeper = TokenSweeper(drop_revoked)

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


def audience_snapshot(runtime: Runtime, audience: str,
                      actor: Actor | None = None) -> dict[str, object]:
    seq = queries.journal_head(runtime.reader())
    try:
        state: dict[str, object] | None = queries.live_state(runtime.reader(),
                                                             audience=audience)
    except DomainError:
        state = None  # no council yet
    out: dict[str, object] = {"seq": seq, "state": state}
    if actor is not None and actor.deputy_id is not None:
        out["me"] = queries.my_live_state(runtime.reader(), actor.deputy_id)
    return out


class Background:
    """Short tasks on their own threads, all finished before the runtime's database goes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._stopped = False

    def run(self, task: Callable[..., None], *args: object) -> None:
        def wrapped() -> None:
            try:
                task(*args)
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

        with self._lock:
            if self._stopped:
                return
            thread = threading.Thread(target=wrapped, daemon=True)
            self._threads.add(thread)
            thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            running = list(self._threads)
        for thread in running:
            thread.join(timeout=10)


class TokenSweeper:
    """Every `interval` seconds, drop the connections whose token no longer holds: expired
    sign-in tokens, and revocations made by another server process."""

    def __init__(self, sweep: Callable[[], None], interval: float = TOKEN_SWEEP_SECONDS) -> None:
        self.sweep = sweep
        self.interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="token-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self.sweep()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)


class EventSequencer:
    """Sends events in journal order although commits publish from many threads.

    Two casts may commit as 152 then 153 yet publish 153 first: 153 waits until 152 arrives.
    An entry this process never publishes (written by another process, say) would stall the
    stream, so a waiting event goes out after `patience` seconds anyway; the client then sees
    the gap and asks for a snapshot.
    """

    def __init__(self, send: Callable[[DomainEvent], None], head: int | None,
                 patience: float = 0.2) -> None:
        self.send = send
        self.patience = patience
        self._next = None if head is None else head + 1
        self._waiting: dict[int, DomainEvent] = {}
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._stopped = False

    def accept(self, event: DomainEvent) -> None:
        with self._lock:
            if self._next is None or event.seq < self._next:
                self._next = event.seq if self._next is None else self._next
                if event.seq < self._next:  # late beyond patience: send it, the client copes
                    self.send(event)
                    return
            self._waiting[event.seq] = event
            self._drain()
            if self._waiting and self._timer is None and not self._stopped:
                self._timer = threading.Timer(self.patience, self._give_up)
                self._timer.daemon = True
                self._timer.start()

    def _drain(self) -> None:
        while self._next in self._waiting:
            self.send(self._waiting.pop(self._next))
            self._next += 1

    def _give_up(self) -> None:
        with self._lock:
            self._timer = None
            if self._waiting:
                self._next = min(self._waiting)
                self._drain()
            if self._waiting and not self._stopped:
                self._timer = threading.Timer(self.patience, self._give_up)
                self._timer.daemon = True
                self._timer.start()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()


class SnapshotPusher:
    """Pushes one fresh snapshot per audience after commits, coalescing bursts.

    The first poke after a quiet spell pushes at once; pokes during the following
    `interval` seconds are folded into one more push at its end. The flag is cleared before the
    state is read, so a commit that lands during a push is always followed by another push.
    Timer threads end after each push: nothing lingers when the app is dropped.
    """

    def __init__(self, socketio: SocketIO, runtime: Runtime, interval: float = PUSH_INTERVAL,
                 shared: bool = False):
        self.socketio = socketio
        self.runtime = runtime
        self.interval = interval
        self._lock = threading.Lock()
        self._scheduled = False
        self._stopped = False
        self._last = float("-inf")
        self._timers: list[threading.Timer] = []  # a push may still run when the next is due
        self._pushing = threading.Lock()
        self.shared = shared

    def poke(self, urgent: bool = False) -> None:
        """Schedule a push; `urgent` (a vote opened, closed, annulled...) pushes at once even
        within the interval, so a result never waits behind the coalescing of casts."""
        with self._lock:
            if self._stopped or (self._scheduled and not urgent):
                return
            if self._scheduled and urgent:
                pending = self._timers[-1] if self._timers else None
                if pending is None or pending.interval == 0:
                    return  # already due at once
                pending.cancel()  # a timer already running pushes anyway; one more is harmless
            self._scheduled = True
            delay = 0.0 if urgent else max(0.0, self._last + self.interval - time.monotonic())
            self._timers = [t for t in self._timers if t.is_alive()]
            timer = threading.Timer(delay, self.push)
            timer.daemon = True
            self._timers.append(timer)
            timer.start()

    def stop(self) -> None:
        """Push nothing more; wait for a push under way (when the server or a test ends)."""
        with self._lock:
            self._stopped = True
            timers = list(self._timers)
        for timer in timers:
            timer.cancel()
            if timer is not threading.current_thread():
                timer.join(timeout=10)

    def push(self) -> None:
        with self._lock:
            self._scheduled = False
            if self._stopped:
                return
            self._last = time.monotonic()
        # One push at a time: two interleaved pushes would reach some screens newest first.
        failed = False
        with self._pushing:
            for audience in queries.AUDIENCES:
                if not self._anyone_in(audience):
                    continue
                try:
                    shown = audience_snapshot(self.runtime, audience)
                except Exception:  # a busy database: try again shortly (below)
                    log.exception("could not read the state to push to the %s screens", audience)
                    failed = True
                    continue
                self.socketio.emit("snapshot", shown, to=audience)
        if failed:
            self.poke()  # after the interval: a screen must not stay on a stale state

    def _anyone_in(self, audience: str) -> bool:
        """Whether the room has a connection. With a message queue, other processes' screens
        count too and are not known here: then always push."""
        if self.shared:
            return True
        rooms = self.socketio.server.manager.rooms.get("/", {})
        return bool(rooms.get(audience))


def _only(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", field=unknown[0])
