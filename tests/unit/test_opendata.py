"""The open-data structures (annexes 29 and 30, CMU Resolution No. 835) as copied into code."""

from __future__ import annotations

import ast
import dataclasses
import sys
from pathlib import Path

import pytest

from voting import opendata
from voting.opendata import (
    CONVOCATIONS,
    DATATYPES,
    DEPUTIES,
    DEPUTY_RESULTS,
    MOTION_RESULTS,
    MOTIONS,
    MOTIONS2,
    NO_FACTION,
    NULL,
    RESOURCES,
    SESSIONS,
    VOTE,
    VOTE_EVENTS,
    VOTINGS,
    Column,
    column_names,
)

ALL = {
    "CONVOCATIONS": CONVOCATIONS,
    "SESSIONS": SESSIONS,
    "MOTIONS": MOTIONS,
    "MOTIONS2": MOTIONS2,
    "VOTE_EVENTS": VOTE_EVENTS,
    "VOTE": VOTE,
    "VOTINGS": VOTINGS,
    "DEPUTIES": DEPUTIES,
}


@pytest.mark.parametrize(
    ("resource", "count"),
    [
        ("convocations", 7),
        ("sessions", 5),
        ("motions", 8),
        ("motions2", 18),
        ("voteEvents", 14),
        ("vote", 3),
        ("votings", 5),
        ("deputies", 33),
    ],
)
def test_column_count_per_resource(resource: str, count: int) -> None:
    assert len(RESOURCES[resource]) == count


def test_resources_map_to_the_tuples() -> None:
    assert list(RESOURCES) == [
        "convocations", "sessions", "motions", "motions2", "voteEvents", "vote", "votings",
        "deputies",
    ]  # fmt: skip
    assert RESOURCES["voteEvents"] is VOTE_EVENTS
    assert RESOURCES["deputies"] is DEPUTIES


@pytest.mark.parametrize("name", ALL)
def test_column_names_have_no_whitespace_and_are_unique(name: str) -> None:
    names = column_names(ALL[name])
    for column_name in names:
        assert column_name and not any(ch.isspace() for ch in column_name), repr(column_name)
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("name", ALL)
def test_titles_are_trimmed_and_datatypes_known(name: str) -> None:
    for column in ALL[name]:
        assert column.title and column.title == column.title.strip(), repr(column.title)
        assert column.datatype in DATATYPES
        assert isinstance(column.required, bool)


def test_vote_events_uses_the_intended_voting_against_name() -> None:
    assert column_names(VOTE_EVENTS) == (
        "uid", "motionUid", "projectNumber", "projectTitle", "startDate", "endDate", "result",
        "votingFor", "votingAgainst", "votingAbstain", "notVoting", "absent", "textUrl", "text",
    )  # fmt: skip
    assert opendata.COLUMN_NAME_ALIASES["votingAgainst\n"] == "votingAgainst"
    assert VOTE_EVENTS[8] == Column("votingAgainst", "Голоси “Проти”", "integer", True)


def test_deputies_order_and_flags() -> None:
    names = column_names(DEPUTIES)
    assert names[:7] == (
        "id", "votingIdentifier", "familyName", "name", "additionalName", "gender", "birthDate",
    )  # fmt: skip
    assert names[15] == "factionName"
    assert names[19:21] == ("areaId", "CATUTTC")
    assert names[-1] == "availabilityRestriction"
    by_name = {c.name: c for c in DEPUTIES}
    assert by_name["id"] == Column("id", "Ідентифікатор", "string", True)
    assert by_name["votingIdentifier"].required is False
    assert by_name["name"].title == "Імʼя"  # with U+02BC, as in the standard
    assert by_name["additionalName"].title == "По батькові"  # trailing space stripped
    assert by_name["gender"].datatype == "integer"
    assert by_name["birthDate"].datatype == "date"
    assert by_name["image"] == Column("image", "Фото", "anyURL", True)
    assert by_name["areaId"] == Column("areaId", "Виборчий округ", "integer", False)
    assert sum(c.required for c in DEPUTIES) == 20


def test_other_resources_spot_checks() -> None:
    assert column_names(VOTE) == ("uid", "voterUid", "result")
    assert column_names(VOTINGS) == ("motionUid", "voterId", "voterName", "motionTitle", "result")
    assert column_names(SESSIONS) == ("uid", "label", "convocationUid", "dateFrom", "dateUntil")
    assert CONVOCATIONS[-1] == Column("CATUTTC", "Код КАТОТТГ", "string", True)
    assert MOTIONS[2] == Column("votingIdentifier", "Ідентифікатор особи", "string", True)
    assert MOTIONS[-1] == Column("sources", "URL-адреси", "anyURL", False)
    assert MOTIONS2[0].title == "Унікальний ідентифікатор"  # trailing space stripped
    assert MOTIONS2[15] == Column("votingResult", "Результати голосування", "string", True)
    assert VOTE_EVENTS[4].datatype == "dateTime"


def test_primary_keys_are_columns_of_their_resource() -> None:
    assert set(opendata.PRIMARY_KEYS) == set(RESOURCES)
    for resource, key in opendata.PRIMARY_KEYS.items():
        assert key in column_names(RESOURCES[resource])


def test_closed_value_lists_and_literals() -> None:
    assert MOTION_RESULTS == ("Прийнято", "Не прийнято", "Не голосували", "Не розглядали")
    assert DEPUTY_RESULTS == ("За", "Проти", "Утримався", "Не голосував", "Відсутній")
    assert NO_FACTION == "Позафракційний"
    assert NULL == "null"
    assert sorted(opendata.GENDER_CODES) == [0, 1, 2, 9]
    assert opendata.COUNTRY == "Україна"


def test_column_is_frozen_and_checks_its_datatype() -> None:
    column = Column("x", "Ікс", "string", False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        column.name = "y"  # type: ignore[misc]
    with pytest.raises(ValueError, match="datatype"):
        Column("x", "Ікс", "number", False)


@pytest.mark.parametrize(
    ("module", "allowed"),
    [("voting/opendata.py", set()), ("voting/services/roster_import.py", {"voting.opendata"})],
)
def test_modules_use_the_standard_library_only(module: str, allowed: set[str]) -> None:
    path = Path(__file__).resolve().parents[2] / module
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module)
    outside = {
        name
        for name in imported
        if name.split(".")[0] not in sys.stdlib_module_names and name != "__future__"
    }
    assert outside <= allowed
