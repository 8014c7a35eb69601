"""Real headless Chromium (Debian's `chromium`) driven by Playwright for Python, axe-core's
accessibility check run inside a page, and a loopback TCP relay that can cut a screen's
connection to the server as a broken hall network would."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path
from typing import Any

from skipping import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
#: Screenshots land here (CI keeps the folder as the test run's artifacts).
ARTIFACTS = Path(os.environ.get("VOTING_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "screens"

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


#: axe-core, from npm (package.json's devDependencies, installed by `npm ci`).
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: What a screen must never have: axe-core's serious and critical findings.
BLOCKING = ("serious", "critical")


def axe_findings(page: Any, where: str) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA,
    and axe's best practices), one line each: rule, impact, and the first elements it names.
    Put in the page through the DevTools protocol, so the page's Content-Security-Policy, which
    refuses every script but its own, neither blocks it nor has to allow it."""
    if not AXE.is_file():
        skip_or_fail(f"{AXE} is missing: run `npm ci`")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
          .map(v => ({ id: v.id, impact: v.impact,
                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')) }))"""
    )
    return [
        f"{where}: {v['id']} ({v['impact']}) at {', '.join(v['nodes'])}"
        for v in found
        if v["impact"] in BLOCKING
    ]


def chromium_or_skip() -> str:
    path = shutil.which("chromium")
    if path is None:
        skip_or_fail(
            "Debian's chromium is not installed (apt-get install chromium); browser tests skipped"
        )
    return path


class Relay:
    """Forwards 127.0.0.1:<port> to the server; cut() drops every connection and refuses new
    ones until mend(); hold() swallows what the server sends (its answers are lost) until cut."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._stopped = False
        self._holding = threading.Event()
        threading.Thread(target=self._accept, name="relay", daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._pairs.append((client, upstream))
            for a, b, answers in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(target=self._pump, args=(a, b, answers), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, answers: bool) -> None:
        try:
            while data := source.recv(65536):
                if answers and self._holding.is_set():
                    continue  # lost on the way back
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def hold(self) -> None:
        self._holding.set()

    def cut(self) -> None:
        self._open.clear()
        self._holding.clear()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def mend(self) -> None:
        self._open.set()

    def stop(self) -> None:
        self._stopped = True
        self.cut()
        self.listener.close()
