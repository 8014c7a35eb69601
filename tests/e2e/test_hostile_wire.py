"""What a careless or hostile client puts on the wire, sent byte for byte to the live server.

Socket.IO packets over a real websocket: every event sent with a callback gets an answer that
names the problem (unreadable JSON, a key given twice, a number too long to read, NaN, an event
the server does not have), and the connection goes on working after it. An HTTP body sent in
chunks, with no length announced: past the limit it is refused as too large (413), as a body
that announces its length is, not cut off and read as broken JSON."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
import requests
import socketio
import websocket
from planning import plan_sitting

from voting.domain.actors import SYSTEM
from voting.services import auth
from voting.services.commands import CreateToken

pytestmark = pytest.mark.e2e


class RawSocket:
    """Engine.IO 4 over a websocket, spoken by hand: the packets are the test's own text."""

    def __init__(self, url: str) -> None:
        base = url.removesuffix("/api/v1").replace("http://", "ws://")
        self.ws = websocket.create_connection(
            f"{base}/socket.io/?EIO=4&transport=websocket", timeout=10
        )
        assert self.ws.recv().startswith("0{")  # the Engine.IO handshake
        self.ws.send("40")  # join the main namespace, as the public
        self.next_of("40")

    def next_of(self, prefix: str, timeout: float = 10.0) -> str:
        """The next packet starting with `prefix` (pings answered, pushes skipped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            packet = self.ws.recv()
            if packet == "2":
                self.ws.send("3")
            elif packet.startswith(prefix):
                return packet
        raise AssertionError(f"no packet {prefix!r} within {timeout} s")

    def ask(self, ack_id: int, payload: str) -> dict[str, Any]:
        """Send `42<id><payload>` exactly as given; the answer (`43<id>[...]`) decoded."""
        self.ws.send(f"42{ack_id}{payload}")
        answer = json.loads(self.next_of(f"43{ack_id}[")[len(f"43{ack_id}") :])
        assert isinstance(answer, list) and len(answer) == 1, answer
        result: dict[str, Any] = answer[0]
        return result


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_packet_with_a_callback_is_answered_and_names_its_problem(live_server) -> None:
    raw = RawSocket(live_server.url)
    try:
        cases = [
            ('["cast",{"vote_id":1,"choice":"for"', "malformed_json", "not valid JSON"),
            ('["cast",{"vote_id":1,"vote_id":2,"choice":"for"}]', "malformed_json", "vote_id"),
            ('["cast",{"vote_id":' + "9" * 5000 + ',"choice":"for"}]', "malformed_json", "JSON"),
            ('["cast",{"vote_id":NaN,"choice":"for"}]', "malformed_json", "NaN"),
            ('["no_such_event",{}]', "unknown_event", "no_such_event"),
        ]
        for ack_id, (payload, code, words) in enumerate(cases, start=1):
            answer = raw.ask(ack_id, payload)
            assert answer["ok"] is False, (payload[:60], answer)
            assert answer["error"]["code"] == code, (payload[:60], answer)
            assert words in answer["error"]["message"], (payload[:60], answer)
        # the connection still works: a well-formed question gets its usual answer
        assert "now" in raw.ask(99, '["clock"]')
    finally:
        raw.ws.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_body_too_large_is_refused_as_such_however_it_is_sent(live_server) -> None:
    def chunks():  # 10 MB, no Content-Length: requests sends it chunked
        for _ in range(1000):
            yield b" " * 10_000

    for data in (chunks(), b" " * 2_000_000):
        response = requests.post(
            f"{live_server.url}/login",
            data=data,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 413, response.text[:200]
        error = response.json()["error"]
        assert error["code"] == "request_entity_too_large"
        assert "too large" in error["message"] and "1,000,000 bytes" in error["message"]
    # a small chunked body is read whole, as any other
    small = requests.post(
        f"{live_server.url}/login",
        data=iter([b'{"username": "nobody", ', b'"password": "wrong"}']),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert small.status_code == 401, small.text[:200]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_log_at_any_level_holds_a_token_or_a_choice(council_roster, caplog) -> None:
    """An operator who turns the Socket.IO and Engine.IO logs (and every other) up to DEBUG to
    find a fault sees packets and requests come and go, not what they carry: a password or a PIN
    sent to sign in (right or wrong), a deputy's bearer token (sent when the connection signs in)
    and the choices cast."""
    hall = council_roster
    secretary = hall.caller(hall.secretary_token)
    sitting = plan_sitting(secretary)
    secretary.ok("post", f"/sittings/{sitting}/open")
    secretary.ok("post", f"/sittings/{sitting}/registration/open")
    rt = hall.server.runtime
    deputy = hall.deputies[0]
    token = auth.create_token(
        rt.uow(), SYSTEM, CreateToken.parse({"role": "deputy", "deputy_id": deputy})
    )
    password, pin = "Пароль-для-журналу-7", "482913"
    auth.add_user(rt.uow(), SYSTEM, "logged_secretary", password, "secretary")
    card = "CAFE0042"
    for name in ("engineio.server", "socketio.server", "voting", "werkzeug", ""):
        caplog.set_level(logging.DEBUG, logger=name)
    api = hall.server.url
    secretary.ok("patch", f"/deputies/{deputy}", {"card_uid": card, "pin": pin})  # PIN sent too
    for sent_password, sent_pin, status in ((password, pin, 200), (password + "x", "000000", 401)):
        signed = requests.post(
            f"{api}/login",
            json={"username": "logged_secretary", "password": sent_password},
            timeout=10,
        )
        assert signed.status_code == status, signed.text
        signed = requests.post(
            f"{api}/login/card", json={"card_uid": card, "pin": sent_pin}, timeout=10
        )
        assert signed.status_code == status, signed.text
    client = socketio.Client(reconnection=False)
    base = hall.server.url.removesuffix("/api/v1")
    client.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    try:
        assert client.call("register", {"sitting_id": sitting}, timeout=10)["ok"]
        secretary.ok("post", f"/sittings/{sitting}/registration/close")
        vote = secretary.ok(
            "post",
            f"/sittings/{sitting}/votes",
            {"title": "Таємне", "kind": "secret", "override_quorum": True},
            status=201,
        )["vote_id"]
        answer = client.call("cast", {"vote_id": vote, "choice": "against"}, timeout=10)
        assert answer["ok"] is True, answer
    finally:
        client.disconnect()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Received packet" in logged and "not logged" in logged  # the log was on
    assert "/login/card" in logged or "login" in logged  # the sign-ins were seen
    assert token not in logged
    assert password not in logged and pin not in logged and "000000" not in logged
    assert '"choice"' not in logged and "against" not in logged
