"""The public archive: its JSON, its pages in Ukrainian and English without JavaScript, the
official record's PDFs and open data at stable URLs, and what is refused while a sitting or a
vote is still open (on SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import re
import time
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from halls import SECRETARY, Hall
from pypdf import PdfReader
from werkzeug.test import TestResponse

from voting.services import sittings

COUNCIL = "Тестова міська рада"


@dataclass
class Day:
    roll_call: int  # item 1, adopted
    open: int  # item 2
    secret: int  # item 3


def hold_votes(hall: Hall) -> Day:
    d = hall.deputies
    hall.open_registration()
    hall.register(*d[:30], hall.head)
    first = hall.open_vote(item_id=hall.items[0], stage="as_a_whole", kind="roll_call")
    hall.cast_many(first, d[:25], "for")
    hall.cast(first, d[25], "against")
    hall.close(first)
    second = hall.open_vote(item_id=hall.items[1], stage="as_a_basis", kind="open")
    hall.cast_many(second, d[:10], "for")
    hall.close(second)
    third = hall.open_vote(item_id=hall.items[2], stage="as_a_whole", kind="secret")
    hall.cast_many(third, d[:23], "for")
    hall.close(third)
    return Day(first, second, third)


def close(hall: Hall) -> None:
    sittings.close_sitting(hall.rt.uow(), SECRETARY, hall.sitting)


def fetch(client: FlaskClient, url: str) -> TestResponse:
    """GET, the body read and the response closed (a file served is closed at once)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def pdf(client: FlaskClient, url: str) -> bytes:
    response = fetch(client, url)
    assert response.status_code == 200, (url, response.get_json())
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-") and len(response.data) > 1000
    return response.data


def refused(client: FlaskClient, url: str, *words: str) -> None:
    response = fetch(client, url)
    assert response.status_code == 404, (url, response.status_code)
    error = response.get_json()["error"]
    assert error["code"] == "not_in_archive", error
    for word in words:
        assert word in error["message"], (word, error["message"])


def test_an_open_sitting_and_an_open_vote_are_not_in_the_archive(hall: Hall, client) -> None:
    day = hold_votes(hall)
    still_open = hall.open_vote(title="Про перерву", stage="procedural", kind="roll_call")
    s = hall.sitting

    assert fetch(client, "/api/v1/archive/sittings").get_json() == {"sittings": []}
    refused(client, f"/api/v1/archive/sittings/{s}", "open", "closed")
    refused(client, f"/archive/sittings/{s}/protocol.pdf", "open")
    refused(client, f"/archive/sittings/{s}/attendance.pdf", "open")
    refused(client, f"/archive/votes/{still_open}/rollcall.pdf", "still open")
    # A closed vote of an open sitting: its sheet is public the moment the vote closes (the law:
    # the same day), with every deputy's choice.
    sheet = fetch(client, f"/archive/votes/{day.roll_call}/rollcall.pdf")
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    text = text_of(sheet.data)
    assert "РЕЗУЛЬТАТИ ПОІМЕННОГО ГОЛОСУВАННЯ" in text and "Депутатенко01" in text
    page = fetch(client, f"/archive/sittings/{s}?lang=en")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Not in the archive" in page.get_data(as_text=True)
    assert "Немає в архіві" in fetch(client, f"/archive/sittings/{s}?lang=uk").get_data(
        as_text=True
    )

    # The open data is public the day of the vote: the closed votes, not the open one.
    events = fetch(client, f"/archive/sittings/{s}/opendata/voteEvents.csv")
    assert events.status_code == 200 and events.mimetype == "text/csv"
    ids = {row["uid"] for row in csv.DictReader(io.StringIO(events.get_data(as_text=True)))}
    assert ids == {str(day.roll_call), str(day.open), str(day.secret)}

    assert fetch(client, "/archive/votes/999999/rollcall.pdf").get_json()["error"]["code"] == (
        "not_found"
    )
    assert fetch(client, f"/archive/sittings/{s}/opendata/nothing.csv").status_code == 404


def test_the_json_of_a_closed_sitting_links_every_vote_to_its_files(hall: Hall, client) -> None:
    day = hold_votes(hall)
    close(hall)
    s = hall.sitting

    listed = fetch(client, "/api/v1/archive/sittings").get_json()["sittings"]
    assert [x["id"] for x in listed] == [s] and listed[0]["votes"] == 3
    assert listed[0]["links"]["protocol"]["url"] == f"/archive/sittings/{s}/protocol.pdf"

    body = fetch(client, f"/api/v1/archive/sittings/{s}").get_json()
    assert [i["position"] for i in body["items"]] == [1, 2, 3]
    first = body["items"][0]["votes"][0]
    assert first["vote_id"] == day.roll_call and first["result"]["for"] == 25
    assert first["result"]["result"] == "adopted"
    assert first["links"]["rollcall"]["url"] == f"/archive/votes/{day.roll_call}/rollcall.pdf"
    assert first["links"]["vote"] == f"/archive/sittings/{s}/opendata/vote.csv"
    secret = body["items"][2]["votes"][0]
    assert "rollcall" in secret["links"] and "vote" not in secret["links"]  # totals only
    data = body["links"]["opendata"]
    assert set(data) >= {"voteEvents", "vote", "deputies", "motions"}
    assert data["voteEvents"]["json"]["url"] == f"/archive/sittings/{s}/opendata/voteEvents.json"
    assert body["links"]["protocol"]["versions"] == []  # nothing produced yet


def test_the_pdfs_and_open_data_are_served_at_stable_urls(hall: Hall, client) -> None:
    day = hold_votes(hall)
    close(hall)
    s = hall.sitting

    protocol = pdf(client, f"/archive/sittings/{s}/protocol.pdf")
    assert COUNCIL in text_of(protocol) and "Про питання 1" in text_of(protocol)
    sheet = text_of(pdf(client, f"/archive/votes/{day.roll_call}/rollcall.pdf"))
    assert "Депутатенко01 Іван Петрович" in sheet
    secret = text_of(pdf(client, f"/archive/votes/{day.secret}/rollcall.pdf"))
    assert "Депутатенко01" not in secret  # a secret ballot's sheet names nobody
    pdf(client, f"/archive/sittings/{s}/attendance.pdf")

    again = fetch(client, f"/archive/sittings/{s}/protocol.pdf")
    assert again.data == protocol  # the stable URL serves the file produced, not a new render
    links = fetch(client, f"/api/v1/archive/sittings/{s}").get_json()["links"]
    versions = links["protocol"]["versions"]
    assert [v["version"] for v in versions] == [1] and versions[0]["size"] == len(protocol)
    assert fetch(client, versions[0]["url"]).data == protocol
    assert fetch(client, f"/archive/sittings/{s}/protocol.pdf?version=7").status_code == 404

    votes_csv = fetch(client, f"/archive/sittings/{s}/opendata/vote.csv")
    assert votes_csv.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(votes_csv.get_data(as_text=True))))
    assert len(rows) == 43  # every deputy and the mayor, for the one roll-call vote
    events = fetch(client, f"/archive/sittings/{s}/opendata/voteEvents.json")
    assert events.mimetype == "application/json"
    assert {e["uid"] for e in events.get_json()} == {
        str(v) for v in (day.roll_call, day.open, day.secret)
    }


def executable_scripts(html: str) -> list[str]:
    """<script> tags a browser would run (data blocks and import maps run nothing)."""
    tags = re.findall(r"<script\b[^>]*>", html)
    return [t for t in tags if 'type="application/json"' not in t and 'type="importmap"' not in t]


def test_the_pages_work_without_javascript_in_ukrainian_and_english(hall: Hall, client) -> None:
    day = hold_votes(hall)
    close(hall)
    s, first = hall.sitting, hall.deputies[0]
    pages = {
        "/archive": ("Архів засідань", "Archive of sittings"),
        f"/archive/sittings/{s}": ("Поіменне голосування", "Roll-call vote"),
        f"/archive/deputies/{first}": ("Відвідування", "Attendance"),
    }
    for url, (uk, en) in pages.items():
        ukrainian = fetch(client, url).get_data(as_text=True)
        english = fetch(client, url + "?lang=en").get_data(as_text=True)
        fetch(client, url + "?lang=uk")  # the language is remembered: back to Ukrainian
        assert uk in ukrainian and '<html lang="uk">' in ukrainian, url
        assert en in english and '<html lang="en">' in english, url
        assert executable_scripts(ukrainian) == [] and executable_scripts(english) == [], url

    index = fetch(client, "/archive").get_data(as_text=True)
    assert f'href="/archive/sittings/{s}"' in index
    assert f'href="/archive/sittings/{s}/protocol.pdf"' in index
    page = fetch(client, f"/archive/sittings/{s}").get_data(as_text=True)
    assert f'href="/archive/votes/{day.roll_call}/rollcall.pdf"' in page
    assert "Про питання 1" in page and "Прийнято" in page
    assert f'href="/archive/sittings/{s}/opendata/voteEvents.csv"' in page
    deputy = fetch(client, f"/archive/deputies/{first}?lang=en").get_data(as_text=True)
    assert "Present at 1 of 1 sittings." in deputy and "For" in deputy
    assert '<form method="get"' in deputy  # the filter is a plain form


def test_a_deputys_record_filters_by_date_and_item_title(hall: Hall, client) -> None:
    day = hold_votes(hall)
    close(hall)
    first, late = hall.deputies[0], hall.deputies[40]
    url = f"/api/v1/archive/deputies/{first}"

    record = fetch(client, url).get_json()
    assert record["sittings_attended"] == 1 and record["attendance"][0]["present"] is True
    assert [c["vote_id"] for c in record["choices"]] == [day.roll_call]  # roll-call votes only
    assert record["choices"][0]["outcome"] == "for" and record["totals"]["for"] == 1
    absent = fetch(client, f"/api/v1/archive/deputies/{late}").get_json()
    assert absent["choices"][0]["outcome"] == "absent"

    assert fetch(client, url + "?q=питання 1").get_json()["choices"] != []
    assert fetch(client, url + "?q=ПИТАННЯ 1").get_json()["choices"] != []  # any case
    assert fetch(client, url + "?q=бюджет").get_json()["choices"] == []
    outside = fetch(client, url + "?from=2026-12-01&to=2026-12-31").get_json()
    assert outside["attendance"] == [] and outside["choices"] == []
    inside = fetch(client, url + "?from=2026-11-25&to=2026-11-25").get_json()
    assert len(inside["choices"]) == 1
    wrong = fetch(client, url + "?from=yesterday")
    assert wrong.status_code == 422 and wrong.get_json()["error"]["details"]["field"] == "from"
    page = fetch(client, f"/archive/deputies/{first}?q=бюджет").get_data(as_text=True)
    assert "Жодне поіменне голосування не відповідає" in page


def produced(client: FlaskClient, headers: dict[str, str], sitting_id: int) -> dict[str, Any]:
    """Ask for the record again, then follow the production to its end; returns the last
    status, with every percentage seen on the way in "seen"."""
    started = client.post(f"/api/v1/archive/sittings/{sitting_id}/records", headers=headers)
    assert started.status_code == 202, started.get_json()
    status = started.get_json()
    seen = [status["percent"]]
    deadline = time.monotonic() + 60
    while status["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        answer = client.get(status["status_url"], headers=headers)
        assert answer.status_code == 200, answer.get_json()
        status = answer.get_json()
        seen.append(status["percent"])
    assert status["state"] == "done", status
    return {**status, "seen": seen}


def test_staff_produce_the_record_again_and_the_old_version_stays(
    hall: Hall, client, tokens
) -> None:
    hold_votes(hall)
    close(hall)
    s = hall.sitting
    url = f"/api/v1/archive/sittings/{s}/records"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=tokens.deputy(hall.deputies[0])).status_code == 403
    first = produced(client, tokens.secretary, s)
    made = {(f["scope"], f["name"]): f["version"] for f in first["files"]}
    assert made[("sittings", "protocol.pdf")] == 1 and made[("sittings", "opendata/vote.csv")] == 1
    # The percentage went up from 0 to 100, never back, with steps between (one per document:
    # the protocol, the attendance, three roll-call sheets, the open data).
    assert first["seen"][0] < 100 and first["seen"][-1] == 100
    assert first["seen"] == sorted(first["seen"])
    assert any(0 < p < 100 for p in first["seen"]), first["seen"]
    assert first["done"] == first["total"] > 0
    old = fetch(client, f"/archive/sittings/{s}/protocol.pdf").data

    # The same record again: nothing changed, so no new version.
    again = produced(client, tokens.secretary, s)["files"]
    assert {f["version"] for f in again} == {1}
    # A correction: a deputy's name was misspelt. The protocol and the open data change.
    client.patch(
        f"/api/v1/deputies/{hall.deputies[0]}",
        json={"full_name": "Депутатенко01 Іван Павлович"},
        headers=tokens.secretary,
    )
    produced(client, tokens.secretary, s)
    versions = fetch(client, f"/api/v1/archive/sittings/{s}").get_json()["links"]["protocol"]
    assert [v["version"] for v in versions["versions"]] == [1, 2]
    latest = fetch(client, f"/archive/sittings/{s}/protocol.pdf").data
    assert "Іван Павлович" in text_of(latest) and "Іван Павлович" not in text_of(old)
    assert fetch(client, f"/archive/sittings/{s}/protocol.pdf?version=1").data == old


def test_a_production_is_followed_only_by_staff_and_only_of_a_closed_sitting(
    hall: Hall, client, tokens
) -> None:
    still_open = client.post(
        f"/api/v1/archive/sittings/{hall.sitting}/records", headers=tokens.secretary
    )
    assert still_open.status_code == 404
    assert still_open.get_json()["error"]["code"] == "not_in_archive"
    close(hall)
    status = produced(client, tokens.chair, hall.sitting)
    url = status["status_url"]
    assert url == f"/api/v1/archive/record-jobs/{status['job_id']}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=tokens.deputy(hall.deputies[0])).status_code == 403
    unknown = client.get("/api/v1/archive/record-jobs/0123456789abcdef", headers=tokens.chair)
    assert (
        unknown.status_code == 404 and "0123456789abcdef" in unknown.get_json()["error"]["message"]
    )
