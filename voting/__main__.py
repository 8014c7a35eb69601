"""The `voting` command (also `python -m voting`).

The commands that serve (`serve`, `demo`) run on gevent: the standard library is monkey-patched
before anything else is imported, so that every thread the application starts (the vote timer,
the live push, each connection's tasks) is a greenlet in one OS thread, and 1,450 websockets do
not contend for the interpreter as 5,800 threads (docs/benchmarks.md). Every other command runs
as plain Python.
"""

from __future__ import annotations

import sys

#: The commands that run the web server.
SERVING = frozenset({"serve", "demo"})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in SERVING and "--no-serve" not in args:
        from gevent import monkey

        monkey.patch_all()
    from voting.cli import main as run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
