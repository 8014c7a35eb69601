"""The layering contracts in pyproject.toml ([tool.importlinter]) are all kept."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# import-linter has no "python -m" entry; call its click command the way the
# lint-imports script does, in a child process so that the import graph is
# built from the files on disk and nothing leaks into the test process.
LINT_IMPORTS = (
    "from importlinter.cli import lint_imports_command; "
    "lint_imports_command(prog_name='lint-imports')"
)


def test_import_contracts_are_kept():
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo", "pyproject.toml"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    report = f"{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, f"lint-imports failed:\n{report}"
    contracts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    count = len(contracts["tool"]["importlinter"]["contracts"])
    assert f"Contracts: {count} kept, 0 broken." in report, report
