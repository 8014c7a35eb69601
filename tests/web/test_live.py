"""Live push over Socket.IO (Flask-SocketIO test client): a snapshot first, then fresh snapshots
pushed after each change (events, numbered, for staff); deputies act over the socket through the
same services; refused events change nothing; nobody outside staff learns a running split unless
the council allows it, and nobody at all learns a secret choice."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask_socketio import SocketIOTestClient

from voting.domain.actors import SYSTEM, Actor
from voting.services import auth, council
from voting.services.commands import ChangeDeputy, SignInWithCard
from voting.web import live


def socket(app, token: str | None = None) -> SocketIOTestClient:  # type: ignore[no-untyped-def]
    auth = None if token is None else {"token": token}
    return app.extensions["voting.socketio"].test_client(app, auth=auth)


def received(client: SocketIOTestClient, name: str) -> list[Any]:
    return [m["args"][0] for m in client.get_received() if m["name"] == name]


def pushed(
    client: SocketIOTestClient,
    until: Callable[[dict[str, Any]], bool],
    name: str = "snapshot",
    timeout: float = 5.0,
) -> dict[str, Any]:
    """Wait for the first pushed `name` message for which `until` holds."""
    deadline = time.monotonic() + timeout
    seen: list[Any] = []
    while time.monotonic() < deadline:
        for message in received(client, name):
            seen.append(message)
            if until(message):
                return message
        time.sleep(0.02)
    raise AssertionError(f"no {name} matched within {timeout} s; got {seen!r}")


def bearer(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def test_a_display_gets_a_snapshot_then_a_fresh_one_after_each_change(
    hall, app, present, deputy, tokens, journal_length
) -> None:
    present(hall.deputies[:21])
    tokens.deputy(hall.deputies[21])  # issuing a token is itself an event: do it before
    assert tokens.secretary  # issued now, before the screens connect
    display = socket(app)
    staff = socket(app, bearer(tokens.secretary))
    # The snapshot read at the connection, and maybe a push of the token's event that was on
    # its way (the connection is in its room before the read): the last one counts.
    first = received(display, "snapshot")[-1]
    assert first["seq"] == journal_length()
    assert first["state"]["sitting"]["registered"] == 21
    assert first["state"]["sitting"]["quorum"] is False
    assert "agenda" not in first["state"]  # the agenda list is the control screen's
    assert len(received(staff, "snapshot")[-1]["state"]["agenda"]) == 3

    deputy(hall.deputies[21]).ok("post", f"/sittings/{hall.sitting}/register")
    # A push that began before the commit may carry its number with the state before it (never
    # the reverse: queries.live_states); the push after it brings the state.
    fresh = pushed(display, lambda m: m["state"]["sitting"]["registered"] == 22)
    assert fresh["seq"] == first["seq"] + 1
    assert (fresh["state"]["sitting"]["registered"], fresh["state"]["sitting"]["quorum"]) == (
        22,
        True,
    )
    assert hall.deputies[21] in fresh["state"]["sitting"]["registered_ids"]
    # Staff also get every event, numbered, to notice a gap; the public gets none.
    event = pushed(staff, lambda m: True, name="event")
    assert (event["seq"], event["kind"]) == (fresh["seq"], "deputy_registered")
    assert received(display, "event") == []

    again = display.emit("snapshot", callback=True)  # what a client does after a gap
    assert again["seq"] == fresh["seq"] and again["state"]["sitting"]["registered"] == 22


def test_a_burst_of_changes_is_pushed_as_few_snapshots_ending_with_the_last(
    hall, app, present, secretary, tokens, cast_all, journal_length
) -> None:
    present(hall.deputies[:30])
    vote = secretary.ok(
        "post", f"/sittings/{hall.sitting}/votes", {"item_id": hall.items[0]}, status=201
    )["vote_id"]
    for d in hall.deputies[:30]:
        tokens.deputy(d)
    display = socket(app)
    received(display, "snapshot")
    cast_all(vote, {d: "for" for d in hall.deputies[:30]})
    last = pushed(display, lambda m: m["state"]["vote"]["votes_cast"] == 30)
    assert last["seq"] == journal_length()
    time.sleep(0.6)
    assert received(display, "snapshot") == []  # nothing more to say: no pushes after the last


def test_a_deputy_votes_over_the_socket_and_each_audience_sees_what_it_may(
    hall, app, present, tokens, secretary
) -> None:
    present(hall.deputies[:30])
    vote = secretary.ok(
        "post", f"/sittings/{hall.sitting}/votes", {"item_id": hall.items[0]}, status=201
    )["vote_id"]
    display = socket(app)
    staff = socket(app, bearer(tokens.secretary))
    me = socket(app, bearer(tokens.deputy(hall.deputies[0])))
    mine = next(m for m in received(me, "snapshot") if "me" in m)  # the one read at connect
    assert mine["me"] == {
        **mine["me"],
        "deputy_id": hall.deputies[0],
        "vote_id": vote,
        "voted": False,
        "choice": None,
    }
    answer = me.emit("cast", {"vote_id": vote, "choice": "for"}, callback=True)
    assert answer == {
        "ok": True,
        "vote_id": vote,
        "deputy_id": hall.deputies[0],
        "choice": "for",
        "recorded": True,
    }

    public = pushed(display, lambda m: m["state"]["vote"]["votes_cast"] == 1)["state"]["vote"]
    assert "running" not in public and "choices" not in public  # the split is not shown
    inside = pushed(staff, lambda m: m["state"]["vote"]["votes_cast"] == 1)["state"]["vote"]
    assert inside["running"] == {"for": 1, "against": 0, "abstain": 0}
    assert inside["choices"] == {str(hall.deputies[0]): "for"}
    assert hall.deputies[0] not in inside["not_yet_voted"]
    assert len(inside["not_yet_voted"]) == 29
    # After a reconnect the terminal shows the choice as the server recorded it.
    assert me.emit("snapshot", callback=True)["me"]["choice"] == "for"

    secretary.ok("post", f"/votes/{vote}/close")
    closed = pushed(display, lambda m: m["state"]["vote"]["state"] == "closed")["state"]["vote"]
    assert closed["result"]["for"] == 1 and closed["result"]["result"] == "not_adopted"
    # A roll-call vote: after close every deputy's outcome is public (the hall plan, the table).
    assert closed["outcomes"][str(hall.deputies[0])] == "for"
    assert closed["outcomes"][str(hall.deputies[1])] == "not_voted"
    # Terminals get the light state: the result, but no per-deputy list of any kind.
    light = pushed(me, lambda m: m["state"]["vote"]["state"] == "closed")["state"]
    assert light["vote"]["result"]["for"] == 1
    assert "outcomes" not in light["vote"] and "registered_ids" not in light["sitting"]
    assert me.emit("snapshot", callback=True)["me"]["registered"] is True


def test_the_running_split_reaches_the_public_only_when_the_council_allows(
    hall, app, present, tokens, secretary
) -> None:
    secretary.ok("patch", "/council", {"show_running_split": True})
    present(hall.deputies[:30])
    vote = secretary.ok(
        "post",
        f"/sittings/{hall.sitting}/votes",
        {"item_id": hall.items[0], "kind": "open"},
        status=201,
    )["vote_id"]
    display = socket(app)
    me = socket(app, bearer(tokens.deputy(hall.deputies[0])))
    me.emit("cast", {"vote_id": vote, "choice": "against"}, callback=True)
    public = pushed(display, lambda m: m["state"]["vote"]["votes_cast"] == 1)["state"]["vote"]
    assert public["running"] == {"for": 0, "against": 1, "abstain": 0}
    assert "choices" not in public  # counts, never who
    secretary.ok("post", f"/votes/{vote}/close")
    closed = pushed(display, lambda m: m["state"]["vote"]["state"] == "closed")["state"]["vote"]
    assert "outcomes" not in closed  # an open (not roll-call) vote has no public per-deputy list


def test_a_secret_ballot_shows_nobody_a_choice(hall, app, present, tokens, secretary) -> None:
    secretary.ok("patch", "/council", {"show_running_split": True})
    present(hall.deputies[:30])
    vote = secretary.ok(
        "post",
        f"/sittings/{hall.sitting}/votes",
        {"item_id": hall.items[0], "kind": "secret"},
        status=201,
    )["vote_id"]
    display = socket(app)
    staff = socket(app, bearer(tokens.secretary))
    me = socket(app, bearer(tokens.deputy(hall.deputies[0])))
    answer = me.emit("cast", {"vote_id": vote, "choice": "against"}, callback=True)
    assert answer == {
        "ok": True,
        "vote_id": vote,
        "deputy_id": hall.deputies[0],
        "recorded": True,
        "secret": True,
    }
    for client in (display, staff):
        shown = pushed(client, lambda m: m["state"]["vote"]["votes_cast"] == 1)["state"]["vote"]
        assert not {"running", "choices", "outcomes"} & set(shown)
    assert me.emit("snapshot", callback=True)["me"] == {
        **me.emit("snapshot", callback=True)["me"],
        "voted": True,
        "choice": None,
    }
    secretary.ok("post", f"/votes/{vote}/close")
    for client in (display, staff):
        closed = pushed(client, lambda m: m["state"]["vote"]["state"] == "closed")["state"]["vote"]
        assert closed["result"]["against"] == 1 and "outcomes" not in closed


def test_refused_socket_events_get_an_error_ack_and_change_nothing(
    hall, app, present, tokens, secretary, journal_length
) -> None:
    present(hall.deputies[:30])
    vote = secretary.ok(
        "post", f"/sittings/{hall.sitting}/votes", {"item_id": hall.items[0]}, status=201
    )["vote_id"]
    display = socket(app)
    me = socket(app, bearer(tokens.deputy(hall.deputies[0])))
    before = journal_length()
    refusals = [
        (display.emit("cast", {"vote_id": vote, "choice": "for"}, callback=True), "forbidden"),
        (me.emit("cast", ["for"], callback=True), "invalid_input"),
        (me.emit("cast", {"vote_id": vote}, callback=True), "invalid_input"),
        (me.emit("cast", {"vote_id": vote, "choice": "yes"}, callback=True), "invalid_input"),
        (  # another deputy's choice: refused as over HTTP
            me.emit("cast", {"vote_id": vote, "choice": "for", "deputy_id": 2}, callback=True),
            "forbidden",
        ),
        (me.emit("cast", {"vote_id": 999, "choice": "for"}, callback=True), "not_found"),
    ]
    refusals += [  # registering another deputy, or with a malformed sitting
        (
            me.emit(
                "register",
                {"sitting_id": hall.sitting, "deputy_id": hall.deputies[7]},
                callback=True,
            ),
            "forbidden",
        ),
        (me.emit("register", {"sitting_id": "1; DROP TABLE vote"}, callback=True), "invalid_input"),
        (me.emit("register", "please", callback=True), "invalid_input"),
        (  # one object per event: a second argument is refused, not silently dropped
            me.emit("cast", {"vote_id": vote, "choice": "for"}, {"x": 1}, callback=True),
            "invalid_input",
        ),
        (me.emit("vote", {"vote_id": vote, "choice": "for"}, callback=True), "unknown_event"),
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


def test_a_revoked_token_loses_its_connection(hall, app, present, tokens, secretary) -> None:
    me = socket(app, bearer(tokens.deputy(hall.deputies[0])))
    assert me.is_connected()
    [token_id] = [
        t["id"]
        for t in secretary.ok("get", "/tokens")["tokens"]
        if t["deputy_id"] == hall.deputies[0]
    ]
    secretary.ok("delete", f"/tokens/{token_id}")
    deadline = time.monotonic() + 5
    while me.is_connected() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not me.is_connected()  # dropped by the server after the revocation
    assert not socket(app, bearer(tokens.deputy(hall.deputies[0]))).is_connected()


def test_a_token_that_expired_since_the_connection_opened_cannot_act(
    hall, app, present, secretary, journal_length
) -> None:
    present(hall.deputies[:30])
    vote = secretary.ok(
        "post", f"/sittings/{hall.sitting}/votes", {"item_id": hall.items[0]}, status=201
    )["vote_id"]
    auth.set_deputy_pin(hall.rt.uow(), SYSTEM, hall.deputies[0], "2468")
    card = "04AA01"
    council.update_deputy(
        hall.rt.uow(),
        Actor("secretary", "secretary:test"),
        ChangeDeputy.parse({"card_uid": card}, deputy_id=hall.deputies[0]),
    )
    signed_in = auth.login_with_card(
        hall.rt.uow(),
        SignInWithCard.parse({"card_uid": card, "pin": "2468"}),
        lifetime=timedelta(minutes=5),
    )
    me = socket(app, signed_in.token)
    assert me.is_connected()
    hall.clock.advance(6 * 60)  # the terminal stays connected past the token's expiry
    before = journal_length()
    answer = me.emit("cast", {"vote_id": vote, "choice": "for"}, callback=True)
    assert answer["ok"] is False and answer["error"]["code"] == "forbidden", answer
    assert "expired" in answer["error"]["message"]
    assert journal_length() == before


def test_every_cast_can_be_padded_to_one_size_and_only_with_spaces(
    hall, app, client, present, tokens, secretary
) -> None:
    """Over the socket and over HTTP: a request padded to one size, and an answer of one size,
    whatever the choice."""
    present(hall.deputies[:30])
    vote = secretary.ok(
        "post",
        f"/sittings/{hall.sitting}/votes",
        {"item_id": hall.items[0], "kind": "secret"},
        status=201,
    )["vote_id"]
    bodies = {
        c: {"vote_id": vote, "choice": c, "pad": " " * (7 - len(c))}
        for c in ("for", "against", "abstain")
    }
    assert len({len(json.dumps(b)) for b in bodies.values()}) == 1  # what the terminal sends
    for i, body in enumerate(bodies.values()):
        me = socket(app, bearer(tokens.deputy(hall.deputies[i])))
        assert me.emit("cast", body, callback=True)["ok"] is True
    sizes = set()
    for i, (choice, body) in enumerate(bodies.items()):
        deputy = hall.deputies[10 + i]
        sent = json.dumps({"choice": choice, "pad": body["pad"]})
        answer = client.post(
            f"/api/v1/votes/{vote}/choices",
            data=sent,
            headers={**tokens.deputy(deputy), "Content-Type": "application/json"},
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)
        sizes.add((len(sent), len(answer.get_data()) - len(str(deputy))))
    assert len(sizes) == 1, sizes  # one request size, one answer size (but the deputy's id)
    bad = socket(app, bearer(tokens.deputy(hall.deputies[5])))
    for pad in ("xx", 3, " " * 17):
        answer = bad.emit("cast", {"vote_id": vote, "choice": "for", "pad": pad}, callback=True)
        assert answer["ok"] is False and answer["error"]["code"] == "invalid_input", pad
    secretary.ok("post", f"/votes/{vote}/close")
    result = secretary.ok("get", f"/votes/{vote}")["result"]
    assert (result["for"], result["against"], result["abstain"]) == (2, 2, 2)


def test_a_push_that_fails_is_tried_again_so_no_display_stays_stale(
    hall, app, present, secretary, monkeypatch
) -> None:
    present(hall.deputies[:30])
    vote = secretary.ok(
        "post", f"/sittings/{hall.sitting}/votes", {"item_id": hall.items[0]}, status=201
    )["vote_id"]
    display = socket(app)
    received(display, "snapshot")
    real, calls = live.audience_snapshots, {"n": 0}

    def busy_once(*args: Any, **kwargs: Any) -> dict[str, dict[str, object]]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the database is busy (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(live, "audience_snapshots", busy_once)
    secretary.ok("post", f"/votes/{vote}/close")
    closed = pushed(display, lambda m: m["state"]["vote"]["state"] == "closed", timeout=5)
    assert closed["state"]["vote"]["result"]["result"] == "not_adopted"
    assert calls["n"] >= 2


def test_a_connection_the_server_cannot_serve_now_is_refused_not_left_hanging(
    hall, app, monkeypatch
) -> None:
    def busy(*args: Any, **kwargs: Any) -> dict[str, object]:
        raise RuntimeError("the database is busy (simulated)")

    monkeypatch.setattr(live, "snapshot", busy)
    rooms = app.extensions["voting.socketio"].server.manager.rooms
    refused = socket(app)
    assert not refused.is_connected()
    assert not rooms.get("/", {}).get("public")  # it joined nothing
    monkeypatch.undo()
    assert socket(app).is_connected()  # trying again works once the database answers


def test_a_second_open_sitting_does_not_hide_the_vote_in_progress(
    hall, app, present, tokens, secretary
) -> None:
    present(hall.deputies[:30])
    vote = secretary.ok(
        "post", f"/sittings/{hall.sitting}/votes", {"item_id": hall.items[0]}, status=201
    )["vote_id"]
    session = secretary.ok("get", f"/sittings/{hall.sitting}")["session_id"]
    other = secretary.ok(
        "post", "/sittings", {"date": "2026-11-26", "session_id": session}, status=201
    )["id"]
    hall.clock.advance(1)
    secretary.ok("post", f"/sittings/{other}/open")
    shown = socket(app).emit("snapshot", callback=True)["state"]
    assert shown["sitting"]["id"] == hall.sitting and shown["vote"]["vote_id"] == vote
    mine = socket(app, bearer(tokens.deputy(hall.deputies[0]))).emit("snapshot", callback=True)
    assert mine["me"]["vote_id"] == vote and mine["state"]["vote"]["state"] == "open"
    secretary.ok("post", f"/votes/{vote}/close")
    after = socket(app).emit("snapshot", callback=True)["state"]
    assert after["sitting"]["id"] == other  # no vote open: the sitting opened last


def test_an_open_vote_shows_no_per_deputy_choice_even_to_staff(
    hall, app, present, tokens, secretary
) -> None:
    present(hall.deputies[:30])
    vote = secretary.ok(
        "post",
        f"/sittings/{hall.sitting}/votes",
        {"item_id": hall.items[0], "kind": "open"},
        status=201,
    )["vote_id"]
    staff = socket(app, bearer(tokens.secretary))
    me = socket(app, bearer(tokens.deputy(hall.deputies[0])))
    assert me.emit("cast", {"vote_id": vote, "choice": "against"}, callback=True)["ok"]
    inside = pushed(staff, lambda m: m["state"]["vote"]["votes_cast"] == 1)["state"]["vote"]
    assert "choices" not in inside and inside["running"]["against"] == 1
    secretary.ok("post", f"/votes/{vote}/close")
    closed = pushed(staff, lambda m: m["state"]["vote"]["state"] == "closed")["state"]["vote"]
    assert "outcomes" not in closed  # the per-deputy list is the protocol's


def test_a_deputy_whom_the_secretary_registers_sees_it_on_the_terminal(
    hall, app, tokens, secretary
) -> None:
    secretary.ok("post", f"/sittings/{hall.sitting}/registration/open")
    me = socket(app, bearer(tokens.deputy(hall.deputies[0])))
    assert next(m for m in received(me, "snapshot") if "me" in m)["me"]["registered"] is False
    secretary.ok("post", f"/sittings/{hall.sitting}/register", {"deputy_id": hall.deputies[0]})
    mine = pushed(me, lambda m: "me" in m and m["me"]["registered"])
    assert mine["me"]["deputy_id"] == hall.deputies[0]


def test_a_push_reaches_every_display_when_sent_a_few_at_a_time(
    hall, app, present, deputy, tokens, monkeypatch
) -> None:
    from voting.web import push

    monkeypatch.setattr(push, "FANOUT_CHUNK", 2)  # five displays: three chunks
    present(hall.deputies[:21])
    tokens.deputy(hall.deputies[21])
    displays = [socket(app) for _ in range(5)]
    first = received(displays[0], "snapshot")[-1]
    deputy(hall.deputies[21]).ok("post", f"/sittings/{hall.sitting}/register")
    fresh = [pushed(d, lambda m: m["state"]["sitting"]["registered"] == 22) for d in displays]
    assert {f["seq"] for f in fresh} == {first["seq"] + 1}


def test_a_change_committed_while_a_screen_connects_reaches_it(
    hall, app, present, secretary, monkeypatch
) -> None:
    """The first snapshot is read, a vote opens meanwhile and its push goes out before the
    first snapshot is sent: the screen must end up showing the vote (it was left showing none
    when it joined its room only after the read)."""
    present(hall.deputies[:30])
    real = live.snapshot

    def read_then_a_vote_opens(*args: Any, **kwargs: Any) -> dict[str, object]:
        first = real(*args, **kwargs)
        monkeypatch.setattr(live, "snapshot", real)  # only the display's first read
        secretary.ok(
            "post", f"/sittings/{hall.sitting}/votes", {"item_id": hall.items[0]}, status=201
        )
        time.sleep(1.0)  # the vote's push goes out (at most 0.5 s after the commit)
        return first

    monkeypatch.setattr(live, "snapshot", read_then_a_vote_opens)
    display = socket(app)
    opened = pushed(display, lambda m: (m["state"]["vote"] or {}).get("state") == "open")
    assert opened["state"]["vote"]["votes_cast"] == 0
