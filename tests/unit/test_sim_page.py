"""The page of the simulated consoles (hardware/sim_page.py) over real HTTP on 127.0.0.1: the
page itself, the state of every console, the actions reaching the simulator (and, on a real
pseudo-terminal, the bus master), and every kind of bad input refused by name, changing nothing."""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from waiting import until

from hardware import protocol as p
from hardware.bus import BusMaster, PortSettings
from hardware.sim_page import serve_page
from hardware.simulator import ConsoleSimulator, demo_fleet

OWN_CARD = "04a1b2c3d4e5f6"
CARDS = {1: ("Олена Петренко", OWN_CARD), 2: ("Іван Коваль", "0a0b0c0d")}  # 3 has none


@dataclass
class Page:
    simulator: ConsoleSimulator
    host: str
    port: int

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def state(self) -> dict[int, dict[str, Any]]:
        status, _, body = self.request("GET", "/state")
        assert status == 200
        return {c["address"]: c for c in json.loads(body)["consoles"]}

    def act(self, payload: Any) -> tuple[int, dict[str, Any]]:
        raw = json.dumps(payload).encode()
        status, _, body = self.request("POST", "/action", raw, {"Content-Type": "application/json"})
        return status, json.loads(body)

    def ok(self, **payload: Any) -> None:
        assert self.act(payload) == (200, {"ok": True})


def _serve(simulator: ConsoleSimulator) -> Iterator[Page]:
    server, thread = serve_page(simulator, "127.0.0.1", 0, CARDS)
    try:
        host, port = server.server_address[:2]
        yield Page(simulator, str(host), int(port))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        assert not thread.is_alive()


@pytest.fixture
def page() -> Iterator[Page]:
    """The page over three consoles that no bus master serves (the scripting works alone)."""
    with ConsoleSimulator(demo_fleet(3)) as simulator:
        yield from _serve(simulator)


class Heard:
    """A BusListener that keeps the events and the online changes (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.event_log: list[tuple[int, p.EventKind, bytes]] = []
        self.online: dict[int, bool] = {}

    def console_event(self, port: str, address: int, kind: p.EventKind, data: bytes) -> None:
        with self._lock:
            self.event_log.append((address, kind, data))

    def console_online(self, port: str, address: int, online: bool) -> None:
        with self._lock:
            self.online[address] = online

    def console_hello(self, port: str, address: int, hello: p.Hello) -> None:
        pass

    def console_status(self, port: str, address: int, inputs: p.Inputs, faults: p.Faults) -> None:
        pass

    def port_state(self, port: str, connected: bool, error: str | None) -> None:
        pass

    def refused(self, port: str, address: int | None, reason: str) -> None:
        pass

    def events(self, address: int) -> list[tuple[p.EventKind, bytes]]:
        with self._lock:
            return [(kind, data) for a, kind, data in self.event_log if a == address]


@pytest.fixture
def bus_page() -> Iterator[tuple[Page, BusMaster, Heard]]:
    """The page over three consoles on a real pty, driven by a bus master."""
    fleet = demo_fleet(3)
    with ConsoleSimulator(fleet) as simulator:
        heard = Heard()
        master = BusMaster(
            PortSettings(simulator.open_pty(), reply_timeout=0.03, addresses=(1, 2, 3)),
            {spec.serial: spec.key for spec in fleet},
            heard,
        )
        master.start()
        try:
            until(lambda: all(simulator.has_session(a) for a in (1, 2, 3)), 5)
            yield from ((page, master, heard) for page in _serve(simulator))
        finally:
            master.stop()


# ---------------------------------------------------------------------- the page and the state


def test_the_page_is_self_contained_html_with_no_inline_script(page: Page) -> None:
    status, headers, body = page.request("GET", "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    html = body.decode("utf-8")
    assert "<title>Зал пультів" in html and "Кабель" in html and "Утримався" in html
    for external in ("http://", "https://", "//cdn"):
        assert external not in html, external  # closed networks: nothing fetched from outside
    assert re.findall(r'(?:src|href)="([^"]*)"', html) == ["/sim_page.css", "/sim_page.js"]
    assert "<style" not in html and "<script>" not in html and " on" + "click=" not in html
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    for path, kind, words in (
        ("/sim_page.css", "text/css", ".lamp"),
        ("/sim_page.js", "text/javascript", "/action"),
    ):
        status, headers, body = page.request("GET", path)
        assert status == 200 and headers["Content-Type"].startswith(kind), (path, headers)
        assert words in body.decode("utf-8") and "http" + "://" not in body.decode("utf-8")
        assert headers["Content-Security-Policy"] == policy


def test_the_state_lists_every_console_with_its_deputy(page: Page) -> None:
    state = page.state()
    assert sorted(state) == [1, 2, 3]
    assert state[1] == {
        "address": 1,
        "name": "Олена Петренко",
        "seat_card": OWN_CARD,
        "card": None,
        "held": [],
        "lights": [],
        "text": "",
        "beeps": 0,
        "session": False,
        "answering": True,
    }
    assert state[3]["name"] == "" and state[3]["seat_card"] is None


def test_the_server_listens_only_where_told_and_quietly(
    page: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    assert page.host == "127.0.0.1"
    page.state()
    page.act({"address": 42, "action": "remove"})
    page.request("GET", "/nowhere")
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_a_bad_card_in_the_mapping_is_refused_before_serving() -> None:
    with ConsoleSimulator(demo_fleet(1)) as simulator:
        with pytest.raises(ValueError, match="card of console 1: uid must be 4, 7 or 10 bytes"):
            serve_page(simulator, "127.0.0.1", 0, {1: ("Хтось", "0102")})


# ---------------------------------------------------------------------- actions


def test_insert_queues_the_seats_own_card_and_remove_takes_it_out(page: Page) -> None:
    page.ok(address=1, action="insert")
    assert page.simulator.pending(1) == 1
    assert page.state()[1]["card"] == OWN_CARD
    page.ok(address=1, action="remove")
    assert page.simulator.pending(1) == 2
    assert page.state()[1]["card"] is None


def test_another_card_may_be_typed_with_separators(page: Page) -> None:
    page.ok(address=3, action="insert", uid="04:A1-B2 C3")
    assert page.state()[3]["card"] == "04a1b2c3"
    page.ok(address=2, action="insert", uid="01020304050607080910")  # a copied 10-byte card
    assert page.state()[2]["card"] == "01020304050607080910"


def test_press_and_release_hold_a_key_and_tap_clicks_one(page: Page) -> None:
    page.ok(address=2, action="press", key="against")
    assert page.state()[2]["held"] == ["against"]
    page.ok(address=2, action="release", key="against")
    page.ok(address=2, action="tap", key="speak")
    assert page.state()[2]["held"] == []
    assert page.simulator.pending(2) == 4  # down, up, down, up


def test_the_cable_comes_out_and_goes_back(page: Page) -> None:
    page.ok(address=3, action="unplug")
    page.ok(address=3, action="unplug")  # pulling a pulled cable changes nothing
    assert page.state()[3]["answering"] is False
    page.ok(address=3, action="plug")
    assert page.state()[3]["answering"] is True


def test_over_the_bus_the_events_arrive_and_the_lights_come_back(
    bus_page: tuple[Page, BusMaster, Heard],
) -> None:
    page, master, heard = bus_page
    uid = bytes.fromhex(OWN_CARD)
    page.ok(address=1, action="insert")
    page.ok(address=1, action="press", key="for")
    page.ok(address=1, action="release", key="for")
    until(lambda: len(heard.events(1)) == 3, 5)
    (inserted, down, up) = heard.events(1)
    assert inserted == (p.EventKind.CARD_INSERTED, uid)
    assert down == (p.EventKind.KEY_DOWN, bytes([p.Key.FOR]))
    assert up[0] == p.EventKind.KEY_UP and up[1][0] == p.Key.FOR
    # the console learns that its last report was heard with the next poll's acknowledgement
    until(lambda: page.simulator.acknowledged(1) == heard.events(1), 5)

    master.set_lights(1, p.Lights.FOR | p.Lights.VOTE_OPEN | p.Lights.REGISTERED)
    master.set_text(1, "Пит. 3 · За")
    master.beep(1)
    until(lambda: page.state()[1]["beeps"] == 1, 5)
    one = until(lambda: (s := page.state()[1])["lights"] and s["text"] and s, 5)
    assert one["lights"] == ["FOR", "VOTE_OPEN", "REGISTERED"]
    assert one["text"] == "Пит. 3 · За" and one["session"] is True

    page.ok(address=2, action="unplug")
    until(lambda: heard.online.get(2) is False, 5)
    page.ok(address=2, action="plug")
    until(lambda: heard.online.get(2) is True, 5)


# ---------------------------------------------------------------------- bad input


def _everything(page: Page) -> tuple[Any, ...]:
    return page.state(), [page.simulator.pending(a) for a in (1, 2, 3)]


BAD_ACTIONS = [
    ({"address": 99, "action": "remove"}, "no console at address 99"),
    ({"address": 99, "action": "press", "key": "for"}, "no console at address 99"),
    ({"address": "1", "action": "insert"}, "address must be an integer"),
    ({"address": True, "action": "insert"}, "address must be an integer"),
    ({"action": "insert"}, "address must be an integer"),
    ({"address": 1, "action": "explode"}, "action must be one of"),
    ({"address": 1}, "action must be one of"),
    ({"address": 1, "action": "press"}, "key must be one of"),
    ({"address": 1, "action": "press", "key": "maybe"}, "key must be one of"),
    ({"address": 1, "action": "tap", "key": 1}, "key must be one of"),
    ({"address": 1, "action": "insert", "key": "for"}, "key is not taken by insert"),
    ({"address": 1, "action": "press", "key": "for", "uid": "01020304"}, "uid is not taken"),
    ({"address": 1, "action": "insert", "uid": "zz0102"}, "is not hex"),
    ({"address": 1, "action": "insert", "uid": "0102030405"}, "4, 7 or 10 bytes, not 5"),
    ({"address": 1, "action": "insert", "uid": ""}, "4, 7 or 10 bytes, not 0"),
    ({"address": 1, "action": "insert", "uid": 1234}, "uid must be a string"),
    ({"address": 3, "action": "insert"}, "console 3 has no card of its own"),
    ({"address": 1, "action": "remove"}, "console 1 has no card in"),
    ({"address": 1, "action": "release", "key": "abstain"}, "key abstain of console 1 is not"),
    ({"address": 1, "action": "insert", "colour": "red"}, "unknown field 'colour'"),
    ([1, 2], "the body must be a JSON object"),
    ("insert", "the body must be a JSON object"),
]


@pytest.mark.parametrize(("payload", "problem"), BAD_ACTIONS)
def test_a_bad_action_is_refused_by_name_and_changes_nothing(
    page: Page, payload: Any, problem: str
) -> None:
    before = _everything(page)
    status, answer = page.act(payload)
    assert status == 400 and answer["ok"] is False
    assert problem in answer["error"]
    assert _everything(page) == before


JSON = {"Content-Type": "application/json"}
BAD_BODIES = [
    (b"{", JSON, "body is not JSON"),
    (b"\xff\xfe", JSON, "body is not JSON"),
    (b'{"address": 1, "action": "insert"}', {"Content-Type": "text/plain"}, "Content-Type"),
    (b'{"address": 1, "action": "insert"}', {}, "Content-Type must be application/json"),
]


@pytest.mark.parametrize(("body", "headers", "problem"), BAD_BODIES)
def test_a_bad_body_is_refused_by_name_and_changes_nothing(
    page: Page, body: bytes, headers: dict[str, str], problem: str
) -> None:
    before = _everything(page)
    status, _, raw = page.request("POST", "/action", body, headers)
    assert status == 400
    assert problem in json.loads(raw)["error"]
    assert _everything(page) == before


def _raw_post(page: Page, headers: dict[str, str], body: bytes = b"") -> tuple[int, str]:
    """A POST whose headers are exactly these (http.client adds no Content-Length)."""
    connection = http.client.HTTPConnection(page.host, page.port, timeout=10)
    try:
        connection.putrequest("POST", "/action")
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body or None)
        response = connection.getresponse()
        return response.status, json.loads(response.read())["error"]
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({"Content-Type": "application/json", "Content-Length": "20000"}, "body over 10 kB"),
        ({"Content-Type": "application/json"}, "Content-Length is missing"),
        ({"Content-Type": "application/json", "Content-Length": "many"}, "not a number"),
        ({"Content-Type": "application/json", "Content-Length": "-5"}, "negative"),
        ({"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, "chunked"),
    ],
)
def test_a_body_too_long_or_without_a_length_is_refused_unread(
    page: Page, headers: dict[str, str], problem: str
) -> None:
    before = _everything(page)
    status, error = _raw_post(page, headers)
    assert status == 400 and problem in error
    assert _everything(page) == before


def test_an_oversized_body_sent_whole_is_refused(page: Page) -> None:
    payload = {"address": 1, "action": "insert", "uid": "04a1b2c3", "pad": "x" * 11_000}
    before = _everything(page)
    status, answer = page.act(payload)
    assert status == 400 and "body over 10 kB" in answer["error"]
    assert _everything(page) == before


def test_state_conflicts_are_refused_and_change_nothing(page: Page) -> None:
    page.ok(address=1, action="insert")
    page.ok(address=2, action="press", key="speak")
    before = _everything(page)
    for payload, problem in [
        ({"address": 1, "action": "insert"}, "has a card in already"),
        ({"address": 2, "action": "press", "key": "speak"}, "is held already"),
        ({"address": 2, "action": "tap", "key": "speak"}, "is held already"),
    ]:
        status, answer = page.act(payload)
        assert status == 400 and problem in answer["error"], answer
    assert _everything(page) == before


def test_unknown_pages_are_404(page: Page) -> None:
    assert page.request("GET", "/etc/passwd")[0] == 404
    assert page.request("POST", "/state", b"{}", JSON)[0] == 404
