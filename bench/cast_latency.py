"""Benchmark: how long a deputy waits from pressing a button to the server's acknowledgement.

A real server on 127.0.0.1 (werkzeug, threaded), the JSON API, one HTTP session per deputy.
Each round opens a roll-call vote (or a secret ballot), every deputy casts at once from its own
thread, and the vote is closed. It prints p50/p99/max of the acknowledgement and of the close.

    .venv/bin/python bench/cast_latency.py                       # SQLite in a temporary folder
    .venv/bin/python bench/cast_latency.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Not a test: it prints figures. The floor beside them: one HTTP round trip on loopback with an
empty handler (measured here as `GET /api/v1/openapi.json`, which touches no database).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from voting.bootstrap import build_runtime
from voting.config import database_config
from voting.web import create_app
from voting.web.server import start_server

# This run journals with a key of its own (config.toml [journal] key_env), shared by the runtime
# built here and the server processes it starts.
os.environ.setdefault("VOTING_JOURNAL_KEY", secrets.token_urlsafe(32))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_load import build_council, fresh_postgres  # noqa: E402 - the same council as there


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--deputies", type=int, default=43)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--kind", choices=["roll_call", "secret"], default="roll_call")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request

    folder = tempfile.mkdtemp(prefix="voting-bench-")
    url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
    if url.startswith("postgresql"):
        fresh_postgres(url)
    hall = build_council(url, args.deputies)
    sitting, tokens, secretary = hall.sitting, list(hall.deputies.values()), hall.secretary
    rt = build_runtime(database_config(url))
    app = create_app(runtime=rt, overrides={"database": {"url": url}})
    server = start_server(app, "127.0.0.1", 0)
    api = f"{server.url}/api/v1"
    sessions = [requests.Session() for _ in tokens]
    for session, token in zip(sessions, tokens, strict=True):
        session.headers["Authorization"] = f"Bearer {token}"
    boss = requests.Session()
    boss.headers["Authorization"] = f"Bearer {secretary}"

    floor = []
    for _ in range(200):
        started = time.perf_counter()
        boss.get(f"{api}/openapi.json").raise_for_status()
        floor.append(time.perf_counter() - started)

    acks: list[float] = []
    closes: list[float] = []
    lock = threading.Lock()
    for _ in range(args.rounds):
        vote = boss.post(
            f"{api}/sittings/{sitting}/votes", json={"title": "Бенчмарк", "kind": args.kind}
        ).json()["vote_id"]
        barrier = threading.Barrier(len(sessions))

        def press(
            session: requests.Session,
            choice: str,
            barrier: threading.Barrier = barrier,
            vote: int = vote,
        ) -> None:
            barrier.wait()
            started = time.perf_counter()
            answer = session.post(f"{api}/votes/{vote}/choices", json={"choice": choice})
            elapsed = time.perf_counter() - started
            answer.raise_for_status()
            with lock:
                acks.append(elapsed)

        threads = [
            threading.Thread(target=press, args=(s, ("for", "against", "abstain")[i % 3]))
            for i, s in enumerate(sessions)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        started = time.perf_counter()
        boss.post(f"{api}/votes/{vote}/close").raise_for_status()
        closes.append(time.perf_counter() - started)

    server.stop()  # and the runtime it started (which waits for a secret ballot's purge)
    ms = lambda seconds: f"{seconds * 1000:7.1f} ms"  # noqa: E731
    print(
        f"database: {url.split('://')[0]}, deputies: {args.deputies}, rounds: {args.rounds}, "
        f"kind: {args.kind}"
    )
    print(
        f"floor (loopback GET, no database):  p50 {ms(statistics.median(floor))}  "
        f"p99 {ms(percentile(floor, 99))}"
    )
    print(
        f"choice -> acknowledgement ({len(acks)} casts, all at once each round):  "
        f"p50 {ms(statistics.median(acks))}  p99 {ms(percentile(acks, 99))}  "
        f"max {ms(max(acks))}"
    )
    print(f"close -> result:  p50 {ms(statistics.median(closes))}  max {ms(max(closes))}")


if __name__ == "__main__":
    main()
