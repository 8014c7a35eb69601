"""The official record of a sitting, from the database to the PDF, on SQLite and PostgreSQL: a
sitting with every kind of vote (roll-call, open, secret, re-voted, annulled, manual) is closed;
its protocol, roll-call sheets and attendance hold the right figures and names (read back with
pypdf), and their pages are kept as PNG test artifacts for a person to look at."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from halls import CHAIR, SECRETARY, Hall, deputy_actor
from pypdf import PdfReader

from protocols.render import render
from voting.cli import main
from voting.domain.errors import NotFound
from voting.domain.floor import FloorRules
from voting.services import floor, journal, records, sittings, votes
from voting.services.commands import (
    AnnulVote,
    GrantFloor,
    ManualResult,
    RequestFloor,
    Revote,
    SetItemStatus,
    SpeechAction,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("VOTING_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "protocols"
RULES = FloorRules()
GUEST = "Петренко Олена"


def text_of(pdf: bytes) -> str:
    """The text of every page, each run of white space (table cells, lines) made one space."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def name(hall: Hall, index: int) -> str:
    return f"Депутатенко{index + 1:02d} Іван Петрович"


@dataclass
class Held:
    """The votes of the sitting, by what they show."""

    roll_call: int  # not adopted, then re-voted
    revote: int
    open: int
    secret: int
    annulled: int
    manual: int


def speak(hall: Hall) -> None:
    """The first item's course: a deputy speaks, then an invited guest."""
    uow = hall.rt.uow
    sittings.set_item_status(
        uow(),
        SECRETARY,
        SetItemStatus.parse({"status": "under_consideration"}, item_id=hall.items[0]),
    )
    floor.request_floor(
        uow(),
        deputy_actor(hall.deputies[3]),
        RequestFloor.parse({"type": "speech"}, sitting_id=hall.sitting),
        RULES,
    )
    floor.request_floor(
        uow(),
        SECRETARY,
        RequestFloor.parse(
            {"invited_name": GUEST, "invited_position": "директорка школи № 5"},
            sitting_id=hall.sitting,
        ),
        RULES,
    )
    for seconds in (65, 30):
        speech = floor.grant_floor(
            uow(), CHAIR, GrantFloor.parse({}, sitting_id=hall.sitting), RULES
        )
        hall.clock.advance(seconds)
        floor.end_speech(uow(), CHAIR, SpeechAction.parse({}, speech_id=speech), RULES)


def hold_sitting(hall: Hall) -> Held:
    d, uow, items = hall.deputies, hall.rt.uow, hall.items
    hall.open_registration()
    hall.register(*d[:30], hall.head)  # 30 deputies and the mayor; 12 absent
    speak(hall)

    first = hall.open_vote(item_id=items[0], stage="as_a_whole", kind="roll_call")
    hall.cast_many(first, d[:20], "for")
    hall.cast_many(first, d[20:22], "against")
    hall.cast(first, d[22], "abstain")
    hall.close(first)  # 20 for of 22 needed: not adopted
    again = votes.revote(uow(), SECRETARY, Revote.parse({}, vote_id=first))
    hall.cast_many(again, [*d[:24], hall.head], "for")
    hall.cast_many(again, d[24:26], "against")
    hall.close(again)  # 25 for: adopted

    basis = hall.open_vote(item_id=items[1], stage="as_a_basis", kind="open")
    hall.cast_many(basis, d[:23], "for")
    hall.close(basis)

    secret = hall.open_vote(item_id=items[2], stage="as_a_whole", kind="secret")
    hall.cast_many(secret, d[:15], "for")
    hall.cast_many(secret, d[15:25], "against")
    hall.close(secret)  # 15 for: not adopted

    pause = hall.open_vote(title="Про перерву", stage="procedural", kind="roll_call")
    hall.cast_many(pause, d[:22], "for")
    hall.close(pause)
    votes.annul_vote(
        uow(), SECRETARY, AnnulVote.parse({"reason": "Збій пульта депутата"}, vote_id=pause)
    )

    choices = {str(x): "for" for x in d[:26]} | {str(d[26]): "against"}
    manual = votes.enter_manual_result(
        uow(),
        SECRETARY,
        ManualResult.parse(
            {"item_id": items[1], "stage": "as_a_whole", "kind": "open", "choices": choices},
            sitting_id=hall.sitting,
        ),
    )["vote_id"]
    assert isinstance(manual, int)
    return Held(first, again, basis, secret, pause, manual)


def keep_pages(pdf: bytes, stem: str) -> None:
    """The pages as PNG under the test artifacts folder, for a person to look at."""
    binary = shutil.which("pdftoppm")
    if binary is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: the pages were not kept as PNG")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / f"{stem}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [binary, "-r", "70", "-png", str(source), str(ARTIFACTS / stem)], check=True, timeout=120
    )
    assert list(ARTIFACTS.glob(f"{stem}-*.png"))


def test_the_record_of_a_sitting_with_every_kind_of_vote(hall: Hall, db_url: str) -> None:
    held = hold_sitting(hall)
    with pytest.raises(records.SittingNotClosed, match=f"sitting {hall.sitting} .* is open"):
        records.sitting_record(hall.rt.reader(), hall.sitting)
    sittings.close_sitting(hall.rt.uow(), SECRETARY, hall.sitting)
    closing = journal.read_journal(hall.rt.reader(), 0, limit=10_000)[-1]
    assert closing["kind"] == "sitting_closed"

    record = records.sitting_record(hall.rt.reader(), hall.sitting)
    assert (len(record.elected), len(record.present), len(record.absent)) == (43, 31, 12)
    assert [p.name for p in record.invited] == [GUEST]
    pdf = render("protocol", record)
    text = text_of(pdf)
    assert "Тестова міська рада" in text and "17 сесія VIII скликання" in text
    assert "Сторінка 1 з" in text
    for figures in (
        "20 2 1 8 12 Не прийнято",  # the first roll-call vote
        "25 2 0 4 12 Прийнято",  # its re-vote
        "23 0 0 8 12 Прийнято",  # the open vote
        "15 10 0",  # the secret ballot: counts
        "26 1 0 4 12 Прийнято",  # the counting commission's result
    ):
        assert figures in text, figures
    assert "переголосування 2" in text
    assert "скасовано: Збій пульта депутата" in text
    assert "лічильної комісії" in text
    assert GUEST in text and "виступ в обговоренні" in text and "1:05" in text
    assert name(hall, 35) in text  # absent, by name
    assert "більше половини від загального складу ради" in text and "база 43" in text
    assert f"запис № {closing['seq']}" in text
    assert str(closing["hash"]) in text
    keep_pages(pdf, f"protocol-{_engine(db_url)}")

    sheet = records.roll_call_sheet(hall.rt.reader(), held.roll_call)
    assert sum(len(g.lines) for g in sheet.groups) == 43  # every participant, the mayor too
    sheet_pdf = render("rollcall", sheet)
    sheet_text = text_of(sheet_pdf)
    assert "РЕЗУЛЬТАТИ ПОІМЕННОГО ГОЛОСУВАННЯ" in sheet_text
    assert f"{name(hall, 0)} За" in sheet_text and f"{name(hall, 20)} Проти" in sheet_text
    assert f"{name(hall, 22)} Утримався" in sheet_text
    assert f"{name(hall, 40)} Відсутній" in sheet_text
    assert "Головенко Мер Мерович (голова ради) Не голосував" in sheet_text
    assert "Каштанова алея" in sheet_text and "Позафракційні" in sheet_text
    keep_pages(sheet_pdf, f"rollcall-{_engine(db_url)}")

    secret_text = text_of(
        render("rollcall", records.roll_call_sheet(hall.rt.reader(), held.secret))
    )
    assert "15 10 0" in secret_text and "таємне" in secret_text
    assert "Депутатенко" not in secret_text and "Головенко" not in secret_text

    manual_sheet = records.roll_call_sheet(hall.rt.reader(), held.manual)
    assert "Голова лічильної комісії" in text_of(render("rollcall", manual_sheet))
    assert len(records.roll_call_sheets(hall.rt.reader(), hall.sitting)) == 6

    report = records.attendance_report(
        hall.rt.reader(), date_from=hall.clock.now.date(), date_to=hall.clock.now.date()
    )
    attendance_text = text_of(render("attendance", report))
    assert f"{name(hall, 0)} +" in attendance_text and f"{name(hall, 41)} —" in attendance_text
    assert "Зареєстровано 31" in attendance_text and "1 з 1" in attendance_text


def _engine(db_url: str) -> str:
    return "postgresql" if db_url.startswith("postgresql") else "sqlite"


def test_no_record_of_an_unknown_sitting_or_vote(hall: Hall) -> None:
    with pytest.raises(NotFound, match="sitting 999"):
        records.sitting_record(hall.rt.reader(), 999)
    with pytest.raises(NotFound, match="vote 999"):
        records.roll_call_sheet(hall.rt.reader(), 999)
    with pytest.raises(NotFound, match="no sitting was closed between"):
        records.attendance_report(
            hall.rt.reader(), date_from=hall.clock.now.date(), date_to=hall.clock.now.date()
        )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_commands_write_whole_files_or_nothing(
    hall: Hall, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[database]\nurl = {json.dumps(db_url)}\n", encoding="utf-8")

    def voting(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["--config", str(config), *args])
        return code, capsys.readouterr().err

    out = tmp_path / "protocol.pdf"
    code, err = voting("protocol", str(hall.sitting), "--out", str(out))
    assert code == 2 and f"error: sitting {hall.sitting} (" in err and "is open, not closed" in err
    assert not out.exists()
    assert (
        voting("protocol", "999", "--out", str(out))[1].strip()
        == "error: sitting 999 does not exist"
    )

    hall.open_registration()
    hall.register(*hall.deputies[:25])
    vote = hall.open_vote(item_id=hall.items[0], stage="as_a_whole", kind="roll_call")
    hall.cast_many(vote, hall.deputies[:25], "for")
    hall.close(vote)
    sittings.close_sitting(hall.rt.uow(), SECRETARY, hall.sitting)

    code, err = voting("protocol", str(hall.sitting), "--out", str(tmp_path / "nowhere" / "p.pdf"))
    assert code == 2 and "the folder" in err and "does not exist" in err
    code, err = voting(
        "attendance", "--from", "2020-01-01", "--to", "2020-12-31", "--out", str(out)
    )
    assert code == 2 and "no sitting was closed between 2020-01-01 and 2020-12-31" in err
    assert not out.exists()

    assert voting("protocol", str(hall.sitting), "--out", str(out))[0] == 0
    assert out.read_bytes().startswith(b"%PDF") and "Прийнято" in text_of(out.read_bytes())
    sheet = tmp_path / "sheet.pdf"
    assert voting("rollcall", str(vote), "--out", str(sheet))[0] == 0
    assert name(hall, 24) in text_of(sheet.read_bytes())
    attendance = tmp_path / "attendance.pdf"
    assert voting("attendance", "--sitting", str(hall.sitting), "--out", str(attendance))[0] == 0
    assert "Зареєстровано 25" in text_of(attendance.read_bytes())
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".part") == []
