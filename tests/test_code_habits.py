"""The code keeps its habits: ruff finds nothing and has nothing to reformat; mypy finds no type
error (strict on the domain and the use cases); every `type: ignore` names its error code and says
why (settings in pyproject.toml: [tool.ruff], [tool.mypy])."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("voting", "hardware", "protocols")


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ruff_finds_nothing_to_fix() -> None:
    result = run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_has_nothing_to_reformat() -> None:
    result = run("ruff", "format", "--no-cache", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_no_type_error() -> None:
    result = run("mypy", "--cache-dir", "/dev/null")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_domain_and_the_use_cases_pass_mypy_strict() -> None:
    result = run(
        "mypy",
        "--strict",
        "--follow-imports=silent",
        "--cache-dir",
        "/dev/null",
        "voting/domain",
        "voting/services",
    )
    assert result.returncode == 0, result.stdout + result.stderr


#: `# type: ignore[code]  # why` (or the why on the line before).
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[a-z0-9-]+(?:,\s*[a-z0-9-]+)*\])?(?P<rest>.*)")


def test_every_type_ignore_names_its_error_and_why() -> None:
    bare = []
    for package in CHECKED:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            lines = path.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines, start=1):
                found = IGNORE.search(line)
                if found is None:
                    continue
                said_why = found["rest"].strip().startswith("#") or (
                    number > 1 and lines[number - 2].strip().startswith("#")
                )
                if not found["codes"] or not said_why:
                    bare.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert bare == []


def _project_modules_bound(tree: ast.Module) -> set[str]:
    """Names a module binds to modules of the project (`from voting.services import votes`,
    `from . import push`, `import voting.config as config`)."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (
            node.level or (node.module or "").startswith(CHECKED)
        ):
            bound.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            bound.update(
                alias.asname or alias.name.split(".")[0]
                for alias in node.names
                if alias.name.startswith(CHECKED)
            )
    return bound


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_module_uses_another_modules_private_names() -> None:
    """`from voting.services.votes import _x` or `votes._x` elsewhere: the name is the module's
    own; make it public (and name it so) or keep the use inside."""
    found = []
    for package in CHECKED:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            modules = _project_modules_bound(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (
                    node.level or (node.module or "").startswith(CHECKED)
                ):
                    found += [
                        f"{path.name}: imports {a.name}" for a in node.names if _private(a.name)
                    ]
                elif (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id in modules
                    and _private(node.attr)
                ):
                    found.append(f"{path.name}:{node.lineno}: {node.value.id}.{node.attr}")
    assert found == []
