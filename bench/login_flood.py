"""Benchmark: casts while sign-in is flooded with wrong passwords.

One server process (`voting serve`, as an operator starts it) on 127.0.0.1, a council of 120
deputies, all registered. Each round the secretary opens a roll-call vote, the 120 deputies cast
over HTTP at moments spread over one second, and the vote is closed; measured: choice sent →
acknowledgement. First `--rounds` rounds alone, then as many while `--flooders` clients (each
from a loopback address of its own, 127.0.0.2 and up, so the per-address limit of the sign-in
door does not simply refuse them all; in 4 worker processes at nice 10, as the attackers are other
machines) post wrong passwords as fast as they are answered.
Target (issue 15): ack p99 under the flood at most twice the p99 alone.

    cd /tmp && /work/main/.venv/bin/python /work/main/bench/login_flood.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]

Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

# This run journals with a key of its own (config.toml [journal] key_env), shared by the runtime
# built here and the server process it starts.
os.environ.setdefault("VOTING_JOURNAL_KEY", secrets.token_urlsafe(32))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_load import Server, build_council, fresh_postgres  # noqa: E402 - the sibling script


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def flood_worker(host: str, port: int, first: int, count: int, nice: int, stop, answers) -> None:  # type: ignore[no-untyped-def]
    """A worker process: `count` clients (threads), client n from 127.0.0.{2 + n}, each posting
    wrong passwords (a new name each time) as fast as they are answered, until `stop`."""
    os.nice(nice)
    seen: Counter[int] = Counter()
    lock = threading.Lock()

    def client(n: int) -> None:
        source = (f"127.0.0.{2 + n}", 0)
        connection = http.client.HTTPConnection(host, port, source_address=source)
        while not stop.is_set():
            guess = {"username": secrets.token_hex(4), "password": secrets.token_hex(8)}
            try:
                connection.request(
                    "POST", "/api/v1/login", json.dumps(guess), {"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(host, port, source_address=source)
                status = 0
            with lock:
                seen[status] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(first + n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answers.put(dict(seen))


class Flood:
    """`clients` flooders in `processes` worker processes at a lower CPU priority (the attackers
    are other machines: on this one their own CPU must not be what slows the server)."""

    def __init__(self, base: str, clients: int, processes: int = 4, nice: int = 10) -> None:
        host, port = base.removeprefix("http://").split(":")
        context = mp.get_context("spawn")
        self.stop = context.Event()
        self.answers = context.Queue()
        share = [clients // processes + (n < clients % processes) for n in range(processes)]
        firsts = [sum(share[:n]) for n in range(processes)]
        self.workers = [
            context.Process(
                target=flood_worker,
                args=(host, int(port), first, count, nice, self.stop, self.answers),
                daemon=True,
            )
            for first, count in zip(firsts, share, strict=True)
            if count
        ]

    def start(self) -> None:
        for worker in self.workers:
            worker.start()

    def end(self) -> dict[int, int]:
        self.stop.set()
        total: Counter[int] = Counter()
        for _ in self.workers:
            total.update(self.answers.get(timeout=120))
        for worker in self.workers:
            worker.join(timeout=30)
        return dict(sorted(total.items()))


def vote_round(api: str, sitting: int, boss: requests.Session, sessions: list) -> list[float]:  # type: ignore[type-arg]
    vote = boss.post(
        f"{api}/sittings/{sitting}/votes", json={"title": "Про порядок денний"}, timeout=30
    )
    vote.raise_for_status()
    vote_id = vote.json()["vote_id"]
    acks: list[float] = []
    lock = threading.Lock()
    start = time.perf_counter() + 0.2

    def cast(session: requests.Session, at: float) -> None:
        time.sleep(max(0.0, start + at - time.perf_counter()))
        sent = time.perf_counter()
        answer = session.post(f"{api}/votes/{vote_id}/choices", json={"choice": "for"}, timeout=60)
        took = time.perf_counter() - sent
        answer.raise_for_status()
        with lock:
            acks.append(took)

    threads = [
        threading.Thread(target=cast, args=(session, random.random())) for session in sessions
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    boss.post(f"{api}/votes/{vote_id}/close", timeout=60).raise_for_status()
    return acks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--deputies", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flooders", type=int, default=32)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="voting-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    if url.startswith("postgresql"):
        fresh_postgres(url)
    council = build_council(url, args.deputies)
    server = Server(url, folder)
    try:
        api = f"{server.wait_ready()}/api/v1"
        boss = requests.Session()
        boss.headers["Authorization"] = f"Bearer {council.secretary}"
        sessions = []
        for token in council.deputies.values():
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token}"
            sessions.append(session)
        vote_round(api, council.sitting, boss, sessions)  # warm up (connections, caches)

        def rounds(label: str) -> list[float]:
            every: list[float] = []
            for n in range(args.rounds):
                acks = vote_round(api, council.sitting, boss, sessions)
                every += acks
                print(
                    f"{label}, round {n + 1}: ack p50 {statistics.median(acks) * 1000:.1f} ms, "
                    f"p99 {percentile(acks, 99) * 1000:.1f} ms"
                )
            return every

        alone = rounds("alone")
        flood = Flood(server.base, args.flooders)
        flood.start()
        time.sleep(2)  # the flood under way
        cpu_before = server.cpu_seconds()
        flooded = rounds("flooded")
        cpu = server.cpu_seconds() - cpu_before
        answered = flood.end()

        p99_alone, p99_flooded = percentile(alone, 99), percentile(flooded, 99)
        print(
            f"database: {url.split(':')[0]}; deputies: {args.deputies}; rounds: {args.rounds}; "
            f"flooders: {args.flooders}"
        )
        print(
            f"alone:   ack p50 {statistics.median(alone) * 1000:.1f} ms, "
            f"p99 {p99_alone * 1000:.1f} ms, max {max(alone) * 1000:.1f} ms"
        )
        print(
            f"flooded: ack p50 {statistics.median(flooded) * 1000:.1f} ms, "
            f"p99 {p99_flooded * 1000:.1f} ms, max {max(flooded) * 1000:.1f} ms"
        )
        print(
            f"the flood's answers by status: {answered} (401: a password checked; "
            f"429: refused by the per-address limit); server CPU during the flooded rounds "
            f"{cpu:.1f} s"
        )
        print(f"p99 flooded / p99 alone: {p99_flooded / p99_alone:.2f} (target at most 2)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
