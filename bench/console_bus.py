"""Benchmark: seat consoles on the bus — the poll cycle against the wire's floor, and a key press
at a console to the updated count on a public display.

Both parts drive simulated consoles (hardware/simulator.py) paced as if their bytes crossed an
RS-485 wire at --baud (ConsoleSimulator(wire_baud=...): a console answers a POLL only once the
POLL's bytes, the protocol's 50 us turnaround and its own answer's bytes would have passed on the
wire). Each port's consoles run in a worker process of their own, on a pseudo-terminal, as the
consoles of a segment are hardware of their own: their pacing shares no interpreter with the bus
masters.

1. `cycle` — the bus masters (hardware/bus.py, one thread per port, all in this process as in the
   gateway) against the paced consoles, for --seconds per hall, consoles idle (STATUS answers)
   and then busy (every console taps a key, KEY_DOWN then KEY_UP, every --event-every seconds at
   a random phase). Every cycle is timed (perf_counter around BusMaster.cycle_once) and its bytes
   counted at the port (written and read), so each cycle has the floor of its own schedule:
   bytes on the wire x 10 bits / baud + 50 us turnaround per POLL. Printed per port: cycles, mean
   and p99 cycle, mean floor, ratio (mean cycle / mean floor) and per-console cost.

2. `press` — `voting serve` in a subprocess (SQLite by default, --database-url for PostgreSQL),
   a council of N deputies built through the services (bench/live_load.py's build_council: all
   registered), each with a card UID; the gateway `voting consoles` in a subprocess (as an
   operator runs it, with a keys file and the shared secret) driving the paced consoles, one
   card in every seat; one public display (a python-socketio client in a worker process)
   receiving `snapshot` pushes. The secretary opens a roll-call vote over HTTP; every console
   presses a vote key once (KEY_DOWN, KEY_UP 120 ms later), at moments spread evenly over
   --spread seconds in random order. Measured, on CLOCK_MONOTONIC (shared by the processes):
   - press -> display: from just before the simulator's press() to the first snapshot the
     display receives whose `votes_cast` covers that cast. The order of the casts is the order
     of their journal entries (one transaction's casts become visible together), read from the
     database afterwards: a cast of rank k is covered by a count >= k;
   - press -> light: to the moment the console's choice light is first seen lit (the gateway
     lights it after the server's answer, which comes after the commit; a watcher in the
     console's process looks every 2 ms);
   - press -> journal: to the cast's journal time (the transaction's clock, wall time mapped to
     CLOCK_MONOTONIC), the part before the commit; journal -> display is the push.

    cd /tmp
    /work/main/.venv/bin/python /work/main/bench/console_bus.py cycle
    /work/main/.venv/bin/python /work/main/bench/console_bus.py press [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]

Not a test: it prints figures. Only 127.0.0.1 and pseudo-terminals; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

# This run journals with a key of its own (config.toml [journal] key_env), shared by the runtime
# built here and the server processes it starts.
os.environ.setdefault("VOTING_JOURNAL_KEY", secrets.token_urlsafe(32))

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from live_load import (  # noqa: E402 - the sibling script, found through the line above
    STDLIB_JSON,
    Server,
    api_caller,
    build_council,
    fresh_postgres,
    now,
    percentile,
)

from hardware import protocol  # noqa: E402
from hardware.bus import PortSettings  # noqa: E402

TURNAROUND = 50e-6  # s: docs/console-protocol.md section 3 and 9
MODBUS_PER_CONSOLE = 0.0055  # s: a Modbus-RTU-style poll at 115200 baud (the issue: 5-6 ms)
KEYS = (protocol.Key.FOR, protocol.Key.AGAINST, protocol.Key.ABSTAIN)
KEY_LIGHT = {
    protocol.Key.FOR: protocol.Lights.FOR,
    protocol.Key.AGAINST: protocol.Lights.AGAINST,
    protocol.Key.ABSTAIN: protocol.Lights.ABSTAIN,
}


def card(seat: int) -> bytes:
    """A 7-byte card UID (MIFARE-like) for the deputy of `seat`."""
    return bytes([0x04, 0xA0, 0, 0, 0, seat >> 8, seat & 0xFF])


def wire_bytes(frame: protocol.Frame) -> int:
    return len(protocol.encode(frame))


def idle_floor_per_console(baud: int) -> float:
    poll = wire_bytes(protocol.Poll(1, 0, protocol.Lights(0), 0))
    status = wire_bytes(protocol.Status(1, protocol.Inputs(0), protocol.Faults(0)))
    return (poll + status) * 10 / baud + TURNAROUND


def split(total: int, ports: int) -> list[int]:
    return [total // ports + (1 if i < total % ports else 0) for i in range(ports)]


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


# --- the consoles of one port (a worker process) -------------------------------------------------


def console_worker(
    conn: Connection, count: int, first_serial: int, baud: int | None, spin: float
) -> None:
    """`count` paced consoles at addresses 1..count on a pty; answers the main process's
    commands until told to stop."""
    from hardware import simulator as simulation
    from hardware.simulator import ConsoleSimulator, demo_fleet

    simulation.WIRE_SPIN = spin  # --spin-us: how long the pacing spins before each answer

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fleet = demo_fleet(count, 1, first_serial=first_serial)
    simulator = ConsoleSimulator(fleet, wire_baud=baud)
    conn.send({"url": simulator.open_pty()})
    stop = threading.Event()
    pressed: dict[int, float] = {}
    lit: dict[int, float] = {}
    watch: dict[int, protocol.Lights] = {}
    lock = threading.Lock()

    def tapping(every: float, until: float) -> None:
        """Every console taps a key every `every` seconds, each at its own phase."""
        rng = random.Random(first_serial)
        due = sorted((now() + rng.uniform(0, every), a) for a in range(1, count + 1))
        while due and not stop.is_set():
            at, address = due.pop(0)
            if at > until:
                break
            time.sleep(max(0.0, at - now()))
            simulator.tap(address, protocol.Key.FOR)
            due.append((at + every, address))
            due.sort()

    def pressing(schedule: list[tuple[int, int, float]]) -> None:
        releases: list[tuple[float, int, int]] = []
        for address, key, at in sorted(schedule, key=lambda s: s[2]):
            while releases and releases[0][0] <= at:
                due_at, a, k = releases.pop(0)
                time.sleep(max(0.0, due_at - now()))
                simulator.release(a, protocol.Key(k))
            time.sleep(max(0.0, at - now()))
            with lock:
                watch[address] = KEY_LIGHT[protocol.Key(key)]
                pressed[address] = now()  # just before the press
            simulator.press(address, protocol.Key(key))
            releases.append((now() + 0.12, address, key))
        for at, a, k in releases:
            time.sleep(max(0.0, at - now()))
            simulator.release(a, protocol.Key(k))

    def watching() -> None:
        while not stop.wait(0.002):
            with lock:
                waiting = list(watch.items())
            for address, light in waiting:
                if light in simulator.lights(address):
                    seen = now()
                    with lock:
                        lit[address] = seen
                        watch.pop(address, None)

    threading.Thread(target=watching, daemon=True).start()
    try:
        while True:
            message = conn.recv()
            command = message["cmd"]
            if command == "cards":
                for address, uid in message["cards"].items():
                    simulator.insert_card(address, uid)
                conn.send({})
            elif command == "tap":
                threading.Thread(
                    target=tapping, args=(message["every"], message["until"]), daemon=True
                ).start()
                conn.send({})
            elif command == "press":
                threading.Thread(target=pressing, args=(message["schedule"],), daemon=True).start()
                conn.send({})
            elif command == "lit":
                flag = protocol.Lights(message["flag"])
                conn.send({"count": sum(flag in simulator.lights(a) for a in range(1, count + 1))})
            elif command == "collect":
                with lock:
                    conn.send({"pressed": dict(pressed), "lit": dict(lit)})
            elif command == "stop":
                break
    finally:
        stop.set()
        simulator.close()
        conn.send({"stopped": True})


class Consoles:
    """One worker process per port."""

    def __init__(self, counts: list[int], baud: int | None, spin: float) -> None:
        context = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes: list[Any] = []
        self.urls: list[str] = []
        first_serial = 1
        for count in counts:
            parent, child = context.Pipe()
            process = context.Process(
                target=console_worker,
                args=(child, count, first_serial, baud, spin),
                daemon=True,
            )
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)
            first_serial += count
        for pipe in self.pipes:
            self.urls.append(self.receive(pipe)["url"])
        self.counts = counts

    @staticmethod
    def receive(pipe: Connection, timeout: float = 60) -> dict[str, Any]:
        if not pipe.poll(timeout):
            raise SystemExit("a console worker did not answer in time")
        answer: dict[str, Any] = pipe.recv()
        return answer

    def ask(self, index: int, message: dict[str, Any]) -> dict[str, Any]:
        self.pipes[index].send(message)
        return self.receive(self.pipes[index])

    def ask_all(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        for pipe in self.pipes:
            pipe.send(message)
        return [self.receive(pipe) for pipe in self.pipes]

    def keys(self) -> dict[bytes, bytes]:
        from hardware.simulator import demo_fleet

        fleet = demo_fleet(sum(self.counts))  # serials 1.. in the order of the ports
        return {spec.serial: spec.key for spec in fleet}

    def stop(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send({"cmd": "stop"})
                self.receive(pipe, timeout=10)
            except (SystemExit, OSError, EOFError):
                pass
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


# --- part 1: the cycle --------------------------------------------------------------------------


class CountingPort:
    """A pyserial port that counts the bytes written and read (for the floor of each cycle)."""

    def __init__(self, port: Any) -> None:
        self._port = port
        self.written = 0
        self.read_ = 0

    def write(self, data: bytes) -> int | None:
        self.written += len(data)
        written: int | None = self._port.write(data)
        return written

    def read(self, size: int = 1) -> bytes:
        data: bytes = self._port.read(size)
        self.read_ += len(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)


@dataclass
class CycleSample:
    seconds: float
    written: int
    read: int
    polls: int


def timed_master_class() -> type:
    from hardware.bus import BusMaster, open_serial

    class TimedMaster(BusMaster):
        """A bus master that times each cycle and counts its bytes while `recording`."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.counting: CountingPort | None = None

            def open_port(settings: Any) -> CountingPort:
                self.counting = CountingPort(open_serial(settings))
                return self.counting

            super().__init__(*args, open_port=open_port, **kwargs)
            self.recording = False
            self.samples: list[CycleSample] = []

        def cycle_once(self) -> None:
            port = self.counting
            if not self.recording or port is None:
                super().cycle_once()
                return
            written, read = port.written, port.read_
            started = time.perf_counter()
            super().cycle_once()
            elapsed = time.perf_counter() - started
            self.samples.append(
                CycleSample(
                    elapsed,
                    port.written - written,
                    port.read_ - read,
                    len(self.settings.addresses),
                )
            )

    return TimedMaster


class Quiet:
    """A bus listener that counts deliveries and nothing else."""

    def __init__(self) -> None:
        self.delivered = 0

    def console_event(self, *_args: Any) -> None:
        self.delivered += 1

    def __getattr__(self, _name: str) -> Callable[..., None]:
        return lambda *_args: None


@dataclass
class CycleRow:
    consoles: int
    ports: int
    load: str
    per_port: list[list[CycleSample]] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    delivered: int = 0
    misses: int = 0


def run_cycle(args: argparse.Namespace, total: int, ports: int) -> list[CycleRow]:
    counts = split(total, ports)
    consoles = Consoles(counts, args.baud, args.spin_us / 1e6)
    keys = consoles.keys()
    timed = timed_master_class()
    masters = []
    listeners = []
    try:
        for url, count in zip(consoles.urls, counts, strict=True):
            settings = PortSettings(
                url=url,
                baudrate=args.baud,
                reply_timeout=args.reply_timeout / 1000,
                addresses=tuple(range(1, count + 1)),
            )
            listener = Quiet()
            master = timed(settings, keys, listener)
            masters.append(master)
            listeners.append(listener)
        for master in masters:
            master.start()
        deadline = now() + 30
        while now() < deadline and not all(
            m.stats["cycles"] >= 3 and all(m.stats["online"].values()) for m in masters
        ):
            time.sleep(0.1)
        if not all(all(m.stats["online"].values()) for m in masters):
            raise SystemExit("not every console came online")
        rows = []
        for load in ("idle", "events"):
            if load == "events":
                consoles.ask_all(
                    {"cmd": "tap", "every": args.event_every, "until": now() + args.seconds + 5}
                )
                time.sleep(1.0)  # every console's tapping under way
            misses = [m.stats["counts"].get("miss", 0) for m in masters]
            delivered = [listener.delivered for listener in listeners]
            for master in masters:
                master.samples = []
                master.recording = True
            time.sleep(args.seconds)
            for master in masters:
                master.recording = False
            row = CycleRow(total, ports, load)
            for master in masters:
                row.per_port.append(list(master.samples)[1:])  # the first may have begun earlier
                row.counts.append(len(master.settings.addresses))
            row.misses = sum(m.stats["counts"].get("miss", 0) for m in masters) - sum(misses)
            row.delivered = sum(x.delivered for x in listeners) - sum(delivered)
            rows.append(row)
        return rows
    finally:
        for master in masters:
            master.stop()
        consoles.stop()


def cycle_report(args: argparse.Namespace, rows: list[CycleRow]) -> None:
    baud = args.baud
    per_console_floor = idle_floor_per_console(baud)
    print(
        f"\nPoll cycle at {baud} baud, reply timeout {args.reply_timeout:g} ms, "
        f"{args.seconds:g} s per measurement; idle floor per console "
        f"{per_console_floor * 1000:.3f} ms (POLL 10 + STATUS 9 bytes, x10/baud, + 50 us)"
    )
    header = (
        "| consoles | ports | load | cycles per port | cycle mean | cycle p99 | floor | ratio "
        "| ms per console | events delivered | misses |"
    )
    print(header)
    print("|" + "---|" * 11)
    for row in rows:
        means, p99s, floors, cycles = [], [], [], []
        for samples in row.per_port:
            times = [s.seconds for s in samples]
            means.append(statistics.fmean(times))
            p99s.append(percentile(times, 99))
            floors.append(
                statistics.fmean(
                    (s.written + s.read) * 10 / baud + s.polls * TURNAROUND for s in samples
                )
            )
            cycles.append(len(samples))
        per_console = [m / c for m, c in zip(means, row.counts, strict=True)]
        ratios = [m / f for m, f in zip(means, floors, strict=True)]

        def span(values: list[float], scale: float = 1000, digits: int = 1) -> str:
            low, high = min(values) * scale, max(values) * scale
            if round(low, digits) == round(high, digits):
                return f"{low:.{digits}f}"
            return f"{low:.{digits}f}–{high:.{digits}f}"

        print(
            f"| {row.consoles} | {row.ports} × {row.counts[0]} | {row.load} "
            f"| {min(cycles)}–{max(cycles)} | {span(means)} ms | {span(p99s)} ms "
            f"| {span(floors)} ms | {span(ratios, 1, 2)} | {span(per_console, 1000, 2)} "
            f"| {row.delivered} | {row.misses} |",
            flush=True,
        )
    print(
        f"For scale: a Modbus-RTU-style poll at {MODBUS_PER_CONSOLE * 1000:.1f} ms per console "
        f"would take {MODBUS_PER_CONSOLE * 120:.2f} s for 120 consoles on one port."
    )


# --- part 2: key press -> display ---------------------------------------------------------------


def display_worker(base: str, conn: Connection) -> None:
    asyncio.run(_display_main(base, conn))


async def _display_main(base: str, conn: Connection) -> None:
    import socketio

    loop = asyncio.get_running_loop()
    seen: list[tuple[float, int, int | None, str | None, int | None]] = []
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False, json=STDLIB_JSON)

    @client.on("snapshot")
    def snapshot(data: dict[str, Any]) -> None:
        arrived = now()
        vote = (data.get("state") or {}).get("vote") or {}
        seen.append(
            (
                arrived,
                data.get("seq", -1),
                vote.get("vote_id"),
                vote.get("state"),
                vote.get("votes_cast"),
            )
        )

    await client.connect(base, transports=["websocket"], wait_timeout=30)
    conn.send({"connected": True})
    while True:
        message = await loop.run_in_executor(None, conn.recv)
        if message["cmd"] == "seen":
            conn.send({"seen": list(seen)})
        elif message["cmd"] == "stop":
            await client.disconnect()
            conn.send({"stopped": True})
            return


@dataclass
class PressResult:
    consoles: int
    ports: int
    database: str
    press_display: list[float]
    press_light: list[float]
    press_journal: list[float]
    journal_display: list[float]
    snapshots: int
    unlit: int
    uncovered: int
    casts: int
    trouble: int = 0  # console_bus_trouble entries journaled (late answers, noise …)
    offline: int = 0  # console_offline entries journaled


def run_press(args: argparse.Namespace, total: int, ports: int) -> PressResult:
    from hardware.keys import write_keys
    from voting.bootstrap import build_runtime
    from voting.config import database_config
    from voting.domain.actors import Actor, Role
    from voting.services import council
    from voting.services.commands import ChangeDeputy
    from voting.services.journal import read_journal

    folder = Path(tempfile.mkdtemp(prefix="voting-console-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    if url.startswith("postgresql"):
        fresh_postgres(url)
    started = now()
    hall = build_council(url, total)
    deputies = sorted(hall.deputies)  # deputy i+1 sits in seat i+1 (added in seat order)
    secretary = Actor(Role.SECRETARY, "secretary:bench")
    rt = build_runtime(database_config(url))
    try:
        for seat, deputy in enumerate(deputies, start=1):
            council.update_deputy(
                rt.uow(),
                secretary,
                ChangeDeputy.parse({"card_uid": card(seat).hex()}, deputy_id=deputy),
            )
    finally:
        rt.stop()
    print(f"council built: {total} deputies with cards, {now() - started:.1f} s", flush=True)

    instance = folder / "instance"
    instance.mkdir()
    (instance / "console-gateway.secret").write_text("bench-secret\n", encoding="utf-8")
    config = folder / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n\n[server]\ninstance_path = "{instance}"\n'
        f'host = "127.0.0.1"\n\n[consoles]\nreply_timeout_ms = {int(args.reply_timeout)}\n',
        encoding="utf-8",
    )
    counts = split(total, ports)
    if len(set(counts)) != 1:
        raise SystemExit("`voting consoles --count` takes one count per port: divide evenly")
    server = Server(url, folder)  # `voting serve` in `folder`: it reads ./config.toml
    consoles: Consoles | None = None
    gateway: subprocess.Popen[bytes] | None = None
    display: Any = None
    display_pipe: Connection | None = None
    try:
        base = server.wait_ready()
        print(f"server: pid {server.process.pid} at {base}", flush=True)
        context = mp.get_context("spawn")
        display_pipe, child = context.Pipe()
        display = context.Process(target=display_worker, args=(base, child), daemon=True)
        display.start()
        Consoles.receive(display_pipe)
        consoles = Consoles(counts, args.baud, args.spin_us / 1e6)
        keys_file = folder / "console-keys.toml"
        write_keys(keys_file, consoles.keys())
        argv = [sys.executable, "-m", "voting", "consoles", "--config", str(config)]
        for port_url in consoles.urls:
            argv += ["--port", port_url]
        argv += ["--count", str(counts[0]), "--keys", str(keys_file), "--server-url", base]
        gateway_log = (folder / "gateway.log").open("wb")
        gateway = subprocess.Popen(
            argv, cwd=folder, stdout=gateway_log, stderr=subprocess.STDOUT, env=server_env()
        )
        seat = 1
        for index, count in enumerate(counts):
            consoles.ask(
                index,
                {"cmd": "cards", "cards": {a: card(seat + a - 1) for a in range(1, count + 1)}},
            )
            seat += count
        result = asyncio.run(
            press_round(args, base, hall.secretary, hall.sitting, total, consoles, display_pipe)
        )
        vote_id, pressed, lit, seen = result
        rt = build_runtime(database_config(url))
        try:
            entries: list[Any] = read_journal(rt.reader(), limit=1_000_000)
        finally:
            rt.stop()
    finally:
        if gateway is not None:
            gateway.send_signal(signal.SIGTERM)
            try:
                gateway.wait(timeout=20)
            except subprocess.TimeoutExpired:
                gateway.kill()
        if consoles is not None:
            consoles.stop()
        if display_pipe is not None:
            try:
                display_pipe.send({"cmd": "stop"})
                Consoles.receive(display_pipe, timeout=10)
            except (SystemExit, OSError, EOFError):
                pass
        if display is not None:
            display.join(timeout=10)
        server.stop()
    if args.keep:
        print(f"kept: {folder} (server.log, gateway.log)", flush=True)
    else:
        shutil.rmtree(folder, ignore_errors=True)

    # The casts in commit order: the journal's order; a cast of rank k is in any count >= k.
    wall_to_mono = time.time() - now()
    casts = [
        e for e in entries if e["kind"] == "choice_cast" and e["payload"].get("vote_id") == vote_id
    ]
    rank: dict[int, int] = {}
    journal_at: dict[int, float] = {}
    for k, entry in enumerate(casts, start=1):
        deputy = int(entry["payload"]["deputy_id"])
        seat_of = deputies.index(deputy) + 1
        rank[seat_of] = k
        at: Any = entry["at"]
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        journal_at[seat_of] = at.timestamp() - wall_to_mono
    counts_seen = [(t, n) for t, _seq, v, state, n in seen if v == vote_id and n is not None]
    press_display, press_light, press_journal, journal_display = [], [], [], []
    uncovered = 0
    for seat_no, pressed_at in pressed.items():
        if seat_no in lit:
            press_light.append(lit[seat_no] - pressed_at)
        if seat_no not in rank:
            uncovered += 1
            continue
        press_journal.append(journal_at[seat_no] - pressed_at)
        shown = next((t for t, n in counts_seen if t >= pressed_at and n >= rank[seat_no]), None)
        if shown is None:
            uncovered += 1
            continue
        press_display.append(shown - pressed_at)
        journal_display.append(shown - journal_at[seat_no])
    return PressResult(
        total,
        ports,
        "PostgreSQL" if url.startswith("postgresql") else "SQLite",
        press_display,
        press_light,
        press_journal,
        journal_display,
        len(counts_seen),
        len(pressed) - len(press_light),
        uncovered,
        len(casts),
        sum(e["kind"] == "console_bus_trouble" for e in entries),
        sum(e["kind"] == "console_offline" for e in entries),
    )


def server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOTING_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


async def press_round(
    args: argparse.Namespace,
    base: str,
    token: str,
    sitting: int,
    total: int,
    consoles: Consoles,
    display: Connection,
) -> tuple[int, dict[int, float], dict[int, float], list[Any]]:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        secretary = api_caller(http, base, token)
        deadline = now() + 120
        while True:  # every seat online with its card known
            seats = (await secretary("GET", "/consoles"))["seats"]
            ready = [s for s in seats if s["online"] and s["deputy_id"] is not None]
            if len(ready) >= total:
                break
            if now() > deadline:
                raise SystemExit(f"only {len(ready)} of {total} seats online with a card")
            await asyncio.sleep(0.5)
        vote = await secretary(
            "POST", f"/sittings/{sitting}/votes", {"title": "Бенчмарк пультів", "kind": "roll_call"}
        )
        vote_id = vote["vote_id"]
        deadline = now() + 30
        while (
            sum(
                a["count"]
                for a in consoles.ask_all({"cmd": "lit", "flag": int(protocol.Lights.VOTE_OPEN)})
            )
            < total
        ):
            if now() > deadline:
                raise SystemExit("not every console shows the vote open")
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # the opening's pushes are over
        seats = list(range(1, total + 1))
        random.shuffle(seats)
        start = now() + 0.5
        moment = {s: start + args.spread * i / total for i, s in enumerate(seats)}
        first = 1
        for index, count in enumerate(consoles.counts):
            schedule = [
                (a, int(KEYS[(first + a - 1) % 3]), moment[first + a - 1])
                for a in range(1, count + 1)
            ]
            consoles.ask(index, {"cmd": "press", "schedule": schedule})
            first += count
        await asyncio.sleep(max(0.0, start + args.spread - now()))
        deadline = now() + 30
        pressed: dict[int, float] = {}
        lit: dict[int, float] = {}
        while True:
            pressed, lit = {}, {}
            first = 1
            for index, count in enumerate(consoles.counts):
                got = consoles.ask(index, {"cmd": "collect"})
                pressed.update({first + a - 1: t for a, t in got["pressed"].items()})
                lit.update({first + a - 1: t for a, t in got["lit"].items()})
                first += count
            if len(lit) >= total or now() > deadline:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.5)  # the last coalesced push
        display.send({"cmd": "seen"})
        seen = Consoles.receive(display)["seen"]
        await secretary("POST", f"/votes/{vote_id}/close")
        return vote_id, pressed, lit, seen


def stats_line(values: list[float]) -> str:
    if not values:
        return "—"
    return (
        f"{fmt_ms(statistics.median(values))} / {fmt_ms(percentile(values, 95))} / "
        f"{fmt_ms(percentile(values, 99))} / {fmt_ms(max(values))} ms"
    )


def press_report(results: list[PressResult], spread: float) -> None:
    print(f"\nKey press -> display (presses spread over {spread:g} s; p50 / p95 / p99 / max)")
    print(
        "| consoles | ports | database | press → display | press → light (gateway ack) "
        "| press → journal | journal → display | casts | snapshots with the vote |"
    )
    print("|" + "---|" * 9)
    for r in results:
        print(
            f"| {r.consoles} | {r.ports} | {r.database} | {stats_line(r.press_display)} "
            f"| {stats_line(r.press_light)} | {stats_line(r.press_journal)} "
            f"| {stats_line(r.journal_display)} | {r.casts} | {r.snapshots} |",
            flush=True,
        )
        if r.unlit or r.uncovered:
            print(f"  ({r.unlit} lights never seen lit, {r.uncovered} casts never shown)")
        print(
            f"  journaled during the run: {r.trouble} console_bus_trouble, "
            f"{r.offline} console_offline"
        )


# --- main ---------------------------------------------------------------------------------------


def hall_spec(text: str) -> list[tuple[int, int]]:
    """Halls as consoles:ports, e.g. "50:1,120:2,450:5" -> [(50, 1), (120, 2), (450, 5)]."""
    halls = []
    for part in text.split(","):
        consoles, _, ports = part.partition(":")
        halls.append((int(consoles), int(ports or 1)))
    return halls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["cycle", "press", "all"], nargs="?", default="all")
    parser.add_argument("--baud", type=int, default=115200, help="the simulated wire's rate")
    parser.add_argument(
        "--reply-timeout",
        type=float,
        default=PortSettings.reply_timeout * 1000,
        help="the masters' reply timeout, ms (default: the bus master's, 20)",
    )
    parser.add_argument(
        "--halls",
        type=hall_spec,
        default=hall_spec("50:1,120:2,450:5"),
        help="cycle: consoles:ports, comma-separated (default 50:1,120:2,450:5)",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="cycle: per measurement")
    parser.add_argument(
        "--event-every", type=float, default=3.0, help="cycle: seconds between a console's taps"
    )
    parser.add_argument(
        "--press-halls",
        type=hall_spec,
        default=hall_spec("120:2,450:5"),
        help="press: consoles:ports (default 120:2,450:5)",
    )
    parser.add_argument(
        "--spread", type=float, default=3.0, help="press: the presses spread over this many s"
    )
    parser.add_argument("--database-url", default="", help="press: default SQLite")
    parser.add_argument(
        "--spin-us",
        type=float,
        default=200.0,
        help="the paced consoles spin this long before each answer instead of sleeping "
        "(default 200 us, the simulator's WIRE_SPIN; 0: sleep only, answers a little late)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="press: keep the temporary folder and its logs"
    )
    parser.add_argument("--max-seconds", type=float, default=1200.0)
    args = parser.parse_args()

    def out_of_time(*_: object) -> None:
        raise SystemExit(f"stopped after --max-seconds {args.max_seconds:g}")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(int(args.max_seconds))
    print(f"load before: {os.getloadavg()[0]:.2f} (1 min)", flush=True)
    if args.part in ("cycle", "all"):
        rows = []
        for total, ports in args.halls:
            rows += run_cycle(args, total, ports)
            print(f"  measured {total} consoles on {ports} port(s)", flush=True)
        cycle_report(args, rows)
    if args.part in ("press", "all"):
        results = [run_press(args, total, ports) for total, ports in args.press_halls]
        press_report(results, args.spread)
    signal.alarm(0)
    print(f"load after: {os.getloadavg()[0]:.2f} (1 min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
