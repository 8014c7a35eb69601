"""The floor through its doors: the JSON API (roles, bad input, the archive's CSV) and the
Socket.IO events a terminal sends (request_floor, withdraw_request), each answered, and every
screen given the same list and the same deadline."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from test_live import bearer, pushed, received, socket


def consider(secretary: Any, hall: Any) -> None:
    secretary.ok("put", f"/agenda-items/{hall.items[0]}/status", {"status": "under_consideration"})


def test_a_sitting_of_speeches_over_http(
    hall: Any, secretary: Any, chair: Any, deputy: Callable[[int], Any], public: Any, present: Any
) -> None:
    d = hall.deputies
    present(d[:25])
    consider(secretary, hall)
    base = f"/sittings/{hall.sitting}/floor"
    mine = deputy(d[0]).ok("post", f"{base}/requests", {"type": "speech"}, status=201)
    assert (mine["place"], mine["wait_seconds"]) == (1, 0)
    deputy(d[1]).ok("post", f"{base}/requests", None, status=201)  # the speak key: a speech
    guest = secretary.ok(
        "post",
        f"{base}/requests",
        {"invited_name": "Коваль Ірина", "invited_position": "начальниця управління освіти"},
        status=201,
    )
    shown = public.ok("get", base)
    assert [e["name"] for e in shown["queue"]][2] == "Коваль Ірина"
    assert "microphones" not in shown
    speech = chair.ok("post", f"{base}/grant", status=201)["speech_id"]
    assert public.ok("get", base)["speech"]["deputy_id"] == d[0]
    assert secretary.ok("get", "/microphones")["on"] == [f"deputy:{d[0]}"]
    secretary.ok("post", f"/speeches/{speech}/pause")
    secretary.ok("post", f"/speeches/{speech}/resume")
    added = chair.ok("post", f"/speeches/{speech}/time", {"seconds": 90})
    assert added["state"] == "running"
    second = chair.ok("post", f"{base}/grant", {"request_id": guest["request_id"]}, status=201)
    assert secretary.ok("get", "/microphones")["on"] == ["tribune"]
    ended = chair.ok("post", f"/speeches/{second['speech_id']}/end")
    assert ended["ended_by"] == "chair" and ended["position"] == "начальниця управління освіти"
    # the archive, as JSON and as CSV
    archive = public.ok("get", f"/sittings/{hall.sitting}/speeches")["speeches"]
    assert [s["speaker"] for s in archive] == [archive[0]["speaker"], "Коваль Ірина"]
    response = public.get(f"/agenda-items/{hall.items[0]}/speeches?format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["speaker", "faction", "type", "start", "duration_seconds", "item"]
    assert [r[0] for r in rows[1:]] == [archive[0]["speaker"], "Коваль Ірина"]
    mine_only = public.ok("get", f"/deputies/{d[0]}/speeches")
    assert mine_only["speaking_time"]["speeches"] == 1
    assert public.get(f"/sittings/{hall.sitting}/speeches?format=pdf").status_code == 422


def test_roles_and_bad_input_are_refused_and_change_nothing(
    hall: Any, secretary: Any, deputy: Callable[[int], Any], public: Any, present: Any
) -> None:
    d = hall.deputies
    present(d[:25])
    consider(secretary, hall)
    base = f"/sittings/{hall.sitting}/floor"
    before = public.ok("get", base)
    refusals = [
        (deputy(d[30]), "post", f"{base}/requests", {}, 409, "not_registered"),
        (deputy(d[0]), "post", f"{base}/requests", {"type": "song"}, 422, "invalid_input"),
        (deputy(d[0]), "post", f"{base}/requests", {"deputy_id": d[1]}, 403, "forbidden"),
        (deputy(d[0]), "post", f"{base}/requests", {"invited_name": "X"}, 403, "forbidden"),
        (deputy(d[0]), "post", f"{base}/requests", {"colour": 1}, 422, "invalid_input"),
        (deputy(d[0]), "post", f"{base}/grant", None, 403, "forbidden"),
        (deputy(d[0]), "put", "/microphones/tribune", {"on": True}, 403, "forbidden"),
        (secretary, "post", f"{base}/grant", None, 409, "no_one_waiting"),
        (secretary, "post", f"{base}/requests", {}, 422, "invalid_input"),
        (secretary, "put", "/microphones/seat-5", {"on": True}, 422, "invalid_input"),
        (secretary, "put", "/microphones/tribune", {}, 422, "invalid_input"),
        (secretary, "put", f"{base}/order", {"order": [1, 1]}, 422, "invalid_input"),
        # no list yet, nothing to order (found by the API fuzzer: a 500)
        (secretary, "put", f"{base}/order", {"order": []}, 422, "invalid_input"),
        (secretary, "post", "/speeches/999/end", None, 404, "not_found"),
        (
            secretary,
            "post",
            f"/sittings/{hall.sitting}/broadcast",
            {"started_at": "0001-01-01T00:00:00+01:00"},
            422,
            "invalid_input",
        ),
        (
            secretary,
            "post",
            f"/sittings/{hall.sitting}/broadcast",
            {"started_at": "9999-12-31T23:59:59-05:00"},
            422,
            "invalid_input",
        ),
        (
            secretary,
            "post",
            f"/sittings/{hall.sitting}/broadcast",
            {"started_at": "2026-11-25 10:00"},
            422,
            "invalid_input",
        ),
        (deputy(d[0]), "post", f"{base}/requests", {"type": "report"}, 403, "forbidden"),
        (public, "post", f"{base}/requests", {}, 401, "unauthenticated"),
    ]
    for person, method, path, body, status, code in refusals:
        response = person.call(method.upper(), path, body)
        assert (response.status_code, response.get_json()["error"]["code"]) == (status, code), (
            path,
            body,
            response.get_json(),
        )
        assert response.get_json()["error"]["message"]
    assert public.ok("get", base) == before
    deputy(d[0]).ok("post", f"{base}/requests", {}, status=201)
    again = deputy(d[0]).call("POST", f"{base}/requests", {})
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "duplicate_request")
    speech = secretary.ok("post", f"{base}/grant", status=201)["speech_id"]
    for seconds in (0, -60, 10**12, "60", True):
        response = secretary.call("POST", f"/speeches/{speech}/time", {"seconds": seconds})
        assert response.status_code == 422, seconds
    archived = public.ok("get", f"/sittings/{hall.sitting}/speeches")["speeches"]
    assert [(s["id"], s["state"]) for s in archived] == [(speech, "running")]  # no time added
    secretary.ok("post", f"{base}/close")
    late = deputy(d[1]).call("POST", f"{base}/requests", {})
    assert late.get_json()["error"]["code"] == "speaker_list_closed"
    assert "closed" in late.get_json()["error"]["message"]


def test_terminals_ask_over_the_socket_and_every_screen_gets_the_same_list(
    hall: Any, app: Any, tokens: Any, secretary: Any, present: Any
) -> None:
    d = hall.deputies
    present(d[:25])
    consider(secretary, hall)
    display = socket(app)
    other_display = socket(app)
    terminal = socket(app, bearer(tokens.deputy(d[0])))
    stranger = socket(app, bearer(tokens.deputy(d[30])))  # not registered
    answer = terminal.emit(
        "request_floor", {"sitting_id": hall.sitting, "type": "question"}, callback=True
    )
    assert answer["ok"] is True and answer["place"] == 1
    refused = stranger.emit("request_floor", {"sitting_id": hall.sitting}, callback=True)
    assert refused["ok"] is False and refused["error"]["code"] == "not_registered"
    bad = terminal.emit("request_floor", {"sitting_id": hall.sitting, "type": 5}, callback=True)
    assert bad["ok"] is False and bad["error"]["code"] == "invalid_input"
    seen = [
        pushed(screen, lambda m: bool(m["state"]["floor"]["queue"]))
        for screen in (display, other_display)
    ]
    assert seen[0]["state"]["floor"]["queue"] == seen[1]["state"]["floor"]["queue"]
    assert seen[0]["state"]["floor"]["queue"][0]["deputy_id"] == d[0]
    secretary.ok("post", f"/sittings/{hall.sitting}/floor/grant", status=201)
    live = [
        pushed(screen, lambda m: m["state"]["floor"]["speech"] is not None)
        for screen in (display, other_display)
    ]
    deadlines = {m["state"]["floor"]["speech"]["deadline"] for m in live}
    assert len(deadlines) == 1 and None not in deadlines  # every screen counts to one deadline
    withdrawn = terminal.emit(
        "withdraw_request", {"request_id": answer["request_id"]}, callback=True
    )
    assert withdrawn["ok"] is False and withdrawn["error"]["code"] == "request_not_waiting"
    assert received(display, "event") == []


def test_a_screen_sets_its_clock_by_the_servers(hall: Any, app: Any) -> None:
    display = socket(app)
    assert display.emit("clock", callback=True) == {"now": hall.clock.now.isoformat()}
    hall.clock.advance(90)
    assert display.emit("clock", callback=True) == {"now": hall.clock.now.isoformat()}
