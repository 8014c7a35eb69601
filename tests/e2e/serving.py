"""`voting serve` in a subprocess, as an operator starts it (on gevent: voting/__main__.py), for
the end-to-end tests. Import it by module name (`from serving import ...`), like planning.py."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

CONFIG_ENV = ("VOTING_CONFIG", "VOTING_DATABASE_URL", "VOTING_MESSAGE_QUEUE_URL")
SERVING = re.compile(r"Serving on (http://127\.0\.0\.1:\d+)")


def clean_environment() -> dict[str, str]:
    """This environment without the variables that would override a server's config file."""
    return {k: v for k, v in os.environ.items() if k not in CONFIG_ENV}


def write_config(
    path: Path, database_url: str, message_queue: str = "", channel: str = "voting"
) -> Path:
    quoted = json.dumps  # a JSON string of these characters is a TOML basic string
    path.write_text(
        f"[database]\nurl = {quoted(database_url)}\n\n"
        f"[server]\ninstance_path = {quoted(str(path.parent / 'instance'))}\n"
        f'host = "127.0.0.1"\nmessage_queue = {quoted(message_queue)}\n'
        f"message_channel = {quoted(channel)}\n",
        encoding="utf-8",
    )
    return path


class ServerProcess:
    """`voting serve` in a subprocess on a free port; its output goes to files in tmp_path."""

    def __init__(self, name: str, config: Path, folder: Path) -> None:
        self.name = name
        self.out = folder / f"{name}.out"
        self.err = folder / f"{name}.err"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "voting", "serve", "--config", str(config), "--port", "0"],
                stdout=out,
                stderr=err,
                env=clean_environment(),
                cwd=folder,
            )
        self.url = self._wait_until_serving()
        self.api = f"{self.url}/api/v1"

    def _wait_until_serving(self, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = SERVING.search(self.out.read_text(encoding="utf-8"))
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"server {self.name} did not start:\n{self.output()}")

    def threads(self) -> int:
        """How many OS threads the server process runs now."""
        return len(os.listdir(f"/proc/{self.process.pid}/task"))

    def output(self) -> str:
        return self.out.read_text(encoding="utf-8") + self.err.read_text(encoding="utf-8")

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it; killed only if it does not stop."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
