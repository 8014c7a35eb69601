"""Live push over Socket.IO (Flask-SocketIO test client): a snapshot first, then numbered events;
deputies act over the socket through the same services; refused events change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask_socketio import SocketIOTestClient


def socket(app, token: str | None = None) -> SocketIOTestClient:  # type: ignore[no-untyped-def]
    auth = None if token is None else {"token": token}
    return app.extensions["voting.socketio"].test_client(app, auth=auth)


def received(client: SocketIOTestClient, name: str) -> list[Any]:
    return [m["args"][0] for m in client.get_received() if m["name"] == name]


def bearer(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def test_a_display_gets_a_snapshot_then_every_event_in_order(hall, app, present, deputy, tokens,
                                                             journal_length) -> None:
    present(hall.deputies[:21])
    tokens.deputy(hall.deputies[21])  # issuing a token is itself an event: do it before
    display = socket(app)
    [first] = received(display, "snapshot")
    assert first["seq"] == journal_length()
    assert first["state"]["sitting"]["registered"] == 21
    assert first["state"]["sitting"]["quorum"] is False

    deputy(hall.deputies[21]).ok("post", f"/sittings/{hall.sitting}/register")
    [event] = received(display, "event")
    assert event["seq"] == first["seq"] + 1  # no gap: the display's state is current
    assert event["kind"] == "deputy_registered"
    assert (event["payload"]["registered"], event["payload"]["quorum"]) == (22, True)

    again = display.emit("snapshot", callback=True)  # what a client does after a gap
    assert again["seq"] == event["seq"] and again["state"]["sitting"]["registered"] == 22


def test_a_deputy_votes_over_the_socket_and_the_display_sees_it(hall, app, present, tokens,
                                                                secretary) -> None:
    present(hall.deputies[:30])
    vote = secretary.ok("post", f"/sittings/{hall.sitting}/votes",
                        {"item_id": hall.items[0]}, status=201)["vote_id"]
    display = socket(app)
    received(display, "snapshot")
    me = socket(app, bearer(tokens.deputy(hall.deputies[0])))
    answer = me.emit("cast", {"vote_id": vote, "choice": "for"}, callback=True)
    assert answer == {"ok": True, "vote_id": vote, "deputy_id": hall.deputies[0],
                      "choice": "for", "recorded": True}
    [event] = received(display, "event")
    assert event["kind"] == "choice_cast"  # a roll-call vote: the choice is public
    assert event["payload"] == {"vote_id": vote, "deputy_id": hall.deputies[0], "choice": "for",
                                "changed": False}

    secretary.ok("post", f"/votes/{vote}/close")
    [closed] = [e for e in received(display, "event") if e["kind"] == "vote_closed"]
    assert closed["payload"]["for"] == 1 and closed["payload"]["result"] == "not_adopted"


def test_refused_socket_events_get_an_error_ack_and_change_nothing(hall, app, present, tokens,
                                                                   secretary,
                                                                   journal_length) -> None:
    present(hall.deputies[:30])
    vote = secretary.ok("post", f"/sittings/{hall.sitting}/votes",
                        {"item_id": hall.items[0]}, status=201)["vote_id"]
    display = socket(app)
    me = socket(app, bearer(tokens.deputy(hall.deputies[0])))
    before = journal_length()
    refusals = [
        (display.emit("cast", {"vote_id": vote, "choice": "for"}, callback=True), "forbidden"),
        (me.emit("cast", ["for"], callback=True), "invalid_input"),
        (me.emit("cast", {"vote_id": vote}, callback=True), "invalid_input"),
        (me.emit("cast", {"vote_id": vote, "choice": "yes"}, callback=True), "invalid_input"),
        (me.emit("cast", {"vote_id": vote, "choice": "for", "deputy_id": 2}, callback=True),
         "invalid_input"),
        (me.emit("cast", {"vote_id": 999, "choice": "for"}, callback=True), "not_found"),
    ]
    for answer, code in refusals:
        assert answer["ok"] is False and answer["error"]["code"] == code, answer
        assert answer["error"]["message"]
    assert journal_length() == before
    assert me.emit("cast", {"vote_id": vote, "choice": "for"}, callback=True)["ok"] is True
    twice = me.emit("cast", {"vote_id": vote, "choice": "against"}, callback=True)
    assert twice["error"]["code"] == "already_voted"
    secretary.ok("post", f"/votes/{vote}/close")
    late = socket(app, bearer(tokens.deputy(hall.deputies[1])))
    after_close = late.emit("cast", {"vote_id": vote, "choice": "for"}, callback=True)
    assert after_close["error"]["code"] == "vote_already_closed"
    result = secretary.ok("get", f"/votes/{vote}")["result"]
    assert (result["for"], result["against"]) == (1, 0)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_bad_token_is_refused_at_connect(hall, app) -> None:
    refused = socket(app, "not-a-token")
    assert not refused.is_connected()
    assert socket(app).is_connected()  # the public display needs no token
