"""The console gateway (`voting consoles`): the bus masters of every serial port on one side, the
server on the other, in a process of its own so nothing in the web server can slow the bus.

It reaches the server as a Socket.IO client of the namespace /consoles (voting/web/consoles.py),
signed in with the gateway's shared secret, and reports only what happened at a seat of its seat
map: a card in or out, a key down or up, a console online or offline, trouble on the bus. The
server decides who may do what (services/consoles.py) and answers after the commit; only then
does the gateway light the recorded choice on the console. The server answers the seat map with
every seat's lights, and after each commit pushes the seats that changed (`consoles`); the
gateway turns them into POLL light bits and text lines.

Per seat, reports go one at a time (the next after the answer to the previous), so a card put
in and a key pressed at once arrive in that order; different seats go in parallel.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import socketio

from hardware import protocol
from hardware.bus import BusMaster, PortSettings

log = logging.getLogger(__name__)

NAMESPACE = "/consoles"
TROUBLE_EVERY = 1.0  # s: refused frames are reported to the server at most this often per kind
KEY_NAMES = {
    protocol.Key.FOR: "for",
    protocol.Key.AGAINST: "against",
    protocol.Key.ABSTAIN: "abstain",
    protocol.Key.SPEAK: "speak",
}
#: Refusals that speak of a device on the bus without the key: reported before any noise.
ATTACKS = frozenset({"forged", "replay", "unprovisioned"})
CHOICE_LIGHTS = {
    "for": protocol.Lights.FOR,
    "against": protocol.Lights.AGAINST,
    "abstain": protocol.Lights.ABSTAIN,
}


@dataclass(frozen=True)
class Segment:
    """One bus: its port and which console address is which seat."""

    port: PortSettings
    seats: Mapping[int, int]  # address -> seat


def lights_of(state: Mapping[str, Any], secret_choice: str | None = None) -> protocol.Lights:
    """A seat's lights from the server's state of it (and, in a secret ballot, the choice this
    very gateway saw acknowledged: the server never says it)."""
    lights = protocol.Lights(0)
    for flag, key in (
        (protocol.Lights.REGISTERED, "registered"),
        (protocol.Lights.VOTE_OPEN, "vote_open"),
        (protocol.Lights.MICROPHONE, "microphone"),
        (protocol.Lights.SPEAK_QUEUED, "queued"),
        (protocol.Lights.LOCKED, "locked"),
    ):
        if state.get(key):
            lights |= flag
    choice = state.get("choice") or secret_choice
    if state.get("vote_open") and isinstance(choice, str) and choice in CHOICE_LIGHTS:
        lights |= CHOICE_LIGHTS[choice]
    return lights


def text_of(state: Mapping[str, Any], now: datetime) -> str:
    """The console's text line: the item and, while a vote runs against a deadline, time left."""
    text = str(state.get("text") or "")
    deadline = state.get("deadline")
    if state.get("vote_open") and isinstance(deadline, str):
        left = max(0, int((datetime.fromisoformat(deadline) - now).total_seconds()))
        text = f"{text} {left // 60:02d}:{left % 60:02d}".strip()
    return text.encode("utf-8")[: protocol.MAX_TEXT].decode("utf-8", "ignore")


class Gateway:
    """Every bus master of the hall, and the Socket.IO client that reports to the server."""

    def __init__(
        self,
        segments: list[Segment],
        keys: Mapping[bytes, bytes],
        server_url: str,
        secret: str,
        *,
        client: socketio.Client | None = None,
        master: Callable[..., BusMaster] = BusMaster,
        call_timeout: float = 10.0,
    ) -> None:
        self.server_url = server_url
        self.secret = secret
        self.call_timeout = call_timeout
        self.sio = client or socketio.Client(
            reconnection=True,
            reconnection_delay_max=5,
            # websocket-client checks every text frame's UTF-8 in pure Python (a tenth of the
            # gateway's time in a 450-seat vote, holding the interpreter from the bus masters);
            # the JSON decoding after it checks the same, in C
            websocket_extra_options={"skip_utf8_validation": True},
        )
        self.where: dict[tuple[str, int], int] = {}  # (port, address) -> seat
        self.seat_place: dict[int, tuple[str, int]] = {}
        self.masters: dict[str, BusMaster] = {}
        for segment in segments:
            for address, seat in segment.seats.items():
                self.where[(segment.port.url, address)] = seat
                self.seat_place[seat] = (segment.port.url, address)
            self.masters[segment.port.url] = master(segment.port, keys, self)
        self._lock = threading.Lock()
        self._queues: dict[int, deque[tuple[str, dict[str, object]]]] = {}
        self._busy: set[int] = set()
        self._states: dict[int, dict[str, Any]] = {}
        self._secret_choice: dict[int, tuple[int, str]] = {}  # seat -> (vote, choice), memory only
        self._trouble: dict[tuple[str, int | None, str], int] = {}
        self._trouble_sent = 0.0
        self._stop = threading.Event()
        self._ready = threading.Event()  # connected to the server, the seat map sent
        self._cards: dict[int, str | None] = {}  # seat -> the card UID the console reported
        self._faults: dict[int, int] = {}  # seat -> the faults its console last reported
        # the server's "hold to vote" (ms, 0: off), from its answer to the seat map; None: not
        # said, so both edges of every key are reported and the server picks
        self._hold_to_vote: int | None = None
        self.sio.on("connect", self._connected, namespace=NAMESPACE)
        self.sio.on("disconnect", self._ready.clear, namespace=NAMESPACE)
        self.sio.on("consoles", self._pushed, namespace=NAMESPACE)

    # --- running ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the bus masters, then connect to the server (retrying until it answers)."""
        for master in self.masters.values():
            master.start()
        self._ticker = threading.Thread(target=self._tick, name="gateway-ticker", daemon=True)
        self._ticker.start()
        self._connector = threading.Thread(target=self._connect, name="gateway-connect")
        self._connector.start()

    def _connect(self) -> None:
        delay = 0.2
        while not self._stop.is_set():
            try:
                self.sio.connect(
                    self.server_url,
                    namespaces=[NAMESPACE],
                    auth={"secret": self.secret},
                    transports=["websocket"],
                    wait_timeout=5,
                )
                return
            except (socketio.exceptions.ConnectionError, ValueError) as error:
                log.warning("cannot reach the server at %s: %s", self.server_url, error)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)

    def stop(self) -> None:
        self._stop.set()
        for master in self.masters.values():
            master.stop()
        if hasattr(self, "_connector"):
            self._connector.join(timeout=10)
        self.sio.disconnect()
        if hasattr(self, "_ticker"):
            self._ticker.join(timeout=5)

    def _connected(self) -> None:
        seats = [
            {"seat": seat, "port": port, "address": address}
            for (port, address), seat in sorted(self.where.items(), key=lambda kv: kv[1])
        ]
        self.sio.emit("seats", {"seats": seats}, namespace=NAMESPACE, callback=self._seats_known)

    def _seats_known(self, answer: object) -> None:
        """The server has the seat map: from now on reports go, starting with what happened
        while it was away (the consoles' health as the masters see it, the cards in seats)."""
        if not (isinstance(answer, dict) and answer.get("ok")):
            log.error("the server refused the seat map: %s", answer)
            return
        hold = answer.get("hold_to_vote_ms")
        self._hold_to_vote = hold if type(hold) is int and hold >= 0 else None
        self._ready.set()
        self._pushed({"seats": answer.get("seats", [])})
        for master in self.masters.values():
            online = master.stats.get("online", {})
            for address, is_online in online.items():
                seat = self.where.get((master.settings.url, address))
                if seat is not None:
                    self._health(seat, bool(is_online))
        with self._lock:
            cards = dict(self._cards)
        for seat, uid in cards.items():
            self._report(seat, "card", {"seat": seat, "uid": uid})

    def _tick(self) -> None:
        """Once a second: text lines with the time left, and the bus trouble counted."""
        while not self._stop.wait(1.0):
            self._show_all(texts_only=True)
            self._send_trouble()

    # --- from the server ----------------------------------------------------------------------

    def _pushed(self, data: object) -> None:
        seats = data.get("seats") if isinstance(data, dict) else None
        if not isinstance(seats, list):
            return
        now = datetime.now(UTC)
        shown = {
            state["seat"]: state
            for state in seats
            if isinstance(state, dict) and isinstance(state.get("seat"), int)
        }
        with self._lock:
            self._states.update(shown)
        for seat, state in shown.items():  # only these changed
            self._show(seat, state, now, texts_only=False)

    def _show_all(self, texts_only: bool = False) -> None:
        now = datetime.now(UTC)
        with self._lock:
            states = dict(self._states)
        for seat, state in states.items():
            self._show(seat, state, now, texts_only)

    def _show(self, seat: int, state: Mapping[str, Any], now: datetime, texts_only: bool) -> None:
        place = self.seat_place.get(seat)
        if place is None:
            return
        master = self.masters[place[0]]
        if not texts_only:
            remembered = self._secret_choice.get(seat)
            secret = (
                remembered[1]
                if remembered is not None and remembered[0] == state.get("vote_id")
                else None
            )
            master.set_lights(place[1], lights_of(state, secret))
        master.set_text(place[1], text_of(state, now))

    # --- from the bus (on a master's thread: only queue) ---------------------------------------

    def console_event(self, port: str, address: int, kind: protocol.EventKind, data: bytes) -> None:
        seat = self.where.get((port, address))
        if seat is None:
            return
        if kind in (protocol.EventKind.CARD_INSERTED, protocol.EventKind.CARD_REMOVED):
            uid = data.hex().upper() if kind is protocol.EventKind.CARD_INSERTED else None
            with self._lock:
                self._cards[seat] = uid
            self._report(seat, "card", {"seat": seat, "uid": uid})
        elif kind in (protocol.EventKind.KEY_DOWN, protocol.EventKind.KEY_UP) and data:
            try:
                name = KEY_NAMES[protocol.Key(data[0])]
            except ValueError:
                self.refused(port, address, "unknown-key")
                return
            if not self._counts(name, released=kind is protocol.EventKind.KEY_UP):
                return
            report: dict[str, object] = {"seat": seat, "key": name}
            if kind is protocol.EventKind.KEY_UP:
                report["held_ms"] = int.from_bytes(data[1:3], "big") if len(data) >= 3 else 0
            self._report(seat, "key", report)

    def _counts(self, key: str, released: bool) -> bool:
        """Whether the server acts on this edge of the key: the press, or with "hold to vote"
        the release of a vote key (the other edge is not sent: half the reports in a vote)."""
        hold = self._hold_to_vote
        if hold is None:
            return True
        return released == (hold > 0 and key != "speak")

    def console_online(self, port: str, address: int, online: bool) -> None:
        seat = self.where.get((port, address))
        if seat is not None:
            self._health(seat, online)

    def _health(self, seat: int, online: bool) -> None:
        faults = self._faults.get(seat, 0)
        self._report(seat, "health", {"seat": seat, "online": online, "faults": faults})

    def console_hello(self, port: str, address: int, hello: protocol.Hello) -> None:
        log.info("console %s@%s: serial %s firmware %s", address, port, hello.serial.hex(), hello)

    def console_status(
        self, port: str, address: int, inputs: protocol.Inputs, faults: protocol.Faults
    ) -> None:
        seat = self.where.get((port, address))
        if seat is not None and self._faults.get(seat, 0) != int(faults):
            self._faults[seat] = int(faults)
            self._health(seat, True)

    def port_state(self, port: str, connected: bool, error: str | None) -> None:
        reason = "port_back" if connected else "port_lost"
        self._emit(
            "trouble", {"port": port, "reason": reason, "connected": connected, "error": error}
        )

    def refused(self, port: str, address: int | None, reason: str) -> None:
        with self._lock:
            key = (port, address, reason)
            self._trouble[key] = self._trouble.get(key, 0) + 1

    def _send_trouble(self) -> None:
        """What the masters refused in the last second: one report per port at most (a bus in
        trouble must not flood the journal, whose writes would slow the server further), the
        reasons that speak of an attack first."""
        with self._lock:
            counted, self._trouble = self._trouble, {}
        reasons: dict[str, Counter[str]] = defaultdict(Counter)
        addresses: dict[str, set[int | None]] = defaultdict(set)
        for (port, address, reason), count in counted.items():
            reasons[port][reason] += count
            addresses[port].add(address)
        for port, by_reason in reasons.items():
            at = addresses[port]
            self._emit(
                "trouble",
                {
                    "port": port,
                    "address": next(iter(at)) if len(at) == 1 else None,
                    "reason": ", ".join(sorted(by_reason, key=lambda r: (r not in ATTACKS, r))),
                    "count": sum(by_reason.values()),
                },
            )

    # --- to the server ------------------------------------------------------------------------

    def _report(self, seat: int, event: str, data: dict[str, object]) -> None:
        """Queue a seat's report; it goes when the seat's previous report has its answer."""
        with self._lock:
            self._queues.setdefault(seat, deque()).append((event, data))
            if seat in self._busy:
                return
            self._busy.add(seat)
        self._send_next(seat)

    def _send_next(self, seat: int) -> None:
        with self._lock:
            waiting = self._queues.get(seat)
            if not waiting:
                self._busy.discard(seat)
                return
            event, data = waiting.popleft()
        if event == "health":  # as the master sees it now: a report queued earlier may be stale
            port, address = self.seat_place[seat]
            data = {**data, "online": self.masters[port].is_online(address)}

        def answered(answer: object = None) -> None:
            self._answered(seat, event, data, answer)
            self._send_next(seat)

        if not self._ready.is_set():
            # health is sent again on connecting; a card or key is lost: say so
            (log.debug if event == "health" else log.warning)(
                "seat %s: %s not sent, the server is not connected", seat, event
            )
            answered({"ok": False, "error": {"code": "offline"}})
            return
        try:
            self.sio.emit(event, data, namespace=NAMESPACE, callback=answered)
        except socketio.exceptions.SocketIOError as error:
            log.warning("seat %s: %s not sent: %s", seat, event, error)
            answered({"ok": False, "error": {"code": "offline"}})

    def _emit(self, event: str, data: dict[str, object]) -> None:
        if self._ready.is_set():
            try:
                self.sio.emit(event, data, namespace=NAMESPACE)
            except socketio.exceptions.SocketIOError:
                log.warning("%s not sent: the server is not connected", event)

    def _answered(self, seat: int, event: str, data: dict[str, object], answer: object) -> None:
        reply = answer if isinstance(answer, dict) else {"ok": False}
        place = self.seat_place[seat]
        master = self.masters[place[0]]
        if event == "key" and reply.get("ok") and reply.get("recorded"):
            # a secret ballot's answer does not name the choice: it is the key that was pressed
            choice, vote = reply.get("choice") or data.get("key"), reply.get("vote_id")
            if isinstance(choice, str) and isinstance(vote, int):
                self._secret_choice[seat] = (vote, choice)
                with self._lock:
                    state = dict(self._states.get(seat, {}))
                if state.get("vote_id") == vote:
                    state["choice"] = state.get("choice") or choice
                    master.set_lights(place[1], lights_of(state, choice))
        elif event in ("key", "card") and not reply.get("ok"):
            master.beep(place[1])  # refused: the deputy hears it; the reason is on the screen
            log.info("seat %s: %s refused: %s", seat, event, reply.get("error"))
