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
    for _ in range(PER_NAME_AT_SOURCE.amount):
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
    for n in range(PER_SOURCE.amount):
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


def test_with_redis_every_server_process_counts_the_same_attempts() -> None:
    """Several server processes (a Redis configured: [server] message_queue) share the counts:
    an address cannot multiply its attempts by spreading them over the processes."""
    url = redis_test_url()
    prefix = f"throttle-test-{uuid.uuid4().hex[:8]}"
    one, other = SignInThrottle(url, prefix), SignInThrottle(url, prefix)
    for n in range(PER_NAME_AT_SOURCE.amount):
        (one if n % 2 else other).attempt("login", ATTACKER, "clerk")
    with pytest.raises(TooManyAttempts) as refused:
        one.attempt("login", ATTACKER, "clerk")
    assert refused.value.details["retry_after"] >= 1
    other.attempt("login", TERMINAL, "clerk")  # another address: counted apart
