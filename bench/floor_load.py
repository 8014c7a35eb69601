"""Benchmark: the floor over live websockets — 120 deputies ask for the floor within one second
while 1,000 displays watch; then the floor is given and the displays' countdowns are compared.

One server process (`voting serve`) on 127.0.0.1 over SQLite or PostgreSQL, a council built
through the services (bench/live_load.py's `build_council`: every deputy registered, one token
each). The displays (public screens, no token) live in worker processes; the deputies' terminals
(with their tokens) in the main process. Each round:

1. every deputy sends `request_floor` once over their socket, at moments spread evenly over one
   second in random order; reported: p50/p99/max of sent -> acknowledgement;
2. when the last request is acknowledged, the bench waits until every display shows a list of
   all the requests, and checks that every display shows the same list, in the same order, as
   the server's API (GET /sittings/<id>/floor);
3. the secretary gives the floor (HTTP); when every display shows the speech, the first 100
   displays are compared: each counts down to the deadline the server gave, on the server's
   clock, which it knows by asking the server its time (`clock`, three times on connecting,
   keeping the fastest answer: its error is at most half its round trip), as the screens do.
   Reported: the spread of the moments at which the displays reach zero (ms), and the share of
   each second during which they all show the same second. For comparison, the same with the
   clock estimated from the snapshots' `now` (the last one, or the fastest of the last ten);
4. the secretary ends the speech; the requests left are removed, for the next round.

    .venv/bin/python bench/floor_load.py                                   # SQLite, 3 rounds
    .venv/bin/python bench/floor_load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Not a test: it prints figures, and exits non-zero if a request was not acknowledged or a display
showed another list. Only 127.0.0.1; every wait is bounded (--max-seconds for the whole run).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing as mp
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

# This run journals with a key of its own (config.toml [journal] key_env), shared by the runtime
# built here and the server processes it starts.
os.environ.setdefault("VOTING_JOURNAL_KEY", secrets.token_urlsafe(32))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_load import (  # noqa: E402 - the sibling script, found through the line above
    STDLIB_JSON,
    Server,
    api_caller,
    build_council,
    connect_terminals,
    fresh_postgres,
    now,
    summary,
)

#: How many recent snapshots a screen keeps to estimate the server's clock (static/js/common.js).
CLOCK_SAMPLES = 10


class Screen:
    """What one display knows: the last list and speech it was pushed, and its estimates of the
    server's clock (server time - own time, in seconds)."""

    def __init__(self) -> None:
        self.seq = -1
        self.queue: tuple[int, ...] = ()
        self.deadline: float | None = None
        self.speech_id: int | None = None
        self.offsets: list[float] = []
        self.synced: tuple[float, float] | None = None  # (round trip, offset) of the best ask

    def take(self, data: dict[str, Any]) -> None:
        if data["seq"] < self.seq:
            return
        self.seq = data["seq"]
        state = data.get("state") or {}
        if state.get("now"):
            offset = datetime.fromisoformat(state["now"]).timestamp() - time.time()
            self.offsets = [*self.offsets[-(CLOCK_SAMPLES - 1) :], offset]
        floor = state.get("floor") or {}
        self.queue = tuple(e["id"] for e in floor.get("queue") or ())
        speech = floor.get("speech")
        self.speech_id = None if speech is None else speech["id"]
        deadline = None if speech is None else speech.get("deadline")
        self.deadline = None if deadline is None else datetime.fromisoformat(deadline).timestamp()


def display_worker(base: str, count: int, conn: Connection) -> None:
    asyncio.run(_display_main(base, count, conn))


async def _display_main(base: str, count: int, conn: Connection) -> None:
    import aiohttp
    import socketio

    loop = asyncio.get_running_loop()
    screens = [Screen() for _ in range(count)]
    clients: list[Any] = []
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    gate = asyncio.Semaphore(50)
    failures = 0

    async def sync(client: Any, screen: Screen) -> None:
        """As static/js/common.js does: ask the server's time, keep the answer that came back
        fastest (its offset is the least wrong: at most half its round trip)."""
        for _ in range(3):
            sent = time.time()
            answer = await client.call("clock", timeout=30)
            back = time.time()
            trip = back - sent
            offset = datetime.fromisoformat(answer["now"]).timestamp() - (sent + back) / 2
            if screen.synced is None or trip < screen.synced[0]:
                screen.synced = (trip, offset)

    async def connect(screen: Screen) -> None:
        nonlocal failures
        client = socketio.AsyncClient(
            reconnection=False, handle_sigint=False, http_session=http, json=STDLIB_JSON
        )
        client.on("snapshot", screen.take)
        async with gate:
            try:
                await client.connect(base, transports=["websocket"], wait_timeout=30)
                clients.append(client)
            except Exception:  # noqa: BLE001 - counted and reported
                failures += 1

    started = now()
    await asyncio.gather(*(connect(s) for s in screens))
    # Then each sets its clock (a screen does on connecting, and again now and then): a few at
    # a time, as screens that were not all switched on in the same second.
    sync_gate = asyncio.Semaphore(5)

    async def synced(client: Any, screen: Screen) -> None:
        async with sync_gate:
            await sync(client, screen)

    await asyncio.gather(*(synced(c, s) for c, s in zip(clients, screens, strict=False)))
    conn.send({"connected": len(clients), "failed": failures, "seconds": now() - started})
    while True:
        message = await loop.run_in_executor(None, conn.recv)
        if message["cmd"] == "queues":
            deadline = now() + message["timeout"]
            while now() < deadline and any(len(s.queue) < message["size"] for s in screens):
                await asyncio.sleep(0.05)
            conn.send({"queues": [s.queue for s in screens]})
        elif message["cmd"] == "speech":
            deadline = now() + message["timeout"]
            while now() < deadline and any(s.speech_id != message["id"] for s in screens):
                await asyncio.sleep(0.05)
            conn.send(
                {
                    "clocks": [
                        (
                            s.deadline,
                            s.offsets[-1] if s.offsets else None,
                            max(s.offsets) if s.offsets else None,
                            s.synced[1] if s.synced else None,
                        )
                        for s in screens[: message["sample"]]
                    ],
                    "missing": sum(s.speech_id != message["id"] for s in screens),
                }
            )
        elif message["cmd"] == "stop":
            await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
            await http.close()
            conn.send({"stopped": True})
            return


class Displays:
    def __init__(self, base: str, total: int, processes: int) -> None:
        context = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes = []
        self.shares = [
            total // processes + (1 if i < total % processes else 0) for i in range(processes)
        ]
        for share in self.shares:
            parent, child = context.Pipe()
            process = context.Process(target=display_worker, args=(base, share, child), daemon=True)
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)

    def ask(self, messages: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
        for pipe, message in zip(self.pipes, messages, strict=True):
            pipe.send(message)
        out = []
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise SystemExit("a display worker did not answer in time")
            out.append(pipe.recv())
        return out

    def stop(self) -> None:
        try:
            self.ask([{"cmd": "stop"}] * len(self.pipes), timeout=30)
        except (SystemExit, OSError, EOFError):
            pass
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


def spread_of(clocks: list[tuple[float | None, ...]], which: int) -> dict:
    """Where each display puts the end of the speech on its own clock (deadline - offset), and
    the share of each second during which they all show the same whole second: they differ only
    while one has passed a second's boundary and another not yet, `spread` of every second."""
    ends = [
        end - offset
        for end, offset in ((c[0], c[which]) for c in clocks)
        if end is not None and offset is not None
    ]
    if not ends:
        return {"spread_ms": math.nan, "agree": 0.0}
    spread = max(ends) - min(ends)
    return {"spread_ms": spread * 1000, "agree": max(0.0, 1.0 - spread)}


async def run(args: argparse.Namespace, base: str, hall: Any, displays: Displays) -> list[dict]:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        call = api_caller(http, base, hall.secretary)
        terminals = await connect_terminals(http, base, hall.deputies)
        print(f"terminals connected: {len(terminals)}", flush=True)
        rounds = []
        for number in range(1, args.rounds + 1):
            order = list(terminals)
            random.shuffle(order)
            acks: list[float] = []
            refused: list[str] = []
            start = now() + 0.05

            async def ask(
                deputy_id: int, at: float, acks: list[float] = acks, refused: list[str] = refused
            ) -> None:
                await asyncio.sleep(max(0.0, at - now()))
                sent = now()
                try:
                    answer = await terminals[deputy_id].call(
                        "request_floor",
                        {"sitting_id": hall.sitting, "type": "question"},
                        timeout=60,
                    )
                except Exception as error:  # noqa: BLE001 - a timeout counts as refused
                    refused.append(f"{deputy_id}: {error!r}")
                    return
                if answer.get("ok"):
                    acks.append(now() - sent)
                else:
                    refused.append(f"{deputy_id}: {answer}")

            await asyncio.gather(
                *(ask(d, start + args.spread * i / len(order)) for i, d in enumerate(order))
            )
            shown = await call("GET", f"/sittings/{hall.sitting}/floor")
            truth = tuple(e["id"] for e in shown["queue"])
            answers = await asyncio.to_thread(
                displays.ask,
                [{"cmd": "queues", "size": len(truth), "timeout": 30}] * len(displays.pipes),
                60,
            )
            queues = [q for a in answers for q in a["queues"]]
            different = sum(tuple(q) != truth for q in queues)
            granted = await call("POST", f"/sittings/{hall.sitting}/floor/grant")
            per_worker = [min(args.sample, s) for s in displays.shares]
            answers = await asyncio.to_thread(
                displays.ask,
                [
                    {"cmd": "speech", "id": granted["speech_id"], "sample": n, "timeout": 30}
                    for n in per_worker
                ],
                60,
            )
            clocks = [c for a in answers for c in a["clocks"]][: args.sample]
            last, fastest, synced = spread_of(clocks, 1), spread_of(clocks, 2), spread_of(clocks, 3)
            await call("POST", f"/speeches/{granted['speech_id']}/end")
            for entry in (await call("GET", f"/sittings/{hall.sitting}/floor"))["queue"]:
                await call("DELETE", f"/floor/requests/{entry['id']}")
            result = {
                "acks": acks,
                "refused": refused,
                "queue": len(truth),
                "different": different,
                "displays": len(queues),
                "missing_speech": sum(a["missing"] for a in answers),
                "spread_last_ms": last["spread_ms"],
                "agree_last": last["agree"],
                "spread_fastest_ms": fastest["spread_ms"],
                "agree_fastest": fastest["agree"],
                "spread_synced_ms": synced["spread_ms"],
                "agree_synced": synced["agree"],
            }
            rounds.append(result)
            print(
                f"round {number}: {len(acks)} requests acknowledged, {len(refused)} refused; "
                f"ack {summary(acks)}; {len(queues) - different} of {len(queues)} displays show "
                f"the server's list of {len(truth)}; countdown on {len(clocks)} displays: "
                f"spread {synced['spread_ms']:.1f} ms, same second {synced['agree']:.1%} of the "
                f"time (clock set by asking the server); with the clock from the snapshots: "
                f"{last['spread_ms']:.1f} ms, {last['agree']:.0%} (the last) / "
                f"{fastest['spread_ms']:.1f} ms, {fastest['agree']:.0%} (the fastest of the "
                f"last {CLOCK_SAMPLES})",
                flush=True,
            )
            await asyncio.sleep(args.pause)
        await asyncio.gather(*(c.disconnect() for c in terminals.values()), return_exceptions=True)
        return rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp folder")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--deputies", type=int, default=120)
    parser.add_argument("--displays", type=int, default=1000)
    parser.add_argument("--display-processes", type=int, default=2)
    parser.add_argument("--sample", type=int, default=100, help="displays whose clocks compare")
    parser.add_argument("--spread", type=float, default=1.0, help="seconds the requests span")
    parser.add_argument("--pause", type=float, default=1.0)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="voting-floor-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    if url.startswith("postgresql"):
        fresh_postgres(url)
    hall = build_council(url, args.deputies)
    print(f"council built: {args.deputies} deputies, {url.split('://')[0]}", flush=True)
    server = Server(url, folder)
    displays: Displays | None = None

    def out_of_time(*_: object) -> None:
        raise SystemExit(f"stopped after --max-seconds {args.max_seconds:g}")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(int(args.max_seconds))
    try:
        base = server.wait_ready()
        displays = Displays(base, args.displays, args.display_processes)
        ready = [connected(p) for p in displays.pipes]
        print(
            f"displays connected: {sum(r['connected'] for r in ready)} of {args.displays} "
            f"({sum(r['failed'] for r in ready)} failed)",
            flush=True,
        )
        rounds = asyncio.run(run(args, base, hall, displays))
    finally:
        signal.alarm(0)
        if displays is not None:
            displays.stop()
        server.stop()
    shutil.rmtree(folder, ignore_errors=True)
    acks = [a for r in rounds for a in r["acks"]]
    print(f"\nall rounds: request -> acknowledgement {summary(acks)} ({len(acks)} requests)")
    bad = any(r["refused"] or r["different"] or r["missing_speech"] for r in rounds)
    return 1 if bad else 0


def connected(pipe: Connection, timeout: float = 300) -> dict[str, Any]:
    if not pipe.poll(timeout):
        raise SystemExit("a display worker did not connect in time")
    return pipe.recv()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
