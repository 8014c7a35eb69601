"""The gateway's reports to the server (hardware/gateway.py), with the Socket.IO client and the
bus master replaced by recorders: what the server is last told of a console is what the bus
master sees, and a push of some seats changes only those seats' lights."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hardware import protocol
from hardware.bus import PortSettings
from hardware.gateway import Gateway, Segment

PORT = "/dev/ttyUSB0"


class Client:
    """What the gateway uses of socketio.Client; answers are given by the test."""

    def __init__(self) -> None:
        self.handlers: dict[str, Callable[..., Any]] = {}
        self.sent: list[tuple[str, dict[str, Any], Callable[..., Any] | None]] = []

    def on(self, event: str, handler: Callable[..., Any], namespace: str) -> None:
        self.handlers[event] = handler

    def emit(
        self,
        event: str,
        data: dict[str, Any],
        namespace: str,
        callback: Callable[..., Any] | None = None,
    ) -> None:
        self.sent.append((event, data, callback))

    def answer(self, index: int, reply: dict[str, Any]) -> None:
        callback = self.sent[index][2]
        assert callback is not None
        callback(reply)


class Master:
    """A bus master that only remembers what it is told and says who is online."""

    def __init__(self, settings: PortSettings, keys: Any, listener: Any) -> None:
        self.settings = settings
        self.online: dict[int, bool] = {}
        self.lights: dict[int, protocol.Lights] = {}
        self.stats: dict[str, Any] = {"online": self.online}

    def is_online(self, address: int) -> bool:
        return self.online.get(address, False)

    def set_lights(self, address: int, lights: protocol.Lights) -> None:
        self.lights[address] = lights

    def set_text(self, address: int, text: str) -> None:
        pass


def ready_gateway(hold_to_vote_ms: int | None = 0) -> tuple[Gateway, Client, Master]:
    client = Client()
    gateway = Gateway(
        [Segment(PortSettings(PORT, addresses=(1, 2)), {1: 11, 2: 12})],
        {},
        "http://127.0.0.1:1",
        "secret",
        client=client,  # type: ignore[arg-type]
        master=Master,  # type: ignore[arg-type]
    )
    master = gateway.masters[PORT]
    assert isinstance(master, Master)
    gateway._connected()
    assert client.sent[0][0] == "seats"
    answer: dict[str, Any] = {"ok": True, "seats": []}
    if hold_to_vote_ms is not None:
        answer["hold_to_vote_ms"] = hold_to_vote_ms
    client.answer(0, answer)
    client.sent.clear()
    return gateway, client, master


def test_the_server_is_last_told_what_the_master_sees_now() -> None:
    """A console comes online while an older report of it is still queued (the seat map's
    answer read the master's view a moment before): the report that goes last carries the
    master's view when it goes, not when it was queued, so the seat is not left offline."""
    gateway, client, master = ready_gateway()
    master.online[1] = True
    gateway.console_online(PORT, 1, True)  # goes at once
    gateway._health(11, False)  # queued behind it, from an older view of the master
    assert [(e, d["online"]) for e, d, _ in client.sent] == [("health", True)]
    client.answer(0, {"ok": True})
    assert [(e, d["online"]) for e, d, _ in client.sent] == [("health", True), ("health", True)]
    master.online[1] = False
    gateway.console_online(PORT, 1, False)
    client.answer(1, {"ok": True})
    assert client.sent[-1][1] == {"seat": 11, "online": False, "faults": 0}


def test_a_push_of_some_seats_changes_only_their_lights() -> None:
    gateway, client, master = ready_gateway()
    seat = {"registered": True, "vote_open": True, "vote_id": 7, "choice": None, "text": "1"}
    client.handlers["consoles"]({"seats": [{"seat": 11, **seat}, {"seat": 12, **seat}]})
    both = dict(master.lights)
    assert both[1] == both[2] == protocol.Lights.REGISTERED | protocol.Lights.VOTE_OPEN
    client.handlers["consoles"]({"seats": [{"seat": 12, **seat, "choice": "for"}]})
    assert master.lights[1] == both[1]
    assert master.lights[2] == both[2] | protocol.Lights.FOR


def pressed_and_released(gateway: Gateway, client: Client, key: protocol.Key) -> list[Any]:
    """What the gateway reports of a key pressed, then released 600 ms later (each report
    answered at once, so the seat's queue is free for the next)."""
    client.sent.clear()
    for kind, data in (
        (protocol.EventKind.KEY_DOWN, bytes([key])),
        (protocol.EventKind.KEY_UP, bytes([key, 0x02, 0x58])),
    ):
        before = len(client.sent)
        gateway.console_event(PORT, 1, kind, data)
        for index in range(before, len(client.sent)):
            client.answer(index, {"ok": True})
    return [data for event, data, _ in client.sent if event == "key"]


def test_only_the_edge_of_a_key_that_counts_is_reported() -> None:
    """The server counts a press (or, with hold to vote, the release of a vote key after the
    time held); the gateway learns which from the answer to its seat map and reports only that
    edge: half the reports in a vote. A server that does not say gets both."""
    gateway, client, _ = ready_gateway(hold_to_vote_ms=0)
    assert pressed_and_released(gateway, client, protocol.Key.FOR) == [{"seat": 11, "key": "for"}]
    assert pressed_and_released(gateway, client, protocol.Key.SPEAK) == [
        {"seat": 11, "key": "speak"}
    ]
    gateway, client, _ = ready_gateway(hold_to_vote_ms=500)
    assert pressed_and_released(gateway, client, protocol.Key.AGAINST) == [
        {"seat": 11, "key": "against", "held_ms": 600}
    ]
    assert pressed_and_released(gateway, client, protocol.Key.SPEAK) == [
        {"seat": 11, "key": "speak"}
    ]
    gateway, client, _ = ready_gateway(hold_to_vote_ms=None)
    assert pressed_and_released(gateway, client, protocol.Key.FOR) == [
        {"seat": 11, "key": "for"},
        {"seat": 11, "key": "for", "held_ms": 600},
    ]
