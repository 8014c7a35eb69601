"""The `voting` command, run in-process as the operator would run it, on SQLite and PostgreSQL;
and the web server runner with its vote timer, over real HTTP."""

from __future__ import annotations

import io
import json
import logging
import stat
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from roster_csv import deputies_csv
from sqlalchemy import create_engine, text

from voting.bootstrap import Runtime, build_runtime
from voting.cli import main, shown_url
from voting.config import database_config, load_config
from voting.domain.actors import Actor
from voting.domain.errors import PermissionDenied
from voting.jobs import VoteTimer
from voting.services import auth, casting, council, demo, queries, registration, votes
from voting.services.commands import (
    AddDeputy,
    CastChoice,
    OpenRegistration,
    OpenVote,
    Register,
    SignInWithCard,
)
from voting.web import create_app
from voting.web.server import start_server

COUNCIL = "Тестова міська рада"
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def no_outside_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the config file a test writes counts, never the caller's environment."""
    for name in ("VOTING_CONFIG", "VOTING_DATABASE_URL", "VOTING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def config_file(tmp_path: Path, instance: Path, db_url: str) -> Path:
    """A config.toml naming the test database and a private instance folder."""
    path = tmp_path / "config.toml"
    path.write_text(
        f"[server]\ninstance_path = {json.dumps(str(instance))}\n"
        f"[database]\nurl = {json.dumps(db_url)}\n"
        f"[council]\nname = {json.dumps(COUNCIL)}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def voting(config_file: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `voting --config <test config> ARGS...` and return its exit status and output."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(["--config", str(config_file), *args])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def rt(db_url: str):  # type: ignore[no-untyped-def]
    """A runtime on the test database, to look at what the command did."""
    runtime = build_runtime(database_config(db_url))
    yield runtime
    runtime.stop()


# --- init ---------------------------------------------------------------------------------------


def test_init_twice_creates_the_council_once(
    voting, rt: Runtime, db_url: str, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOTING_JOURNAL_KEY")  # the key comes from the file init writes
    first = voting("init")
    assert first.code == 0, first.err
    assert f"Database: {shown_url(db_url)}" in first.out
    assert f"Council created: {COUNCIL}" in first.out
    # the console gateway's secret, for its owner's eyes only, written once
    secret = instance / "console-gateway.secret"
    assert "Console gateway secret written" in first.out
    assert secret.stat().st_mode & 0o777 == 0o600 and len(secret.read_text().strip()) >= 40
    written = secret.read_text()
    # the journal's key, likewise
    key = instance / "journal.key"
    assert f"Journal key written to {key}" in first.out
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_text().strip()) >= 40
    key_text = key.read_text()

    second = voting("init")
    assert second.code == 0, second.err
    assert "Schema is up to date" in second.out and "already set up" in second.out
    assert secret.read_text() == written and "secret written" not in second.out
    assert key.read_text() == key_text and "Journal key written" not in second.out
    assert queries.council_info(rt.uow())["name"] == COUNCIL
    # One council_created entry, authenticated with the file's key: the second run changed nothing.
    assert voting("journal", "verify").out.strip() == (
        "journal intact: 1 entries verified, and the record matches them"
    )
    # Without its key the server does not start (it could record nothing), and says what to do.
    key.unlink()
    refused = voting("serve", "--port", "0")
    assert refused.code == 2
    assert "the journal's key is missing" in refused.err and "voting init" in refused.err
    # Verifying needs no key, and says what it could not check.
    assert voting("journal", "verify").out.strip() == (
        "journal intact: 1 entries verified, and the record matches them "
        "(authentication codes not checked: no key)"
    )


def test_init_gives_entries_written_before_the_key_their_codes(
    voting, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an upgrade from a journal without a key, `voting init` authenticates the entries
    (once their chain holds) and journals that it did; a broken chain is left as it is."""
    assert voting("init").code == 0
    sql(db_url, "UPDATE journal_entry SET mac = NULL")
    sql(db_url, "UPDATE journal_head SET mac = NULL")
    unkeyed = voting("journal", "verify")
    assert unkeyed.code == 1
    assert "entry 1: it carries no authentication code" in unkeyed.out
    again = voting("init")
    assert again.code == 0, again.err
    assert "1 journal entries written before the key now carry its codes" in again.out
    assert voting("journal", "verify").out.strip() == (
        "journal intact: 2 entries verified, and the record matches them"
    )
    assert "journal entries written before" not in voting("init").out  # nothing left to do

    # An entry stripped of its code once the journal has a key is a forgery waiting for this.
    sql(db_url, "UPDATE journal_entry SET mac = NULL, actor = 'forged' WHERE seq = 1")
    stripped = voting("init")
    assert stripped.code == 2
    assert "entry 1 has no authentication code although the journal has a key" in stripped.err
    sql(db_url, "UPDATE journal_entry SET mac = NULL WHERE seq > 1")  # all of them now
    sql(db_url, "UPDATE journal_head SET mac = NULL")
    broken = voting("init")
    assert broken.code == 2
    assert "journal broken at entry 1" in broken.err and "left without codes" in broken.err


def test_init_never_replaces_a_key_the_journal_was_written_with(
    voting, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOTING_JOURNAL_KEY")
    assert voting("init").code == 0
    (instance / "journal.key").unlink()  # a restore onto a new host, without the key
    refused = voting("init")
    assert refused.code == 2
    assert "written with a key that is not at hand" in refused.err
    assert "restore it from its backup" in refused.err
    assert not (instance / "journal.key").exists()


@SQLITE_ONLY
def test_init_hides_the_database_password(voting, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on port 1: the command fails, but must not print the password.
    monkeypatch.setenv("VOTING_DATABASE_URL", "postgresql+psycopg://clerk:s3cr3t@127.0.0.1:1/x")
    result = voting("init")
    assert result.code == 2
    assert "postgresql+psycopg://clerk:***@127.0.0.1:1/x" in result.out + result.err
    assert "s3cr3t" not in result.out + result.err
    assert "Traceback" not in result.err


def test_commands_before_init_say_what_to_do(voting) -> None:
    result = voting("journal", "verify")
    assert result.code == 2
    assert "run `voting init` first" in result.err


def test_missing_config_file_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["--config", str(tmp_path / "nope.toml"), "init"])
    assert code == 2
    assert "nope.toml does not exist" in capsys.readouterr().err


# --- demo ---------------------------------------------------------------------------------------


def demo_args(db_url: str) -> list[str]:
    """SQLite: the demo's own default file; PostgreSQL: the test schema."""
    return [] if db_url.startswith("sqlite") else ["--database-url", db_url]


def demo_url(db_url: str, instance: Path) -> str:
    return f"sqlite:///{instance / 'demo.sqlite3'}" if db_url.startswith("sqlite") else db_url


def test_demo_builds_a_council_with_working_tokens(voting, db_url: str, instance: Path) -> None:
    result = voting("demo", "--no-serve", *demo_args(db_url))
    assert result.code == 0, result.err

    rt = build_runtime(database_config(demo_url(db_url, instance)))
    try:
        people = queries.deputies(rt.uow())
        deputies = [d for d in people if not d["is_head"]]
        assert len(people) == 43 and len(deputies) == 42
        assert sorted(d["seat_number"] for d in deputies) == list(range(1, 43))
        assert sorted(d["voting_identifier"] for d in deputies) == sorted(
            f"dep-{n}" for n in range(1, 43)
        )
        # Invented factions (issue 16): a demo in a council hall names no real party.
        assert {d["faction"] for d in deputies} == {
            "Світанок",
            "Каштанова алея",
            "Громада-2030",
            "Зелений берег",
            "Рух «Міст»",
        }
        assert all(len(d["full_name"].split()) == 3 for d in people)  # Прізвище Ім'я По батькові
        assert len({d["full_name"] for d in people}) == 43

        state = queries.current_state(rt.uow())
        sitting = state["sitting"]
        assert sitting["state"] == "open"
        assert sitting["date"] == datetime.now(ZoneInfo("Europe/Kyiv")).date().isoformat()
        agenda = queries.agenda(rt.uow(), sitting["id"])
        assert len(agenda) == 12 and all(i["draft_number"] and i["rapporteur"] for i in agenda)
        session = queries.sessions(rt.uow())[0]
        assert session["number"] == 17 and session["convocation"]["label"] == "VIII скликання"

        tokens_path = instance / "demo-tokens.json"
        assert stat.S_IMODE(tokens_path.stat().st_mode) == 0o600
        tokens = json.loads(tokens_path.read_text(encoding="utf-8"))
        assert auth.actor_for_token(rt.uow(), tokens["secretary"]).role == "secretary"
        assert auth.actor_for_token(rt.uow(), tokens["chair"]).role == "chair"
        mayor = auth.actor_for_token(rt.uow(), tokens["mayor"]["token"])
        assert mayor.role == "deputy" and mayor.deputy_id == tokens["mayor"]["deputy_id"]
        assert len(tokens["deputies"]) == 42
        for entry in tokens["deputies"]:
            actor = auth.actor_for_token(rt.uow(), entry["token"])
            assert (actor.role, actor.deputy_id) == ("deputy", entry["deputy_id"])
        for login in tokens["logins"]:
            assert (
                auth.authenticate(rt.uow(), login["username"], login["password"]).role
                == login["username"]
            )
        # Every deputy can sign in at a terminal with the card and PIN from the file.
        for entry in tokens["deputies"][:2]:
            signed_in = auth.login_with_card(
                rt.uow(), SignInWithCard.parse({"card_uid": entry["card_uid"], "pin": entry["pin"]})
            )
            assert signed_in.deputy_id == entry["deputy_id"]
    finally:
        rt.stop()

    # What the operator needs is on the screen: the screens, the logins, a few terminals.
    base = tokens["api"].removesuffix("/api/v1")
    for screen in ("/control", "/display", "/display/overlay", "/live", "/terminal"):
        assert f"{base}{screen}" in result.out, screen
    assert "secretary / demo-password" in result.out and "chair / demo-password" in result.out
    for entry in tokens["deputies"][:4]:
        assert f"{base}/terminal#token={entry['token']}" in result.out
        assert f"card {entry['card_uid']}, PIN {entry['pin']}" in result.out
    assert tokens["deputies"][4]["token"] not in result.out
    assert "/api/v1" in result.out and "/api/v1/openapi.json" in result.out
    assert tokens["secretary"] in result.out
    assert str(tokens_path) in result.out
    assert result.out.count("curl ") >= 4


@SQLITE_ONLY
def test_demo_again_reuses_it_with_new_tokens_and_fresh_starts_over(voting, instance: Path) -> None:
    assert voting("demo", "--no-serve").code == 0
    tokens_path = instance / "demo-tokens.json"
    old = json.loads(tokens_path.read_text(encoding="utf-8"))
    url = demo_url("sqlite", instance)
    rt = build_runtime(database_config(url))
    try:
        registration.open_registration(
            rt.uow(),
            auth.actor_for_token(rt.uow(), old["secretary"]),
            OpenRegistration.parse({}, sitting_id=old["sitting_id"]),
        )
    finally:
        rt.stop()

    again = voting("demo", "--no-serve")
    assert again.code == 0, again.err
    assert "Reusing the demo" in again.out
    new = json.loads(tokens_path.read_text(encoding="utf-8"))
    assert new["secretary"] != old["secretary"] and new["secretary"] in again.out
    rt = build_runtime(database_config(url))
    try:
        assert len(queries.deputies(rt.uow())) == 43  # nobody added twice
        assert queries.current_state(rt.uow())["sitting"]["registration_open"] is True
    finally:
        rt.stop()

    fresh = voting("demo", "--no-serve", "--fresh")
    assert fresh.code == 0, fresh.err
    rt = build_runtime(database_config(url))
    try:
        assert queries.current_state(rt.uow())["sitting"]["registration_open"] is False
        with pytest.raises(PermissionDenied):  # the old database, and its tokens, are gone
            auth.actor_for_token(rt.uow(), old["secretary"])
    finally:
        rt.stop()


@SQLITE_ONLY
def test_demo_of_a_larger_hall_and_its_size_refused_when_wrong(voting, instance: Path) -> None:
    result = voting("demo", "--no-serve", "--seats", "121")
    assert result.code == 0, result.err
    url = demo_url("sqlite", instance)
    rt = build_runtime(database_config(url))
    try:
        people = queries.deputies(rt.uow())
        deputies = [d for d in people if not d["is_head"]]
        assert len(people) == 121 and sorted(d["seat_number"] for d in deputies) == list(
            range(1, 121)
        )
        assert len({d["short_name"] for d in people}) == 121  # each a name of their own
        factions = [d["faction"] for d in deputies]
        assert set(factions) == {n for n, _ in demo.FACTIONS} and None not in factions
        assert queries.council_info(rt.uow())["statutory_deputies"] == 120
    finally:
        rt.stop()
    assert "120 deputies and the mayor" in result.out
    # Asked again at another size, the demo built earlier is not mistaken for it.
    other = voting("demo", "--no-serve", "--seats", "451")
    assert other.code == 2 and "has 121 seats, not 451: add --fresh" in other.err
    for wrong in ("9", "452", "many"):
        refused = voting("demo", "--no-serve", "--fresh", "--seats", wrong)
        assert refused.code == 2, wrong
        assert "--seats" in refused.err, refused.err
    rt = build_runtime(database_config(url))
    try:
        assert len(queries.deputies(rt.uow())) == 121  # a refused size deleted nothing
    finally:
        rt.stop()
    largest = voting("demo", "--no-serve", "--fresh", "--seats", "451")
    assert largest.code == 0, largest.err
    rt = build_runtime(database_config(url))
    try:
        assert len(queries.deputies(rt.uow())) == 451
    finally:
        rt.stop()


@SQLITE_ONLY
def test_demo_fresh_refuses_to_delete_a_server_database(voting) -> None:
    result = voting(
        "demo",
        "--no-serve",
        "--fresh",
        "--database-url",
        "postgresql+psycopg://clerk@127.0.0.1:1/council",
    )
    assert result.code == 2
    assert "--fresh deletes only an SQLite demo file" in result.err


def test_demo_gives_no_tokens_for_a_real_council(voting, db_url: str, instance: Path) -> None:
    assert voting("init").code == 0
    result = voting("demo", "--no-serve", "--database-url", db_url)
    assert result.code == 2
    assert COUNCIL in result.err and "not the demo" in result.err
    assert not (instance / "demo-tokens.json").exists()


# --- import-deputies ----------------------------------------------------------------------------


def csv_row(n: int, **cells: str) -> dict[str, str]:
    return {
        "id": f"D-{n}",
        "votingIdentifier": f"dep-{n}",
        "familyName": f"Ковальчук{n}",
        "name": "Віктор",
        "additionalName": "Зосимович",
        "birthDate": "1980-12-01",
        "factionName": "Каштанова алея" if n % 2 else "Позафракційний",
        "CATUTTC": "UA51020030010063857",
        **cells,
    }


def test_import_deputies_adds_every_deputy(voting, rt: Runtime, tmp_path: Path) -> None:
    assert voting("init").code == 0
    path = tmp_path / "deputies.csv"
    path.write_bytes(deputies_csv([csv_row(1), csv_row(2), csv_row(3)]))

    result = voting("import-deputies", str(path))
    assert result.code == 0, result.err
    assert "Imported 3 deputies" in result.out
    people = {d["full_name"]: d for d in queries.deputies(rt.uow())}
    assert set(people) == {f"Ковальчук{n} Віктор Зосимович" for n in (1, 2, 3)}
    assert people["Ковальчук1 Віктор Зосимович"]["faction"] == "Каштанова алея"
    assert people["Ковальчук2 Віктор Зосимович"]["faction"] is None


def test_import_deputies_refuses_a_bad_file_whole(voting, rt: Runtime, tmp_path: Path) -> None:
    assert voting("init").code == 0
    path = tmp_path / "deputies.csv"
    path.write_bytes(deputies_csv([csv_row(1), csv_row(2, birthDate="31.12.1980"), csv_row(3)]))

    result = voting("import-deputies", str(path))
    assert result.code == 2
    assert result.err.startswith(f'error: {path}: line 3, field "birthDate": ')
    assert "31.12.1980" in result.err and "Traceback" not in result.err
    assert queries.deputies(rt.uow()) == []


def test_import_deputies_names_a_missing_file(voting, tmp_path: Path) -> None:
    assert voting("init").code == 0
    result = voting("import-deputies", str(tmp_path / "absent.csv"))
    assert result.code == 2
    assert "absent.csv" in result.err and "No such file" in result.err


# --- user add, token create ---------------------------------------------------------------------


def test_token_create_prints_a_working_token(voting, rt: Runtime) -> None:
    assert voting("init").code == 0
    result = voting("token", "create", "--role", "secretary", "--label", "Оператор залу")
    assert result.code == 0, result.err
    token = result.out.strip()
    assert len(token.split()) == 1 and "shown only now" in result.err
    actor = auth.actor_for_token(rt.uow(), token)
    assert actor.role == "secretary"


def test_token_for_a_deputy_needs_the_deputy(voting) -> None:
    assert voting("init").code == 0
    result = voting("token", "create", "--role", "deputy")
    assert result.code == 2 and "needs --deputy ID" in result.err
    result = voting("token", "create", "--role", "deputy", "--deputy", "99")
    assert result.code == 2 and "deputy 99 does not exist" in result.err


def test_user_add_with_a_bad_role_fails_clearly(voting) -> None:
    assert voting("init").code == 0
    result = voting("user", "add", "olena", "--role", "mayor")
    assert result.code == 2
    assert "invalid choice: 'mayor'" in result.err and "secretary" in result.err


def test_user_add_takes_the_password_from_the_environment(
    voting, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert voting("init").code == 0
    monkeypatch.setenv("VOTING_PASSWORD", "довгий-пароль-1")
    result = voting("user", "add", "olena", "--role", "chair")
    assert result.code == 0, result.err
    assert auth.authenticate(rt.uow(), "olena", "довгий-пароль-1").role == "chair"
    again = voting("user", "add", "olena", "--role", "chair")
    assert again.code == 2 and "already exists" in again.err


@SQLITE_ONLY
def test_user_add_asks_twice_and_refuses_different_answers(
    voting, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert voting("init").code == 0
    answers = iter(["перший-пароль", "другий-пароль"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    result = voting("user", "add", "olena", "--role", "secretary")
    assert result.code == 2 and "passwords differ" in result.err
    with pytest.raises(PermissionDenied):
        auth.authenticate(rt.uow(), "olena", "перший-пароль")


# --- deputy-pin ---------------------------------------------------------------------------------


class Keyboard(io.StringIO):
    """Standard input that is a terminal (what getpass is then asked for is set separately)."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def seated(voting, rt: Runtime) -> list[int]:  # type: ignore[no-untyped-def]
    """An initialised council with deputies in seats 1 and 2 (CARD0001, CARD0002) and the head."""
    assert voting("init").code == 0
    secretary = Actor("secretary", "secretary:test")
    ids = [
        council.add_deputy(
            rt.uow(),
            secretary,
            AddDeputy.parse(
                {
                    "full_name": f"Депутатенко{n} Іван Петрович",
                    "seat_number": n,
                    "card_uid": f"CARD000{n}",
                }
            ),
        )
        for n in (1, 2)
    ]
    return [
        *ids,
        council.add_deputy(
            rt.uow(),
            secretary,
            AddDeputy.parse(
                {"full_name": "Головенко Мер Мерович", "is_head": True, "card_uid": "CARD-HEAD"}
            ),
        ),
    ]


def test_deputy_pin_reads_the_pin_from_standard_input(
    voting, rt: Runtime, seated: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("2468\n"))
    result = voting("deputy-pin", "2")
    assert result.code == 0, result.err
    assert (
        result.out.strip()
        == f"PIN set for seat 2, Депутатенко2 Іван Петрович (deputy {seated[1]})."
    )
    assert "2468" not in result.out + result.err
    assert (
        auth.login_with_card(
            rt.uow(), SignInWithCard.parse({"card_uid": "CARD0002", "pin": "2468"})
        ).deputy_id
        == seated[1]
    )

    monkeypatch.setattr("sys.stdin", io.StringIO("13579\r\n"))
    result = voting("deputy-pin", f"id:{seated[2]}")  # the head has no seat
    assert result.code == 0, result.err
    assert result.out.strip() == f"PIN set for Головенко Мер Мерович (deputy {seated[2]})."
    assert (
        auth.login_with_card(
            rt.uow(), SignInWithCard.parse({"card_uid": "CARD-HEAD", "pin": "13579"})
        ).deputy_id
        == seated[2]
    )


def test_deputy_pin_asks_twice_at_a_terminal(
    voting, rt: Runtime, seated: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", Keyboard())
    answers = iter(["1111", "2222", "4321", "4321"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    result = voting("deputy-pin", "1")
    assert result.code == 2 and "PINs differ" in result.err
    assert auth.deputies_with_pin(rt.reader()) == set()
    result = voting("deputy-pin", "1")
    assert result.code == 0, result.err
    assert (
        auth.login_with_card(
            rt.uow(), SignInWithCard.parse({"card_uid": "CARD0001", "pin": "4321"})
        ).deputy_id
        == seated[0]
    )


def test_deputy_pin_refuses_clearly_and_saves_nothing(
    voting, rt: Runtime, seated: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    for which, pin, message in (
        ("1", "12", "pin must be 4 to 8 digits"),
        ("1", "12345678901", "pin must be 4 to 8 digits"),
        ("1", "", "no PIN on standard input"),
        ("9", "2468", "no deputy has the seat 9"),
        ("id:999", "2468", "no deputy with the id 999"),
        ("перший", "2468", "neither a seat number"),
    ):
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{pin}\n" if pin else ""))
        result = voting("deputy-pin", which)
        assert result.code == 2, (which, pin)
        assert result.err.startswith("error: ") and message in result.err, result.err
        if pin:
            assert pin not in result.err
    assert auth.deputies_with_pin(rt.reader()) == set()


# --- journal verify -----------------------------------------------------------------------------


def run_demo_sitting(
    voting,
    db_url: str,
    instance: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """Build the demo, register 25 deputies and hold one roll-call vote, all with demo tokens;
    point the other commands at the demo database. Returns its URL."""
    assert voting("demo", "--no-serve", *demo_args(db_url)).code == 0
    url = demo_url(db_url, instance)
    tokens = json.loads((instance / "demo-tokens.json").read_text(encoding="utf-8"))
    rt = build_runtime(database_config(url))
    try:

        def as_(token: str):  # type: ignore[no-untyped-def]
            return auth.actor_for_token(rt.uow(), token)

        secretary, sitting = as_(tokens["secretary"]), tokens["sitting_id"]
        registration.open_registration(
            rt.uow(), secretary, OpenRegistration.parse({}, sitting_id=sitting)
        )
        people = tokens["deputies"][:25]
        for entry in people:
            registration.register(
                rt.uow(), as_(entry["token"]), Register.parse({}, sitting_id=sitting)
            )
        vote = votes.open_vote(
            rt.uow(),
            secretary,
            OpenVote.parse({"item_id": tokens["items"][0]["id"]}, sitting_id=sitting),
        )
        for entry in people[:23]:
            casting.cast_choice(
                rt.uow(), as_(entry["token"]), CastChoice.parse({"choice": "for"}, vote_id=vote)
            )
        assert votes.close_vote(rt.uow(), secretary, vote)["result"] == "adopted"
    finally:
        rt.stop()
    monkeypatch.setenv("VOTING_DATABASE_URL", url)
    return url


def journal_length(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT max(seq) FROM journal_entry")).scalar_one()
    finally:
        engine.dispose()


def sql(url: str, statement: str, **params: object) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement), params)
    finally:
        engine.dispose()


def test_journal_verify_passes_after_a_demo_sitting_and_finds_edits_and_deletions(
    voting, db_url: str, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = run_demo_sitting(voting, db_url, instance, monkeypatch)
    last = journal_length(url)
    intact = voting("journal", "verify")
    assert intact.code == 0, intact.err
    assert intact.out.strip() == (
        f"journal intact: {last} entries verified, and the record matches them"
    )

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = {
            row.seq: row._mapping
            for row in connection.execute(
                text(
                    "SELECT seq, at, actor, kind, payload, prev_hash, hash, mac FROM journal_entry "
                    "WHERE seq IN (7, :last)"
                ),
                {"last": last},
            )
        }
    engine.dispose()
    insert = (
        "INSERT INTO journal_entry (seq, at, actor, kind, payload, prev_hash, hash, mac) "
        "VALUES (:seq, :at, :actor, :kind, :payload, :prev_hash, :hash, :mac)"
    )

    # Someone edits entry 7 by hand.
    sql(url, "UPDATE journal_entry SET payload = :p WHERE seq = 7", p='{"deputy_id":999}')
    edited = voting("journal", "verify")
    assert edited.code == 1
    assert edited.out.startswith("journal broken at entry 7: ")
    sql(url, "UPDATE journal_entry SET payload = :p WHERE seq = 7", p=rows[7]["payload"])
    assert voting("journal", "verify").out == intact.out  # put back exactly, it is whole again

    # Someone deletes entry 7 from the middle.
    sql(url, "DELETE FROM journal_entry WHERE seq = 7")
    deleted = voting("journal", "verify")
    assert deleted.code == 1
    assert deleted.out.startswith("journal broken at entry 7: ") and "missing" in deleted.out
    sql(url, insert, **rows[7])
    assert voting("journal", "verify").out == intact.out

    # Someone deletes the newest entry, where no later entry points back at it.
    sql(url, "DELETE FROM journal_entry WHERE seq = :last", last=last)
    tail = voting("journal", "verify")
    assert tail.code == 1
    assert tail.out.startswith(f"journal broken at entry {last}: ") and "missing" in tail.out


# --- the server and its vote timer --------------------------------------------------------------


class WallClock:
    """The real clock: the vote timer must see real time pass."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        raise AssertionError("the wall clock cannot be moved")


@pytest.fixture
def clock() -> WallClock:
    """Here the shared `runtime` and `hall` fixtures run on the wall clock."""
    return WallClock()


def test_server_serves_the_api_and_closes_a_vote_when_its_time_runs_out(
    hall, db_url: str, tmp_path: Path
) -> None:
    # The instance folder is the test's own: the closed vote's record is written there.
    overrides = {"database": {"url": db_url}, "server": {"instance_path": str(tmp_path)}}
    app = create_app(load_config(overrides=overrides), hall.rt)
    handle = start_server(app, "127.0.0.1", 0)
    try:
        assert handle.port > 0 and handle.url == f"http://127.0.0.1:{handle.port}"
        response = requests.get(f"{handle.url}/api/v1/state", timeout=5)
        assert response.status_code == 200
        assert response.json()["sitting"]["id"] == hall.sitting

        hall.open_registration()
        hall.register(*hall.deputies[:25])
        vote_id = hall.open_vote(item_id=hall.items[0], time_limit_seconds=1)
        hall.cast_many(vote_id, hall.deputies[:23], "for")
        deadline = time.monotonic() + 5
        while True:
            shown = requests.get(f"{handle.url}/api/v1/votes/{vote_id}", timeout=5).json()
            if shown["state"] != "open" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert shown["state"] == "closed"
        assert shown["result"]["for"] == 23 and shown["result"]["result"] == "adopted"
    finally:
        handle.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{handle.url}/api/v1/state", timeout=2)
    assert not any(t.name == "vote-timer" and t.is_alive() for t in threading.enumerate())


class BrokenRuntime:
    """A runtime whose database is gone."""

    def uow(self):  # type: ignore[no-untyped-def]
        raise ConnectionError("the database server went away")


def test_the_vote_timer_survives_database_failures(caplog: pytest.LogCaptureFixture) -> None:
    timer = VoteTimer(BrokenRuntime().uow, interval=0.01)
    with caplog.at_level(logging.ERROR, logger="voting.jobs"):
        timer.start()
        time.sleep(0.2)
        alive = any(t.name == "vote-timer" and t.is_alive() for t in threading.enumerate())
        timer.stop()
    assert alive
    failures = [r for r in caplog.records if "could not close expired votes" in r.getMessage()]
    assert len(failures) >= 2  # it kept trying after the first failure
