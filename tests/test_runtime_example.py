"""The example of docs/architecture.md ("The runtime") runs as written: a script builds the runtime
without Flask, holds a sitting and a timed vote, and the runtime's vote timer closes it."""

from __future__ import annotations

import ast
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DOORS = ("flask", "flask_socketio", "flask_babel", "gevent", "socketio", "werkzeug")

RUN = f"""
import json, runpy, sys
runpy.run_path("example.py", run_name="__main__")
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({DOORS!r}))))
"""


def the_example() -> str:
    """The first Python block of the section "The runtime"."""
    text = (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## The runtime", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "docs/architecture.md shows no Python example under 'The runtime'"
    return found.group(1)


def test_the_documented_script_runs_a_sitting_without_flask(tmp_path: Path) -> None:
    code = the_example()
    steps = [line for line in code.splitlines() if line.strip() and "import" not in line]
    assert len(steps) <= 28  # a short script, as the document says
    (tmp_path / "example.py").write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", RUN], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    printed, doors = done.stdout.strip().splitlines()
    result = ast.literal_eval(printed)
    assert (result["for"], result["against"], result["threshold"]) == (4, 1, 3)
    assert result["result"] == "adopted" and result["result_uk"] == "Прийнято"
    assert json.loads(doors) == []  # no web framework, no gevent: only the runtime
    # The vote timer closed it, not anyone's hand; and the document shows what it prints.
    with sqlite3.connect(tmp_path / "example.sqlite3") as db:
        closed = db.execute("SELECT actor FROM journal_entry WHERE kind = 'vote_closed'").fetchall()
    assert closed == [("system",)]
    # The anchor (the closing entry's number and hash) differs from run to run.
    anchor = re.escape(result["anchor"])
    assert re.fullmatch(r"[0-9]+:[0-9a-f]{64}", result["anchor"])
    printed = re.sub(anchor, "SEQ:HASH", printed)
    assert f"It prints `{printed}`" in " ".join(
        (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8").split()
    )
