"""The simulator's optional wire pacing (ConsoleSimulator(wire_baud=...), for bench/console_bus.py):
with it a poll cycle takes at least the time its bytes need on the wire; without it (the default)
the simulator answers at once, as before."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hardware import protocol as p
from hardware.bus import BusMaster, PortSettings
from hardware.simulator import TURNAROUND, ConsoleSimulator, demo_fleet

CONSOLES = 10
SLOW = 9600  # baud: slow enough that the wire dominates any scheduling noise
POLL_WIRE = len(p.encode(p.Poll(1, 0, p.Lights(0), 0)))  # 10 bytes with COBS and delimiter
STATUS_WIRE = len(p.encode(p.Status(1, p.Inputs(0), p.Faults(0))))  # 9
#: One idle cycle's floor: every console's POLL and STATUS on the wire, plus the turnaround.
FLOOR = CONSOLES * ((POLL_WIRE + STATUS_WIRE) * 10 / SLOW + TURNAROUND)


class Quiet:
    def __getattr__(self, _name: str) -> Any:
        return lambda *_args: None


def idle_cycle_seconds(wire_baud: int | None) -> float:
    """The shortest of three idle cycles (every console online with a session, answering
    STATUS) of a bus master over a pty to simulated consoles."""
    fleet = demo_fleet(CONSOLES)
    with ConsoleSimulator(fleet, wire_baud=wire_baud) as simulator:
        url = simulator.open_pty()
        settings = PortSettings(url, reply_timeout=0.1, addresses=tuple(range(1, CONSOLES + 1)))
        master = BusMaster(settings, {s.serial: s.key for s in fleet}, Quiet())
        try:
            for _ in range(3):  # HELLO, then SESSION: then every console answers STATUS
                master.cycle_once()
            assert all(master.stats["online"].values())
            times = []
            for _ in range(3):
                started = time.perf_counter()
                master.cycle_once()
                times.append(time.perf_counter() - started)
            assert master.stats["counts"].get("miss", 0) == 0
            return min(times)
        finally:
            master.stop()


def test_the_floor_is_what_the_protocol_says() -> None:
    assert (POLL_WIRE, STATUS_WIRE) == (10, 9)  # docs/console-protocol.md section 8
    assert FLOOR == pytest.approx(0.1984, abs=1e-4)


def test_a_paced_cycle_takes_at_least_the_wire_time() -> None:
    assert idle_cycle_seconds(SLOW) >= FLOOR


def test_without_pacing_the_simulator_answers_at_once() -> None:
    assert ConsoleSimulator(demo_fleet(1)).wire_baud is None
    assert idle_cycle_seconds(None) < FLOOR / 4


def test_wire_baud_must_be_positive() -> None:
    with pytest.raises(ValueError, match="wire_baud"):
        ConsoleSimulator(demo_fleet(1), wire_baud=0)
