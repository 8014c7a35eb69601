"""`voting demo`'s hall of simulated seat consoles: the console simulator and the console
gateway, each in a process of its own as in a real hall, started beside the demo's web server
and stopped with it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DEMO_KEYS = "demo-console-keys.toml"
DEMO_CARDS = "demo-console-cards.json"


class ConsoleDemo:
    """One simulated bus of `count` consoles (addresses 1..count are seats 1..count)."""

    def __init__(
        self, instance: Path, config_path: str | None, cards: dict[int, tuple[str, str]]
    ) -> None:
        from hardware.keys import write_keys
        from hardware.simulator import demo_fleet

        self.instance = instance
        self.config_args = [] if config_path is None else ["--config", config_path]
        self.count = max(cards) if cards else 0
        self.keys = instance / DEMO_KEYS
        write_keys(self.keys, {c.serial: c.key for c in demo_fleet(self.count)})
        self.cards = instance / DEMO_CARDS
        self.cards.write_text(
            json.dumps({str(seat): [name, uid] for seat, (name, uid) in cards.items()}),
            encoding="utf-8",
        )
        self.processes: list[subprocess.Popen[str]] = []
        self.bus = ""
        self.page = ""

    def _voting(self, *args: str, stdout: int | None = None) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "voting", *args, *self.config_args],
            stdout=stdout,
            text=True,
        )
        self.processes.append(process)
        return process

    def start_simulator(self, page: str = "127.0.0.1:0") -> None:
        """The simulated consoles on a pseudo-terminal, and their page for a person."""
        sim = self._voting(
            "consoles-sim",
            "--count",
            str(self.count),
            "--cards",
            str(self.cards),
            "--http",
            page,
            stdout=subprocess.PIPE,
        )
        assert sim.stdout is not None
        self.bus = sim.stdout.readline().strip()
        self.page = sim.stdout.readline().strip()
        if not self.bus.startswith("/") or not self.page.startswith("http"):
            self.stop()
            raise RuntimeError("the console simulator did not start")

    def start_gateway(self, server_url: str) -> None:
        """The gateway, driving the simulated bus and reporting to the demo's server."""
        self._voting(
            "consoles",
            "--port",
            self.bus,
            "--count",
            str(self.count),
            "--keys",
            str(self.keys),
            "--server-url",
            server_url,
        )

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
