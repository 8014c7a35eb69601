"""Sign-in under attack at the HTTP door: attempts are limited per source address, and per account
or card at that address, with 429 and "try again in N s"; whoever floods or knows a card's UID
shuts out only their own address."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from skipping import redis_test_url

from voting.domain.actors import SYSTEM
from voting.services import auth
from voting.web.throttle import PER_NAME_AT_SOURCE, PER_SOURCE, SignInThrottle, TooManyAttempts

ATTACKER, TERMINAL = "10.0.0.66", "10.0.0.12"
PASSWORD = "correct horse battery"


def post(client: FlaskClient, path: str, body: dict[str, Any], source: str) -> Any:
    return client.post(f"/api/v1{path}", json=body, environ_base={"REMOTE_ADDR": source})


def test_an_account_flooded_from_one_address_is_refused_there_with_when_to_try_again(
    runtime, client: FlaskClient
) -> None:  # type: ignore[no-untyped-def]
    auth.add_user(runtime.uow(), SYSTEM, "clerk", PASSWORD, "secretary")
    wrong = {"username": "clerk", "password": "wrong password"}
    for _ in range(PER_NAME_AT_SOURCE):
        assert post(client, "/login", wrong, ATTACKER).status_code == 401
    right = {"username": "clerk", "password": PASSWORD}
    refused = post(client, "/login", right, ATTACKER)  # refused before the password is checked
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "too_many_attempts"
    seconds = int(refused.headers["Retry-After"])
    assert 1 <= seconds <= 60 and error["details"]["retry_after"] == seconds
    assert error["message"] == (
        f"too many sign-in attempts for this account from this address: try again in {seconds} s"
    )
    assert post(client, "/login", right, TERMINAL).status_code == 200  # at the clerk's own desk


def test_one_address_is_limited_whatever_it_names(client: FlaskClient) -> None:
    for n in range(PER_SOURCE):
        body = {"username": f"guess{n}", "password": "some password"}
        assert post(client, "/login", body, ATTACKER).status_code == 401
    refused = post(client, "/login/card", {"card_uid": "CARD0001", "pin": "1234"}, ATTACKER)
    assert refused.status_code == 429
    assert "from this address: try again in" in refused.get_json()["error"]["message"]
    body = {"username": "guess0", "password": "some password"}
    assert post(client, "/login", body, TERMINAL).status_code == 401  # counted apart


def test_a_card_whose_uid_is_known_is_shut_out_only_at_the_attackers_address(
    hall, runtime, client: FlaskClient
) -> None:  # type: ignore[no-untyped-def]
    deputy = hall.deputies[0]  # card CARD0001
    auth.set_deputy_pin(runtime.uow(), SYSTEM, deputy, "2468")
    guess = {"card_uid": "CARD0001", "pin": "0000"}
    for _ in range(auth.PIN_ATTEMPTS - 1):
        assert post(client, "/login/card", guess, ATTACKER).status_code == 401
    locked = post(client, "/login/card", guess, ATTACKER)
    assert locked.status_code == 429 and locked.get_json()["error"]["code"] == "card_locked"
    assert int(locked.headers["Retry-After"]) > 0
    mine = post(client, "/login/card", {"card_uid": "CARD0001", "pin": "2468"}, TERMINAL)
    assert mine.status_code == 200 and mine.get_json()["deputy_id"] == deputy


def configured_app(runtime, db_url: str, tmp_path, **sections: dict[str, Any]):  # type: ignore[no-untyped-def]
    from voting.web import create_app

    server = {"instance_path": str(tmp_path), **sections.pop("server", {})}
    return create_app(
        runtime=runtime, overrides={"database": {"url": db_url}, "server": server, **sections}
    )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_limits_and_the_pin_lock_are_the_councils_to_set(
    hall, runtime, db_url, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    app = configured_app(
        runtime,
        db_url,
        tmp_path,
        sign_in={"attempts_per_name_per_minute": 3, "pin_attempts": 2, "pin_lock_minutes": 30},
    )
    client = app.test_client()
    wrong = {"username": "clerk", "password": "wrong password"}
    for _ in range(3):
        assert post(client, "/login", wrong, ATTACKER).status_code == 401
    assert post(client, "/login", wrong, ATTACKER).status_code == 429  # the 4th, not the 11th
    auth.set_deputy_pin(runtime.uow(), SYSTEM, hall.deputies[0], "2468")
    guess = {"card_uid": "CARD0001", "pin": "0000"}
    assert post(client, "/login/card", guess, ATTACKER).status_code == 401
    locked = post(client, "/login/card", guess, ATTACKER)  # the 2nd wrong PIN locks
    assert locked.status_code == 429 and locked.get_json()["error"]["code"] == "card_locked"
    assert 29 * 60 < int(locked.headers["Retry-After"]) <= 30 * 60


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_behind_a_trusted_proxy_each_terminal_is_its_forwarded_address(
    hall, runtime, db_url, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Behind a reverse proxy every request comes from the proxy's address: with
    [server] trusted_proxies = 1 the limits count the address the proxy forwards; without it,
    a forwarded address is not believed (anyone could send one to escape the limits)."""
    wrong = {"username": "clerk", "password": "wrong password"}

    def attempts_until_refused(client: FlaskClient, forwarded: str) -> int:
        for n in range(1, PER_NAME_AT_SOURCE + 2):
            answer = client.post(
                "/api/v1/login",
                json=wrong,
                environ_base={"REMOTE_ADDR": "127.0.0.1"},
                headers={"X-Forwarded-For": forwarded},
            )
            if answer.status_code == 429:
                return n
        return 0

    behind = configured_app(runtime, db_url, tmp_path, server={"trusted_proxies": 1}).test_client()
    assert attempts_until_refused(behind, ATTACKER) == PER_NAME_AT_SOURCE + 1
    assert attempts_until_refused(behind, TERMINAL) == PER_NAME_AT_SOURCE + 1  # counted apart
    direct = configured_app(runtime, db_url, tmp_path).test_client()
    assert attempts_until_refused(direct, ATTACKER) == PER_NAME_AT_SOURCE + 1
    assert attempts_until_refused(direct, TERMINAL) == 1  # the same address: 127.0.0.1


def test_with_redis_every_server_process_counts_the_same_attempts() -> None:
    """Several server processes (a Redis configured: [server] message_queue) share the counts:
    an address cannot multiply its attempts by spreading them over the processes."""
    url = redis_test_url()
    prefix = f"throttle-test-{uuid.uuid4().hex[:8]}"
    one, other = SignInThrottle(url, prefix), SignInThrottle(url, prefix)
    for n in range(PER_NAME_AT_SOURCE):
        (one if n % 2 else other).attempt("login", ATTACKER, "clerk")
    with pytest.raises(TooManyAttempts) as refused:
        one.attempt("login", ATTACKER, "clerk")
    assert refused.value.details["retry_after"] >= 1
    other.attempt("login", TERMINAL, "clerk")  # another address: counted apart
