"""The console gateway's door: the Socket.IO namespace /consoles, and the secretary's API for seat
alarms.

The gateway (`voting consoles`, hardware/gateway.py) connects with {"secret": ...}, the shared
secret of config.toml [consoles] secret_file; it then acts as the role console_gateway, which
may only report what happened at a seat of its map: `seats` (its seat map), `card`, `key`,
`health` and `trouble`. Each is parsed into a command and goes through services/consoles.py,
which acts for the deputy whose card sits in the seat through the same services as every other
door; the answer ({ok: true, ...} or {ok: false, error}) comes after the commit, so a console
lights a recorded choice only once it is recorded. The answer to `seats` holds every seat's
lights and text line; after every commit the namespace's room receives `consoles` with the
seats whose lights or text changed since the last push (coalesced, at most one per
PUSH_INTERVAL; a hall of 450 casting must not send 450 seats ten times a second).
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, request
from flask_socketio import SocketIO, join_room

from voting.bootstrap import Runtime
from voting.config import Config, read_secret
from voting.domain.actors import Actor, Role
from voting.domain.errors import InvalidInput, PermissionDenied
from voting.domain.events import DomainEvent
from voting.services import commands, consoles

from .auth import current_actor, require_actor, requires
from .events import answer, the_object, unknown_event

log = logging.getLogger(__name__)

NAMESPACE = "/consoles"
ROOM = "gateways"
PUSH_INTERVAL = 0.1
GATEWAY = Actor(Role.CONSOLE_GATEWAY, "console gateway")

bp = Blueprint("consoles", __name__)


def console_rules(config: Config) -> consoles.ConsoleRules:
    c = config.consoles
    return consoles.ConsoleRules(
        register_on_card=c.register_on_card,
        deregister_on_card_removal=c.deregister_on_card_removal,
        hold_to_vote_ms=c.hold_to_vote_ms,
    )


class ConsoleDoor:
    """The gateways connected to this process and what they may send."""

    def __init__(self, socketio: SocketIO, runtime: Runtime, config: Config) -> None:
        self.socketio = socketio
        self.runtime = runtime
        self.rules = console_rules(config)
        self.secret_path = config.consoles.path(
            config.consoles.secret_file, config.server.instance_path
        )
        self.gateways: dict[str, frozenset[int]] = {}  # sid -> the seats of its map
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._stopped = False
        self._shown: dict[object, dict[str, object]] = {}  # seat -> its state as last pushed
        on = socketio.on_event
        on("connect", self.connect, namespace=NAMESPACE)
        on("disconnect", self.disconnect, namespace=NAMESPACE)
        on("seats", self._acting(self.seats), namespace=NAMESPACE)
        on("card", self._acting(self.card), namespace=NAMESPACE)
        on("key", self._acting(self.key), namespace=NAMESPACE)
        on("health", self._acting(self.health), namespace=NAMESPACE)
        on("trouble", self._acting(self.trouble), namespace=NAMESPACE)
        on("*", unknown_event, namespace=NAMESPACE)
        runtime.bus.subscribe(self.relay)
        runtime.on_stop(self.stop)

    def connect(self, auth: object = None) -> bool:
        secret = read_secret(self.secret_path)
        given = auth.get("secret") if isinstance(auth, dict) else None
        if secret is None or not isinstance(given, str):
            return False
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return False
        with self._lock:
            self.gateways[_sid()] = frozenset()
        join_room(ROOM)
        return True

    def disconnect(self, *_reason: object) -> None:
        with self._lock:
            self.gateways.pop(_sid(), None)

    def _acting(self, handler: Callable[[Any], dict[str, object]]) -> Callable[..., object]:
        def act(args: tuple[object, ...]) -> dict[str, object]:
            if _sid() not in self.gateways:
                raise PermissionDenied("connect with the gateway's secret to act")
            return handler(the_object(args))

        def wrapped(*args: object) -> dict[str, object]:
            return answer(lambda: act(args), f"console {handler.__name__}")

        return wrapped

    def seats(self, data: dict[str, object]) -> dict[str, object]:
        seat_map = consoles.parse_seat_map(data.get("seats"))
        with self._lock:
            self._shown.clear()  # the next push is whole: no gateway can miss a change
        answer = consoles.declare_seats(self.runtime.uow(), GATEWAY, seat_map)
        with self._lock:
            self.gateways[_sid()] = frozenset(seat_map)
        self.relay(None)
        # the gateway sends only the key edge that counts (a press; a release with hold to vote)
        return {"seats": answer, "hold_to_vote_ms": self.rules.hold_to_vote_ms}

    def _in_map(self, seat: int) -> None:
        """A gateway acts only for the seats of the map it declared (`seats`)."""
        if seat not in self.gateways.get(_sid(), frozenset()):
            raise PermissionDenied(f"seat {seat} is not in this gateway's seat map")

    def card(self, data: dict[str, object]) -> dict[str, object]:
        command = commands.ConsoleCard.parse(data)
        self._in_map(command.seat)
        return consoles.card_changed(self.runtime.uow(), GATEWAY, command, self.rules)

    def key(self, data: dict[str, object]) -> dict[str, object]:
        command = commands.ConsolePress.parse(data)
        self._in_map(command.seat)
        return consoles.key_pressed(
            self.runtime.uow(), GATEWAY, command, self.rules, self.runtime.floor_rules
        )

    def health(self, data: dict[str, object]) -> dict[str, object]:
        command = commands.ConsoleHealth.parse(data)
        self._in_map(command.seat)
        return consoles.health_changed(self.runtime.uow(), GATEWAY, command)

    def trouble(self, data: dict[str, object]) -> dict[str, object]:
        allowed = {"port", "address", "reason", "count", "connected", "error"}
        if set(data) - allowed or not isinstance(data.get("reason"), str):
            raise InvalidInput(f"trouble is an object of {sorted(allowed)} with a reason")
        payload: dict[str, object] = {
            k: v[:200] if isinstance(v, str) else v
            for k, v in data.items()
            if isinstance(v, str | int | bool | None)
        }
        consoles.bus_trouble(self.runtime.uow(), GATEWAY, payload)
        return {}

    # --- what the gateways are shown --------------------------------------------------------

    def relay(self, event: DomainEvent | None) -> None:
        """After any commit: every seat's lights to the gateways, coalesced."""
        with self._lock:
            if self._stopped or self._timer is not None or not self.gateways:
                return
            self._timer = threading.Timer(PUSH_INTERVAL, self.push)
            self._timer.daemon = True
            self._timer.start()

    def push(self) -> None:
        with self._lock:
            self._timer = None
            if self._stopped:
                return
        try:
            state = consoles.consoles_state(self.runtime.reader())
        except Exception:
            log.exception("could not read the consoles' state")
            return
        with self._lock:
            changed = [s for s in state if self._shown.get(s["seat"]) != s]
            self._shown.update((s["seat"], s) for s in changed)
        if changed:
            self.socketio.emit("consoles", {"seats": changed}, to=ROOM, namespace=NAMESPACE)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()


def _sid() -> str:
    sid: str = request.sid  # type: ignore[attr-defined]  # Flask-SocketIO sets it on the request
    return sid


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["voting.runtime"]
    return runtime


@bp.get("/consoles")
@require_actor
def list_consoles() -> dict[str, object]:
    """Every seat's console: card, alarm, lock, online (staff only)."""
    actor = current_actor(required=True)
    assert actor is not None
    actor.require(Role.SECRETARY, Role.CHAIR)
    return {"seats": consoles.consoles_state(_runtime().reader())}


@bp.post("/consoles/<int:seat>/resolve")
@requires(commands.ResolveSeatAlarm)
def resolve_alarm(seat: int) -> dict[str, object]:
    """The secretary settles a seat alarm: this seat keeps the card."""
    actor = current_actor(required=True)
    assert actor is not None
    command = commands.ResolveSeatAlarm.parse({}, seat=seat)
    return consoles.resolve_alarm(_runtime().uow(), actor, command)
