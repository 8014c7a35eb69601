"""Hostile input: ids beyond the database's integers, control characters in names, deeply nested
JSON, odd query strings and council settings that cannot work. Each gets a 4xx JSON error that
names the problem (never a 500), and nothing changes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from werkzeug.test import TestResponse

HUGE = 10**20  # beyond any 64-bit integer: SQLite's driver cannot even bind it
BEYOND_INT32 = 3_000_000_000  # fits 64 bits, but not PostgreSQL's INTEGER columns


def refused(
    response: TestResponse,
    status: int,
    *words: str,
    code: str | None = None,
    field: str | None = None,
) -> dict[str, Any]:
    seen = (response.status_code, response.get_data(as_text=True)[:400])
    assert response.status_code == status, seen
    assert response.is_json, seen
    error = response.get_json()["error"]
    for word in words:
        assert word in error["message"], (word, *seen)
    if code is not None:
        assert error["code"] == code, seen
    if field is not None:
        assert error.get("details", {}).get("field") == field, seen
    return error


@pytest.fixture
def unchanged(
    hall: Any, public: Any, secretary: Any, tokens: Any, journal_length: Callable[[], int]
) -> Callable[[], Any]:
    """`with unchanged():` — the block leaves the roster, council, sitting and journal as they
    were."""

    @contextmanager
    def check() -> Iterator[None]:
        _ = tokens.secretary

        def look() -> dict[str, Any]:
            return {
                "council": public.ok("get", "/council"),
                "deputies": public.ok("get", "/deputies"),
                "sitting": public.ok("get", f"/sittings/{hall.sitting}"),
                "journal": journal_length(),
            }

        before = look()
        yield
        assert look() == before

    return check


# --- ids beyond the integer columns -------------------------------------------------------------


@pytest.mark.parametrize("ident", [HUGE, BEYOND_INT32])
def test_reading_a_huge_id_is_not_found(public, ident: int) -> None:
    for path in (
        "/votes/{}",
        "/sittings/{}",
        "/sittings/{}/agenda",
        "/sittings/{}/votes",
        "/deputies/{}",
        "/deputies/{}/attendance",
    ):
        refused(public.get(path.format(ident)), 404, str(ident), "does not exist", code="not_found")


@pytest.mark.parametrize("ident", [HUGE, BEYOND_INT32])
def test_closing_or_casting_on_a_huge_vote_id_is_not_found(
    hall, secretary, deputy, unchanged, ident: int
) -> None:
    voter = deputy(hall.deputies[0])
    voter.get("/me")  # issue the token (which is journaled) beforehand
    with unchanged():
        refused(secretary.post(f"/votes/{ident}/close"), 404, f"vote {ident}")
        refused(voter.post(f"/votes/{ident}/choices", {"choice": "for"}), 404, f"vote {ident}")


@pytest.mark.parametrize("ident", [HUGE, BEYOND_INT32])
def test_huge_ids_in_bodies_are_refused_by_name(hall, secretary, unchanged, ident: int) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:25])
    with unchanged():
        refused(
            secretary.post(f"/sittings/{hall.sitting}/votes", {"item_id": ident}),
            404,
            f"agenda item {ident}",
        )
        refused(
            secretary.post("/sittings", {"date": "2026-12-01", "session_id": ident}),
            404,
            f"session {ident}",
        )
        refused(
            secretary.post("/committees", {"name": "Бюджетна", "members": [ident]}),
            404,
            f"deputy {ident}",
        )
        refused(
            secretary.patch(f"/deputies/{hall.deputies[0]}", {"committees": [ident]}),
            404,
            f"committee {ident}",
        )
        refused(
            secretary.post("/tokens", {"role": "deputy", "deputy_id": ident}),
            404,
            f"deputy {ident}",
        )
        refused(
            secretary.post(f"/sittings/{hall.sitting}/register", {"deputy_id": ident}),
            422,
            "deputy_id",
            field="deputy_id",
        )


def test_a_custom_rule_fraction_is_at_most_1000(hall, secretary, unchanged) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:25])
    rule = {"base": "total", "comparator": "at_least", "numerator": 1, "denominator": 2}
    with unchanged():
        for field, value in (
            ("numerator", BEYOND_INT32),
            ("denominator", BEYOND_INT32 + 1),
            ("numerator", 1001),
        ):
            spec = {"title": "x", "rule": {**rule, field: value}}
            if field == "numerator":
                spec["rule"]["denominator"] = BEYOND_INT32 + 1
            refused(
                secretary.post(f"/sittings/{hall.sitting}/votes", spec),
                422,
                f"rule.{field}",
                "1000",
                field=f"rule.{field}",
            )
    # a fraction within the bounds still works
    vote = secretary.ok(
        "post",
        f"/sittings/{hall.sitting}/votes",
        {"title": "x", "rule": {**rule, "numerator": 999, "denominator": 1000}},
        status=201,
    )
    assert vote["rule"]["numerator"] == 999


# --- text ---------------------------------------------------------------------------------------


#: Controls, and characters that draw nothing: a name holding one looks like another deputy's
#: name and is not theirs (bidirectional controls, zero-width spaces and joiners, U+FEFF, the
#: soft hyphen, the Hangul filler, the blank Braille pattern).
REFUSED = [("\x00", "control"), ("\x07", "control"), ("\x1b", "control"), ("\x7f", "control")]
REFUSED += [
    (char, "invisible") for char in "\u202a\u202e\u2066\u2069\u200b\u200d\ufeff\u00ad\u3164\u2800"
]


def test_control_and_invisible_characters_in_names_are_refused(hall, secretary, unchanged) -> None:
    with unchanged():
        for char, kind in REFUSED:
            code = f"U+{ord(char):04X}"
            for field, value in (
                ("full_name", f"{char}Коваль Іван"),
                ("short_name", f"Коваль{char} І."),
            ):
                refused(
                    secretary.patch(f"/deputies/{hall.deputies[0]}", {field: value}),
                    422,
                    field,
                    f"the {kind} character {code}",
                    field=field,
                )
            refused(
                secretary.post(f"/sittings/{hall.sitting}/agenda", {"title": f"Про{char}бюджет"}),
                422,
                "title",
                code,
                field="title",
            )
            refused(
                secretary.post("/deputies", {"full_name": f"Новий{char} Депутат"}),
                422,
                "full_name",
                code,
            )


def test_a_name_is_kept_in_one_spelling(hall, secretary, public) -> None:
    """ "й" sent as и + a combining breve (as some keyboards and PDFs give it) is stored as the
    one letter, so the name sorts, searches and compares as the same name typed directly."""
    who = hall.deputies[0]
    decomposed = "Гаи\u0306да Андріи\u0306 Олексіи\u0306ович"
    changed = secretary.ok("patch", f"/deputies/{who}", {"full_name": decomposed})
    assert changed["full_name"] == "Гайда Андрій Олексійович"
    assert public.ok("get", f"/deputies/{who}")["short_name"] == "Гайда А. О."


def test_two_deputies_cannot_share_a_short_name(hall, secretary, public, unchanged) -> None:
    first, second = hall.deputies[0], hall.deputies[1]
    taken = public.ok("get", f"/deputies/{first}")["short_name"]
    with unchanged():
        error = refused(
            secretary.patch(f"/deputies/{second}", {"short_name": taken}),
            422,
            "short_name",
            taken,
            "of their own",
            field="short_name",
        )
        assert error["code"] == "invalid_input"
        full = public.ok("get", f"/deputies/{first}")["full_name"]
        # the same full name gives the same short name: refused too, naming whose it is
        refused(secretary.patch(f"/deputies/{second}", {"full_name": full}), 422, full)
    assert (
        secretary.ok(
            "patch", f"/deputies/{second}", {"full_name": full, "short_name": taken + " (2)"}
        )["short_name"]
        == taken + " (2)"
    )


def test_a_surname_too_long_for_a_short_name_is_refused_by_name(
    hall, secretary, public, unchanged
) -> None:
    """Found by the API fuzzer: a full name of 300 characters is allowed, but its surname alone
    made a short name longer than the 120 a short name may have (a 500 on PostgreSQL, which
    holds the column to its length; SQLite stored it)."""
    long_name = "Д" * 200 + " Іван Петрович"
    with unchanged():
        for response in (
            secretary.patch(f"/deputies/{hall.deputies[0]}", {"full_name": long_name}),
            secretary.post("/deputies", {"full_name": long_name}),
        ):
            refused(response, 422, "short name", "206 characters", "at most 120", field="full_name")
    given = secretary.ok(
        "patch", f"/deputies/{hall.deputies[0]}", {"full_name": long_name, "short_name": "Д. І. П."}
    )
    assert given["full_name"] == long_name and given["short_name"] == "Д. І. П."


def test_a_lone_surrogate_is_refused(hall, secretary, unchanged) -> None:
    with unchanged():
        response = secretary.post(
            f"/sittings/{hall.sitting}/agenda",
            data='{"title": "Про бюджет \\ud800"}',
            headers={"Content-Type": "application/json"},
        )
        refused(response, 422, "title", "U+D800", field="title")


def test_ordinary_ukrainian_text_is_still_accepted(hall, secretary) -> None:
    name = "Мʼясоїд-Ґалаґан Анна-Марія Євгенівна"
    assert (
        secretary.ok("patch", f"/deputies/{hall.deputies[0]}", {"full_name": name})["full_name"]
        == name
    )


# --- malformed bodies and query strings ---------------------------------------------------------


@pytest.mark.parametrize("data", ["[" * 100_000, '{"title": ' + "[" * 100_000 + "}"])
def test_deeply_nested_json_is_malformed(hall, secretary, unchanged, data: str) -> None:
    with unchanged():
        response = secretary.post(
            f"/sittings/{hall.sitting}/agenda",
            data=data,
            headers={"Content-Type": "application/json"},
        )
        refused(response, 400, "nested", code="malformed_json")


@pytest.mark.parametrize("after", ["²", "١٢", "9" * 30, str(2**31)])
def test_journal_after_must_be_a_small_ascii_number(secretary, after: str) -> None:
    refused(secretary.get("/journal", query_string={"after": after}), 422, "after", field="after")


def test_journal_after_the_largest_number_is_empty(secretary) -> None:
    assert secretary.ok("get", f"/journal?after={2**31 - 1}") == {"entries": []}


# --- council settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"default_rule": ["majority_of_total"]}, "default_rule"),
        ({"default_rule": {"base": "total"}}, "default_rule"),
        ({"default_time_limit_seconds": 3601}, "default_time_limit_seconds"),
        ({"edrpou": "1234567"}, "edrpou"),
        ({"edrpou": "1234567X"}, "edrpou"),
        ({"katottg": "UA1234567890123456"}, "katottg"),
        ({"katottg": "12345678901234567"}, "katottg"),
        ({"katottg": "ua12345678901234567"}, "katottg"),
        ({"quorum_numerator": 2, "quorum_denominator": 2}, "quorum_numerator"),
        ({"quorum_numerator": 2}, "quorum_numerator"),  # with the stored denominator 2
        ({"quorum_denominator": 1}, "quorum_numerator"),  # with the stored numerator 1
    ],
)
def test_impossible_council_settings_are_refused(
    secretary, unchanged, changes: dict[str, Any], field: str
) -> None:
    with unchanged():
        refused(secretary.patch("/council", changes), 422, field, field=field)


def test_possible_council_settings_are_kept(secretary, public) -> None:
    secretary.ok(
        "patch",
        "/council",
        {
            "default_time_limit_seconds": 3600,
            "edrpou": "87654321",
            "katottg": "UA00000000000000001",
            "quorum_numerator": 2,
            "quorum_denominator": 3,
        },
    )
    council = public.ok("get", "/council")
    assert (council["edrpou"], council["katottg"]) == ("87654321", "UA00000000000000001")
    assert council["default_time_limit_seconds"] == 3600


def test_a_new_full_name_gets_a_new_short_name(hall, secretary, public) -> None:
    who = hall.deputies[0]
    changed = secretary.ok("patch", f"/deputies/{who}", {"full_name": "Шевченко Тарас Григорович"})
    assert changed["short_name"] == "Шевченко Т. Г."
    given = secretary.ok(
        "patch", f"/deputies/{who}", {"full_name": "Франко Іван Якович", "short_name": "І. Франко"}
    )
    assert given["short_name"] == "І. Франко"
    assert public.ok("get", f"/deputies/{who}")["short_name"] == "І. Франко"
