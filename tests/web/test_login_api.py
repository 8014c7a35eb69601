"""Signing in over the API, as the screens do: POST /login (staff), POST /login/card (a deputy at
a terminal), POST /logout; and the secretary setting a deputy's PIN with PATCH /deputies/{id}.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.test import TestResponse

from voting.bootstrap import Runtime
from voting.domain.actors import SYSTEM
from voting.services import auth
from voting.services.journal import read_journal

API = "/api/v1"
PASSWORD = "пароль-голови-1"
PIN = "731952"


def refused(
    response: TestResponse, status: int, code: str, *words: str, field: str | None = None
) -> dict[str, Any]:
    seen = (response.status_code, response.get_data(as_text=True)[:400])
    assert response.status_code == status, seen
    assert response.is_json, seen
    error = response.get_json()["error"]
    assert error["code"] == code, seen
    for word in words:
        assert word in error["message"], (word, *seen)
    if field is not None:
        assert error.get("details", {}).get("field") == field, seen
    return error


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def accounts(runtime: Runtime) -> None:
    auth.add_user(runtime.uow(), SYSTEM, "secretary", PASSWORD, "secretary")
    auth.add_user(runtime.uow(), SYSTEM, "chair", PASSWORD, "chair")


@pytest.fixture
def carded(hall, runtime: Runtime) -> int:  # type: ignore[no-untyped-def]
    """The hall's first deputy (card CARD0001) with the PIN `PIN`."""
    auth.set_deputy_pin(runtime.uow(), SYSTEM, hall.deputies[0], PIN)
    return hall.deputies[0]


@pytest.fixture
def nothing_changes(runtime: Runtime, public: Any) -> Callable[[], Any]:
    """`with nothing_changes():` — no journal entry, no token, the roster as it was."""

    @contextmanager
    def check() -> Iterator[None]:
        def look() -> Any:
            return (
                read_journal(runtime.reader(), 0, limit=1_000_000),
                auth.list_tokens(runtime.reader(), SYSTEM),
                public.ok("get", "/deputies"),
                auth.deputies_with_pin(runtime.reader()),
            )

        before = look()
        yield
        assert look() == before

    return check


# --- POST /login ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["secretary", "chair"])
def test_staff_sign_in_and_use_the_token(accounts, client: FlaskClient, clock, role: str) -> None:
    response = client.post(f"{API}/login", json={"username": role, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert set(data) == {"token", "role", "deputy_id", "expires_at"}
    assert (data["role"], data["deputy_id"]) == (role, None)
    assert datetime.fromisoformat(data["expires_at"]) == clock.now + timedelta(hours=12)
    me = client.get(f"{API}/me", headers=bearer(data["token"]))
    assert me.status_code == 200 and me.get_json()["role"] == role
    assert client.get(f"{API}/journal", headers=bearer(data["token"])).status_code == 200


def test_a_token_from_sign_in_stops_working_after_12_hours(
    accounts, client: FlaskClient, clock
) -> None:
    token = client.post(
        f"{API}/login", json={"username": "chair", "password": PASSWORD}
    ).get_json()["token"]
    clock.advance(12 * 3600)
    refused(client.get(f"{API}/me", headers=bearer(token)), 401, "unauthenticated", "expired")


def test_wrong_credentials_do_not_say_which_was_wrong(
    accounts, client: FlaskClient, nothing_changes
) -> None:
    for username, password in (
        ("chair", "не-той-пароль"),
        ("nobody", PASSWORD),
        ("Chair", PASSWORD),
    ):
        with nothing_changes():
            error = refused(
                client.post(f"{API}/login", json={"username": username, "password": password}),
                401,
                "wrong_credentials",
            )
        assert error["message"] == "wrong username or password"


BAD_LOGINS = [
    ({"password": PASSWORD}, "username", ["username is required"]),
    ({"username": "chair"}, "password", ["password is required"]),
    ({"username": 5, "password": PASSWORD}, "username", ["must be text"]),
    ({"username": "chair", "password": ["x"]}, "password", ["must be text"]),
    ({"username": "c" * 81, "password": PASSWORD}, "username", ["81 characters", "at most 80"]),
    ({"username": "chair", "password": "p" * 201}, "password", ["at most 200"]),
    ({"username": "ch\x00air", "password": PASSWORD}, "username", ["control character"]),
    ({"username": "chair", "password": PASSWORD, "role": "secretary"}, "role", ["unknown"]),
]


def test_bad_login_input_is_refused_by_field(
    accounts, client: FlaskClient, nothing_changes
) -> None:
    for data, field, words in BAD_LOGINS:
        with nothing_changes():
            refused(
                client.post(f"{API}/login", json=data), 422, "invalid_input", *words, field=field
            )


def test_a_login_body_that_is_not_a_json_object(
    accounts, client: FlaskClient, nothing_changes
) -> None:
    with nothing_changes():
        refused(
            client.post(
                f"{API}/login",
                data="username=chair",
                content_type="application/x-www-form-urlencoded",
            ),
            415,
            "unsupported_media_type",
        )
        refused(
            client.post(f"{API}/login", data="{", content_type="application/json"),
            400,
            "malformed_json",
        )
        refused(
            client.post(f"{API}/login", json=["chair", PASSWORD]),
            422,
            "invalid_input",
            "JSON object",
        )


# --- POST /login/card ----------------------------------------------------------------------------


def test_a_deputy_signs_in_with_card_and_pin_and_registers(
    hall, carded: int, client: FlaskClient, secretary, clock
) -> None:
    response = client.post(f"{API}/login/card", json={"card_uid": "CARD0001", "pin": PIN})
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert set(data) == {"token", "role", "deputy_id", "expires_at"}
    assert (data["role"], data["deputy_id"]) == ("deputy", carded)
    assert datetime.fromisoformat(data["expires_at"]) == clock.now + timedelta(hours=12)

    secretary.ok("post", f"/sittings/{hall.sitting}/registration/open")
    registered = client.post(
        f"{API}/sittings/{hall.sitting}/register", headers=bearer(data["token"])
    )
    assert registered.status_code == 200, registered.get_json()
    assert registered.get_json()["registered"] == 1
    # The token acts only as that deputy.
    other = client.post(
        f"{API}/sittings/{hall.sitting}/register",
        headers=bearer(data["token"]),
        json={"deputy_id": hall.deputies[1]},
    )
    assert other.status_code == 403


def test_a_card_uid_is_one_card_whatever_its_case_and_separators(
    hall, carded: int, client: FlaskClient, secretary, runtime: Runtime
) -> None:
    """Readers and people write a UID as "04:a1:b2", "04-A1-B2" or "04 a1 b2": one card."""
    for written in ("card0001", "CARD-0001", "ca:rd:00:01", " Card 0001 "):
        response = client.post(f"{API}/login/card", json={"card_uid": written, "pin": PIN})
        assert response.status_code == 200, (written, response.get_json())
        assert response.get_json()["deputy_id"] == carded
    # the same card written another way is still the first deputy's
    taken = secretary.patch(f"/deputies/{hall.deputies[1]}", {"card_uid": "card-0001"})
    refused(taken, 422, "invalid_input", "already belongs")
    # a UID kept as typed before UIDs were kept in one form still opens the card
    with runtime.engine.begin() as connection:
        connection.execute(
            text("UPDATE deputy SET card_uid = 'ab:cd:ef:01' WHERE id = :id"), {"id": carded}
        )
    response = client.post(f"{API}/login/card", json={"card_uid": "ABCDEF01", "pin": PIN})
    assert response.status_code == 200, response.get_json()


def test_a_wrong_card_or_pin_is_401_without_saying_which(
    hall, carded: int, client: FlaskClient, nothing_changes
) -> None:
    # A wrong PIN, an unknown card, and a card whose deputy has no PIN.
    for card_uid, pin in (("CARD0001", "000000"), ("CARD9999", PIN), ("CARD0002", PIN)):
        with nothing_changes():
            error = refused(
                client.post(f"{API}/login/card", json={"card_uid": card_uid, "pin": pin}),
                401,
                "wrong_credentials",
            )
        assert error["message"] == "wrong card or PIN"


def test_five_wrong_pins_lock_the_card_with_429_until_a_named_time(
    hall, carded: int, client: FlaskClient, clock
) -> None:
    def attempt(pin: str) -> TestResponse:
        return client.post(f"{API}/login/card", json={"card_uid": "CARD0001", "pin": pin})

    for _ in range(4):
        refused(attempt("0000"), 401, "wrong_credentials")
    until = (clock.now + timedelta(minutes=5)).isoformat()
    fifth = attempt("0000")
    error = refused(
        fifth, 429, "card_locked", "from this terminal: it is refused here until", until
    )
    assert fifth.headers["Retry-After"] == "300"
    assert error["details"]["locked_until"] == until

    clock.advance(240)
    locked = attempt(PIN)
    refused(locked, 429, "card_locked", until)
    assert locked.headers["Retry-After"] == "60"
    clock.advance(60)
    assert attempt(PIN).status_code == 200


BAD_CARD_LOGINS = [
    ({"pin": PIN}, "card_uid", ["card_uid is required"]),
    ({"card_uid": "CARD0001"}, "pin", ["pin is required"]),
    ({"card_uid": "CARD0001", "pin": 731952}, "pin", ["must be text"]),
    ({"card_uid": "CARD0001", "pin": "73 19"}, "pin", ["4 to 8 digits"]),
    ({"card_uid": "CARD0001", "pin": "123456789"}, "pin", ["4 to 8 digits"]),
    ({"card_uid": "CARD0001", "pin": "12\u202e34"}, "pin", ["4 to 8 digits"]),
    ({"card_uid": 1, "pin": PIN}, "card_uid", ["must be text"]),
    ({"card_uid": "C" * 65, "pin": PIN}, "card_uid", ["at most 64"]),
    ({"card_uid": "CARD\x070001", "pin": PIN}, "card_uid", ["control character"]),
    ({"card_uid": "CARD0001", "pin": PIN, "deputy_id": 1}, "deputy_id", ["unknown"]),
]


def test_bad_card_login_input_is_refused_by_field_and_not_counted(
    hall, carded: int, client: FlaskClient, nothing_changes
) -> None:
    for data, field, words in BAD_CARD_LOGINS:
        with nothing_changes():  # never a lock: malformed input is no guess
            error = refused(
                client.post(f"{API}/login/card", json=data),
                422,
                "invalid_input",
                *words,
                field=field,
            )
        assert PIN not in error["message"]
    assert (
        client.post(f"{API}/login/card", json={"card_uid": "CARD0001", "pin": PIN}).status_code
        == 200
    )


def test_the_pin_is_never_logged_nor_journaled(
    hall,
    carded: int,
    client: FlaskClient,
    secretary,
    caplog: pytest.LogCaptureFixture,
    runtime: Runtime,
) -> None:
    caplog.set_level(logging.DEBUG)
    for pin in ("00001111", PIN):
        client.post(f"{API}/login/card", json={"card_uid": "CARD0001", "pin": pin})
    secretary.ok("patch", f"/deputies/{hall.deputies[1]}", {"pin": "96385274"})
    journal = json.dumps(read_journal(runtime.reader(), 0, limit=1_000_000), ensure_ascii=False)
    for secret in ("00001111", PIN, "96385274"):
        assert secret not in caplog.text and secret not in journal


# --- POST /logout --------------------------------------------------------------------------------


def test_signing_out_revokes_only_the_token_presented(
    hall, carded: int, accounts, client: FlaskClient
) -> None:
    first = client.post(f"{API}/login/card", json={"card_uid": "CARD0001", "pin": PIN}).get_json()[
        "token"
    ]
    second = client.post(
        f"{API}/login", json={"username": "chair", "password": PASSWORD}
    ).get_json()["token"]
    response = client.post(f"{API}/logout", headers=bearer(first))
    assert response.status_code == 200, response.get_json()
    assert datetime.fromisoformat(response.get_json()["revoked_at"])
    refused(client.get(f"{API}/me", headers=bearer(first)), 401, "unauthenticated", "revoked")
    refused(client.post(f"{API}/logout", headers=bearer(first)), 401, "unauthenticated")
    assert client.get(f"{API}/me", headers=bearer(second)).status_code == 200
    refused(client.post(f"{API}/logout"), 401, "unauthenticated")


# --- PATCH /deputies/{id} with "pin" -------------------------------------------------------------


def test_the_secretary_sets_a_pin_that_is_never_returned(
    hall, secretary, client: FlaskClient, runtime: Runtime
) -> None:
    target = hall.deputies[4]
    data = secretary.ok("patch", f"/deputies/{target}", {"pin": "2468"})
    assert not any("pin" in key for key in data)
    entry = read_journal(runtime.reader(), 0, limit=1_000_000)[-1]
    assert (entry["kind"], entry["payload"]) == ("pin_changed", {"deputy_id": target})
    everything = client.get(f"{API}/deputies").get_data(as_text=True)
    assert "pin" not in everything and "scrypt" not in everything
    signed_in = client.post(f"{API}/login/card", json={"card_uid": "CARD0005", "pin": "2468"})
    assert signed_in.get_json()["deputy_id"] == target

    # With other fields: both change.
    data = secretary.ok("patch", f"/deputies/{target}", {"pin": "13579", "seat_number": 77})
    assert data["seat_number"] == 77
    assert (
        client.post(f"{API}/login/card", json={"card_uid": "CARD0005", "pin": "13579"}).status_code
        == 200
    )


def test_only_the_secretary_sets_a_pin(hall, chair, deputy, nothing_changes) -> None:
    target = hall.deputies[0]
    for person in (chair, deputy(target)):
        person.get("/me")  # the token is issued (and journaled) beforehand
        with nothing_changes():
            refused(person.patch(f"/deputies/{target}", {"pin": "2468"}), 403, "forbidden")


def test_a_refused_change_sets_no_pin(
    hall, carded: int, secretary, client: FlaskClient, nothing_changes
) -> None:
    secretary.get("/me")
    for change, field in (
        ({"pin": "12"}, "pin"),
        ({"pin": 2468}, "pin"),
        ({"pin": None}, "pin"),
        ({"pin": "2468", "seat_number": "seven"}, "seat_number"),
        ({"pin": "2468", "zzz": 1}, "zzz"),
    ):
        with nothing_changes():
            refused(
                secretary.patch(f"/deputies/{carded}", change), 422, "invalid_input", field=field
            )
    assert (
        client.post(f"{API}/login/card", json={"card_uid": "CARD0001", "pin": PIN}).status_code
        == 200
    )


def test_a_pin_for_an_unknown_deputy_is_404(hall, secretary, nothing_changes) -> None:
    secretary.get("/me")
    with nothing_changes():
        refused(
            secretary.patch("/deputies/987654", {"pin": "2468"}), 404, "not_found", "deputy 987654"
        )
