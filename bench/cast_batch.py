"""Benchmark: what one group-commit batch of casts costs, by its size.

The casts of a busy second are written in shared transactions (`GroupCommitter`, used by
`casting.cast_choice`); a transaction has a fixed cost (its statements and round trips) and a
cost per cast. This program measures both, in one process and without any network or screen:
it builds a council of 450 deputies through the services (as bench/live_load.py does), opens a
roll-call vote (or a secret ballot), writes every deputy's cast in batches of each size in turn
through the same function the committer calls, and prints per batch size the wall time and the
CPU time of this process per batch and per cast, and the statements sent per batch.

    .venv/bin/python bench/cast_batch.py                      # SQLite in a temporary folder
    .venv/bin/python bench/cast_batch.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Not a test: it prints figures. The PostgreSQL database (`bench` by default) is created if missing
and its `public` schema is emptied.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

# This run journals with a key of its own (config.toml [journal] key_env), shared by the runtime
# built here and the server processes it starts.
os.environ.setdefault("VOTING_JOURNAL_KEY", secrets.token_urlsafe(32))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_load import build_council, fresh_postgres  # noqa: E402

SIZES = (1, 2, 4, 8, 16, 32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    parser.add_argument("--deputies", type=int, default=450)
    parser.add_argument("--kind", choices=("roll_call", "secret"), default="roll_call")
    parser.add_argument("--repeat", type=int, default=3, help="votes per batch size")
    args = parser.parse_args()

    from sqlalchemy import event

    from voting.bootstrap import build_runtime
    from voting.config import database_config
    from voting.domain.actors import Actor
    from voting.domain.votes import Choice
    from voting.services import casting, votes
    from voting.services.commands import OpenVote

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        if url.startswith("postgresql"):
            fresh_postgres(url)
        hall = build_council(url, args.deputies)
        rt = build_runtime(database_config(url))
        statements = 0

        @event.listens_for(rt.engine, "before_cursor_execute")
        def count(*_: object) -> None:
            nonlocal statements
            statements += 1

        secretary = Actor("secretary", "secretary:bench")
        print(
            f"{rt.engine.dialect.name}, {args.kind}, {len(hall.deputies)} deputies; "
            "per batch: wall and CPU time (median over the batches), statements"
        )
        for size in SIZES:
            walls, cpus, counts = [], [], []
            for _ in range(args.repeat):
                vote_id = votes.open_vote(
                    rt.uow(),
                    secretary,
                    OpenVote.parse(
                        {"title": "Бенчмарк", "kind": args.kind}, sitting_id=hall.sitting
                    ),
                )
                ids = list(hall.deputies)
                for start in range(0, len(ids), size):
                    batch = [
                        casting.CastRequest(Actor("deputy", f"deputy:{d}", d), vote_id, Choice.FOR)
                        for d in ids[start : start + size]
                    ]
                    statements = 0
                    wall, cpu = time.perf_counter(), time.process_time()
                    casting.write_casts(rt.uow(), batch)
                    walls.append(time.perf_counter() - wall)
                    cpus.append(time.process_time() - cpu)
                    counts.append(statements)
                    refused = [r.error for r in batch if r.error is not None]
                    if refused:
                        raise SystemExit(f"a cast was refused: {refused[0]}")
                votes.close_vote(rt.uow(), secretary, vote_id)
            wall, cpu = statistics.median(walls), statistics.median(cpus)
            print(
                f"batch of {size:2d}: wall {wall * 1e3:6.2f} ms ({wall * 1e3 / size:5.2f} per cast)"
                f"  CPU {cpu * 1e3:6.2f} ms ({cpu * 1e3 / size:5.2f} per cast)"
                f"  statements {statistics.median(counts):.0f}",
                flush=True,
            )
        rt.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
