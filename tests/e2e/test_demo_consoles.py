"""`voting demo` as a person runs it: the server, the console simulator and the console gateway
start together; a card put in on the page of the hall of consoles registers its deputy, a key
pressed there during a vote is recorded and lights up; Ctrl+C stops all three processes."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from serving import clean_environment
from waiting import until

pytestmark = pytest.mark.e2e


def test_the_demo_runs_a_hall_of_simulated_consoles(tmp_path: Path) -> None:
    out = tmp_path / "demo.out"
    with out.open("wb") as sink:
        demo = subprocess.Popen(
            [sys.executable, "-m", "voting", "demo", "--port", "0"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=clean_environment(),
            cwd=tmp_path,
        )
    try:
        text = until(lambda: "Serving on" in out.read_text() and out.read_text(), timeout=60)
        base = re.search(r"Serving on (http://127\.0\.0\.1:\d+)", text).group(1)  # type: ignore[union-attr]
        page = re.search(r"Hall of consoles: (http://\S+)", text).group(1)  # type: ignore[union-attr]
        tokens = json.loads((tmp_path / "instance" / "demo-tokens.json").read_text())
        staff = {"Authorization": f"Bearer {tokens['secretary']}"}
        first = tokens["deputies"][0]
        seat, uid = first["seat_number"], first["card_uid"]

        def console(n: int) -> dict:
            seats = requests.get(f"{base}/api/v1/consoles", headers=staff, timeout=5).json()
            return next((s for s in seats.get("seats", []) if s["seat"] == n), {})

        until(lambda: console(seat).get("online"), timeout=30)
        sitting = requests.get(f"{base}/api/v1/state", timeout=5).json()["sitting"]["id"]
        opened = requests.post(
            f"{base}/api/v1/sittings/{sitting}/registration/open", json={}, headers=staff, timeout=5
        )
        assert opened.status_code == 200, opened.text
        action = {"address": seat, "action": "insert", "uid": uid}
        assert requests.post(f"{page}action", json=action, timeout=5).json() == {"ok": True}
        until(lambda: console(seat).get("registered"))
        assert console(seat)["deputy_id"] == first["deputy_id"]

        def lights() -> list[str]:
            state = requests.get(f"{page}state", timeout=5).json()
            return next(c for c in state["consoles"] if c["address"] == seat)["lights"]

        until(lambda: "REGISTERED" in lights())
        children = subprocess.run(
            ["pgrep", "-P", str(demo.pid)], capture_output=True, text=True
        ).stdout.split()
        assert len(children) == 2  # the simulator and the gateway
    finally:
        demo.send_signal(signal.SIGINT)  # Ctrl+C
        try:
            demo.wait(timeout=30)
        finally:
            if demo.poll() is None:
                demo.kill()
    assert demo.returncode == 0, out.read_text()
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
