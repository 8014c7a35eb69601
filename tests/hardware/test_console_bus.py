"""The bus master (hardware/bus.py) against the simulated consoles (hardware/simulator.py),
byte for byte through real pseudo-terminals (and once each through socket://, spy:// and
loop://): sessions, events delivered exactly once, lights, offline and back, bad input on the
bus, forged and replayed events, reboots, lost acks, a port that vanishes, a prompt stop, and a
master that restarts while the consoles hold their sessions (POLL with IDENTIFY)."""

from __future__ import annotations

import io
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from waiting import until

from hardware import protocol as p
from hardware.bus import BusMaster, PortSettings
from hardware.simulator import (
    ConsoleSimulator,
    SimulatedConsoleSpec,
    demo_fleet,
    run_simulator,
)

REPLY = 0.03  # s: Python over a pty answers far slower than a console's 1 ms
UID = bytes.fromhex("04a1b2c3d4e5f6")


class Recorder:
    """A BusListener that remembers every call (thread-safe)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()

    def _add(self, *call: Any) -> None:
        with self._lock:
            self.calls.append(call)

    def console_event(self, port: str, address: int, kind: p.EventKind, data: bytes) -> None:
        self._add("event", address, kind, data)

    def console_online(self, port: str, address: int, online: bool) -> None:
        self._add("online", address, online, time.monotonic())

    def console_hello(self, port: str, address: int, hello: p.Hello) -> None:
        self._add("hello", address, hello)

    def console_status(self, port: str, address: int, inputs: p.Inputs, faults: p.Faults) -> None:
        self._add("status", address, inputs, faults)

    def port_state(self, port: str, connected: bool, error: str | None) -> None:
        self._add("port", connected, error)

    def refused(self, port: str, address: int | None, reason: str) -> None:
        self._add("refused", address, reason)

    def of(self, what: str, address: int | None = None) -> list[tuple[Any, ...]]:
        with self._lock:
            return [
                c[1:] for c in self.calls if c[0] == what and (address is None or c[1] == address)
            ]

    def events(self, address: int) -> list[tuple[p.EventKind, bytes]]:
        return [(kind, data) for _, kind, data in self.of("event", address)]

    def online(self, address: int) -> bool:
        changes = self.of("online", address)
        return bool(changes) and changes[-1][1]

    def refusals(self, reason: str) -> list[int | None]:
        return [address for address, why in self.of("refused") if why == reason]


class Bus:
    """A simulator and a bus master on one port, with the listener that hears the master."""

    def __init__(self, simulator: ConsoleSimulator, master: BusMaster, heard: Recorder) -> None:
        self.sim, self.master, self.heard = simulator, master, heard

    def all_online(self, addresses: tuple[int, ...]) -> bool:
        return all(self.heard.online(a) and self.sim.has_session(a) for a in addresses)

    def settled(self, addresses: tuple[int, ...]) -> bool:
        """Every event of these consoles acknowledged (and so delivered before)."""
        return all(self.sim.pending(a) == 0 for a in addresses)

    def count(self, reason: str) -> int:
        return int(self.master.stats["counts"].get(reason, 0))


BusFactory = Callable[..., Bus]


@pytest.fixture
def make_bus() -> Iterator[BusFactory]:
    """make_bus(fleet, mode="pty"|"tcp"|"spy", keys=None, addresses=None, **settings) → a
    running Bus; everything is stopped and joined afterwards."""
    started: list[tuple[ConsoleSimulator, BusMaster]] = []

    def make(
        fleet: list[SimulatedConsoleSpec],
        mode: str = "pty",
        keys: dict[bytes, bytes] | None = None,
        addresses: tuple[int, ...] | None = None,
        **settings: Any,
    ) -> Bus:
        simulator = ConsoleSimulator(fleet)
        if mode == "tcp":
            host, port = simulator.serve_tcp()
            url = f"socket://{host}:{port}"
        else:
            path = simulator.open_pty()
            url = path if mode == "pty" else f"spy://{path}"
        heard = Recorder()
        master = BusMaster(
            PortSettings(
                url,
                reply_timeout=REPLY,
                addresses=addresses or tuple(s.address for s in fleet if s.address),
                **settings,
            ),
            keys if keys is not None else {s.serial: s.key for s in fleet},
            heard,
        )
        started.append((simulator, master))
        master.start()
        return Bus(simulator, master, heard)

    yield make
    for simulator, master in started:
        master.stop()
        simulator.close()


FOUR = (1, 2, 3, 4)


def test_every_console_comes_online_with_a_session(make_bus: BusFactory) -> None:
    bus = make_bus(demo_fleet(4))
    until(lambda: bus.all_online(FOUR), 5)
    assert [a for a, _ in bus.heard.of("port")] == [True]
    assert sorted(a for a, _ in bus.heard.of("hello")) == list(FOUR)
    assert all(bus.sim.time_ms(a) for a in FOUR)  # the TIME broadcast after connecting
    assert bus.master.stats["online"] == dict.fromkeys(FOUR, True)
    assert bus.master.stats["cycles"] > 0 and bus.master.stats["mean_cycle_s"] > 0


def test_a_card_and_a_key_arrive_exactly_once_and_are_acknowledged(make_bus: BusFactory) -> None:
    bus = make_bus(demo_fleet(4))
    until(lambda: bus.all_online(FOUR), 5)
    bus.sim.insert_card(2, UID)
    bus.sim.tap(3, p.Key.FOR)
    until(lambda: bus.settled(FOUR) and bus.sim.acknowledged(3), 5)
    until(lambda: (2, p.Inputs.CARD, p.Faults(0)) in bus.heard.of("status", 2), 5)
    assert bus.heard.events(2) == [(p.EventKind.CARD_INSERTED, UID)]
    assert [kind for kind, _ in bus.heard.events(3)] == [p.EventKind.KEY_DOWN, p.EventKind.KEY_UP]
    assert bus.heard.events(3)[0] == (p.EventKind.KEY_DOWN, bytes([p.Key.FOR]))
    for address in FOUR:
        assert bus.heard.events(address) == bus.sim.acknowledged(address)
    assert bus.heard.of("refused") == []


def test_lights_text_and_beeps_reach_the_console(make_bus: BusFactory) -> None:
    bus = make_bus(demo_fleet(2))
    until(lambda: bus.all_online((1, 2)), 5)
    bus.master.set_lights(2, p.Lights.VOTE_OPEN | p.Lights.FOR)
    bus.master.set_text(2, "Пит. 3 · За")
    bus.master.beep(2)
    until(lambda: bus.sim.lights(2) == p.Lights.VOTE_OPEN | p.Lights.FOR, 5)
    until(lambda: bus.sim.text(2) == "Пит. 3 · За" and bus.sim.beeps(2) == 1, 5)
    assert bus.sim.lights(1) == p.Lights(0) and bus.sim.text(1) == ""


def test_a_silent_console_is_offline_within_a_second_and_back_on_resume(
    make_bus: BusFactory,
) -> None:
    bus = make_bus(demo_fleet(4))
    until(lambda: bus.all_online(FOUR), 5)
    pulled = time.monotonic()
    bus.sim.stop_answering(3)
    until(lambda: not bus.heard.online(3), 5)
    went_offline = bus.heard.of("online", 3)[-1][2]
    assert went_offline - pulled < 1.0
    assert all(bus.heard.online(a) for a in (1, 2, 4))
    bus.sim.resume(3)
    until(lambda: bus.heard.online(3), 5)
    bus.sim.tap(3, p.Key.AGAINST)  # and it still works: the same session
    until(lambda: bus.settled(FOUR) and bus.sim.acknowledged(3), 5)
    assert bus.heard.events(3) == bus.sim.acknowledged(3)
    assert len(bus.heard.of("hello", 3)) == 1


def test_unplugged_consoles_do_not_slow_the_key_presses_of_the_others(
    make_bus: BusFactory,
) -> None:
    """Twelve seats of the map have no console (cables pulled): each costs the reply timeout
    when polled, so polled in every cycle they would make it 12 × 30 ms long; the master polls
    one offline console per cycle, and the four that answer keep a short cycle."""
    absent = tuple(range(21, 33))
    bus = make_bus(demo_fleet(4), addresses=FOUR + absent)
    until(lambda: bus.all_online(FOUR), 5)
    until(lambda: all(not bus.master.stats["online"][a] for a in absent), 5)
    delays = []
    for n in range(6):
        before = len(bus.heard.events(1))
        pressed = time.monotonic()
        bus.sim.tap(1, p.Key.FOR if n % 2 else p.Key.AGAINST)
        until(lambda: len(bus.heard.events(1)) > before, 5)  # noqa: B023 - used at once
        delays.append(time.monotonic() - pressed)
        time.sleep(random.uniform(0.0, 0.1))
    # polled in every cycle, the absent would make it 12 × 30 ms = 0.36 s; one per cycle, about
    # 30 ms plus the four consoles' turns
    assert sorted(delays)[len(delays) // 2] < 0.15, delays
    assert bus.master.stats["mean_cycle_s"] < 0.07
    # and the absent are still asked, so a console plugged in comes back by itself
    polled = bus.count("miss")
    time.sleep(0.6)
    assert bus.count("miss") - polled >= 2


def test_garbage_and_a_babbler_are_counted_and_disturb_no_one(make_bus: BusFactory) -> None:
    bus = make_bus(demo_fleet(4))
    until(lambda: bus.all_online(FOUR), 5)
    damaged = bytearray(p.encode(p.Status(2)))
    damaged[3] ^= 0x01
    bus.sim.send_garbage(b"\x13\x37garbage\x00")  # COBS nonsense
    bus.sim.send_garbage(bytes(damaged))  # a frame with a wrong CRC
    bus.sim.send_garbage(p.encode(p.Status(9)))  # a valid frame nobody asked for
    for address in FOUR:
        bus.sim.insert_card(address, UID[:4] + bytes([address]))
    until(lambda: bus.count("cobs") and bus.count("crc") and bus.count("unexpected"), 5)
    bus.sim.babble(2, 500)  # 500 bytes without a delimiter
    for address in FOUR:
        bus.sim.tap(address, p.Key.ABSTAIN)
    until(lambda: bus.settled(FOUR) and bus.count("overrun") >= 1, 5)
    for address in FOUR:
        assert bus.heard.events(address) == bus.sim.acknowledged(address)
        assert len(bus.heard.events(address)) == 3
    assert bus.heard.refusals("unexpected") and set(bus.heard.refusals("crc")) == {None}


def test_a_forged_event_is_refused_and_never_delivered(make_bus: BusFactory) -> None:
    bus = make_bus(demo_fleet(2))
    until(lambda: bus.all_online((1, 2)), 5)
    bus.sim.forge_event(2, p.EventKind.KEY_DOWN, bytes([p.Key.FOR]))
    until(lambda: bus.count("forged") == 1, 5)
    bus.sim.tap(2, p.Key.AGAINST)
    until(lambda: bus.settled((1, 2)) and bus.sim.acknowledged(2), 5)
    assert bus.heard.refusals("forged") == [2]
    assert bus.heard.events(2) == bus.sim.acknowledged(2)
    assert (p.EventKind.KEY_DOWN, bytes([p.Key.FOR])) not in bus.heard.events(2)


def test_a_replayed_event_is_refused_and_a_resent_one_not_delivered_again(
    make_bus: BusFactory,
) -> None:
    bus = make_bus(demo_fleet(2))
    until(lambda: bus.all_online((1, 2)), 5)
    bus.sim.insert_card(2, UID)
    bus.sim.tap(2, p.Key.FOR)
    until(lambda: bus.settled((1, 2)) and len(bus.sim.acknowledged(2)) == 3, 5)
    bus.sim.replay_last_event(2, back=2)  # an older event of this session: a replay
    until(lambda: bus.count("replay") == 1, 5)
    bus.sim.replay_last_event(2)  # the latest again: taken for a retransmission
    until(lambda: bus.count("retransmission") == 1, 5)
    assert bus.heard.refusals("replay") == [2]
    assert bus.heard.events(2) == bus.sim.acknowledged(2) and len(bus.heard.events(2)) == 3


def test_a_reboot_starts_a_new_session_without_duplicates(make_bus: BusFactory) -> None:
    bus = make_bus(demo_fleet(2))
    until(lambda: bus.all_online((1, 2)), 5)
    bus.sim.insert_card(2, UID)
    bus.sim.tap(2, p.Key.FOR)
    until(lambda: bus.settled((1, 2)) and len(bus.sim.acknowledged(2)) == 3, 5)
    assert bus.sim.last_counter(2) == 3
    bus.sim.reboot(2)
    until(lambda: len(bus.heard.of("hello", 2)) == 2 and bus.sim.has_session(2), 5)
    bus.sim.tap(2, p.Key.AGAINST)
    until(lambda: bus.settled((1, 2)) and len(bus.sim.acknowledged(2)) == 6, 5)
    assert bus.sim.last_counter(2) == 3  # the counter restarted with the session
    # the card still in the reader is announced afresh by the rebooted console, then the key
    assert bus.sim.acknowledged(2)[3] == (p.EventKind.CARD_INSERTED, UID)
    assert bus.heard.events(2) == bus.sim.acknowledged(2)
    assert bus.heard.of("refused") == []


def test_a_lost_ack_gives_a_retransmission_delivered_once(make_bus: BusFactory) -> None:
    bus = make_bus(demo_fleet(2))
    until(lambda: bus.all_online((1, 2)), 5)
    bus.sim.ignore_next_ack(1)
    bus.sim.insert_card(1, UID)
    until(lambda: bus.settled((1, 2)) and bus.sim.acknowledged(1), 5)
    assert bus.count("retransmission") >= 1
    assert bus.heard.events(1) == [(p.EventKind.CARD_INSERTED, UID)] == bus.sim.acknowledged(1)


def test_an_unprovisioned_console_is_online_but_refused_once(make_bus: BusFactory) -> None:
    fleet = demo_fleet(2)
    bus = make_bus(fleet, keys={fleet[0].serial: fleet[0].key})
    until(lambda: bus.all_online((1,)) and bus.heard.online(2), 5)
    until(lambda: bus.master.stats["cycles"] > 20, 5)
    assert bus.heard.refusals("unprovisioned") == [2]
    assert not bus.sim.has_session(2)
    bus.sim.insert_card(2, UID)
    until(lambda: bus.master.stats["cycles"] > 40, 5)
    assert bus.heard.events(2) == []


def test_the_port_vanishing_and_returning_is_reported_and_polling_resumes(
    make_bus: BusFactory,
) -> None:
    bus = make_bus(demo_fleet(3))
    until(lambda: bus.all_online((1, 2, 3)), 5)
    bus.sim.unplug()
    until(lambda: [c for c, _ in bus.heard.of("port")] == [True, False], 5)
    until(lambda: not any(bus.heard.online(a) for a in (1, 2, 3)), 5)
    assert bus.heard.of("port")[-1][1]  # with the reason
    bus.sim.plug()
    until(lambda: [c for c, _ in bus.heard.of("port")] == [True, False, True], 10)
    until(lambda: bus.all_online((1, 2, 3)), 5)
    bus.sim.insert_card(1, UID)
    until(lambda: bus.settled((1, 2, 3)) and bus.sim.acknowledged(1), 5)
    assert bus.heard.events(1) == [(p.EventKind.CARD_INSERTED, UID)]


def test_socket_url_and_its_connection_dropping(make_bus: BusFactory) -> None:
    bus = make_bus(demo_fleet(3), mode="tcp")
    until(lambda: bus.all_online((1, 2, 3)), 5)
    bus.sim.tap(2, p.Key.SPEAK)
    until(lambda: bus.settled((1, 2, 3)) and bus.sim.acknowledged(2), 5)
    assert bus.heard.events(2) == bus.sim.acknowledged(2)
    bus.sim.unplug()
    until(lambda: [c for c, _ in bus.heard.of("port")] == [True, False], 5)
    bus.sim.plug()
    until(lambda: [c for c, _ in bus.heard.of("port")] == [True, False, True], 10)
    bus.sim.remove_card(3)
    until(lambda: bus.settled((1, 2, 3)) and bus.sim.acknowledged(3), 5)
    assert bus.heard.events(3) == [(p.EventKind.CARD_REMOVED, b"")]


def test_spy_url_over_a_pty_sees_the_exchanges(
    make_bus: BusFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    bus = make_bus(demo_fleet(1), mode="spy", rs485=True)  # rs485: refused by a pty, quietly
    until(lambda: bus.all_online((1,)), 5)
    bus.sim.insert_card(1, UID)
    until(lambda: bus.settled((1,)) and bus.sim.acknowledged(1), 5)
    bus.master.stop()
    hexdump = capsys.readouterr().err
    assert " TX " in hexdump and " RX " in hexdump
    assert bus.count("rs485-unsupported") == 1
    assert [c for c, _ in bus.heard.of("port")] == [True]


def test_loop_url_the_master_hearing_itself_counts_echoes() -> None:
    heard = Recorder()
    master = BusMaster(PortSettings("loop://", reply_timeout=0.01, addresses=(1, 2)), {}, heard)
    master.start()
    try:
        until(lambda: master.stats["counts"].get("echo", 0) > 10, 5)
    finally:
        master.stop()
    assert master.stats["online"] == {1: False, 2: False}
    assert heard.of("online") == [] and heard.of("event") == []


def test_discover_and_assign_bring_a_new_console_in(make_bus: BusFactory) -> None:
    fleet = demo_fleet(2)
    newcomer = SimulatedConsoleSpec(0, fleet[1].serial, fleet[1].key)
    bus = make_bus([fleet[0], newcomer], keys={s.serial: s.key for s in fleet}, addresses=(1, 5))
    until(lambda: bus.all_online((1,)), 5)
    assert bus.master.discover(8) == [newcomer.serial]
    bus.master.assign(newcomer.serial, 5)
    until(lambda: bus.all_online((5,)), 5)
    bus.sim.tap(5, p.Key.FOR)
    until(lambda: bus.settled((1, 5)) and bus.sim.acknowledged(5), 5)
    assert bus.heard.events(5) == bus.sim.acknowledged(5)


def test_stop_is_prompt_while_running_and_while_backing_off(make_bus: BusFactory) -> None:
    bus = make_bus(demo_fleet(4))
    until(lambda: bus.all_online(FOUR), 5)
    began = time.monotonic()
    bus.master.stop()
    assert time.monotonic() - began < 2.0

    heard = Recorder()
    master = BusMaster(PortSettings("/nonexistent/ttyUSB9", addresses=(1,)), {}, heard)
    master.start()
    until(lambda: heard.of("port"), 5)
    time.sleep(0.5)  # well into the backoff between attempts to reopen
    began = time.monotonic()
    master.stop()
    assert time.monotonic() - began < 1.0
    assert heard.of("port") == [(False, heard.of("port")[0][1])]  # reported once, not per try


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_what_is_delivered_is_exactly_what_the_consoles_saw_acknowledged(
    make_bus: BusFactory, seed: int
) -> None:
    """A random script of cards, keys, faults, pulled cables, lost acks and noise: per console,
    the events delivered equal, in order, the events acknowledged (no loss, no duplicate, no
    invention)."""
    rng = random.Random(seed)
    bus = make_bus(demo_fleet(4))
    until(lambda: bus.all_online(FOUR), 5)
    cards: dict[int, bool] = dict.fromkeys(FOUR, False)
    for _ in range(60):
        address = rng.choice(FOUR)
        action = rng.randrange(8)
        if action == 0:
            if cards[address]:
                bus.sim.remove_card(address)
            else:
                bus.sim.insert_card(address, rng.randbytes(rng.choice((4, 7, 10))))
            cards[address] = not cards[address]
        elif action in (1, 2):
            bus.sim.tap(address, rng.choice(list(p.Key)))
        elif action == 3:
            bus.sim.press(address, p.Key.SPEAK)
            bus.sim.release(address, p.Key.SPEAK)
        elif action == 4:
            bus.sim.set_faults(address, p.Faults(rng.randrange(32)))
        elif action == 5:
            bus.sim.ignore_next_ack(address)
        elif action == 6:
            bus.sim.stop_answering(address)
            time.sleep(rng.uniform(0, 0.05))
            bus.sim.resume(address)
        else:
            bus.sim.send_garbage(rng.randbytes(rng.randrange(1, 40)))
        time.sleep(rng.uniform(0, 0.01))
    until(lambda: bus.settled(FOUR), 10)
    for address in FOUR:
        acknowledged = bus.sim.acknowledged(address)
        assert bus.heard.events(address) == acknowledged
    assert sum(len(bus.sim.acknowledged(a)) for a in FOUR) > 40


def test_run_simulator_prints_the_url_and_serves_until_stopped() -> None:
    fleet = demo_fleet(2, 7)
    out, stop = io.StringIO(), threading.Event()
    runner = threading.Thread(
        target=run_simulator,
        args=(2, 7),
        kwargs={"tcp": ("127.0.0.1", 0), "stop": stop, "out": out},
    )
    runner.start()
    try:
        url = until(lambda: out.getvalue().strip(), 5)
        assert url.startswith("socket://127.0.0.1:")
        heard = Recorder()
        master = BusMaster(
            PortSettings(url, reply_timeout=REPLY, addresses=(7, 8)),
            {s.serial: s.key for s in fleet},
            heard,
        )
        master.start()
        try:
            until(lambda: heard.online(7) and heard.online(8) and heard.of("status"), 5)
        finally:
            master.stop()
    finally:
        stop.set()
        runner.join(timeout=5)
    assert not runner.is_alive()


# --- a master that restarts while the consoles hold their sessions -------------------------------


def _master(url: str, fleet: list[SimulatedConsoleSpec]) -> tuple[BusMaster, Recorder]:
    heard = Recorder()
    master = BusMaster(
        PortSettings(url, reply_timeout=REPLY, addresses=tuple(s.address for s in fleet)),
        {s.serial: s.key for s in fleet},
        heard,
    )
    return master, heard


def _serve(simulator: ConsoleSimulator, mode: str) -> str:
    if mode == "tcp":
        host, port = simulator.serve_tcp()
        return f"socket://{host}:{port}"
    return simulator.open_pty()


@pytest.mark.parametrize("mode", ["pty", "tcp"])
def test_a_new_master_brings_back_consoles_that_hold_old_sessions(mode: str) -> None:
    """The gateway restarts: the consoles still hold the sessions of the master before, which the
    new one does not know. Its first POLL has IDENTIFY, so every console says HELLO and gets a new
    session within a second, and what was queued while no master ran arrives exactly once."""
    fleet = demo_fleet(4)
    with ConsoleSimulator(fleet) as sim:
        url = _serve(sim, mode)
        first, heard_first = _master(url, fleet)
        first.start()
        try:
            until(lambda: all(heard_first.online(a) and sim.has_session(a) for a in FOUR), 5)
            sim.tap(1, p.Key.FOR)
            until(lambda: len(sim.acknowledged(1)) == 2, 5)
        finally:
            first.stop()
        sim.insert_card(2, UID)  # while no master runs: signed under the old session
        sim.tap(3, p.Key.AGAINST)
        assert all(sim.has_session(a) for a in FOUR) and sim.pending(2) == 1

        second, heard = _master(url, fleet)
        started = time.monotonic()
        second.start()
        try:
            until(lambda: all(heard.online(a) for a in FOUR), 5)
            until(lambda: all(sim.pending(a) == 0 for a in FOUR), 5)
            settled = time.monotonic()
            until(lambda: heard.events(3), 5)
        finally:
            second.stop()
    assert max(heard.of("online", a)[0][2] for a in FOUR) - started < 1.0
    assert settled - started < 1.0  # online with a session, and the queues delivered
    assert sorted(a for a, _ in heard.of("hello")) == list(FOUR)  # one new session each
    assert heard_first.events(2) == [] and heard.events(2) == [(p.EventKind.CARD_INSERTED, UID)]
    assert [k for k, _ in heard.events(3)] == [p.EventKind.KEY_DOWN, p.EventKind.KEY_UP]
    for address in FOUR:
        assert heard_first.events(address) + heard.events(address) == sim.acknowledged(address)
    assert heard.of("refused") == []
    assert second.stats["counts"].get("identify", 0) == 0  # HELLO at the first POLL already


def test_after_a_restart_an_event_with_counter_256_is_not_taken_for_acknowledged() -> None:
    """A new master's ack byte is 0, the low byte of counter 256: a console holding such an event
    of its old session must not take that POLL as its acknowledgement (IDENTIFY: it ignores it)."""
    fleet = demo_fleet(1)
    with ConsoleSimulator(fleet) as sim:
        url = sim.open_pty()
        first, _ = _master(url, fleet)
        first.start()
        try:
            until(lambda: sim.has_session(1), 5)
            for _ in range(127):
                sim.tap(1, p.Key.FOR)
            sim.press(1, p.Key.SPEAK)
            until(lambda: len(sim.acknowledged(1)) == 255, 20)
        finally:
            first.stop()
        sim.insert_card(1, UID)
        assert sim.last_counter(1) == 256 and sim.pending(1) == 1

        second, heard = _master(url, fleet)
        second.start()
        try:
            until(lambda: heard.events(1) and sim.pending(1) == 0, 5)
        finally:
            second.stop()
    assert heard.events(1) == [(p.EventKind.CARD_INSERTED, UID)] == sim.acknowledged(1)[255:]


def test_a_console_that_ignores_identify_gets_nothing_delivered_until_its_hello() -> None:
    """A console that answers IDENTIFY with an EVENT of the session it still holds: the master
    delivers nothing, counts "identify" (no alarm) and asks again; after its HELLO and a new
    session the event arrives once."""
    fleet = demo_fleet(2)
    with ConsoleSimulator(fleet) as sim:
        url = sim.open_pty()
        first, _ = _master(url, fleet)
        first.start()
        try:
            until(lambda: sim.has_session(1) and sim.has_session(2), 5)
        finally:
            first.stop()
        sim.insert_card(2, UID)
        sim.ignore_next_identify(2)

        second, heard = _master(url, fleet)
        second.start()
        try:
            until(lambda: heard.events(2) and sim.pending(2) == 0, 5)
            until(lambda: heard.online(1) and heard.online(2), 5)
        finally:
            second.stop()
    assert second.stats["counts"]["identify"] == 1
    assert heard.events(2) == [(p.EventKind.CARD_INSERTED, UID)] == sim.acknowledged(2)
    assert heard.of("refused") == []
    assert sorted(a for a, _ in heard.of("hello")) == [1, 2]
