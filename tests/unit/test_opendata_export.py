"""The open-data validator (voting.opendata.validate) and the file formats of the export
(voting.services.export), without a database."""

from __future__ import annotations

import csv
import io
import json

import pytest

from voting.opendata import RESOURCES, column_names, datatype_problem, validate
from voting.services.export import NOT_HELD, spreadsheet_safe, to_csv, to_json


def blank(resource: str, **cells: str) -> dict[str, str]:
    row = dict.fromkeys(column_names(RESOURCES[resource]), "")
    row.update(cells)
    return row


def small() -> dict[str, list[dict[str, str]]]:
    """One of everything, joined: a convocation, a session, a question, its vote, one deputy."""
    return {
        "convocations": [
            blank(
                "convocations",
                uid="8",
                label="VIII скликання",
                dateFrom="2020-12-01",
                dateUntil="2025-12-01",
                authorityName="Рада",
                authorityId="12345678",
                CATUTTC="UA12345678901234567",
            )
        ],
        "sessions": [
            blank(
                "sessions",
                uid="8-1",
                label="1 сесія",
                convocationUid="8",
                dateFrom="2020-12-01",
                dateUntil="2020-12-01",
            )
        ],
        "motions": [
            blank(
                "motions",
                uid="2020-12-01-1",
                sessionUid="8-1",
                votingIdentifier="dep-1",
                title="Про бюджет",
                number="1",
                classification="Бюджет",
                date="2020-12-01",
            )
        ],
        "voteEvents": [
            blank(
                "voteEvents",
                uid="10",
                motionUid="2020-12-01-1",
                projectNumber="1/1",
                projectTitle="Про бюджет",
                startDate="2020-12-01T10:00:00Z",
                endDate="2020-12-01T10:01:00.123456+02:00",
                result="Прийнято",
                votingFor="1",
                votingAgainst="0",
                votingAbstain="0",
                notVoting="0",
                absent="0",
                textUrl="https://rada.example.gov.ua/1",
                text="1-1.html",
            )
        ],
        "vote": [blank("vote", uid="10", voterUid="dep-1", result="За")],
        "deputies": [
            blank(
                "deputies",
                id="A-1",
                votingIdentifier="dep-1",
                familyName="Коваленко",
                name="Ольга",
                additionalName="Іванівна",
                gender="2",
                birthDate="1980-12-01",
                image="null",
                biography="…",
                partyName="Партія",
                email="o@example.gov.ua",
                telephone="+380123456789",
                account="https://a.example, https://b.example",
                factionName="Позафракційний",
                areaId="null",
                CATUTTC="UA12345678901234567",
                addressPostCode="01001",
                addressAdminUnitL1="Україна",
                addressAdminUnitL2="Київська область",
                addressPostName="Київ",
                addressThoroughfare="вул. Хрещатик",
                addressLocatorDesignator="36",
                openingHours="Пн-Пт 09:00-17:00",
            )
        ],
    }


def test_a_complete_small_export_is_valid() -> None:
    assert validate(small()) == []


@pytest.mark.parametrize(
    ("resource", "column", "value", "problem"),
    [
        ("motions", "number", "7a", "'7a' is not a whole number (integer)"),
        ("motions", "number", "-1", "'-1' is not a whole number (integer)"),
        ("sessions", "dateFrom", "2020-02-30", "is not a date (YYYY-MM-DD) (date)"),
        ("voteEvents", "startDate", "2020-12-01 10:00", "is not a date and time"),
        ("voteEvents", "textUrl", "rada.gov.ua", "is not a link starting with http://"),
        ("deputies", "account", "https://a.example, b", "'b' is not a link"),
        ("deputies", "gender", "3", "'3' is not one of 0, 1, 2, 9"),
        ("deputies", "addressAdminUnitL1", "Польща", "is not one of Україна"),
        ("vote", "result", "за", "is not one of За, Проти"),
        ("motions", "number", "null", "'null' is not a whole number"),  # not where not prescribed
        ("voteEvents", "text", " ", "a value is required"),
    ],
)
def test_each_kind_of_bad_cell_is_named(
    resource: str, column: str, value: str, problem: str
) -> None:
    data = small()
    data[resource][0][column] = value
    [found] = validate(data)
    assert found.startswith(f"{resource} row 1, {column}: ") and problem in found


def test_blanks_are_allowed_only_where_asked() -> None:
    data = small()
    data["deputies"][0]["birthDate"] = ""
    assert validate(data) == ["deputies row 1, birthDate: a value is required"]
    assert validate(data, allow_blank=NOT_HELD) == []
    data["deputies"][0]["familyName"] = ""
    assert validate(data, allow_blank=NOT_HELD) == [
        "deputies row 1, familyName: a value is required"
    ]


def test_links_rows_and_names() -> None:
    data = small()
    data["vote"].append({"uid": "11", "voterUid": "dep-2", "result": "Проти"})
    data["motions"][0]["votingIdentifier"] = ""  # optional in effect: a blank links nowhere
    assert validate(data, allow_blank={"motions": {"votingIdentifier"}}) == [
        "vote row 2, uid: '11' names no voteEvents row (voteEvents.uid)",
        "vote row 2, voterUid: 'dep-2' names no deputies row (deputies.votingIdentifier)",
    ]
    data = small()
    data["votes"] = []
    data["sessions"][0]["uid"] = 8  # type: ignore[assignment]
    assert validate(data) == [
        "sessions row 1, uid: 8 is not text",
        "votes: not a resource of the standard",
        "motions row 1, sessionUid: '8-1' names no sessions row (sessions.uid)",
    ]


def test_spreadsheet_safe() -> None:
    for cell in ("=SUM(A1)", "+380123456789", "-1", "@cmd", "\tx", "\rx"):
        assert spreadsheet_safe(cell) == "'" + cell
    for cell in ("", "Про бюджет", "2020-12-01", "12", "'quoted", " =x"):
        assert spreadsheet_safe(cell) == cell


def test_csv_and_json_forms() -> None:
    rows = [
        {"uid": "10", "voterUid": '=HYPERLINK("x")', "result": "За"},
        {"uid": "10", "voterUid": "dep-2", "result": 'Проти, "так"\nі ні'},
    ]
    text = to_csv("vote", rows)
    assert text.startswith("uid,voterUid,result\r\n")
    read = list(csv.reader(io.StringIO(text, newline="")))
    assert read[1] == ["10", '\'=HYPERLINK("x")', "За"]
    assert read[2][2] == 'Проти, "так"\nі ні'
    assert json.loads(to_json("vote", rows))[0]["voterUid"] == '=HYPERLINK("x")'

    event = small()["voteEvents"][0] | {"text": "", "votingFor": "7"}
    [obj] = json.loads(to_json("voteEvents", [event]))
    assert list(obj) == list(column_names(RESOURCES["voteEvents"]))
    assert (obj["votingFor"], obj["text"], obj["uid"]) == (7, None, "10")
    deputy = small()["deputies"][0]
    [obj] = json.loads(to_json("deputies", [deputy]))
    assert (obj["image"], obj["areaId"], obj["gender"]) == (None, None, 2)


def test_datatype_problem_accepts_the_standards_examples() -> None:
    assert datatype_problem("dateTime", "2023-04-09T15:00:00.000000Z") is None
    assert datatype_problem("dateTime", "2024-09-04T10:15") is None
    assert datatype_problem("date", "2014-05-30") is None
    assert datatype_problem("anyURL", "https://www.example.gov.ua/photo.png") is None
    assert datatype_problem("integer", "19") is None
    assert datatype_problem("string", "=anything") is None
