"""Reading a deputies CSV (open-data structure "deputies", annex 30) into DeputyRecords."""

from __future__ import annotations

import csv
import io
import pickle
import re
from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voting.opendata import DEPUTIES
from voting.services.roster_import import (
    DEPUTIES_CSV_HEADER,
    MAX_CELL_LENGTH,
    DeputyRecord,
    RosterImportError,
    parse_deputies_csv,
)

BOM = "\ufeff"


def deputy(**values: str) -> dict[str, str]:
    """A complete, valid row; keyword arguments override cells."""
    row = {
        "id": "1001-АБВ",
        "votingIdentifier": "dep-1",
        "familyName": "Ковальчук",
        "name": "Віктор",
        "additionalName": "Зосимович",
        "gender": "1",
        "birthDate": "1980-12-01",
        "image": "https://www.example.gov.ua/photo.png",
        "biography": "Народився в м. Балта, освіта вища",
        "partyName": "Політична партія «Європейське місто»",
        "partyId": "01234567",
        "email": "kovalchuk@example.gov.ua",
        "telephone": "+380123456789",
        "homepage": "https://www.example.gov.ua/deputies/1/",
        "account": "https://www.facebook.com/k, https://www.instagram.com/k",
        "factionName": "Фракція політичної партії “Європейське місто”",
        "factionPost": "Член депутатської фракції",
        "commissionName": "Бюджетна комісія",
        "commissionPost": "Секретар",
        "areaId": "19",
        "CATUTTC": "UA51020030010063857",
        "addressPostCode": "66101",
        "addressAdminUnitL1": "Україна",
        "addressAdminUnitL2": "Одеська область",
        "addressAdminUnitL3": "Подільський район",
        "addressAdminUnitL4": "Балтська",
        "addressPostName": "Балта",
        "addressThoroughfare": "вул. Любомирська",
        "addressLocatorDesignator": "15-А",
        "addressLocatorBuilding": "null",
        "addressLocatorName": "кабінет 12",
        "openingHours": "Пн,Пт 09:00-17:00",
        "availabilityRestriction": "Перерва на обід — 12:00-13:00",
    }
    unknown = set(values) - set(row)
    assert not unknown, unknown
    row.update(values)
    return row


def to_csv(
    rows: list[dict[str, str]],
    *,
    header: tuple[str, ...] | list[str] = DEPUTIES_CSV_HEADER,
    delimiter: str = ",",
    bom: bool = False,
    newline: str = "\n",
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return (BOM if bom else "") + out.getvalue()


def three_deputies() -> list[dict[str, str]]:
    return [
        deputy(),
        deputy(
            id="1002-АБВ",
            votingIdentifier="dep-2",
            familyName="Шевчук",
            name="Олена",
            additionalName="Петрівна",
            gender="2",
            factionName="Позафракційний",
            factionPost="null",
            commissionName="null",
            commissionPost="null",
            areaId="null",
        ),
        deputy(
            id="1003-АБВ",
            votingIdentifier="",
            familyName="Мʼясоїд",
            name="Анна-Марія",
            additionalName="",
            gender="2",
            birthDate="",
            image="null",
            commissionName="",
            areaId="",
        ),
    ]


# --- valid files ---------------------------------------------------------------------------------


def test_valid_file_with_bom_parses_into_records() -> None:
    records = parse_deputies_csv(to_csv(three_deputies(), bom=True))

    assert records == [
        DeputyRecord(
            external_id="1001-АБВ",
            voting_identifier="dep-1",
            family_name="Ковальчук",
            given_name="Віктор",
            patronymic="Зосимович",
            faction_name="Фракція політичної партії “Європейське місто”",
            committee_name="Бюджетна комісія",
            area_id=19,
            katottg="UA51020030010063857",
            email="kovalchuk@example.gov.ua",
            telephone="+380123456789",
        ),
        DeputyRecord(
            external_id="1002-АБВ",
            voting_identifier="dep-2",
            family_name="Шевчук",
            given_name="Олена",
            patronymic="Петрівна",
            faction_name=None,
            committee_name=None,
            area_id=None,
            katottg="UA51020030010063857",
            email="kovalchuk@example.gov.ua",
            telephone="+380123456789",
        ),
        DeputyRecord(
            external_id="1003-АБВ",
            voting_identifier=None,
            family_name="Мʼясоїд",
            given_name="Анна-Марія",
            patronymic="",
            faction_name="Фракція політичної партії “Європейське місто”",
            committee_name=None,
            area_id=None,
            katottg="UA51020030010063857",
            email="kovalchuk@example.gov.ua",
            telephone="+380123456789",
        ),
    ]
    assert [r.full_name for r in records] == [
        "Ковальчук Віктор Зосимович",
        "Шевчук Олена Петрівна",
        "Мʼясоїд Анна-Марія",
    ]
    assert [r.short_name for r in records] == [
        "Ковальчук В. З.",
        "Шевчук О. П.",
        "Мʼясоїд А.-М.",
    ]


def test_the_exports_quote_before_a_formula_like_cell_comes_off() -> None:
    """`voting export` writes "'=Петренко" so that a spreadsheet shows text: it reads back as
    "=Петренко"; an apostrophe before anything else is the name's own."""
    rows = [
        deputy(familyName="'=Петренко", name="'-Іван", telephone="'+380 44 123 45 67"),
        deputy(
            id="1002-АБВ",
            votingIdentifier="'@dep-2",
            familyName="'Оглу",
            name="Мар'яна",
            email="'@council.example",
        ),
    ]
    first, second = parse_deputies_csv(to_csv(rows))
    assert (first.family_name, first.given_name, first.telephone) == (
        "=Петренко",
        "-Іван",
        "+380 44 123 45 67",
    )
    assert first.full_name == "=Петренко -Іван Зосимович"
    assert (second.voting_identifier, second.family_name, second.given_name, second.email) == (
        "@dep-2",
        "'Оглу",
        "Мар'яна",
        "@council.example",
    )


def test_semicolon_delimited_file() -> None:
    text = to_csv(three_deputies(), delimiter=";", bom=True)
    assert "," not in text.splitlines()[0]
    records = parse_deputies_csv(text)
    assert [r.family_name for r in records] == ["Ковальчук", "Шевчук", "Мʼясоїд"]
    assert records[0].area_id == 19


def test_crlf_line_endings_and_bytes_input() -> None:
    text = to_csv(three_deputies(), bom=True, newline="\r\n")
    assert parse_deputies_csv(text) == parse_deputies_csv(text.encode("utf-8"))
    assert len(parse_deputies_csv(text)) == 3


def test_cells_are_trimmed_and_trailing_empty_rows_skipped() -> None:
    row = deputy(familyName="  Ковальчук ", name="\tВіктор", votingIdentifier=" null ")
    text = to_csv([row]) + "," * (len(DEPUTIES_CSV_HEADER) - 1) + "\n\n"
    [record] = parse_deputies_csv(text)
    assert record.family_name == "Ковальчук"
    assert record.given_name == "Віктор"
    assert record.voting_identifier is None


def test_extra_columns_allowed_and_optional_columns_may_be_absent() -> None:
    header = [c.name for c in DEPUTIES if c.required] + ["примітка"]
    rows = [deputy(), deputy(id="2", votingIdentifier="dep-2")]
    for row in rows:
        row["примітка"] = "будь-що, навіть з комою"
    text = to_csv(rows, header=header)
    records = parse_deputies_csv(text)
    assert [r.voting_identifier for r in records] == [None, None]
    assert [r.committee_name for r in records] == [None, None]
    assert [r.area_id for r in records] == [None, None]


def test_other_standard_required_cells_may_be_empty() -> None:
    lenient = {
        c.name: ""
        for c in DEPUTIES
        if c.required and c.name not in {"id", "familyName", "name", "factionName", "CATUTTC"}
    }
    assert len(lenient) == 15
    [record] = parse_deputies_csv(to_csv([deputy(**lenient)]))
    assert record.patronymic == ""
    assert record.short_name == "Ковальчук В."


def test_quoted_multiline_cell_keeps_physical_line_numbers() -> None:
    rows = [deputy(biography="рядок 1\nрядок 2\nрядок 3"), deputy(id="2", birthDate="1.1.1990")]
    with pytest.raises(RosterImportError) as caught:
        parse_deputies_csv(to_csv(rows))
    assert caught.value.line == 5  # header 1, first deputy lines 2-4


def test_feminine_no_faction_spelling() -> None:
    [record] = parse_deputies_csv(to_csv([deputy(factionName="Позафракційна")]))
    assert record.faction_name is None


def test_cell_of_exactly_the_maximum_length_is_accepted() -> None:
    # a column the roster does not keep; the kept ones have their own limits (below)
    [record] = parse_deputies_csv(to_csv([deputy(biography="Я" * MAX_CELL_LENGTH)]))
    assert record.external_id == "1001-АБВ"


def test_kept_values_may_fill_their_columns_exactly() -> None:
    [record] = parse_deputies_csv(
        to_csv(
            [
                deputy(
                    id="I" * 64,
                    votingIdentifier="V" * 64,
                    factionName="Ф" * 300,
                    familyName="Я" * 114,
                    name="Віктор",
                    additionalName="З" * (300 - 114 - 8),
                )
            ]
        )
    )
    assert len(record.full_name) == 300 and len(record.short_name) == 120
    assert len(record.external_id) == len(record.voting_identifier or "") == 64


@pytest.mark.parametrize(
    "cells, field, what",
    [
        ({"id": "I" * 65}, "id", "65 characters long; at most 64"),
        ({"votingIdentifier": "V" * 65}, "votingIdentifier", "at most 64"),
        ({"factionName": "Ф" * 301}, "factionName", "at most 300"),
        ({"additionalName": "З" * 290}, "additionalName", "full name"),
        ({"familyName": "Я" * 115}, "familyName", "short name"),
    ],
)
def test_a_value_too_long_for_the_roster_names_line_and_field(
    cells: dict[str, str], field: str, what: str
) -> None:
    with pytest.raises(RosterImportError) as refused:
        parse_deputies_csv(
            to_csv([deputy(), deputy(**{"id": "2", "votingIdentifier": "dep-2", **cells})])
        )
    assert (refused.value.line, refused.value.field) == (3, field)
    assert what in refused.value.message


# --- errors --------------------------------------------------------------------------------------


def _with(**values: str) -> Callable[[], str]:
    """A file of three deputies whose third one (line 4) has the given cells."""

    def build() -> str:
        rows = three_deputies()
        rows[2].update(values)
        return to_csv(rows)

    return build


def _without_header_columns(*names: str) -> Callable[[], str]:
    def build() -> str:
        header = [n for n in DEPUTIES_CSV_HEADER if n not in names]
        return to_csv(three_deputies(), header=header)

    return build


def _replace_line(number: int, line: str) -> Callable[[], str]:
    def build() -> str:
        lines = to_csv(three_deputies()).splitlines()
        lines[number - 1] = line
        return "\n".join(lines) + "\n"

    return build


def _edit_line(number: int, edit: Callable[[str], str]) -> Callable[[], str]:
    def build() -> str:
        lines = to_csv(three_deputies()).splitlines()
        lines[number - 1] = edit(lines[number - 1])
        return "\n".join(lines) + "\n"

    return build


ERROR_CASES = [
    pytest.param(lambda: "", 1, None, "empty", id="empty"),
    pytest.param(lambda: BOM + " \n\n", 1, None, "empty", id="empty-with-bom"),
    pytest.param(
        _without_header_columns("familyName", "CATUTTC", "openingHours"),
        1,
        None,
        "lacks 3 required column(s): familyName, CATUTTC, openingHours",
        id="missing-header-columns",
    ),
    pytest.param(
        lambda: "прізвище,імʼя\nКовальчук,Віктор\n",
        1,
        None,
        "lacks 20 required column(s): id, familyName",
        id="not-a-deputies-file",
    ),
    pytest.param(
        lambda: to_csv([deputy()], header=[*DEPUTIES_CSV_HEADER, "email"]),
        1,
        "email",
        "appears twice",
        id="duplicate-header-column",
    ),
    pytest.param(lambda: to_csv([]), 1, None, "no deputies", id="header-only"),
    pytest.param(
        _edit_line(3, lambda line: line.rsplit(",", 1)[0]),
        3,
        None,
        "expected 33 cells as in the header, found 32",
        id="too-few-cells",
    ),
    pytest.param(
        _edit_line(2, lambda line: line + ",зайве"),
        2,
        None,
        "expected 33 cells as in the header, found 34",
        id="too-many-cells",
    ),
    pytest.param(_with(id=""), 4, "id", "required", id="empty-id"),
    pytest.param(_with(id="null"), 4, "id", "required", id="null-id"),
    pytest.param(_with(familyName="  "), 4, "familyName", "required", id="empty-family-name"),
    pytest.param(_with(name=""), 4, "name", "required", id="empty-name"),
    pytest.param(_with(factionName=""), 4, "factionName", "Позафракційний", id="empty-faction"),
    pytest.param(_with(CATUTTC=""), 4, "CATUTTC", "required", id="empty-katottg"),
    pytest.param(_with(gender="3"), 4, "gender", '"3" is not a gender code', id="gender-3"),
    pytest.param(_with(gender="Ч"), 4, "gender", "gender code", id="gender-letter"),
    pytest.param(_with(areaId="№19"), 4, "areaId", '"№19" is not a whole number', id="area-№"),
    pytest.param(_with(areaId="1.5"), 4, "areaId", "whole number", id="area-fraction"),
    pytest.param(
        _with(birthDate="12.01.1980"),
        4,
        "birthDate",
        '"12.01.1980" is not a date (expected YYYY-MM-DD)',
        id="date-dotted",
    ),
    pytest.param(_with(birthDate="1980-02-30"), 4, "birthDate", "not a date", id="date-invalid"),
    pytest.param(_with(birthDate="1980-1-2"), 4, "birthDate", "not a date", id="date-short"),
    pytest.param(
        _with(image="www.example.gov.ua/p.png"),
        4,
        "image",
        "must start with http:// or https://",
        id="image-no-scheme",
    ),
    pytest.param(_with(homepage="ftp://example.gov.ua"), 4, "homepage", "http", id="homepage-ftp"),
    pytest.param(
        _with(account="https://facebook.com/k, instagram.com/k"),
        4,
        "account",
        '"instagram.com/k" is not a link',
        id="account-second-link",
    ),
    pytest.param(
        _with(id="1001-АБВ"), 4, "id", '"1001-АБВ" is already used on line 2', id="duplicate-id"
    ),
    pytest.param(
        _with(votingIdentifier="dep-2"),
        4,
        "votingIdentifier",
        '"dep-2" is already used on line 3',
        id="duplicate-voting-identifier",
    ),
    pytest.param(
        _with(biography="б" * (MAX_CELL_LENGTH + 1)),
        4,
        "biography",
        f"the cell is {MAX_CELL_LENGTH + 1} characters long; at most {MAX_CELL_LENGTH}",
        id="oversized-cell",
    ),
    pytest.param(
        _replace_line(3, '"1002-АБВ"x' + "," * 32),
        3,
        None,
        "not valid CSV",
        id="bad-quoting",
    ),
    pytest.param(
        lambda: (
            to_csv(three_deputies())
            .encode("utf-8")
            .replace("Шевчук".encode(), "Шевчук".encode("cp1251"))
        ),
        3,
        None,
        "not UTF-8",
        id="not-utf8",
    ),
]


@pytest.mark.parametrize(("build", "line", "field", "fragment"), ERROR_CASES)
def test_error_names_line_field_and_problem(
    build: Callable[[], str | bytes], line: int, field: str | None, fragment: str
) -> None:
    with pytest.raises(RosterImportError) as caught:
        parse_deputies_csv(build())
    error = caught.value
    assert (error.line, error.field) == (line, field), str(error)
    assert fragment in error.message
    assert str(error).startswith(f"line {line}")
    assert isinstance(error, ValueError)


def test_missing_header_message_names_every_missing_column() -> None:
    header = ["id", "familyName", "name", "factionName", "CATUTTC"]
    with pytest.raises(RosterImportError) as caught:
        parse_deputies_csv(to_csv([deputy()], header=header))
    missing = [c.name for c in DEPUTIES if c.required and c.name not in header]
    assert len(missing) == 15
    for name in missing:
        assert name in caught.value.message


def test_error_text_format() -> None:
    with pytest.raises(RosterImportError) as caught:
        parse_deputies_csv(_with(birthDate="12.01.1980")())
    assert str(caught.value) == (
        'line 4, field "birthDate": "12.01.1980" is not a date (expected YYYY-MM-DD)'
    )
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.line, copy.field, copy.message) == (4, "birthDate", caught.value.message)


def test_the_first_problem_in_file_order_is_reported() -> None:
    rows = three_deputies()
    rows[1]["gender"] = "5"
    rows[2]["birthDate"] = "вчора"
    with pytest.raises(RosterImportError) as caught:
        parse_deputies_csv(to_csv(rows))
    assert (caught.value.line, caught.value.field) == (3, "gender")


# --- properties ----------------------------------------------------------------------------------

_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _is_date(value: str) -> bool:
    if not _ISO.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


bad_dates = st.one_of(
    st.sampled_from(["12.01.1980", "1980/01/12", "1980-13-01", "1980-02-30", "80-01-12", "x"]),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
    ).filter(lambda s: s.strip() and s.strip().casefold() != "null" and not _is_date(s.strip())),
)


@given(data=st.data(), count=st.integers(min_value=1, max_value=40), bad=bad_dates)
def test_a_bad_date_is_reported_on_its_own_line(data: st.DataObject, count: int, bad: str) -> None:
    position = data.draw(st.integers(min_value=0, max_value=count - 1), label="position")
    rows = [deputy(id=f"id-{i}", votingIdentifier=f"dep-{i}") for i in range(count)]
    rows[position]["birthDate"] = bad
    with pytest.raises(RosterImportError) as caught:
        parse_deputies_csv(to_csv(rows, bom=True))
    assert caught.value.line == position + 2
    assert caught.value.field == "birthDate"


names = st.text(
    alphabet=st.characters(whitelist_categories=("L",), max_codepoint=0x04FF),
    min_size=1,
    max_size=40,
).filter(lambda s: s.casefold() != "null")


@given(
    rows=st.lists(st.tuples(names, names, st.one_of(st.just(""), names)), min_size=1, max_size=20),
    delimiter=st.sampled_from([",", ";"]),
)
def test_valid_rows_round_trip(rows: list[tuple[str, str, str]], delimiter: str) -> None:
    source = [
        deputy(
            id=str(i),
            votingIdentifier="",
            familyName=family,
            name=given_name,
            additionalName=patronymic,
        )
        for i, (family, given_name, patronymic) in enumerate(rows)
    ]
    records = parse_deputies_csv(to_csv(source, delimiter=delimiter))
    assert [(r.family_name, r.given_name, r.patronymic) for r in records] == rows
    assert [r.external_id for r in records] == [str(i) for i in range(len(rows))]
