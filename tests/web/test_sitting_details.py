"""Where a sitting is held, who chairs it and who keeps its record (issue 14): set when the
sitting is planned or later through the API, by the secretary only, journaled, refused with a
clear error that changes nothing, and printed in the protocol's header and signature block (on
SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from halls import Hall
from pypdf import PdfReader

HALL = "Сесійна зала, вул. Соборна, 1"
MAYOR = "Головенко Мер Мерович"


def text_of(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def name(hall: Hall, deputy_id: int) -> str:
    return f"Депутатенко{hall.deputies.index(deputy_id) + 1:02d} Іван Петрович"


def changes(secretary: Any) -> list[dict[str, Any]]:
    return [e for e in secretary.ok("get", "/journal")["entries"] if e["kind"] == "sitting_changed"]


def test_a_new_sitting_takes_the_councils_place_and_names_its_chair_and_secretary(
    hall: Hall, secretary, public
) -> None:
    secretary.ok("patch", "/council", {"place": HALL})
    session = public.ok("get", "/sessions")["sessions"][0]["id"]
    planned = secretary.ok(
        "post",
        "/sittings",
        {
            "date": "2026-12-20",
            "session_id": session,
            "chair_id": hall.head,
            "secretary_id": hall.deputies[1],
        },
        status=201,
    )
    assert (planned["place"], planned["chair_id"], planned["secretary_id"]) == (
        HALL,
        hall.head,
        hall.deputies[1],
    )
    elsewhere = secretary.ok(
        "post",
        "/sittings",
        {"date": "2026-12-21", "session_id": session, "place": "Виїзне засідання, с. Зелене"},
        status=201,
    )
    assert elsewhere["place"] == "Виїзне засідання, с. Зелене"
    assert elsewhere["chair_id"] is None and elsewhere["secretary_id"] is None
    created = [
        e["payload"]
        for e in secretary.ok("get", "/journal")["entries"]
        if e["kind"] == "sitting_created"
    ]
    assert created[-2]["chair_id"] == hall.head and created[-2]["place"] == HALL


def test_only_the_secretary_sets_the_details_and_the_journal_keeps_old_and_new(
    hall: Hall, secretary, chair, deputy, public
) -> None:
    s = hall.sitting
    details = {"place": HALL, "chair_id": hall.head, "secretary_id": hall.deputies[1]}
    assert public.patch(f"/sittings/{s}", details).status_code == 401
    assert deputy(hall.deputies[0]).patch(f"/sittings/{s}", details).status_code == 403
    assert chair.patch(f"/sittings/{s}", details).status_code == 403
    assert changes(secretary) == []

    answer = secretary.ok("patch", f"/sittings/{s}", details)
    assert (answer["place"], answer["chair_id"], answer["secretary_id"]) == (
        HALL,
        hall.head,
        hall.deputies[1],
    )
    # Only what is sent changes; null clears.
    secretary.ok("patch", f"/sittings/{s}", {"secretary_id": hall.deputies[2]})
    shown = public.ok("get", f"/sittings/{s}")
    assert (shown["place"], shown["chair_id"], shown["secretary_id"]) == (
        HALL,
        hall.head,
        hall.deputies[2],
    )
    secretary.ok("patch", f"/sittings/{s}", {"place": None})
    assert public.ok("get", f"/sittings/{s}")["place"] is None

    entries = changes(secretary)
    assert [e["payload"] for e in entries] == [
        {
            "sitting_id": s,
            "before": {"place": None, "chair_id": None, "secretary_id": None},
            "after": details,
        },
        {
            "sitting_id": s,
            "before": {"secretary_id": hall.deputies[1]},
            "after": {"secretary_id": hall.deputies[2]},
        },
        {"sitting_id": s, "before": {"place": HALL}, "after": {"place": None}},
    ]
    assert {e["actor"] for e in entries} == {entries[0]["actor"]}
    assert entries[0]["actor"].startswith("secretary")
    # The same values again change nothing and write nothing.
    secretary.ok("patch", f"/sittings/{s}", {"secretary_id": hall.deputies[2]})
    assert len(changes(secretary)) == 3


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"chair_id": 999_999}, "chair_id", "there is no deputy 999999"),
        ({"secretary_id": "seven"}, "secretary_id", "must be a whole number"),
        ({"place": "x" * 301}, "place", "at most 300"),
        ({"colour": "red"}, None, "colour"),
        ({}, None, "nothing to change"),
        ("the hall", None, "JSON object"),
    ],
)
def test_bad_details_are_refused_by_name_and_change_nothing(
    hall: Hall, secretary, public, body: object, field: str | None, words: str
) -> None:
    s = hall.sitting
    secretary.ok("patch", f"/sittings/{s}", {"place": HALL, "chair_id": hall.head})
    before = public.ok("get", f"/sittings/{s}")
    response = secretary.patch(f"/sittings/{s}", body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert words in error["message"]
    if field is not None:
        assert error["details"]["field"] == field
    assert public.ok("get", f"/sittings/{s}") == before
    assert len(changes(secretary)) == 1


def test_the_chair_and_the_secretary_are_two_people_with_a_mandate(
    hall: Hall, secretary, public
) -> None:
    s = hall.sitting
    secretary.ok("patch", f"/sittings/{s}", {"chair_id": hall.head})
    same = secretary.patch(f"/sittings/{s}", {"secretary_id": hall.head})
    assert same.status_code == 422
    assert "two different people" in same.get_json()["error"]["message"]
    gone = hall.deputies[5]
    secretary.ok("patch", f"/deputies/{gone}", {"active": False})
    vacant = secretary.patch(f"/sittings/{s}", {"secretary_id": gone})
    assert vacant.status_code == 422
    message = vacant.get_json()["error"]["message"]
    assert name(hall, gone) in message and "no mandate" in message
    assert public.ok("get", f"/sittings/{s}")["secretary_id"] is None
    assert secretary.patch("/sittings/999999", {"place": HALL}).status_code == 404


def pdf_text(client: Any, url: str) -> str:
    """The PDF's text; the response is closed (a file served is closed at once)."""
    response = client.get(url)
    data = response.get_data()
    response.close()
    assert response.status_code == 200, url
    return text_of(data)


def produce(client: Any, headers: dict[str, str], sitting_id: int) -> None:
    status = client.post(f"/api/v1/archive/sittings/{sitting_id}/records", headers=headers)
    assert status.status_code == 202
    url = status.get_json()["status_url"]
    for _ in range(1200):
        answer = client.get(url, headers=headers).get_json()
        if answer["state"] != "running":
            break
        time.sleep(0.05)
    assert answer["state"] == "done", answer


def test_the_protocol_states_the_place_the_chair_and_the_secretary(
    hall: Hall, secretary, client, tokens
) -> None:
    s = hall.sitting
    blank = "____________________"
    secretary.ok(
        "patch",
        f"/sittings/{s}",
        {"place": HALL, "chair_id": hall.head, "secretary_id": hall.deputies[1]},
    )
    secretary.ok("post", f"/sittings/{s}/close")
    text = pdf_text(client, f"/archive/sittings/{s}/protocol.pdf")
    assert f"Місце проведення: {HALL}" in text
    assert f"Головуючий: {MAYOR} (голова ради)" in text
    assert f"Секретар: {name(hall, hall.deputies[1])}" in text
    # The signature block, on the last page: each role with its name on a line to sign.
    assert f"Головуючий на засіданні {blank} {MAYOR}" in text
    assert f"Секретар {blank} {name(hall, hall.deputies[1])}" in text
    assert f"Місце проведення: {blank}" not in text

    # A correction after the close: another deputy kept the record. The record is produced
    # again; the new protocol names them, the first version stays as it was.
    secretary.ok("patch", f"/sittings/{s}", {"secretary_id": hall.deputies[3]})
    produce(client, tokens.secretary, s)
    latest = pdf_text(client, f"/archive/sittings/{s}/protocol.pdf")
    assert f"Секретар {blank} {name(hall, hall.deputies[3])}" in latest
    first = pdf_text(client, f"/archive/sittings/{s}/protocol.pdf?version=1")
    assert f"Секретар {blank} {name(hall, hall.deputies[1])}" in first
