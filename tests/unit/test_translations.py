"""Every message of the interface has its Ukrainian translation, and the compiled catalog the
application loads says the same as the catalog people edit."""

from __future__ import annotations

import gettext
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "voting" / "translations" / "uk" / "LC_MESSAGES"


def load_po():  # type: ignore[no-untyped-def]
    with open(CATALOG / "messages.po", "rb") as f:
        return read_po(f)


def test_every_message_in_code_and_templates_is_translated(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "_lp:1c,2",
            "-k",
            "N_:1,2",
            "--no-location",
            "-o",
            str(pot),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    with open(pot, "rb") as f:  # a message with a context (pgettext) is its own message
        wanted = {(m.context, m.id) for m in read_po(f) if m.id}
    catalog = load_po()
    translated = {
        (m.context, m.id)
        for m in catalog
        if m.id and all(m.string if isinstance(m.string, tuple) else [m.string]) and not m.fuzzy
    }
    assert sorted(map(str, wanted - translated)) == []  # add them to messages.po (README there)


def test_the_compiled_catalog_matches_the_edited_one() -> None:
    with open(CATALOG / "messages.mo", "rb") as f:
        compiled = {(m.context, _key(m.id)): _key(m.string) for m in read_mo(f) if m.id}
    edited = {(m.context, _key(m.id)): _key(m.string) for m in load_po() if m.id}
    assert compiled == edited  # run: pybabel compile -d voting/translations


def _key(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def test_ukrainian_plural_forms_follow_the_numbers() -> None:
    catalog = load_po()
    assert catalog.num_plurals == 3
    forms = catalog.get(("%(num)d deputy", "%(num)d deputies")).string
    plural = gettext.c2py(catalog.plural_expr)
    by_number = {n: forms[plural(n)] % {"num": n} for n in (1, 2, 5, 11, 21, 22, 25)}
    assert by_number == {
        1: "1 депутат",
        2: "2 депутати",
        5: "5 депутатів",
        11: "11 депутатів",
        21: "21 депутат",
        22: "22 депутати",
        25: "25 депутатів",
    }
