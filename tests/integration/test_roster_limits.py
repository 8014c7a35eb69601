"""Importing deputies keeps the roster's limits: an over-long or unprintable value is refused
with the deputy (or the CSV line) and the field named, and nobody is imported."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from roster_csv import deputies_csv

from voting.bootstrap import Runtime, build_runtime
from voting.cli import main
from voting.config import database_config
from voting.domain.actors import SYSTEM, Actor
from voting.domain.errors import InvalidInput
from voting.services import council, queries
from voting.services.roster_import import DeputyRecord

SECRETARY = Actor("secretary", "secretary:test")


def record(n: int, **changes: object) -> DeputyRecord:
    base = DeputyRecord(
        external_id=f"D-{n}",
        voting_identifier=f"dep-{n}",
        family_name=f"Ковальчук{n}",
        given_name="Віктор",
        patronymic="Зосимович",
        faction_name="Каштанова алея",
        committee_name=None,
        area_id=None,
        katottg="UA51020030010063857",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def empty_council(runtime: Runtime) -> Runtime:
    council.create_council(
        runtime.uow(),
        SYSTEM,
        {
            "name": "Мала рада",
            "edrpou": "87654321",
            "katottg": "UA12345678901234567",
            "statutory_deputies": 10,
        },
    )
    return runtime


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"voting_identifier": "v" * 65}, "voting_identifier"),
        ({"external_id": "D-" + "9" * 63}, "external_id"),
        ({"family_name": "Ш" * 290, "given_name": "Тарас" * 3}, "full_name"),
        ({"family_name": "Ш" * 119}, "short_name"),
        ({"faction_name": "Ф" * 301}, "faction"),
        ({"given_name": "Іван\u202e"}, "full_name"),
    ],
)
def test_import_refuses_a_value_the_roster_cannot_hold(
    empty_council: Runtime, changes: dict[str, object], field: str
) -> None:
    bad = record(2, **changes)
    with pytest.raises(InvalidInput) as refused:
        council.import_deputies(empty_council.uow(), SECRETARY, [record(1), bad, record(3)])
    message = refused.value.message
    assert message.startswith(f"deputy {bad.external_id[:63]}")
    assert field in message and refused.value.details.get("field") == field
    assert queries.deputies(empty_council.uow()) == []


def test_import_at_the_limits_keeps_every_value(empty_council: Runtime) -> None:
    longest = record(
        1,
        voting_identifier="v" * 64,
        external_id="e" * 64,
        family_name="Ш" * 100,
        faction_name="Ф" * 300,
    )
    council.import_deputies(empty_council.uow(), SECRETARY, [longest])
    [deputy] = queries.deputies(empty_council.uow())
    assert deputy["voting_identifier"] == "v" * 64 and deputy["faction"] == "Ф" * 300
    assert deputy["full_name"] == "Ш" * 100 + " Віктор Зосимович"


# --- the command line ---------------------------------------------------------------------------


def csv_row(n: int, **cells: str) -> dict[str, str]:
    return {
        "id": f"D-{n}",
        "votingIdentifier": f"dep-{n}",
        "familyName": f"Ковальчук{n}",
        "name": "Віктор",
        "additionalName": "Зосимович",
        "factionName": "Каштанова алея",
        "CATUTTC": "UA51020030010063857",
        **cells,
    }


@pytest.mark.parametrize(
    "cells, field",
    [
        ({"id": "D" * 65}, "id"),
        ({"votingIdentifier": "v" * 200}, "votingIdentifier"),
        ({"familyName": "Ш" * 150, "name": "Т" * 160}, "name"),
        ({"familyName": "Ш" * 200}, "familyName"),
        ({"factionName": "Ф" * 301}, "factionName"),
    ],
)
def test_import_deputies_names_the_line_and_field_of_a_too_long_cell(
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    cells: dict[str, str],
    field: str,
) -> None:
    for name in ("VOTING_CONFIG", "VOTING_DATABASE_URL", "VOTING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config.toml"
    config.write_text(
        f"[server]\ninstance_path = {json.dumps(str(tmp_path / 'instance'))}\n"
        f"[database]\nurl = {json.dumps(db_url)}\n",
        encoding="utf-8",
    )
    assert main(["--config", str(config), "init"]) == 0
    path = tmp_path / "deputies.csv"
    path.write_bytes(deputies_csv([csv_row(1), csv_row(2), csv_row(3, **cells)]))
    capsys.readouterr()

    code = main(["--config", str(config), "import-deputies", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f'error: {path}: line 4, field "{field}": '), err
    assert "characters long" in err and "nobody was imported" in err
    assert "Traceback" not in err
    rt = build_runtime(database_config(db_url))
    try:
        assert queries.deputies(rt.uow()) == []
    finally:
        rt.stop()
