"""Hypothesis over every Socket.IO event, on the main namespace (the public, a deputy and the
secretary) and on the console gateway's (/consoles): whatever an event carries (no argument,
one, several; any JSON: objects with the events' own keys and stray ones, huge integers, NaN-free
floats, booleans where numbers belong, long and invisible text), and whatever a packet's bytes
are (valid JSON cut short or with a character put in), an event sent with a callback gets an
answer: a result, or an error that names its code and message; never no answer, and never the
server's own failure. The Socket.IO counterpart of "no 5xx" (tests/web/test_api_fuzz.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask_socketio import SocketIOTestClient
from fuzz_target import GATEWAY_SECRET, Target, fuzz_target
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("VOTING_FUZZ_EXAMPLES", "8")) * 25

MAIN_EVENTS = ["snapshot", "clock", "register", "cast", "request_floor", "withdraw_request"]
CONSOLE_EVENTS = ["seats", "card", "key", "health", "trouble"]
#: Events that only read: they answer with what they read, whatever they are sent.
READS = {"snapshot", "clock"}

KEYS = [
    "vote_id", "choice", "deputy_id", "pad", "sitting_id", "type", "invited_name",
    "invited_position", "request_id", "seat", "uid", "key", "held_ms", "online", "faults",
    "reason", "seats", "port", "address", "token",
]  # fmt: skip
WORDS = ["for", "against", "abstain", "speech", "04A1B2C3D4E5F6", "/dev/ttyUSB0", "\u200b", ""]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(WORDS)
    | st.text(max_size=40)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.dictionaries(st.sampled_from(KEYS), values, max_size=5) | values
arguments = st.lists(bodies, max_size=3)


def check_answer(event: str, answer: Any) -> None:
    assert isinstance(answer, dict), (event, answer)
    if event in READS and "ok" not in answer:
        return
    assert isinstance(answer.get("ok"), bool), (event, answer)
    if not answer["ok"]:
        error = answer["error"]
        assert isinstance(error["code"], str) and error["code"], (event, answer)
        assert isinstance(error["message"], str) and error["message"], (event, answer)
        assert error["code"] != "server_error", (event, answer)


def raw_ask(client: SocketIOTestClient, namespace: str, text: str) -> Any:
    """Send the Socket.IO event packet `text` as given, with a callback; its answer or None."""
    prefix = "" if namespace == "/" else namespace + ","
    client.acks = None
    client.socketio.server._handle_eio_message(client.eio_sid, f"2{prefix}7{text}")
    ack = client.acks
    client.acks = None
    return None if ack is None else ack["args"][0]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def target(request, tmp_path_factory) -> Iterator[Target]:  # type: ignore[no-untyped-def]
    with fuzz_target(request.param, tmp_path_factory.mktemp("socket-fuzz")) as built:
        yield built


@pytest.fixture(scope="module")
def clients(target: Target) -> dict[str, tuple[SocketIOTestClient, str]]:
    """Who sends: (client, namespace) by name."""
    socketio = target.app.extensions["voting.socketio"]

    def bearer(headers: dict[str, str]) -> dict[str, str]:
        return {"token": headers["Authorization"].removeprefix("Bearer ")}

    made = {
        "public": (socketio.test_client(target.app), "/"),
        "deputy": (socketio.test_client(target.app, auth=bearer(target.tokens.deputy(1))), "/"),
        "secretary": (socketio.test_client(target.app, auth=bearer(target.tokens.secretary)), "/"),
        "gateway": (
            socketio.test_client(
                target.app, namespace="/consoles", auth={"secret": GATEWAY_SECRET}
            ),
            "/consoles",
        ),
    }
    for name, (client, namespace) in made.items():
        assert client.is_connected(namespace), name
    return made


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 200,
    suppress_health_check=list(HealthCheck),
)


@SETTINGS
@given(
    who=st.sampled_from(["public", "deputy", "secretary", "gateway"]),
    event=st.sampled_from(MAIN_EVENTS + CONSOLE_EVENTS) | st.text(min_size=1, max_size=12),
    args=arguments,
)
def test_every_event_is_answered_whatever_it_carries(clients, who, event, args) -> None:  # type: ignore[no-untyped-def]
    client, namespace = clients[who]
    client.get_received(namespace)  # pushes are not answers: drop them
    answer = client.emit(event, *args, namespace=namespace, callback=True)
    check_answer(event, answer)


@SETTINGS
@given(
    who=st.sampled_from(["deputy", "gateway"]),
    event=st.sampled_from(MAIN_EVENTS + CONSOLE_EVENTS),
    body=st.dictionaries(st.sampled_from(KEYS), values, max_size=4),
    cut=st.integers(min_value=1, max_value=200),  # at 0, digits would lengthen the ack id
    inserted=st.sampled_from(['"', ",", "}", "]", ":", "NaN", "\\", "9" * 500, " ", "\x00"]),
    mode=st.sampled_from(["truncate", "insert", "repeat_key"]),
)
def test_every_packet_is_answered_whatever_its_bytes(  # type: ignore[no-untyped-def]
    clients, who, event, body, cut, inserted, mode
) -> None:
    client, namespace = clients[who]
    client.get_received(namespace)
    text = json.dumps([event, body], ensure_ascii=False)
    if mode == "truncate":
        text = text[: max(1, min(cut, len(text) - 1))]
    elif mode == "insert":
        at = min(cut, len(text))
        text = text[:at] + inserted + text[at:]
    elif body:
        key = next(iter(body))
        text = text[:-2] + f", {json.dumps(key)}: 1" + text[-2:]
    answer = raw_ask(client, namespace, text)
    assert answer is not None, f"no answer to {text[:120]!r}"
    check_answer(event, answer)
