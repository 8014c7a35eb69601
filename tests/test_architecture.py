"""The layering contracts in pyproject.toml ([tool.importlinter]) are all kept, and the
project's own contract type refuses what it should."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest
from import_contracts import StandardLibraryOnly

REPO_ROOT = Path(__file__).resolve().parents[1]

# import-linter has no "python -m" entry; call its click command the way the lint-imports script
# does, in a child process so that the import graph is built from the files on disk and nothing
# leaks into the test process. This folder goes on the path first: the project's own contract
# type lives here (import_contracts.py).
LINT_IMPORTS = (
    f"import sys; sys.path.insert(0, {str(REPO_ROOT / 'tests')!r}); "
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


def test_the_standard_library_only_contract_refuses_anything_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    domain = tmp_path / "sample" / "domain"
    domain.mkdir(parents=True)
    (tmp_path / "sample" / "__init__.py").write_text("")
    (tmp_path / "sample" / "web.py").write_text("import flask\n")
    (domain / "__init__.py").write_text("import json\nfrom . import rules\n")
    (domain / "rules.py").write_text("import typing\n\nimport sqlalchemy\nfrom sample import web\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("sample", include_external_packages=True, cache_dir=None)
    contract = StandardLibraryOnly("pure", {}, {"source_modules": ["sample.domain"]})
    check = contract.check(graph, verbose=False)
    assert not check.kept
    assert [(importer, imported) for importer, imported, _ in check.metadata["illegal"]] == [
        ("sample.domain.rules", "sample.web"),
        ("sample.domain.rules", "sqlalchemy"),
    ]
