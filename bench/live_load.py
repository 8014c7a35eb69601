"""Benchmark: a full hall over live websockets — 450 deputies vote within one second while 1,000
displays watch.

One server process (`voting serve`, exactly as an operator starts it) on 127.0.0.1 over SQLite or
PostgreSQL. The bench first builds the council through the services: 450 deputies, an open
sitting, every deputy registered by the secretary (before any screen is connected: each
registration is an event for every screen), one token per deputy and one for the secretary. Then
it starts the server and connects real python-socketio clients over websockets: the displays (no
token) in worker processes of their own, the deputies (with their tokens) in the main process.
Each round the secretary opens a roll-call vote (or a secret ballot) over HTTP, every deputy casts
once over the socket at a moment spread evenly over one second, in random order, and when every
cast is acknowledged the secretary closes the vote over HTTP.

It reports p50/p99/max of choice sent -> acknowledgement received, and of close pressed -> the
result arriving on each display (the max is the last display), with the counts: every vote
acknowledged, every display got the result, the result equals the acknowledged choices, and
whether any display saw a snapshot older than one it had shown. Displays are public screens: they
receive the pushed snapshots (coalesced by the server); `event`/`events` are still understood, for
comparing with older servers.

    .venv/bin/python bench/live_load.py                                  # SQLite, 3 rounds
    .venv/bin/python bench/live_load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Not a test: it prints figures, and exits non-zero if a vote was not acknowledged or a display
missed a result. It only talks to 127.0.0.1, bounds every wait (--max-seconds for the whole run),
and stops the server itself. Needs the `bench` extra (`pip install -e ".[bench]"`: aiohttp for
the asyncio clients). The PostgreSQL database (`bench` by default) is created if missing and its
`public` schema is emptied.

All times are CLOCK_MONOTONIC, shared by the processes of this machine. The clients share the
machine's cores with the server: their own event-loop delay is part of every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import re
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

# This run journals with a key of its own (config.toml [journal] key_env), shared by the runtime
# built here and the server processes it starts.
os.environ.setdefault("VOTING_JOURNAL_KEY", secrets.token_urlsafe(32))

HOST = "127.0.0.1"
CHOICES = ("for", "against", "abstain")
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"


#: The clients decode with the standard library's json (its C decoder), as a browser decodes
#: with its own native parser. python-socketio's default decoder checks the length of every
#: integer in Python (a guard against huge numbers from a hostile peer): that spent 70% of the
#: displays' processes on decoding snapshots, three times the server's CPU, on the same two
#: cores (docs/benchmarks.md).
STDLIB_JSON = json


def now() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def summary(values: list[float]) -> str:
    if not values:
        return "no samples"
    return (
        f"p50 {ms(statistics.median(values))}  p99 {ms(percentile(values, 99))}  "
        f"max {ms(max(values))}"
    )


# --- the council -------------------------------------------------------------------------------


def fresh_postgres(url: str) -> None:
    """An empty `public` schema in the bench database (created if missing)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        ).first():
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@dataclass
class Council:
    sitting: int
    deputies: dict[int, str]  # deputy id -> token
    secretary: str


def build_council(url: str, deputies: int) -> Council:
    """Through the services, as `voting init` and the roster import would; then the runtime goes."""
    from voting.adapters.schema import upgrade
    from voting.bootstrap import build_runtime
    from voting.config import database_config
    from voting.domain.actors import SYSTEM, Actor
    from voting.services import auth, council, registration, sittings
    from voting.services.commands import (
        AddDeputy,
        CreateConvocation,
        CreateSession,
        CreateSitting,
        CreateToken,
        OpenRegistration,
        Register,
    )

    secretary = Actor("secretary", "secretary:bench")
    rt = build_runtime(database_config(url))
    try:
        upgrade(rt.engine)
        council.create_council(
            rt.uow(),
            SYSTEM,
            {
                "name": "Бенчмарк міська рада",
                "edrpou": "12345678",
                "katottg": "UA12345678901234567",
                "statutory_deputies": deputies,
            },
        )
        ids = [
            council.add_deputy(
                rt.uow(),
                secretary,
                AddDeputy.parse(
                    {
                        "full_name": f"Депутатенко{n:03d} Іван Петрович",
                        "seat_number": n,
                        "voting_identifier": f"dep-{n}",
                    }
                ),
            )
            for n in range(1, deputies + 1)
        ]
        convocation = sittings.create_convocation(
            rt.uow(),
            secretary,
            CreateConvocation.parse(
                {"number": 8, "label": "VIII скликання", "date_from": "2020-12-01"}
            ),
        )
        session = sittings.create_session(
            rt.uow(), secretary, CreateSession.parse({"convocation_id": convocation, "number": 1})
        )
        sitting = sittings.create_sitting(
            rt.uow(), secretary, CreateSitting.parse({"date": "2026-11-25", "session_id": session})
        )
        sittings.open_sitting(rt.uow(), secretary, sitting)
        # Registered before the screens connect: every registration is an event to every screen.
        registration.open_registration(
            rt.uow(), secretary, OpenRegistration.parse({}, sitting_id=sitting)
        )
        for deputy_id in ids:
            registration.register(
                rt.uow(), secretary, Register.parse({"deputy_id": deputy_id}, sitting_id=sitting)
            )
        registration.close_registration(rt.uow(), secretary, sitting)
        tokens = {
            d: auth.create_token(
                rt.uow(), SYSTEM, CreateToken.parse({"role": "deputy", "deputy_id": d})
            )
            for d in ids
        }
        return Council(
            sitting,
            tokens,
            auth.create_token(rt.uow(), SYSTEM, CreateToken.parse({"role": "secretary"})),
        )
    finally:
        rt.stop()


# --- the server --------------------------------------------------------------------------------


class Server:
    """`voting serve` in a subprocess on 127.0.0.1, any free port."""

    def __init__(self, url: str, folder: Path, command: str = "") -> None:
        env = {**os.environ, "VOTING_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
        env.pop("VOTING_CONFIG", None)
        self.log_path = folder / "server.log"
        self.log = self.log_path.open("w")
        # The server runs in the temporary folder: paths given relative to here are made absolute.
        argv = (
            [str(Path(a).absolute()) if Path(a).exists() else a for a in shlex.split(command)]
            if command
            else [sys.executable, "-m", "voting", "serve", "--host", HOST, "--port", "0"]
        )
        self.process = subprocess.Popen(
            argv, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=self.log, text=True
        )
        self.base = ""

    def wait_ready(self, timeout: float = 60) -> str:
        deadline = now() + timeout
        assert self.process.stdout is not None
        while now() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            found = re.search(r"Serving on (http://127\.0\.0\.1:\d+)", line)
            if found:
                self.base = found.group(1)
                return self.base
        self.stop()
        raise SystemExit(
            f"the server did not start; see {self.log_path}:\n" + self.log_path.read_text()[-3000:]
        )

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/task"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # `voting serve` stops on SIGTERM
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


# --- the displays (worker processes) -----------------------------------------------------------


@dataclass
class DisplayState:
    snapshots: int = 0
    events: int = 0
    gaps: int = 0
    last_seq: int | None = None
    closed: dict[int, tuple[float, dict[str, Any]]] = field(default_factory=dict)


def display_worker(base: str, count: int, conn: Connection, nice: int = 0) -> None:
    """Hold `count` public displays; answer the main process's questions about results."""
    os.nice(nice)
    asyncio.run(_display_main(base, count, conn))


async def _display_main(base: str, count: int, conn: Connection) -> None:
    import aiohttp
    import socketio

    loop = asyncio.get_running_loop()
    states = [DisplayState() for _ in range(count)]
    clients: list[socketio.AsyncClient] = []
    arrived = asyncio.Event()

    def make(state: DisplayState) -> socketio.AsyncClient:
        client = socketio.AsyncClient(
            reconnection=False, handle_sigint=False, http_session=http, json=STDLIB_JSON
        )

        @client.on("snapshot")
        def snapshot(data: dict[str, Any]) -> None:
            # The public audience gets pushed snapshots; one older than the last is dropped, as
            # the screens do (counted as a gap: it should not happen within one process).
            state.snapshots += 1
            if state.last_seq is not None and data["seq"] < state.last_seq:
                state.gaps += 1
                return
            state.last_seq = data["seq"]
            vote = (data.get("state") or {}).get("vote")
            if vote and vote["state"] == "closed" and vote["vote_id"] not in state.closed:
                result = vote["result"]
                state.closed[vote["vote_id"]] = (
                    now(),
                    {
                        **result,
                        "vote_id": vote["vote_id"],
                        "total_composition": vote["total_composition"],
                    },
                )
                arrived.set()

        @client.on("event")
        def event(data: dict[str, Any]) -> None:
            state.events += 1
            if state.last_seq is not None and data["seq"] != state.last_seq + 1:
                state.gaps += 1  # a real screen would ask for a fresh snapshot here
            state.last_seq = data["seq"]
            if data["kind"] == "vote_closed":
                state.closed[data["payload"]["vote_id"]] = (now(), data["payload"])
                arrived.set()

        @client.on("events")
        def events(batch: list[dict[str, Any]]) -> None:  # a server that coalesces its events
            for data in batch:
                event(data)

        return client

    connector = aiohttp.TCPConnector(limit=0)
    http = aiohttp.ClientSession(connector=connector)
    started = now()
    failures = 0
    gate = asyncio.Semaphore(50)

    async def connect(state: DisplayState) -> None:
        nonlocal failures
        client = make(state)
        async with gate:
            try:
                await client.connect(base, transports=["websocket"], wait_timeout=30)
                clients.append(client)
            except Exception:  # noqa: BLE001 - counted and reported
                failures += 1

    await asyncio.gather(*(connect(s) for s in states))
    conn.send({"connected": len(clients), "failed": failures, "seconds": now() - started})

    while True:
        message = await loop.run_in_executor(None, conn.recv)
        if message["cmd"] == "collect":
            vote_id, deadline = message["vote_id"], now() + message["timeout"]
            while now() < deadline and not all(vote_id in s.closed for s in states[: len(clients)]):
                arrived.clear()
                try:
                    await asyncio.wait_for(arrived.wait(), timeout=0.2)
                except TimeoutError:
                    pass
            conn.send(
                {
                    "cpu": time.process_time(),
                    "arrivals": [s.closed[vote_id][0] for s in states if vote_id in s.closed],
                    "payloads": [s.closed[vote_id][1] for s in states if vote_id in s.closed],
                    "missing": sum(vote_id not in s.closed for s in states[: len(clients)]),
                }
            )
        elif message["cmd"] == "stats":
            conn.send(
                {
                    "cpu": time.process_time(),
                    "events": sum(s.events for s in states),
                    "gaps": sum(s.gaps for s in states),
                    "snapshots": sum(s.snapshots for s in states),
                }
            )
        elif message["cmd"] == "stop":
            await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
            await http.close()
            conn.send({"stopped": True})
            return


class Displays:
    """Worker processes holding the displays; the main process asks them over pipes."""

    def __init__(self, base: str, total: int, processes: int, nice: int = 0) -> None:
        context = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes = []
        self.cpu: list[float] = []  # each worker's CPU seconds at its last answer
        shares = [
            total // processes + (1 if i < total % processes else 0) for i in range(processes)
        ]
        for share in shares:
            if not share:
                continue
            parent, child = context.Pipe()
            process = context.Process(
                target=display_worker, args=(base, share, child, nice), daemon=True
            )
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)

    def ask(self, message: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
        for pipe in self.pipes:
            pipe.send(message)
        return [self.receive(pipe, timeout) for pipe in self.pipes]

    @staticmethod
    def receive(pipe: Connection, timeout: float) -> dict[str, Any]:
        if not pipe.poll(timeout):
            raise SystemExit("a display worker did not answer in time")
        return pipe.recv()

    def cpu_since(self, answers: list[dict[str, Any]]) -> float:
        """The workers' CPU seconds since their previous answer carrying it."""
        spent = sum(a["cpu"] - b for a, b in zip(answers, self.cpu, strict=False))
        self.cpu = [a["cpu"] for a in answers]
        return spent

    def connected(self, timeout: float) -> list[dict[str, Any]]:
        return [self.receive(pipe, timeout) for pipe in self.pipes]

    def stop(self) -> None:
        try:
            self.ask({"cmd": "stop"}, timeout=30)
        except (SystemExit, OSError, EOFError):
            pass
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


# --- the deputies and the secretary (main process) ---------------------------------------------


@dataclass
class Round:
    vote_id: int
    acks: list[float]
    refused: list[str]
    sent: Counter[str]
    close_http: float
    close_to_display: list[float]
    missing: int
    wrong: int
    server_cpu: float
    cast_window: float
    client_cpu: float = 0.0
    displays_cpu: float = 0.0
    by_moment: list[tuple[float, float]] = field(default_factory=list)  # (sent - start, ack)

    def ack_by_moment(self, slices: int = 5) -> str:
        """Ack p50 of the casts sent in each slice of the casting window: a queue that builds
        up shows as a rising line."""
        width = max(self.cast_window, 1e-9) / slices
        parts = []
        for i in range(slices):
            inside = [
                a
                for t, a in self.by_moment
                if i * width <= t < (i + 1) * width or (i == slices - 1 and t >= (i + 1) * width)
            ]
            parts.append(f"{statistics.median(inside) * 1000:.0f}" if inside else "-")
        return " / ".join(parts) + " ms"


async def run(
    args: argparse.Namespace, base: str, hall: Council, server: Server, displays: Displays
) -> list[Round]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        secretary = api_caller(http, base, hall.secretary)
        started = now()
        deputies = await connect_terminals(http, base, hall.deputies)
        print(
            f"deputies connected: {len(deputies)} in {now() - started:.1f} s; server threads: "
            f"{server.threads()}",
            flush=True,
        )

        rounds = []
        for number in range(1, args.rounds + 1):
            rounds.append(await one_round(args, secretary, hall, deputies, server, displays))
            r = rounds[-1]
            print(
                f"round {number}: vote {r.vote_id}: {len(r.acks)} acknowledged, "
                f"{len(r.refused)} refused; ack {summary(r.acks)}; close->display "
                f"{summary(r.close_to_display)}; missing {r.missing}, wrong {r.wrong}; "
                f"server CPU {r.server_cpu:.1f} s, displays' {r.displays_cpu:.1f} s, "
                f"deputies' {r.client_cpu:.1f} s; ack p50 by moment sent "
                f"{r.ack_by_moment()}",
                flush=True,
            )
            await asyncio.sleep(args.pause)

        await asyncio.gather(*(c.disconnect() for c in deputies.values()), return_exceptions=True)
        return rounds


def api_caller(http: Any, base: str, token: str) -> Any:
    """`await call(method, path, body)`: the JSON API with `token`; an error stops the bench."""
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}

    async def call(method: str, path: str, body: Any = None) -> Any:
        async with http.request(
            method,
            f"{base}/api/v1{path}",
            json=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=60),
        ) as response:
            data = await response.json()
            if response.status >= 400:
                raise SystemExit(f"{method} {path}: {response.status} {data}")
            return data

    return call


async def connect_terminals(http: Any, base: str, tokens: dict[int, str]) -> dict[int, Any]:
    """A websocket client per deputy, signed in with their token (50 connecting at a time)."""
    import socketio

    terminals: dict[int, Any] = {}
    gate = asyncio.Semaphore(50)

    async def connect(deputy_id: int, token: str) -> None:
        client = socketio.AsyncClient(
            reconnection=False, handle_sigint=False, http_session=http, json=STDLIB_JSON
        )
        async with gate:
            await client.connect(
                base, auth={"token": token}, transports=["websocket"], wait_timeout=30
            )
        terminals[deputy_id] = client

    await asyncio.gather(*(connect(d, t) for d, t in tokens.items()))
    return terminals


async def one_round(
    args: argparse.Namespace,
    secretary: Any,
    hall: Council,
    deputies: dict[int, Any],
    server: Server,
    displays: Displays,
) -> Round:
    vote = await secretary(
        "POST", f"/sittings/{hall.sitting}/votes", {"title": "Бенчмарк", "kind": args.kind}
    )
    vote_id = vote["vote_id"]
    await asyncio.sleep(0.5)  # let the vote_opened event reach the screens
    order = list(deputies)
    random.shuffle(order)
    spread = args.spread
    choices = {d: CHOICES[i % 3] for i, d in enumerate(sorted(deputies))}
    acks: list[float] = []
    by_moment: list[tuple[float, float]] = []
    refused: list[str] = []
    acknowledged: list[int] = []
    cpu_before = server.cpu_seconds()
    client_before = time.process_time()
    start = now() + 0.05
    last_sent = 0.0

    async def press(deputy_id: int, at: float) -> None:
        nonlocal last_sent
        await asyncio.sleep(max(0.0, at - now()))
        sent = now()
        last_sent = max(last_sent, sent)
        try:
            answer = await deputies[deputy_id].call(
                "cast", {"vote_id": vote_id, "choice": choices[deputy_id]}, timeout=60
            )
        except Exception as error:  # noqa: BLE001 - a timeout counts as not acknowledged
            refused.append(f"deputy {deputy_id}: {error!r}")
            return
        elapsed = now() - sent
        if answer.get("ok") and answer.get("recorded"):
            acks.append(elapsed)
            by_moment.append((sent - start, elapsed))
            acknowledged.append(deputy_id)
        else:
            refused.append(f"deputy {deputy_id}: {answer}")

    await asyncio.gather(*(press(d, start + spread * i / len(order)) for i, d in enumerate(order)))
    window = last_sent - start
    closed_at = now()
    tally = await secretary("POST", f"/votes/{vote_id}/close")
    close_http = now() - closed_at
    cpu = server.cpu_seconds() - cpu_before
    client_cpu = time.process_time() - client_before
    answers = await asyncio.to_thread(
        displays.ask,
        {"cmd": "collect", "vote_id": vote_id, "timeout": args.display_timeout},
        args.display_timeout + 30,
    )
    sent = Counter(choices[d] for d in acknowledged)
    expected = (sent["for"], sent["against"], sent["abstain"])  # what was acknowledged
    arrivals = [t for a in answers for t in a["arrivals"]]
    payloads = [p for a in answers for p in a["payloads"]]
    wrong = sum((p["for"], p["against"], p["abstain"]) != expected for p in payloads)
    result = tally["result"]
    if (result["for"], result["against"], result["abstain"]) != expected:
        wrong += 1
    return Round(
        vote_id,
        acks,
        refused,
        sent,
        close_http,
        [t - closed_at for t in arrivals],
        sum(a["missing"] for a in answers),
        wrong,
        cpu,
        window,
        client_cpu,
        displays.cpu_since(answers),
        by_moment,
    )


# --- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default="",
        help=f"default: SQLite in a temporary folder; e.g. {PG_DEFAULT}",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--deputies", type=int, default=450)
    parser.add_argument("--displays", type=int, default=1000)
    parser.add_argument(
        "--display-processes",
        type=int,
        default=2,
        help="worker processes holding the displays (default 2)",
    )
    parser.add_argument(
        "--spread",
        type=float,
        default=1.0,
        help="the casts are spread evenly over this many seconds (default 1)",
    )
    parser.add_argument("--kind", choices=["roll_call", "secret"], default="roll_call")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between rounds")
    parser.add_argument(
        "--display-timeout",
        type=float,
        default=30.0,
        help="how long to wait for the last display to show a result",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=900.0,
        help="the whole run is stopped after this long (default 900)",
    )
    parser.add_argument(
        "--displays-nice",
        type=int,
        default=0,
        metavar="N",
        help="run the displays' worker processes at this much lower CPU "
        "priority (os.nice), so that they stand in better for screens on "
        "other machines; default 0",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument(
        "--server-command",
        default="",
        help="for experiments: run this instead of `voting serve` (it must "
        "print 'Serving on http://127.0.0.1:PORT' and serve that port)",
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="voting-live-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    if url.startswith("postgresql"):
        fresh_postgres(url)
    started = now()
    hall = build_council(url, args.deputies)
    print(
        f"council built: {args.deputies} deputies, {url.split('://')[0]}, {now() - started:.1f} s",
        flush=True,
    )

    server = Server(url, folder, args.server_command)
    displays: Displays | None = None

    def out_of_time(*_: object) -> None:
        raise SystemExit(f"stopped after --max-seconds {args.max_seconds:g}")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(int(args.max_seconds))
    try:
        base = server.wait_ready()
        print(f"server: pid {server.process.pid} at {base}", flush=True)
        started = now()
        displays = Displays(base, args.displays, args.display_processes, args.displays_nice)
        ready = displays.connected(timeout=300)
        displays.cpu_since(displays.ask({"cmd": "stats"}, timeout=30))
        connected = sum(r["connected"] for r in ready)
        print(
            f"displays connected: {connected} of {args.displays} "
            f"({sum(r['failed'] for r in ready)} failed) in {now() - started:.1f} s; "
            f"server threads: {server.threads()}",
            flush=True,
        )
        rounds = asyncio.run(run(args, base, hall, server, displays))
        stats = displays.ask({"cmd": "stats"}, timeout=30)
    finally:
        signal.alarm(0)
        if displays is not None:
            displays.stop()
        server.stop()
    shutil.rmtree(folder, ignore_errors=True)
    return report(args, url, rounds, connected, stats)


def report(
    args: argparse.Namespace,
    url: str,
    rounds: list[Round],
    connected: int,
    stats: list[dict[str, Any]],
) -> int:
    acks = [a for r in rounds for a in r.acks]
    shown = [t for r in rounds for t in r.close_to_display]
    last = [max(r.close_to_display) for r in rounds if r.close_to_display]
    casts = args.deputies * len(rounds)
    refused = sum(len(r.refused) for r in rounds)
    missing = sum(r.missing for r in rounds) + (args.displays - connected) * len(rounds)
    wrong = sum(r.wrong for r in rounds)
    print()
    print(
        f"database: {url.split('://')[0]}; kind: {args.kind}; deputies: {args.deputies}; "
        f"displays: {args.displays} ({connected} connected); rounds: {len(rounds)}; "
        f"casts spread over {args.spread:g} s"
    )
    print(
        f"every vote acknowledged: {'yes' if not refused else 'NO'} "
        f"({len(acks)} of {casts}; {refused} refused or unanswered)"
    )
    print(
        f"every display shows the result of the acknowledged choices: "
        f"{'yes' if not missing and not wrong else 'NO'} "
        f"({len(shown)} results shown; {missing} missing, {wrong} wrong)"
    )
    print(f"choice -> acknowledgement:          {summary(acks)}")
    print(f"close -> result on a display:       {summary(shown)}")
    print(
        "close -> result on the last display, per round: " + ", ".join(ms(x).strip() for x in last)
    )
    print(
        "close (HTTP answer to the secretary): "
        + ", ".join(ms(r.close_http).strip() for r in rounds)
    )
    print("casts actually sent within: " + ", ".join(f"{r.cast_window:.2f} s" for r in rounds))
    print(
        "server CPU per round (casts + close): "
        + ", ".join(f"{r.server_cpu:.1f} s" for r in rounds)
        + "; the deputies' process: "
        + ", ".join(f"{r.client_cpu:.1f} s" for r in rounds)
        + "; the displays' processes (from the previous round's end): "
        + ", ".join(f"{r.displays_cpu:.1f} s" for r in rounds)
    )
    print(
        f"events received by the displays: {sum(s['events'] for s in stats)}, "
        f"sequence gaps: {sum(s['gaps'] for s in stats)}"
    )
    for r in rounds:
        for line in r.refused[:3]:
            print(f"  refused: {line}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "database": url.split("://")[0],
                    "kind": args.kind,
                    "deputies": args.deputies,
                    "displays": args.displays,
                    "rounds": len(rounds),
                    "ack": {
                        "p50": statistics.median(acks) if acks else None,
                        "p99": percentile(acks, 99) if acks else None,
                        "max": max(acks) if acks else None,
                    },
                    "close_to_display": {
                        "p50": statistics.median(shown) if shown else None,
                        "p99": percentile(shown, 99) if shown else None,
                        "max": max(shown) if shown else None,
                    },
                    "refused": refused,
                    "missing": missing,
                    "wrong": wrong,
                },
                indent=2,
            )
        )
    return 0 if not refused and not missing and not wrong else 1


if __name__ == "__main__":
    sys.exit(main())
