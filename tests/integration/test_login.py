"""Signing in: staff with a username and password, deputies with their card and PIN. Tokens from
sign-in expire after 12 hours and can be revoked by signing out; five wrong PINs lock a card for
five minutes, for every process using the database. Neither a password, a PIN nor a token is
journaled. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from voting.bootstrap import Runtime, build_runtime
from voting.config import database_config
from voting.domain.actors import SYSTEM, Actor
from voting.domain.errors import DomainError, InvalidInput, PermissionDenied
from voting.services import auth, council
from voting.services.commands import ChangeDeputy, CreateToken, SignIn, SignInWithCard
from voting.services.journal import read_journal

if TYPE_CHECKING:
    from halls import Clock, Hall

SECRETARY = Actor("secretary", "secretary:test")
CHAIR = Actor("chair", "chair:test")

PASSWORD = "пароль-секретаря-1"
PIN = "482915"


def journal(runtime: Runtime) -> list[dict[str, object]]:
    return read_journal(runtime.reader(), 0, limit=1_000_000)


def journal_text(runtime: Runtime) -> str:
    return json.dumps(journal(runtime), ensure_ascii=False)


def card(hall: Hall, index: int = 0) -> str:
    """The card UID of the hall's deputy number `index` (the hall gives them CARD0001, ...)."""
    return f"CARD{index + 1:04d}"


@pytest.fixture
def with_pin(hall: Hall, runtime: Runtime) -> int:
    """The hall's first deputy, with the PIN `PIN`."""
    auth.set_deputy_pin(runtime.uow(), SECRETARY, hall.deputies[0], PIN)
    return hall.deputies[0]


# --- username and password -----------------------------------------------------------------------


def test_staff_sign_in_with_a_password_and_the_token_expires_after_12_hours(
    hall: Hall, runtime: Runtime, clock: Clock
) -> None:
    auth.add_user(runtime.uow(), SYSTEM, "olena", PASSWORD, "secretary")
    signed_in = auth.login(runtime.uow(), SignIn.parse({"username": "olena", "password": PASSWORD}))
    assert (signed_in.role, signed_in.deputy_id) == ("secretary", None)
    assert signed_in.expires_at == clock.now + timedelta(hours=12)
    actor = auth.actor_for_token(runtime.reader(), signed_in.token)
    assert actor.role == "secretary"

    clock.advance(12 * 3600 - 1)
    assert auth.actor_for_token(runtime.reader(), signed_in.token).role == "secretary"
    clock.advance(1)
    with pytest.raises(PermissionDenied, match="expired"):
        auth.actor_for_token(runtime.reader(), signed_in.token)


def test_a_deputy_account_signs_in_as_that_deputy(hall: Hall, runtime: Runtime) -> None:
    auth.add_user(runtime.uow(), SYSTEM, "dep1", PASSWORD, "deputy", hall.deputies[0])
    signed_in = auth.login(runtime.uow(), SignIn.parse({"username": "dep1", "password": PASSWORD}))
    assert (signed_in.role, signed_in.deputy_id) == ("deputy", hall.deputies[0])
    actor = auth.actor_for_token(runtime.reader(), signed_in.token)
    assert (actor.role, actor.deputy_id) == ("deputy", hall.deputies[0])

    council.update_deputy(
        runtime.uow(), SECRETARY, ChangeDeputy.parse({"active": False}, deputy_id=hall.deputies[0])
    )
    with pytest.raises(auth.WrongCredentials):  # the mandate ended: no more sign-in
        auth.login(runtime.uow(), SignIn.parse({"username": "dep1", "password": PASSWORD}))


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(
    hall: Hall, runtime: Runtime
) -> None:
    auth.add_user(runtime.uow(), SYSTEM, "olena", PASSWORD, "chair")
    before = journal(runtime)
    messages = set()
    for username, password in (("olena", "не-той-пароль"), ("nobody", PASSWORD)):
        with pytest.raises(auth.WrongCredentials) as refused:
            auth.login(runtime.uow(), SignIn.parse({"username": username, "password": password}))
        assert refused.value.status == 401
        messages.add(refused.value.message)
    assert messages == {"wrong username or password"}
    assert journal(runtime) == before
    assert auth.list_tokens(runtime.reader(), SYSTEM) == []


def test_sign_in_is_journaled_without_the_password_or_the_token(
    hall: Hall, runtime: Runtime
) -> None:
    auth.add_user(runtime.uow(), SYSTEM, "olena", PASSWORD, "secretary")
    signed_in = auth.login(runtime.uow(), SignIn.parse({"username": "olena", "password": PASSWORD}))
    entry = journal(runtime)[-1]
    assert entry["kind"] == "token_created" and entry["actor"] == "secretary:olena"
    payload = entry["payload"]
    assert isinstance(payload, dict)
    assert (payload["role"], payload["via"]) == ("secretary", "password")
    assert payload["expires_at"] == signed_in.expires_at.isoformat()
    text = journal_text(runtime)
    assert PASSWORD not in text and signed_in.token not in text
    assert auth.token_digest(signed_in.token) not in text
    listed = auth.list_tokens(runtime.reader(), SYSTEM)[-1]
    assert listed["expires_at"] == signed_in.expires_at.isoformat()


def test_no_password_hash_runs_on_the_servers_loop_not_even_the_decoys(
    hall: Hall, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under `voting serve` every hash goes to `offload` (a thread of its own, off the event
    loop). A flood of unknown names and cards, all at once, against a fresh server: the decoy
    hash they are checked against is made once, and there too; none on the caller's thread
    (where, under gevent, it would stop every cast for the length of a hash)."""
    monkeypatch.setattr(auth, "_DECOY", [])  # a fresh process: no decoy made yet
    offloaded = threading.local()
    where: list[str] = []
    real_scrypt = hashlib.scrypt

    def scrypt(*args: Any, **kwargs: Any) -> bytes:
        where.append("offload" if getattr(offloaded, "now", False) else "caller")
        return real_scrypt(*args, **kwargs)

    def offload(call: Any, *args: Any) -> Any:
        offloaded.now = True
        try:
            return call(*args)
        finally:
            offloaded.now = False

    monkeypatch.setattr(hashlib, "scrypt", scrypt)
    monkeypatch.setattr(runtime, "offload", offload)
    start = threading.Barrier(8)
    answers: list[str] = []

    def guess(n: int) -> None:
        start.wait()
        try:
            if n % 2:
                auth.login(
                    runtime.uow(), SignIn.parse({"username": f"nobody{n}", "password": PASSWORD})
                )
            else:
                auth.login_with_card(
                    runtime.uow(), SignInWithCard.parse({"card_uid": f"FFFF{n:04d}", "pin": PIN})
                )
        except DomainError as error:
            answers.append(error.code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["wrong_credentials"] * 8
    assert where == ["offload"] * 9  # the decoy once, then each guess checked against it


def test_tokens_made_by_the_secretary_do_not_expire(
    hall: Hall, runtime: Runtime, clock: Clock
) -> None:
    token = auth.create_token(runtime.uow(), SYSTEM, CreateToken.parse({"role": "chair"}))
    clock.advance(400 * 24 * 3600)
    assert auth.actor_for_token(runtime.reader(), token).role == "chair"


# --- card and PIN --------------------------------------------------------------------------------


def test_a_deputy_signs_in_with_card_and_pin(
    hall: Hall, runtime: Runtime, with_pin: int, clock: Clock
) -> None:
    signed_in = auth.login_with_card(
        runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": PIN})
    )
    assert (signed_in.role, signed_in.deputy_id) == ("deputy", with_pin)
    assert signed_in.expires_at == clock.now + timedelta(hours=12)
    actor = auth.actor_for_token(runtime.reader(), signed_in.token)
    assert (actor.role, actor.deputy_id) == ("deputy", with_pin)
    entry = journal(runtime)[-1]
    assert entry["kind"] == "token_created" and entry["actor"] == f"deputy:{with_pin}"
    assert entry["payload"]["via"] == "card"  # type: ignore[index]
    assert PIN not in journal_text(runtime) and signed_in.token not in journal_text(runtime)


def test_setting_a_pin_is_journaled_only_as_changed(hall: Hall, runtime: Runtime) -> None:
    auth.set_deputy_pin(runtime.uow(), SECRETARY, hall.deputies[1], "90817")
    entry = journal(runtime)[-1]
    assert (entry["kind"], entry["payload"]) == ("pin_changed", {"deputy_id": hall.deputies[1]})
    assert "90817" not in journal_text(runtime)
    assert auth.deputies_with_pin(runtime.reader()) == {hall.deputies[1]}


@pytest.mark.parametrize(
    "pin", ["123", "123456789", "12a4", " 1234", "1234\n", "١٢٣٤", "", None, 1234, ["1234"]]
)
def test_a_pin_must_be_4_to_8_digits(hall: Hall, runtime: Runtime, pin: object) -> None:
    before = journal(runtime)
    with pytest.raises(InvalidInput) as refused:
        auth.set_deputy_pin(runtime.uow(), SECRETARY, hall.deputies[0], pin)
    assert refused.value.details["field"] == "pin" and "4 to 8 digits" in refused.value.message
    if isinstance(pin, str) and pin.strip():
        assert pin.strip() not in refused.value.message
    assert journal(runtime) == before
    assert auth.deputies_with_pin(runtime.reader()) == set()


def test_only_the_secretary_sets_a_pin(hall: Hall, runtime: Runtime) -> None:
    deputy = Actor("deputy", f"deputy:{hall.deputies[0]}", hall.deputies[0])
    for actor in (CHAIR, deputy):
        with pytest.raises(PermissionDenied):
            auth.set_deputy_pin(runtime.uow(), actor, hall.deputies[0], PIN)
    assert auth.deputies_with_pin(runtime.reader()) == set()


def test_wrong_card_or_pin_get_the_same_answer(hall: Hall, runtime: Runtime, with_pin: int) -> None:
    auth.set_deputy_pin(runtime.uow(), SECRETARY, hall.head, "1111")  # the head has no card
    council.update_deputy(
        runtime.uow(), SECRETARY, ChangeDeputy.parse({"active": False}, deputy_id=hall.deputies[2])
    )
    auth.set_deputy_pin(runtime.uow(), SECRETARY, hall.deputies[2], PIN)
    before = journal(runtime)
    messages = set()
    for uid, pin in (
        (card(hall), "000000"),
        ("NO-SUCH-CARD", PIN),
        (card(hall, 1), PIN),
        (card(hall, 2), PIN),
    ):  # no PIN set / an inactive deputy
        with pytest.raises(auth.WrongCredentials) as refused:
            auth.login_with_card(runtime.uow(), SignInWithCard.parse({"card_uid": uid, "pin": pin}))
        messages.add(refused.value.message)
    assert messages == {"wrong card or PIN"}
    assert journal(runtime) == before
    assert all(t["role"] != "deputy" for t in auth.list_tokens(runtime.reader(), SYSTEM))


def test_five_wrong_pins_lock_the_card_for_five_minutes(
    hall: Hall, runtime: Runtime, with_pin: int, clock: Clock
) -> None:
    for _ in range(4):
        with pytest.raises(auth.WrongCredentials):
            auth.login_with_card(
                runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": "0000"})
            )
    with pytest.raises(auth.CardLocked) as fifth:
        auth.login_with_card(
            runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": "0000"})
        )
    until = clock.now + timedelta(minutes=5)
    assert fifth.value.status == 429
    assert fifth.value.details["locked_until"] == until.isoformat()
    assert until.isoformat() in fifth.value.message
    entry = journal(runtime)[-1]
    assert entry["kind"] == "card_locked"
    assert entry["payload"] == {
        "deputy_id": with_pin,
        "source": "",
        "failed_attempts": 5,
        "locked_until": until.isoformat(),
    }

    clock.advance(299)
    with pytest.raises(auth.CardLocked) as still:  # even the right PIN
        auth.login_with_card(
            runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": PIN})
        )
    assert still.value.details["retry_after"] == 1
    clock.advance(1)
    assert (
        auth.login_with_card(
            runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": PIN})
        ).deputy_id
        == with_pin
    )
    # Other cards were never locked.
    auth.set_deputy_pin(runtime.uow(), SECRETARY, hall.deputies[1], "4321")
    assert (
        auth.login_with_card(
            runtime.uow(), SignInWithCard.parse({"card_uid": card(hall, 1), "pin": "4321"})
        ).deputy_id
        == hall.deputies[1]
    )


def test_wrong_pins_from_one_terminal_lock_the_card_only_there(
    hall: Hall, runtime: Runtime, with_pin: int
) -> None:
    """Whoever knows a card's UID can shut out only their own address: the deputy still signs in
    at their terminal, and a lock elsewhere neither counts nor shows there."""
    attempt = SignInWithCard.parse({"card_uid": card(hall), "pin": "0000"})
    for _ in range(4):
        with pytest.raises(auth.WrongCredentials):
            auth.login_with_card(runtime.uow(), attempt, source="10.0.0.66")
    with pytest.raises(auth.CardLocked) as locked:
        auth.login_with_card(runtime.uow(), attempt, source="10.0.0.66")
    assert "from this terminal" in locked.value.message
    right = SignInWithCard.parse({"card_uid": card(hall), "pin": PIN})
    with pytest.raises(auth.CardLocked):  # not even the right PIN from there
        auth.login_with_card(runtime.uow(), right, source="10.0.0.66")
    assert auth.login_with_card(runtime.uow(), right, source="10.0.0.12").deputy_id == with_pin
    # The deputy's own wrong PINs count apart from the attacker's: four more are only "wrong".
    for _ in range(4):
        with pytest.raises(auth.WrongCredentials):
            auth.login_with_card(runtime.uow(), attempt, source="10.0.0.12")
    locks = [e["payload"] for e in journal(runtime) if e["kind"] == "card_locked"]
    assert [lock["source"] for lock in locks] == ["10.0.0.66"]


def test_a_right_pin_starts_the_count_again(hall: Hall, runtime: Runtime, with_pin: int) -> None:
    for _ in range(4):
        with pytest.raises(auth.WrongCredentials):
            auth.login_with_card(
                runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": "0000"})
            )
    auth.login_with_card(runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": PIN}))
    for _ in range(4):
        with pytest.raises(auth.WrongCredentials):
            auth.login_with_card(
                runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": "0000"})
            )
    assert (
        auth.login_with_card(
            runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": PIN})
        ).deputy_id
        == with_pin
    )


def test_a_new_pin_lifts_the_lock(hall: Hall, runtime: Runtime, with_pin: int) -> None:
    for _ in range(5):
        with pytest.raises((auth.WrongCredentials, auth.CardLocked)):
            auth.login_with_card(
                runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": "0000"})
            )
    with pytest.raises(auth.CardLocked):
        auth.login_with_card(
            runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": PIN})
        )
    auth.set_deputy_pin(runtime.uow(), SECRETARY, with_pin, "5555")
    assert (
        auth.login_with_card(
            runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": "5555"})
        ).deputy_id
        == with_pin
    )
    with pytest.raises(auth.WrongCredentials):  # the old PIN is gone
        auth.login_with_card(
            runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": PIN})
        )


def test_the_lock_holds_for_another_process(
    hall: Hall, runtime: Runtime, with_pin: int, db_url: str, clock: Clock
) -> None:
    """Failures counted by one server process count for another one on the same database."""
    other = build_runtime(
        database_config(db_url), clock=clock
    )  # its own engine and connections, no shared memory
    try:
        for rt in (runtime, other, runtime, other):
            with pytest.raises(auth.WrongCredentials):
                auth.login_with_card(
                    rt.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": "0000"})
                )
        with pytest.raises(auth.CardLocked):
            auth.login_with_card(
                other.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": "0000"})
            )
        with pytest.raises(auth.CardLocked):
            auth.login_with_card(
                runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": PIN})
            )
    finally:
        other.stop()


def test_concurrent_guesses_get_no_more_than_five_answers(
    hall: Hall, runtime: Runtime, with_pin: int
) -> None:
    """Twelve wrong PINs at once: four are told "wrong", the fifth locks the card, the rest are
    refused as locked; none of them is ever counted twice or lost."""
    outcomes: list[str] = []
    guard = threading.Lock()
    start = threading.Barrier(12)

    def guess(n: int) -> None:
        start.wait()
        try:
            auth.login_with_card(
                runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": f"{n:04d}"})
            )
            outcome = "signed in"
        except DomainError as error:
            outcome = error.code
        with guard:
            outcomes.append(outcome)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["card_locked"] * 8 + ["wrong_credentials"] * 4
    assert [e["kind"] for e in journal(runtime)].count("card_locked") == 1
    with pytest.raises(auth.CardLocked):
        auth.login_with_card(
            runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": PIN})
        )


# --- signing out -------------------------------------------------------------------------------


def test_signing_out_revokes_the_token(hall: Hall, runtime: Runtime, with_pin: int) -> None:
    signed_in = auth.login_with_card(
        runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": PIN})
    )
    actor = auth.actor_for_token(runtime.reader(), signed_in.token)
    other = auth.login_with_card(
        runtime.uow(), SignInWithCard.parse({"card_uid": card(hall), "pin": PIN})
    )
    result = auth.logout(runtime.uow(), actor, signed_in.token)
    assert isinstance(datetime.fromisoformat(str(result["revoked_at"])), datetime)
    with pytest.raises(PermissionDenied, match="revoked"):
        auth.actor_for_token(runtime.reader(), signed_in.token)
    assert auth.actor_for_token(runtime.reader(), other.token).deputy_id == with_pin
    entry = journal(runtime)[-1]
    assert entry["kind"] == "token_revoked" and entry["actor"] == f"deputy:{with_pin}"
    assert entry["payload"]["reason"] == "logout"  # type: ignore[index]
    with pytest.raises(PermissionDenied):
        auth.logout(runtime.uow(), actor, signed_in.token)


# --- the demo ----------------------------------------------------------------------------------


def test_everyone_in_the_demo_can_sign_in(runtime: Runtime) -> None:
    """Each demo deputy signs in with the card and PIN the demo shows; the secretary and the chair
    with their logins; a demo built before PINs existed gets them the next time it is used."""
    from datetime import date

    from sqlalchemy import text

    from voting.services import demo

    info = demo.build_demo(runtime, date(2026, 11, 25))
    people = (*info.deputies, info.head)
    assert [d.pin for d in people[:3]] == ["0001", "0002", "0003"] and info.head.pin == "0000"
    for person in people:
        signed_in = auth.login_with_card(
            runtime.uow(), SignInWithCard.parse({"card_uid": person.card_uid, "pin": person.pin})
        )
        assert signed_in.deputy_id == person.id
    demo.ensure_demo_logins(runtime)
    for username in demo.DEMO_LOGINS:
        assert (
            auth.login(
                runtime.uow(), SignIn.parse({"username": username, "password": demo.DEMO_PASSWORD})
            ).role
            == username
        )

    with runtime.engine.begin() as connection:  # as if built by an older version
        connection.execute(text("UPDATE deputy SET pin_hash = NULL"))
    assert demo.ensure_demo_logins(runtime) == []  # the logins were there already
    assert auth.deputies_with_pin(runtime.reader()) == {d.id for d in people}
    assert demo.ensure_demo_pins(runtime) == []
    seat_7 = demo.load_demo(runtime).deputies[6]
    assert (
        auth.login_with_card(
            runtime.uow(), SignInWithCard.parse({"card_uid": seat_7.card_uid, "pin": "0007"})
        ).deputy_id
        == seat_7.id
    )
