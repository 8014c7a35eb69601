"""The documents name only what exists: every class name docs/architecture.md quotes (`Runtime`,
`jobs.VoteTimer`, `SittingState.OPEN`, or in the picture of the layers) is defined in the
project, or is one of the few outside names it quotes on purpose; every test docs/security.md
names is there."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PYTHON = {"True", "False", "None"}
#: Names the document quotes that are not the project's classes.
NOT_OURS = {
    "ConnectionRefusedError",  # python-socketio's, raised to refuse a connection
    "OpenAPI",  # the description format
    "Intl",  # the browser's Intl.PluralRules
    "PluralRules",
}


def quoted_class_names(text: str) -> set[str]:
    """Capitalised names inside `backticks` (dotted prefixes such as `jobs.` and constants such as
    `.SECRETARY` aside) and the CamelCase names of the mermaid picture."""
    names = set()
    for block in re.findall(r"```mermaid\n(.*?)```", text, re.S):
        names.update(re.findall(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+\b", block))
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    for quoted in re.findall(r"`([^`]+)`", prose):
        for token in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", quoted):
            for part in token.split("."):
                if part[:1].isupper() and not part.isupper() and part not in PYTHON:
                    names.add(part)
    return names


def test_the_architecture_names_only_classes_that_exist() -> None:
    text = (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("voting", "hardware", "protocols", "tests")
        for path in (REPO_ROOT / folder).rglob("*.py")
    )
    defined = set(re.findall(r"^\s*class (\w+)", source, re.M))
    named = quoted_class_names(text)
    assert len(named) > 20  # the document does quote the classes it describes
    assert sorted(named - defined - NOT_OURS) == []


def test_every_test_docs_security_names_exists() -> None:
    """docs/security.md lists each promise with the test that checks it: a renamed or deleted
    test must not leave a promise pointing at nothing."""
    text = (REPO_ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?", text)
    assert len(named) > 10
    missing = []
    for path, test in named:
        source = REPO_ROOT / path
        if not source.is_file():
            missing.append(path)
        elif test and not re.search(rf"^def {test}\(", source.read_text(encoding="utf-8"), re.M):
            missing.append(f"{path}::{test}")
    assert missing == []
