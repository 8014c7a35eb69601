"""Open data (issue 14, item 5): a closed sitting with every kind of vote exported in the national
structures, on SQLite and PostgreSQL; the files, the validator, the deputies' round trip through
the project's own import, and `voting export`'s refusals."""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from halls import SECRETARY, Hall

from voting.cli import main
from voting.domain.errors import InvalidInput, NotFound
from voting.opendata import DEPUTY_RESULTS, RESOURCES, column_names, validate
from voting.services import council, export, queries, sittings, votes
from voting.services.commands import ChangeDeputy, ChangeItem, Revote
from voting.services.export import ExportError, Selection
from voting.services.roster_import import parse_deputies_csv

FORMULA = "=SUM(A1)"


@dataclass
class Sitting:
    """The votes of the scripted sitting, by what they are."""

    hall: Hall
    roll_call: int
    open: int
    secret: int
    first_attempt: int
    revote: int
    annulled: int
    manual: int


def hold_sitting(hall: Hall, *, formula: bool = False) -> Sitting:
    """Register 30 deputies and the mayor; hold a roll-call vote, an open vote, a secret ballot,
    a vote and its re-vote, an annulled vote and a counting commission's result; close."""
    d = hall.deputies
    if formula:
        council.update_deputy(
            hall.rt.uow(),
            SECRETARY,
            ChangeDeputy.parse({"full_name": f"{FORMULA} Іван Петрович"}, deputy_id=d[0]),
        )
        sittings.update_item(
            hall.rt.uow(), SECRETARY, ChangeItem.parse({"title": FORMULA}, item_id=hall.items[1])
        )
    hall.open_registration()
    hall.register(*d[:30], hall.head)

    roll_call = hall.open_vote(item_id=hall.items[0])
    hall.cast_many(roll_call, [*d[:23], hall.head], "for")
    hall.cast_many(roll_call, d[23:26], "against")
    hall.cast(roll_call, d[26], "abstain")
    hall.close(roll_call)

    open_vote = hall.open_vote(item_id=hall.items[1], kind="open")
    hall.cast_many(open_vote, d[:10], "for")
    hall.cast_many(open_vote, d[10:20], "against")
    hall.close(open_vote)

    secret = hall.open_vote(title="Про обрання секретаря ради", kind="secret")
    hall.cast_many(secret, d[:25], "for")
    hall.cast_many(secret, d[25:28], "against")
    hall.close(secret)

    first = hall.open_vote(item_id=hall.items[2])
    hall.cast_many(first, d[:5], "for")
    hall.close(first)
    again = votes.revote(hall.rt.uow(), SECRETARY, Revote.parse({}, vote_id=first))
    hall.cast_many(again, d[:24], "for")
    hall.close(again)

    annulled = hall.open_vote(title="Про перерву")
    hall.cast_many(annulled, d[:24], "for")
    hall.close(annulled)
    hall.annul(annulled)

    choices = {str(x): "for" for x in d[:22]} | {str(d[22]): "against"}
    manual = hall.enter_manual(
        title="Про зміну порядку денного", choices=choices, note="Протокол 1"
    )
    sittings.close_sitting(hall.rt.uow(), SECRETARY, hall.sitting)
    return Sitting(hall, roll_call, open_vote, secret, first, again, annulled, manual)


@pytest.fixture
def held(hall: Hall) -> Sitting:
    return hold_sitting(hall)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # UTF-8 without a byte-order mark
    reader = csv.reader(io.StringIO(raw.decode("utf-8"), newline=""))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def by(rows: list[dict[str, str]], column: str, value: str) -> list[dict[str, str]]:
    return [row for row in rows if row[column] == value]


# --- the export of a closed sitting --------------------------------------------------------------


def test_every_file_has_the_standards_header_and_passes_the_validator(
    held: Sitting, tmp_path: Path
) -> None:
    area = tmp_path / "area"
    area.mkdir()
    out = area / "open-data"
    report = export.export(held.hall.rt.reader(), Selection(sitting_id=held.hall.sitting), out)
    expected = sorted(f"{name}.{ext}" for name in RESOURCES for ext in ("csv", "json"))
    assert sorted(p.name for p in out.iterdir()) == expected
    assert sorted(p.name for p in report.files) == expected
    assert [p.name for p in area.iterdir()] == ["open-data"]  # no temporary folder left

    read: dict[str, list[dict[str, str]]] = {}
    for name, columns in RESOURCES.items():
        header, rows = read_csv(out / f"{name}.csv")
        assert header == list(column_names(columns)), name
        objects = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        assert isinstance(objects, list) and len(objects) == len(rows) == report.rows[name]
        for obj, row in zip(objects, rows, strict=True):
            assert list(obj) == header  # every column, in the standard's order
            for column in columns:
                cell = row[column.name]
                if cell in ("", "null"):
                    assert obj[column.name] is None
                elif column.datatype == "integer":
                    assert obj[column.name] == int(cell)
                else:
                    assert obj[column.name] == cell
        read[name] = rows

    # The files as written (read back), and the rows in memory, pass the validator...
    assert export.problems(read) == []
    resources = export.build_resources(
        held.hall.rt.reader(), Selection(sitting_id=held.hall.sitting)
    )
    assert export.problems(resources) == []
    assert resources == read  # (no cell here needs making spreadsheet-safe)
    # ...and the strict standard finds blanks only where the system holds nothing.
    strict = validate(read)
    assert strict, "the deputies' birth dates and contacts are not held, so some are blank"
    for problem in strict:
        resource, rest = problem.split(" row ", 1)
        column = rest.split(", ", 1)[1].split(":", 1)[0]
        assert problem.endswith("a value is required"), problem
        assert column in export.NOT_HELD[resource], problem
    assert report.unfilled["deputies"][:3] == ("birthDate", "biography", "partyName")


def test_the_rows_say_what_happened(held: Sitting, tmp_path: Path) -> None:
    hall = held.hall
    res = export.build_resources(hall.rt.reader(), Selection(sitting_id=hall.sitting))
    info = queries.council_info(hall.rt.reader())
    assert res["convocations"] == [
        {
            "uid": "8",
            "label": "VIII скликання",
            "dateFrom": "2020-12-01",
            "dateUntil": "",
            "authorityName": "Тестова міська рада",
            "authorityId": info["edrpou"],
            "CATUTTC": info["katottg"],
        }
    ]
    assert res["sessions"] == [
        {
            "uid": "8-17",
            "label": "17 сесія VIII скликання",
            "convocationUid": "8",
            "dateFrom": "2026-11-25",
            "dateUntil": "2026-11-25",
        }
    ]
    prefix = f"2026-11-25-{hall.sitting}"
    motions = {m["uid"]: m for m in res["motions"]}
    assert [m["number"] for m in res["motions"]] == ["1", "2", "3", "0", "0"]
    assert motions[f"{prefix}-1"]["title"] == "Про питання 1"
    assert motions[f"{prefix}-0-{held.secret}"]["classification"] == "Процедурне питання"
    assert f"{prefix}-0-{held.annulled}" not in motions  # its only vote was annulled

    events = {e["uid"]: e for e in res["voteEvents"]}
    assert sorted(events, key=int) == [
        str(v)
        for v in (
            held.roll_call,
            held.open,
            held.secret,
            held.first_attempt,
            held.revote,
            held.manual,
        )
    ]
    roll = events[str(held.roll_call)]
    assert (roll["motionUid"], roll["projectNumber"], roll["result"]) == (
        f"{prefix}-1",
        "751/2",
        "Прийнято",
    )
    # 30 deputies and the mayor registered; 12 deputies absent.
    counts = ("votingFor", "votingAgainst", "votingAbstain", "notVoting", "absent")
    assert tuple(roll[c] for c in counts) == ("24", "3", "1", "3", "12")
    assert roll["startDate"].endswith("Z") and roll["startDate"] <= roll["endDate"]
    assert tuple(events[str(held.open)][c] for c in counts) == ("10", "10", "0", "11", "12")
    assert tuple(events[str(held.secret)][c] for c in counts)[:2] == ("25", "3")
    assert events[str(held.first_attempt)]["result"] == "Не прийнято"
    assert events[str(held.revote)]["result"] == "Прийнято"
    assert events[str(held.revote)]["motionUid"] == events[str(held.first_attempt)]["motionUid"]
    assert events[str(held.manual)]["votingFor"] == "22"

    # Per-deputy rows: roll-call votes only (the manual roll-call result included), every
    # deputy who takes part (42 and the mayor), never for the open vote or the secret ballot.
    per_vote = {uid: len(by(res["vote"], "uid", uid)) for uid in events}
    assert per_vote == {
        str(held.roll_call): 43,
        str(held.open): 0,
        str(held.secret): 0,
        str(held.first_attempt): 43,
        str(held.revote): 43,
        str(held.manual): 43,
    }
    assert {row["result"] for row in res["vote"]} <= set(DEPUTY_RESULTS)
    head_row = by(by(res["vote"], "uid", str(held.roll_call)), "voterUid", "head")
    assert head_row == [{"uid": str(held.roll_call), "voterUid": "head", "result": "За"}]
    assert by(by(res["vote"], "uid", str(held.roll_call)), "voterUid", "dep-40")[0]["result"] == (
        "Відсутній"
    )

    # The flat variants: each question's deciding vote.
    flat = {m["uid"]: m for m in res["motions2"]}
    assert flat[f"{prefix}-3"]["votingResult"] == "Прийнято"
    assert flat[f"{prefix}-3"]["votingFor"] == events[str(held.revote)]["votingFor"]
    assert flat[f"{prefix}-2"]["votingResult"] == "Не прийнято"
    assert flat[f"{prefix}-0-{held.secret}"]["votingFor"] == "25"
    assert {row["motionUid"] for row in res["votings"]} == {
        f"{prefix}-1",
        f"{prefix}-3",
        f"{prefix}-0-{held.manual}",
    }
    assert len(by(res["votings"], "motionUid", f"{prefix}-3")) == 43
    mayor = by(res["votings"], "voterId", "head")[0]
    assert mayor["voterName"] == "Головенко Мер Мерович"

    deputies = {d["votingIdentifier"]: d for d in res["deputies"]}
    assert len(deputies) == 43
    assert (deputies["dep-1"]["familyName"], deputies["dep-1"]["name"]) == ("Депутатенко01", "Іван")
    assert deputies["head"]["factionName"] == "Позафракційний"
    assert deputies["dep-1"]["factionPost"] == "Член депутатської фракції"
    assert deputies["dep-1"]["CATUTTC"] == info["katottg"]
    assert deputies["dep-1"]["image"] == "null" and deputies["dep-1"]["gender"] == "0"


def test_a_secret_ballot_names_nobody(held: Sitting) -> None:
    hall = held.hall
    res = export.build_resources(hall.rt.reader(), Selection(sitting_id=hall.sitting))
    secret = str(held.secret)
    assert by(res["vote"], "uid", secret) == []
    motion = next(e["motionUid"] for e in res["voteEvents"] if e["uid"] == secret)
    assert by(res["votings"], "motionUid", motion) == []
    # Nothing else in the files mentions the secret ballot's vote beside its counts.
    event = next(e for e in res["voteEvents"] if e["uid"] == secret)
    assert set(event) == set(column_names(RESOURCES["voteEvents"]))


def test_the_deputies_file_round_trips_through_the_import(held: Sitting, tmp_path: Path) -> None:
    hall = held.hall
    export.export(hall.rt.reader(), Selection(sitting_id=hall.sitting), tmp_path / "out")
    records = parse_deputies_csv((tmp_path / "out" / "deputies.csv").read_bytes())
    roster = queries.deputies(hall.rt.reader())
    assert sorted(
        (r.full_name, r.short_name, r.voting_identifier, r.faction_name) for r in records
    ) == sorted(
        (d["full_name"], d["short_name"], d["voting_identifier"], d["faction"]) for d in roster
    )


def test_formula_like_names_and_the_contacts_round_trip_exactly(hall: Hall, tmp_path: Path) -> None:
    """Names that begin with =, - or @ are quoted for spreadsheets in deputies.csv and come back
    from the import exactly; a deputy's public contacts and an item's published draft fill the
    columns the structures ask for, and what nobody gave stays blank and listed as unfilled."""
    d, uow = hall.deputies, hall.rt.uow
    council.update_deputy(
        uow(),
        SECRETARY,
        ChangeDeputy.parse(
            {
                "full_name": "=Петренко Іван Петрович",
                "email": "petrenko@rada.example.gov.ua",
                "telephone": "+380 44 123 45 67",
            },
            deputy_id=d[0],
        ),
    )
    council.update_deputy(
        uow(),
        SECRETARY,
        ChangeDeputy.parse(
            {"full_name": "Коваль -Іван Петрович", "voting_identifier": "@koval"}, deputy_id=d[1]
        ),
    )
    for hostless in ("http://", "https://?x", "ftp://rada.example.gov.ua/a.pdf"):
        # refused where it is given: the open data's links must name a host
        with pytest.raises(InvalidInput, match="document_url"):
            ChangeItem.parse({"document_url": hostless}, item_id=hall.items[0])
    draft = "https://rada.example.gov.ua/drafts/751-2.pdf"
    sittings.update_item(
        uow(), SECRETARY, ChangeItem.parse({"document_url": draft}, item_id=hall.items[0])
    )
    held = hold_sitting(hall)
    report = export.export(hall.rt.reader(), Selection(sitting_id=hall.sitting), tmp_path / "out")

    _, deputies = read_csv(tmp_path / "out" / "deputies.csv")
    first = by(deputies, "votingIdentifier", "dep-1")[0]
    assert (first["familyName"], first["email"], first["telephone"]) == (
        "'=Петренко",
        "petrenko@rada.example.gov.ua",
        "'+380 44 123 45 67",
    )
    assert by(deputies, "votingIdentifier", "'@koval")[0]["name"] == "'-Іван"
    records = {
        r.voting_identifier: r
        for r in parse_deputies_csv((tmp_path / "out" / "deputies.csv").read_bytes())
    }
    assert records["dep-1"].full_name == "=Петренко Іван Петрович"
    assert records["dep-1"].short_name == "=Петренко І. П."
    assert (records["dep-1"].email, records["dep-1"].telephone) == (
        "petrenko@rada.example.gov.ua",
        "+380 44 123 45 67",
    )
    assert records["@koval"].full_name == "Коваль -Іван Петрович"
    # Everyone comes back as the roster has them (the file holds no short name: the import
    # makes one from the initials).
    roster = queries.deputies(hall.rt.reader())
    assert sorted(
        (r.full_name, r.voting_identifier, r.faction_name) for r in records.values()
    ) == sorted((x["full_name"], x["voting_identifier"], x["faction"]) for x in roster)

    _, events = read_csv(tmp_path / "out" / "voteEvents.csv")
    assert by(events, "uid", str(held.roll_call))[0]["textUrl"] == draft
    assert by(events, "uid", str(held.open))[0]["textUrl"] == ""
    _, motions2 = read_csv(tmp_path / "out" / "motions2.csv")
    assert motions2[0]["textUrl"] == draft
    # Others gave no contacts and other items no link: still blank, still listed to complete.
    assert {"email", "telephone", "birthDate"} <= set(report.unfilled["deputies"])
    assert "textUrl" in report.unfilled["voteEvents"]


def test_spreadsheet_formulas_are_neutralised_in_csv(hall: Hall, tmp_path: Path) -> None:
    hold_sitting(hall, formula=True)
    out = tmp_path / "out"
    export.export(hall.rt.reader(), Selection(sitting_id=hall.sitting), out)
    _, deputies = read_csv(out / "deputies.csv")
    assert by(deputies, "votingIdentifier", "dep-1")[0]["familyName"] == f"'{FORMULA}"
    _, motions = read_csv(out / "motions.csv")
    assert motions[1]["title"] == f"'{FORMULA}"
    _, voting = read_csv(out / "votings.csv")
    assert by(voting, "voterId", "dep-1")[0]["voterName"] == f"'{FORMULA} Іван Петрович"
    for path in out.glob("*.csv"):
        for line in path.read_text(encoding="utf-8").splitlines():
            assert f",{FORMULA}" not in line and not line.startswith(FORMULA)
    # JSON is not opened by spreadsheets: the value as it is.
    objects = json.loads((out / "motions.json").read_text(encoding="utf-8"))
    assert objects[1]["title"] == FORMULA


# --- the validator finds what is planted ---------------------------------------------------------


@pytest.fixture
def rows(held: Sitting) -> dict[str, list[dict[str, str]]]:
    return export.build_resources(held.hall.rt.reader(), Selection(sitting_id=held.hall.sitting))


def planted(
    rows: dict[str, list[dict[str, str]]], resource: str, index: int, **cells: str | None
) -> list[str]:
    """What the validator finds in a copy of `rows` with cells of one row changed (None: the
    column taken out)."""
    spoiled = copy.deepcopy(rows)
    for column, value in cells.items():
        if value is None:
            del spoiled[resource][index][column]
        else:
            spoiled[resource][index][column] = value
    return export.problems(spoiled)


def test_the_validator_finds_each_planted_defect(rows: dict[str, list[dict[str, str]]]) -> None:
    assert export.problems(rows) == []
    assert planted(rows, "motions", 0, title=None) == ["motions row 1: lacks the column(s) title"]
    assert planted(rows, "voteEvents", 0, startDate="") == [
        "voteEvents row 1, startDate: a value is required"
    ]
    assert planted(rows, "voteEvents", 0, votingFor="двадцять") == [
        "voteEvents row 1, votingFor: 'двадцять' is not a whole number (integer)"
    ]
    assert planted(rows, "voteEvents", 1, endDate="25.11.2026 10:00") == [
        "voteEvents row 2, endDate: '25.11.2026 10:00' is not a date and time "
        "(YYYY-MM-DDTHH:MM:SSZ) (dateTime)"
    ]
    assert planted(rows, "sessions", 0, dateFrom="2026-02-30") == [
        "sessions row 1, dateFrom: '2026-02-30' is not a date (YYYY-MM-DD) (date)"
    ]
    assert planted(rows, "deputies", 0, homepage="www.rada.gov.ua") == [
        "deputies row 1, homepage: 'www.rada.gov.ua' is not a link starting with http:// or "
        "https:// (anyURL)"
    ]
    assert planted(rows, "vote", 0, result="Так") == [
        "vote row 1, result: 'Так' is not one of За, Проти, Утримався, Не голосував, Відсутній"
    ]
    assert planted(rows, "voteEvents", 0, result="Ухвалено") == [
        "voteEvents row 1, result: 'Ухвалено' is not one of Прийнято, Не прийнято, "
        "Не голосували, Не розглядали"
    ]
    # Keys that do not join.
    assert planted(rows, "vote", 2, uid="999999") == [
        "vote row 3, uid: '999999' names no voteEvents row (voteEvents.uid)"
    ]
    assert planted(rows, "vote", 2, voterUid="dep-999") == [
        "vote row 3, voterUid: 'dep-999' names no deputies row (deputies.votingIdentifier)"
    ]
    assert planted(rows, "voteEvents", 0, motionUid="2026-11-25-9") == [
        "voteEvents row 1, motionUid: '2026-11-25-9' names no motions row (motions.uid)"
    ]
    assert planted(rows, "motions", 0, sessionUid="8-99") == [
        "motions row 1, sessionUid: '8-99' names no sessions row (sessions.uid)"
    ]
    # A vote row twice; a resource missing; an unknown column.
    doubled = copy.deepcopy(rows)
    doubled["vote"].append(dict(doubled["vote"][0]))
    assert export.problems(doubled) == [
        f"vote row {len(doubled['vote'])}: uid, voterUid "
        f"{doubled['vote'][0]['uid']} / {doubled['vote'][0]['voterUid']} repeats row 1"
    ]
    without = {k: v for k, v in rows.items() if k != "deputies"}
    assert "vote.voterUid: cannot be checked, the resource deputies is missing" in (
        export.problems(without)
    )
    assert planted(rows, "vote", 0, extra="x") == ["vote row 1: unknown column(s) 'extra'"]


# --- selections and refusals ---------------------------------------------------------------------


def test_selections_and_refusals(held: Sitting, tmp_path: Path) -> None:
    hall = held.hall
    reader = hall.rt.reader
    one = export.build_resources(reader(), Selection(sitting_id=hall.sitting))
    [session] = queries.sessions(reader())
    convocation = session["convocation"]
    assert isinstance(session["id"], int) and isinstance(convocation, dict)
    day = date(2026, 11, 25)
    for selection in (
        Selection(session_id=session["id"]),
        Selection(convocation_id=convocation["id"]),
        Selection(date_from=day, date_until=day),
        Selection(date_from=date(2026, 1, 1), date_until=date(2026, 12, 31)),
    ):
        assert export.build_resources(reader(), selection) == one

    with pytest.raises(NotFound, match="sitting 999999"):
        export.build_resources(reader(), Selection(sitting_id=999999))
    with pytest.raises(NotFound, match="session 999999"):
        export.build_resources(reader(), Selection(session_id=999999))
    with pytest.raises(ExportError, match="no plenary sitting has been held in 2020-01-01"):
        export.build_resources(
            reader(),
            Selection(date_from=date(2020, 1, 1), date_until=date(2020, 1, 31)),
        )
    with pytest.raises(ExportError, match="ends before it begins"):
        Selection(date_from=day, date_until=date(2020, 1, 1))
    with pytest.raises(ExportError, match="choose one"):
        Selection(sitting_id=1, session_id=1)


def test_an_open_sitting_is_refused_unless_asked_and_an_open_vote_never_exported(
    hall: Hall, tmp_path: Path
) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    closed = hall.open_vote(item_id=hall.items[0])
    hall.cast_many(closed, hall.deputies[:25], "for")
    hall.close(closed)
    running = hall.open_vote(item_id=hall.items[1])
    hall.cast_many(running, hall.deputies[:25], "for")

    with pytest.raises(ExportError, match=f"sitting {hall.sitting} .* is still open"):
        export.export(hall.rt.reader(), Selection(sitting_id=hall.sitting), tmp_path / "out")
    assert not (tmp_path / "out").exists()

    # Publishing during the sitting (the archive, after each close): closed votes only.
    res = export.build_resources(
        hall.rt.reader(),
        Selection(sitting_id=hall.sitting),
        include_open=True,
        vote_url=lambda vote_id: f"https://rada.example.gov.ua/votes/{vote_id}",
    )
    assert [e["uid"] for e in res["voteEvents"]] == [str(closed)]
    assert {row["uid"] for row in res["vote"]} == {str(closed)}
    assert res["voteEvents"][0]["textUrl"] == f"https://rada.example.gov.ua/votes/{closed}"
    assert export.problems(res) == []


def test_a_failure_while_writing_leaves_nothing_behind(
    held: Sitting, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = export.to_json

    def failing(resource: str, rows: object) -> str:
        if resource == "vote":
            raise OSError(28, "No space left on device")
        return real(resource, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(export, "to_json", failing)
    area = tmp_path / "area"
    area.mkdir()
    with pytest.raises(ExportError, match="No space left on device"):
        export.export(held.hall.rt.reader(), Selection(sitting_id=held.hall.sitting), area / "o")
    assert list(area.iterdir()) == []

    # Into an existing folder: the same names are replaced, other files stay.
    monkeypatch.undo()
    target = area / "existing"
    target.mkdir()
    (target / "README.txt").write_text("mine")
    (target / "vote.csv").write_text("old")
    export.export(held.hall.rt.reader(), Selection(sitting_id=held.hall.sitting), target)
    assert (target / "README.txt").read_text() == "mine"
    assert (target / "vote.csv").read_text(encoding="utf-8").startswith("uid,voterUid,result")
    assert sorted(p.name for p in area.iterdir()) == ["existing"]


# --- the command ---------------------------------------------------------------------------------


@pytest.fixture
def voting(hall: Hall, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `voting --config <a config naming the hall's database> ARGS...`."""
    config = tmp_path / "config.toml"
    config.write_text(
        f"[server]\ninstance_path = {json.dumps(str(tmp_path / 'instance'))}\n"
        f"[database]\nurl = {json.dumps(db_url)}\n",
        encoding="utf-8",
    )

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--config", str(config), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(autouse=True)
def no_outside_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("VOTING_CONFIG", "VOTING_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    yield


def test_the_command_refuses_bad_input_and_leaves_no_files(
    voting, hall: Hall, tmp_path: Path
) -> None:
    area = tmp_path / "area"
    (area / "exports").mkdir(parents=True)
    out = area / "exports" / "sitting"
    a_file = area / "a-file"
    a_file.write_text("x")
    cases = [
        (["--sitting", "999999"], out, "sitting 999999 does not exist"),
        (["--session", "999999"], out, "session 999999 does not exist"),
        (["--convocation", "999999"], out, "convocation 999999 does not exist"),
        (["--sitting", str(hall.sitting)], out, "is still open"),
        (["--from", "2020-01-01", "--to", "2020-01-31"], out, "no plenary sitting has been held"),
        (["--from", "2026-12-01", "--to", "2026-11-01"], out, "ends before it begins"),
        (["--from", "2026-13-01", "--to", "2026-12-01"], out, "--from must be a date"),
        (["--from", "2026-11-01"], out, "needs both its first and its last day"),
        (["--sitting", str(hall.sitting)], a_file / "sub", "cannot write to"),
        (["--sitting", str(hall.sitting)], a_file, "it exists and is not a folder"),
        (["--sitting", str(hall.sitting)], area / "no" / "such", "does not exist"),
    ]
    for args, target, message in cases:
        code, stdout, stderr = voting("export", *args, "--out", str(target))
        assert (code, stdout) == (2, ""), (args, stderr)
        assert stderr.startswith("error: ") and message in stderr, (args, stderr)
        assert "Traceback" not in stderr
        assert not out.exists()
        assert sorted(p.name for p in area.iterdir()) == ["a-file", "exports"], args
        assert list((area / "exports").iterdir()) == []
    # argparse refuses two selections at once
    code, _, stderr = voting("export", "--sitting", "1", "--session", "1", "--out", str(out))
    assert code == 2 and "not allowed with argument" in stderr


def test_the_command_writes_and_says_what(voting, hall: Hall, tmp_path: Path) -> None:
    hold_sitting(hall)
    out = tmp_path / "od"
    code, stdout, stderr = voting("export", "--sitting", str(hall.sitting), "--out", str(out))
    assert code == 0, stderr
    assert f"Wrote 16 files for sitting {hall.sitting} into {out}:" in stdout
    assert "  vote.csv: 172 rows" in stdout and "  deputies.json: 43 rows" in stdout
    assert "note: deputies: required columns left blank" in stdout
    assert (out / "voteEvents.csv").exists() and (out / "voteEvents.json").exists()
    code, stdout, _ = voting(
        "export", "--from", "2026-11-25", "--to", "2026-11-25", "--out", str(tmp_path / "range")
    )
    assert code == 0 and "for 2026-11-25 to 2026-11-25" in stdout
    assert (tmp_path / "range" / "vote.csv").read_bytes() == (out / "vote.csv").read_bytes()
