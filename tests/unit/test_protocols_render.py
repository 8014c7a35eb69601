"""The renderer alone, on read models built by hand (no database): Ukrainian text that survives
extraction, reproducible bytes (in this process and in the worker's), page numbers, the running
header and repeated table headers, metadata, and a secret ballot's sheet without names."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader

from protocols.model import (
    AttendanceReport,
    AttendanceSitting,
    BallotLine,
    CouncilDetails,
    Counts,
    DeputyRef,
    FactionGroup,
    InvitedPerson,
    ItemRecord,
    JournalMark,
    RollCallSheet,
    RoundRecord,
    SittingHeader,
    SittingRecord,
    SpeechRecord,
    VoteRecord,
)
from protocols.render import render
from protocols.worker import RenderFailed, render_in_worker
from voting.domain.names import ALPHABET

KYIV = timezone(timedelta(hours=2))
OPENED = datetime(2026, 11, 25, 10, 0, tzinfo=KYIV)
CLOSED = datetime(2026, 11, 25, 13, 30, tzinfo=KYIV)
APOSTROPHES = "ʼ’"
#: Every letter of the Ukrainian alphabet, both cases, and both apostrophes.
EVERY_LETTER = ALPHABET + ALPHABET.upper() + APOSTROPHES

COUNCIL = CouncilDetails("Ґалицька сільська рада", "12345678", "UA12345678901234567")
HEADER = SittingHeader(
    sitting_id=7,
    council=COUNCIL,
    title="Пленарне засідання",
    date=date(2026, 11, 25),
    convocation_number=8,
    convocation_label="VIII скликання",
    session_number=17,
    sitting_number=2,
    opened_at=OPENED,
    closed_at=CLOSED,
    chair="Їжакевич Євген Ґеоргійович",
)
FACTIONS = ("Світанок", "Каштанова алея", None)


def people(count: int) -> tuple[DeputyRef, ...]:
    head = DeputyRef("Головенко Мер Мерович", None, is_head=True)
    return (
        head,
        *(DeputyRef(f"Депутат{n:03d} Обʼєднаний", FACTIONS[n % 3]) for n in range(1, count)),
    )


def vote(**changes: object) -> VoteRecord:
    base = VoteRecord(
        vote_id=40,
        title="Про бюджет громади на 2027 рік",
        stage_uk="в цілому",
        kind_uk="поіменне",
        secret=False,
        rule_uk="більше половини від загального складу ради",
        opened_at=OPENED,
        closed_at=OPENED + timedelta(minutes=1),
        total_composition=43,
        registered=31,
        base_count=43,
        threshold=22,
        counts=Counts(25, 2, 1, 3, 12),
        result_uk="Прийнято",
        item_position=1,
    )
    return replace(base, **changes)  # type: ignore[arg-type]  # the test passes known fields


def sheet(count: int = 43, **changes: object) -> RollCallSheet:
    choices = ("За", "Проти", "Утримався", "Не голосував", "Відсутній")
    lines = [
        BallotLine(p.name, p.faction, choices[n % 5], p.is_head)
        for n, p in enumerate(people(count))
    ]
    groups = tuple(
        FactionGroup(f, tuple(line for line in lines if line.faction == f)) for f in FACTIONS
    )
    return RollCallSheet(HEADER, vote(**changes), "Про бюджет громади", "75/2", groups)


def sitting() -> SittingRecord:
    everyone = people(43)
    round_ = RoundRecord(1, OPENED, None, everyone[:31], 22, 30)
    item = ItemRecord(
        1,
        f"Про перелік: {EVERY_LETTER}",
        "75/2",
        "Мельничукʼ Ірина",
        "Прийнято",
        (SpeechRecord("Ґудзь Їжак Єгорович", "доповідь", 305),),
        (vote(), vote(vote_id=41, attempt=2), vote(vote_id=42, annulled=True, annul_reason="Збій")),
    )
    return SittingRecord(
        header=HEADER,
        elected=everyone,
        present=everyone[:31],
        absent=everyone[31:],
        invited=(InvitedPerson("Петрівʼян Ольга", "директорка"),),
        rounds=(round_,),
        items=(item,),
        journal=JournalMark(1234, "a" * 64),
    )


def pages_of(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def test_every_ukrainian_letter_renders_and_comes_back_as_text() -> None:
    text = " ".join(pages_of(render("protocol", sitting())))
    assert EVERY_LETTER in text
    assert "Ґалицька сільська рада".upper() in text and "Петрівʼян Ольга" in text


def test_the_same_model_gives_the_same_bytes_here_and_in_the_worker(tmp_path: Path) -> None:
    first = render("protocol", sitting())
    assert render("protocol", sitting()) == first
    seen: list[tuple[int, int]] = []
    target = tmp_path / "protocol.pdf"
    size = render_in_worker(
        "protocol", sitting(), target, lambda done, total: seen.append((done, total))
    )
    assert target.read_bytes() == first and size == len(first)
    assert seen and seen[-1][0] == seen[-1][1] > 0
    assert [p.name for p in tmp_path.iterdir()] == ["protocol.pdf"]
    other = render("protocol", replace(sitting(), journal=JournalMark(1235, "b" * 64)))
    assert other != first


def test_a_failed_render_in_the_worker_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(RenderFailed, match="cannot render a 'rollcall' from a SittingRecord"):
        render_in_worker("rollcall", sitting(), tmp_path / "x.pdf")
    assert list(tmp_path.iterdir()) == []


def test_pages_are_numbered_and_long_tables_repeat_their_header_and_the_running_header() -> None:
    model = sheet(count=240)
    pages = pages_of(render("rollcall", model))
    assert len(pages) > 2
    for number, text in enumerate(pages, 1):
        assert f"Сторінка {number} з {len(pages)}" in text
        assert "Ґалицька сільська рада · 17 сесія VIII скликання, засідання 2, 25.11.2026" in text
    assert pages[0].count("№ Депутат Рішення") >= 1
    assert pages[1].startswith("№ Депутат Рішення")  # a faction's table went on: header again
    assert not pages[1].startswith("№ Депутат Рішення 1 ")  # continued, not a new faction
    text = " ".join(pages)
    assert "РЕЗУЛЬТАТИ ПОІМЕННОГО ГОЛОСУВАННЯ" in text
    assert "Головенко Мер Мерович (голова ради) За" in text
    outside = model.groups[-1]  # the head and the deputies of no faction
    totals = outside.totals
    assert outside.name is None and "Позафракційні" in text
    assert (
        f"Разом {len(outside.lines)}: За {totals['За']}, Проти {totals['Проти']}, "
        f"Утримався {totals['Утримався']}, Не голосували {totals['Не голосував']}, "
        f"Відсутні {totals['Відсутній']}"
    ) in text


def test_a_secret_ballots_sheet_names_nobody() -> None:
    # Even a model that (wrongly) carries lines: a secret ballot's sheet prints totals only.
    text = " ".join(pages_of(render("rollcall", sheet(secret=True, kind_uk="таємне"))))
    assert "25 2 1 3 12 Прийнято" in text and "таємне" in text
    assert "Депутат0" not in text and "Головенко" not in text and "Позафракційні" not in text


def test_the_documents_carry_their_metadata() -> None:
    reader = PdfReader(io.BytesIO(render("protocol", sitting())))
    info = reader.metadata
    assert info is not None
    assert (
        info.title
        == "Протокол: Ґалицька сільська рада, 17 сесія VIII скликання, засідання 2, 25.11.2026"
    )
    assert info.author == "Ґалицька сільська рада"
    assert info.subject is not None and "Протокол" in info.subject
    assert info.creation_date_raw == "D:20261125133000+02'00'"
    assert reader.trailer["/Root"]["/Lang"] == "uk"


def test_attendance_marks_each_round_and_totals() -> None:
    everyone = people(10)
    rounds = (
        RoundRecord(1, OPENED, None, everyone[:8], 5, 7),
        RoundRecord(2, OPENED + timedelta(hours=1), None, everyone[:3], 5, 2),
    )
    other = replace(HEADER, sitting_id=8, sitting_number=3, date=date(2026, 11, 26))
    report = AttendanceReport(
        COUNCIL,
        date(2026, 11, 1),
        date(2026, 11, 30),
        everyone,
        (AttendanceSitting(HEADER, rounds), AttendanceSitting(other, ())),
    )
    text = " ".join(pages_of(render("attendance", report)))
    assert "Період: 01.11.2026–30.11.2026. Засідань: 2." in text
    assert "Депутат001 Обʼєднаний + +" in text and "Депутат009 Обʼєднаний — —" in text
    assert "Зареєстровано 8 3" in text and "Кворум так ні" in text
    assert "Реєстрацію не проводили" in text and "1 з 2" in text


def test_an_item_with_the_longest_title_the_api_takes_still_gives_a_protocol() -> None:
    """A title of 5,000 characters (the API's limit) made a row of the agenda's table taller
    than a page, and the protocol could not be produced at all: the table shows its beginning,
    and the item's own section the whole title."""
    words = "Про затвердження проєкту землеустрою щодо відведення земельної ділянки "
    title = (words * 80)[:4990] + " кінець"
    record = sitting()
    item = replace(record.items[0], title=title)
    text = " ".join(pages_of(render("protocol", replace(record, items=(item,)))))
    assert "…" in text and text.count("кінець") == 1  # cut in the table, whole under the item
