"""The hall of simulated consoles as a web page, for the demo: a person inserts and removes a
deputy's card, presses and holds the vote keys and the speak key, pulls a console's cable, and
sees what each console shows (its lights, text line, beeps) and whether it has a session.

Standard library only (http.server): `serve_page(simulator, host, port, cards)` serves

    GET  /        the page (hardware/sim_page.html, its sim_page.css and sim_page.js: nothing
                  from outside, no inline script or style)
    GET  /state   every console as JSON
    POST /action  {"address": 1, "action": "insert"|"remove"|"press"|"release"|"tap"|"unplug"|
                  "plug", "key": "for"|"against"|"abstain"|"speak", "uid": "04a1b2c3"}

Bad input is answered 400 {"ok": false, "error": "…"} and changes nothing.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from hardware import protocol
from hardware.simulator import ConsoleSimulator

SHUTDOWN_POLL = 0.05  # s: how soon server.shutdown() is heard
MAX_BODY = 10 * 1024  # bytes of a POST /action body
PROBED_ADDRESSES = range(1, 256)  # where /state looks for consoles besides those in `cards`
UID_LENGTHS = (4, 7, 10)  # ISO/IEC 14443 single, double and triple size
KEYS = {
    "for": protocol.Key.FOR,
    "against": protocol.Key.AGAINST,
    "abstain": protocol.Key.ABSTAIN,
    "speak": protocol.Key.SPEAK,
}
KEY_ACTIONS = frozenset({"press", "release", "tap"})
ACTIONS = ("insert", "remove", "press", "release", "tap", "unplug", "plug")
FIELDS = frozenset({"address", "action", "key", "uid"})
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
#: The page's files, by path, with their content types.
PAGE_FILES = {
    "/": ("sim_page.html", "text/html; charset=utf-8"),
    "/sim_page.css": ("sim_page.css", "text/css; charset=utf-8"),
    "/sim_page.js": ("sim_page.js", "text/javascript; charset=utf-8"),
}


class BadAction(ValueError):
    """Input the page refuses: the message names the problem (it goes back as `error`)."""


def parse_uid(text: object) -> bytes:
    """A card UID from hex (spaces, colons and hyphens between bytes allowed): 4, 7 or 10
    bytes."""
    if not isinstance(text, str):
        raise BadAction("uid must be a string of hex digits")
    digits = "".join(c for c in text if c not in " :-")
    try:
        uid = bytes.fromhex(digits)
    except ValueError:
        raise BadAction(f"uid {text[:40]!r} is not hex") from None
    if len(uid) not in UID_LENGTHS:
        raise BadAction(f"uid must be 4, 7 or 10 bytes, not {len(uid)}")
    return uid


@dataclass
class _Hall:
    """What the page tracks beside the simulator (which does not say): the card in each
    console's reader, the keys held and the cables pulled, as done through this page."""

    simulator: ConsoleSimulator
    cards: dict[int, tuple[str, bytes]]
    lock: threading.Lock = field(default_factory=threading.Lock)
    inserted: dict[int, bytes] = field(default_factory=dict)
    held: dict[int, set[protocol.Key]] = field(default_factory=dict)
    unplugged: set[int] = field(default_factory=set)

    def exists(self, address: int) -> bool:
        try:
            self.simulator.has_session(address)
        except KeyError:
            return False
        return True

    def addresses(self) -> list[int]:
        candidates = sorted(set(PROBED_ADDRESSES) | set(self.cards))
        return [address for address in candidates if self.exists(address)]

    def state(self) -> dict[str, Any]:
        consoles = []
        with self.lock:
            for address in self.addresses():
                try:
                    consoles.append(self._console_state(address))
                except KeyError:  # readdressed between the listing and now
                    continue
        return {"consoles": consoles}

    def _console_state(self, address: int) -> dict[str, Any]:
        sim = self.simulator
        lights = sim.lights(address)
        name, seat_card = self.cards.get(address, ("", b""))
        card = self.inserted.get(address)
        return {
            "address": address,
            "name": name,
            "seat_card": seat_card.hex() or None,
            "card": card.hex() if card is not None else None,
            "held": [k for k, key in KEYS.items() if key in self.held.get(address, ())],
            "lights": [light.name for light in protocol.Lights if light in lights],
            "text": sim.text(address),
            "beeps": sim.beeps(address),
            "session": sim.has_session(address),
            "answering": address not in self.unplugged,
        }

    def act(self, request: object) -> None:
        """Validates the whole request first, then acts: bad input changes nothing."""
        if not isinstance(request, dict):
            raise BadAction("the body must be a JSON object")
        unknown = sorted(set(request) - FIELDS)
        if unknown:
            raise BadAction(f"unknown field {unknown[0]!r}")
        address = request.get("address")
        if isinstance(address, bool) or not isinstance(address, int):
            raise BadAction("address must be an integer")
        action = request.get("action")
        if action not in ACTIONS:
            raise BadAction(f"action must be one of {', '.join(ACTIONS)}")
        key: protocol.Key | None = None
        if action in KEY_ACTIONS:
            if request.get("key") not in KEYS:
                raise BadAction(f"key must be one of {', '.join(KEYS)}")
            key = KEYS[request["key"]]
        elif "key" in request:
            raise BadAction(f"key is not taken by {action}")
        if action != "insert" and "uid" in request:
            raise BadAction(f"uid is not taken by {action}")
        with self.lock:
            if not self.exists(address):
                raise BadAction(f"no console at address {address}")
            self._act(address, action, key, request.get("uid"))

    def _act(self, address: int, action: str, key: protocol.Key | None, uid: object) -> None:
        sim = self.simulator
        held = self.held.setdefault(address, set())
        if action == "insert":
            if uid is None:
                if address not in self.cards:
                    raise BadAction(f"console {address} has no card of its own: give a uid")
                card = self.cards[address][1]
            else:
                card = parse_uid(uid)
            if address in self.inserted:
                raise BadAction(f"console {address} has a card in already: remove it first")
            sim.insert_card(address, card)
            self.inserted[address] = card
        elif action == "remove":
            if address not in self.inserted:
                raise BadAction(f"console {address} has no card in")
            sim.remove_card(address)
            del self.inserted[address]
        elif action in KEY_ACTIONS:
            assert key is not None
            name = key.name.lower()
            if action == "press":
                if key in held:
                    raise BadAction(f"key {name} of console {address} is held already")
                sim.press(address, key)
                held.add(key)
            elif action == "release":
                if key not in held:
                    raise BadAction(f"key {name} of console {address} is not held")
                sim.release(address, key)
                held.discard(key)
            else:
                if key in held:
                    raise BadAction(f"key {name} of console {address} is held already")
                sim.tap(address, key)
        elif action == "unplug":
            sim.stop_answering(address)
            self.unplugged.add(address)
        else:  # plug
            sim.resume(address)
            self.unplugged.discard(address)


def _page_file(name: str) -> bytes:
    return resources.files("hardware").joinpath(name).read_bytes()


class _Handler(BaseHTTPRequestHandler):
    server: _PageServer
    server_version = "ConsoleSimulatorPage"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: no line per request, nor per error

    def do_GET(self) -> None:
        try:
            path = self.path.split("?", 1)[0]
            if path in PAGE_FILES:
                name, content_type = PAGE_FILES[path]
                self._send(HTTPStatus.OK, _page_file(name), content_type, page=True)
            elif path == "/state":
                self._json(HTTPStatus.OK, self.server.hall.state())
            else:
                self._json(HTTPStatus.NOT_FOUND, {"ok": False, "error": f"no page {path[:80]}"})
        except Exception as error:  # nothing raises out of the handler
            self._failed(error)

    def do_POST(self) -> None:
        try:
            if self.path.split("?", 1)[0] != "/action":
                self.close_connection = True
                self._json(HTTPStatus.NOT_FOUND, {"ok": False, "error": "POST only to /action"})
                return
            try:
                self.server.hall.act(self._body())
            except BadAction as refused:
                self._json(HTTPStatus.BAD_REQUEST, {"ok": False, "error": str(refused)})
                return
            self._json(HTTPStatus.OK, {"ok": True})
        except Exception as error:  # nothing raises out of the handler
            self._failed(error)

    def _body(self) -> object:
        self.close_connection = True  # an unread body must not be taken for the next request
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise BadAction("chunked bodies are not taken: send Content-Length")
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            raise BadAction("Content-Length is missing")
        try:
            length = int(length_text)
        except ValueError:
            raise BadAction("Content-Length is not a number") from None
        if length < 0:
            raise BadAction("Content-Length is negative")
        if length > MAX_BODY:
            raise BadAction(f"body over {MAX_BODY // 1024} kB")
        content_type = self.headers.get_content_type()
        if content_type != "application/json":  # also keeps other sites' forms out (CORS)
            raise BadAction(f"Content-Type must be application/json, not {content_type}")
        raw = self.rfile.read(length)
        if len(raw) < length:
            raise BadAction("body shorter than its Content-Length")
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise BadAction("body is not JSON") from None

    def _json(self, status: HTTPStatus, payload: object) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str, page: bool = False) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            if page:
                self.send_header("Content-Security-Policy", PAGE_CSP)
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the browser went away mid-answer
            self.close_connection = True

    def _failed(self, error: Exception) -> None:
        self.close_connection = True
        message = f"{type(error).__name__}: {error}"[:200]
        self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"ok": False, "error": message})


class _PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], hall: _Hall) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.hall = hall
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a connection reset by the browser: nothing to print


def serve_page(
    simulator: ConsoleSimulator,
    host: str,
    port: int,
    cards: Mapping[int, tuple[str, str]],
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serves the page of `simulator`'s consoles on host:port only (port 0: any free one; the
    server's `server_address` says which). `cards` maps a console's address to its deputy's
    name and card UID (hex), which "insert card" inserts. The thread is started; stop with
    server.shutdown(), server.server_close(), thread.join()."""
    own_cards = {}
    for address, (name, uid_hex) in cards.items():
        try:
            own_cards[int(address)] = (str(name), parse_uid(uid_hex))
        except BadAction as bad:
            raise ValueError(f"card of console {address}: {bad}") from None
    hall = _Hall(simulator, own_cards)
    server = _PageServer((host, port), hall)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": SHUTDOWN_POLL},
        name="console-simulator-page",
        daemon=True,
    )
    thread.start()
    return server, thread
