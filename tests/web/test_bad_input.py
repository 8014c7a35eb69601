"""Bad requests: each gets a 4xx JSON body {"error": {"code", "message"}} that names the problem,
and nothing changes (the hall display, the sitting, the vote and the journal stay as they were)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from voting.adapters import orm
from voting.domain.actors import SYSTEM
from voting.services import auth
from voting.services.commands import CreateToken
from voting.services.journal import read_journal

UNKNOWN = 987654


def refused(
    response: TestResponse, status: int, code: str | None = None, *words: str, case: object = None
) -> dict[str, Any]:
    """The response is a JSON error with `status`, `code`, and a message containing `words`."""
    seen = (case, response.status_code, response.get_data(as_text=True)[:500])
    assert response.status_code == status, seen
    assert response.is_json, seen
    error = response.get_json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str), seen
    assert error["message"].strip(), seen
    if code is not None:
        assert error["code"] == code, seen
    for word in words:
        assert word in error["message"], (word, *seen)
    return error


@pytest.fixture
def unchanged(
    hall: Any, public: Any, secretary: Any, tokens: Any, journal_length: Callable[[], int]
) -> Callable[..., Any]:
    """`with unchanged(vote_id, deputies=[...]):` — the block must leave every view as it was.

    Tokens of the deputies named are issued beforehand (issuing one is itself journaled)."""

    @contextmanager
    def check(
        vote_id: int | None = None, deputies: tuple[int, ...] | list[int] = ()
    ) -> Iterator[None]:
        _ = (tokens.secretary, tokens.chair)
        for deputy_id in deputies:
            tokens.deputy(deputy_id)

        def look() -> dict[str, Any]:
            seen = {
                "state": public.ok("get", "/state"),
                "sitting": secretary.ok("get", f"/sittings/{hall.sitting}"),
            }
            if vote_id is not None:
                seen["vote"] = secretary.ok("get", f"/votes/{vote_id}")
            seen["journal"] = journal_length()
            return seen

        before = look()
        yield
        assert look() == before

    return check


@pytest.fixture
def present(hall) -> Callable[[list[int]], None]:  # type: ignore[no-untyped-def]
    """present(ids): registration opens and they register (through the services: quicker)."""

    def run(ids: list[int]) -> None:
        hall.open_registration()
        hall.register(*ids)

    return run


@pytest.fixture
def vote(hall, secretary, present) -> int:  # type: ignore[no-untyped-def]
    """30 deputies and the mayor registered; an open roll-call vote on the first item."""
    present([*hall.deputies[:30], hall.head])
    return secretary.ok(
        "post", f"/sittings/{hall.sitting}/votes", {"item_id": hall.items[0]}, status=201
    )["vote_id"]


def cast(deputy, vote_id: int, deputy_id: int, body: Any):  # type: ignore[no-untyped-def]
    return deputy(deputy_id).post(f"/votes/{vote_id}/choices", body)


# ---------------------------------------------------------------------------------------------
# casting a choice when the rules refuse it


def test_choices_the_rules_refuse_on_an_open_vote(hall, vote, secretary, deputy, unchanged):
    me, other, outsider = hall.deputies[0], hall.deputies[1], hall.deputies[35]
    cast(deputy, vote, me, {"choice": "for"})
    with unchanged(vote, deputies=[other, outsider]):
        refused(
            cast(deputy, vote, me, {"choice": "against"}), 409, "already_voted", "already recorded"
        )
        refused(
            cast(deputy, vote, other, {"choice": "for", "deputy_id": me}),
            403,
            "forbidden",
            "only for themselves",
        )
        refused(
            secretary.post(f"/votes/{vote}/choices", {"choice": "for", "deputy_id": other}),
            403,
            "forbidden",
            "only a deputy votes",
        )
        refused(cast(deputy, vote, outsider, {"choice": "for"}), 409, "not_registered", "register")
        refused(
            cast(deputy, vote, other, {"choice": 1}),
            422,
            "invalid_input",
            "choice",
            "for, against, abstain",
        )
        refused(cast(deputy, vote, other, {"choice": "yes"}), 422, "invalid_input", "'yes'")
        refused(cast(deputy, vote, other, {}), 422, "invalid_input", "choice is required")
        refused(
            cast(deputy, UNKNOWN, other, {"choice": "for"}), 404, "not_found", f"vote {UNKNOWN}"
        )
        refused(
            secretary.post(f"/sittings/{hall.sitting}/votes", {"title": "Ще одне"}),
            409,
            "vote_already_open",
            "close it first",
        )
    staff = secretary.ok("get", f"/votes/{vote}")
    assert staff["votes_cast"] == 1 and staff["running"] == {"for": 1, "against": 0, "abstain": 0}


def test_voting_twice_in_a_secret_ballot(hall, secretary, deputy, present, unchanged):
    present(hall.deputies[:30])
    secret = secretary.ok(
        "post", f"/sittings/{hall.sitting}/votes", {"title": "Таємне", "kind": "secret"}, status=201
    )["vote_id"]
    cast(deputy, secret, hall.deputies[0], {"choice": "for"})
    with unchanged(secret):
        refused(cast(deputy, secret, hall.deputies[0], {"choice": "for"}), 409, "already_voted")
    assert secretary.ok("get", f"/votes/{secret}")["votes_cast"] == 1


def test_a_closed_vote_takes_no_more_choices_and_does_not_close_again(
    hall, vote, secretary, deputy, unchanged
):
    cast(deputy, vote, hall.deputies[0], {"choice": "for"})
    secretary.ok("post", f"/votes/{vote}/close")
    with unchanged(vote, deputies=[hall.deputies[1]]):
        refused(
            cast(deputy, vote, hall.deputies[1], {"choice": "for"}),
            409,
            "vote_already_closed",
            "closed",
        )
        refused(
            cast(deputy, vote, hall.deputies[0], {"choice": "against"}), 409, "vote_already_closed"
        )
        refused(secretary.post(f"/votes/{vote}/close"), 409, "vote_already_closed", "closed")


def test_voting_when_the_vote_was_annulled(hall, vote, secretary, deputy, unchanged):
    secretary.ok("post", f"/votes/{vote}/annul", {"reason": "Помилка в назві"})
    with unchanged(vote, deputies=[hall.deputies[0]]):
        refused(
            cast(deputy, vote, hall.deputies[0], {"choice": "for"}),
            409,
            "vote_not_open",
            "annulled",
        )
        refused(secretary.post(f"/votes/{vote}/close"), 409, "vote_not_open", "annulled")


# ---------------------------------------------------------------------------------------------
# annulling and re-voting in the wrong state


def test_annulling_twice_and_re_voting_in_the_wrong_state(hall, vote, secretary, unchanged):
    with unchanged(vote):
        refused(
            secretary.post(f"/votes/{vote}/revote"), 409, "invalid_transition", "close the vote"
        )
    secretary.ok("post", f"/votes/{vote}/close")
    again = secretary.ok("post", f"/votes/{vote}/revote", status=201)["vote_id"]
    secretary.ok("post", f"/votes/{again}/close")
    with unchanged(vote):
        refused(secretary.post(f"/votes/{vote}/revote"), 409, "invalid_transition", f"vote {again}")
    third = secretary.ok("post", f"/votes/{again}/revote", status=201)["vote_id"]
    secretary.ok("post", f"/votes/{third}/close")
    with unchanged(third):  # the Regulation allows two re-votes
        refused(secretary.post(f"/votes/{third}/revote"), 409, "revote_limit_reached", "limit is 2")
    secretary.ok("post", f"/votes/{third}/annul", {"reason": "Збій"})
    with unchanged(third):
        refused(
            secretary.post(f"/votes/{third}/annul", {"reason": "Ще раз"}),
            409,
            "invalid_transition",
            "already annulled",
        )


# ---------------------------------------------------------------------------------------------
# registration in the wrong state


def test_registration_the_rules_refuse(hall, secretary, deputy, unchanged):
    s, me, other = hall.sitting, hall.deputies[0], hall.deputies[1]
    with unchanged(deputies=[me, other]):
        refused(deputy(me).post(f"/sittings/{s}/register"), 409, "registration_closed", "not open")
        refused(secretary.post(f"/sittings/{s}/registration/close"), 409, "registration_closed")
    secretary.ok("post", f"/sittings/{s}/registration/open")
    deputy(me).ok("post", f"/sittings/{s}/register")
    with unchanged():
        refused(deputy(me).post(f"/sittings/{s}/register"), 409, "already_registered")
        refused(
            deputy(other).post(f"/sittings/{s}/unregister"),
            409,
            "not_registered",
            f"deputy {other}",
        )
        refused(
            secretary.post(f"/sittings/{s}/registration/open"),
            409,
            "registration_already_open",
            "round 1",
        )
        refused(
            secretary.post(f"/sittings/{s}/register", {"deputy_id": UNKNOWN}),
            422,
            "invalid_input",
            f"deputy {UNKNOWN}",
        )
        refused(secretary.post(f"/sittings/{s}/open"), 409, "invalid_transition", "open")


# ---------------------------------------------------------------------------------------------
# quorum


def test_opening_a_vote_without_quorum(hall, secretary, present, unchanged, runtime):
    present(hall.deputies[:5])
    with unchanged():
        error = refused(
            secretary.post(f"/sittings/{hall.sitting}/votes", {"item_id": hall.items[0]}),
            409,
            "quorum_not_met",
            "5 present, 22 needed",
            "override_quorum",
        )
    assert error["details"]["quorum_required"] == 22 and error["details"]["quorum"] is False

    opened = secretary.ok(
        "post",
        f"/sittings/{hall.sitting}/votes",
        {"item_id": hall.items[0], "override_quorum": True},
        status=201,
    )
    assert opened["state"] == "open"
    overridden = [
        e for e in read_journal(runtime.uow(), 0, limit=10_000) if e["kind"] == "quorum_overridden"
    ]
    assert len(overridden) == 1
    assert overridden[0]["payload"]["vote_id"] == opened["vote_id"]
    assert overridden[0]["payload"]["quorum_present"] == 5


# ---------------------------------------------------------------------------------------------
# unknown ids: 404 naming the id


UNKNOWN_TARGETS = [
    ("get", f"/votes/{UNKNOWN}", None, "vote"),
    ("get", f"/sittings/{UNKNOWN}", None, "sitting"),
    ("get", f"/sittings/{UNKNOWN}/agenda", None, "sitting"),
    ("get", f"/sittings/{UNKNOWN}/votes", None, "sitting"),
    ("get", f"/deputies/{UNKNOWN}", None, "deputy"),
    ("get", f"/deputies/{UNKNOWN}/attendance", None, "deputy"),
    ("post", f"/votes/{UNKNOWN}/close", None, "vote"),
    ("post", f"/votes/{UNKNOWN}/revote", None, "vote"),
    ("post", f"/votes/{UNKNOWN}/annul", {"reason": "Збій"}, "vote"),
    ("post", f"/sittings/{UNKNOWN}/votes", {"title": "Процедурне"}, "sitting"),
    ("post", f"/sittings/{UNKNOWN}/registration/open", None, "sitting"),
    ("post", f"/sittings/{UNKNOWN}/agenda", {"title": "Нове питання"}, "sitting"),
    ("put", f"/agenda-items/{UNKNOWN}/status", {"status": "withdrawn"}, "agenda item"),
    ("patch", f"/agenda-items/{UNKNOWN}", {"title": "Нова назва"}, "agenda item"),
    ("post", "/sittings/{sitting}/votes", {"item_id": UNKNOWN}, "agenda item"),
]


def test_unknown_ids(hall, secretary, present, unchanged):
    present(hall.deputies[:30])
    with unchanged():
        for method, path, json, what in UNKNOWN_TARGETS:
            response = getattr(secretary, method)(path.format(sitting=hall.sitting), json=json)
            refused(response, 404, "not_found", f"{what} {UNKNOWN}", case=(method, path))


# ---------------------------------------------------------------------------------------------
# wrong types, unknown fields, oversized values


VOTE_SPECS = [
    ({"title": "Т", "time_limit_seconds": "ten"}, "time_limit_seconds must be a whole number"),
    ({"title": "Т", "time_limit_seconds": True}, "time_limit_seconds must be a whole number"),
    ({"title": "Т", "time_limit_seconds": 99_999}, "at most 3600"),
    ({"title": "Т", "time_limit_seconds": -1}, "at least 0"),
    ({"title": "Т", "kind": "public"}, "kind must be one of: roll_call, open, secret"),
    ({"title": "Т", "stage": 3}, "stage must be one of"),
    ({"title": "Т", "rule": "unanimous"}, "unknown rule 'unanimous'"),
    (
        {
            "title": "Т",
            "rule": {"base": "total", "comparator": "at_least", "numerator": "1", "denominator": 3},
        },
        "rule.numerator must be a whole number",
    ),
    (
        {
            "title": "Т",
            "rule": {
                "base": "everyone",
                "comparator": "at_least",
                "numerator": 1,
                "denominator": 3,
            },
        },
        "rule.base",
    ),
    (
        {
            "title": "Т",
            "rule": {"base": "total", "comparator": "at_least", "numerator": 4, "denominator": 3},
        },
        "4/3",
    ),
    ({"title": "Т", "override_quorum": "yes"}, "override_quorum must be true or false"),
    ({"title": "Т", "kind": "secret", "allow_change": True}, "secret ballot cannot allow"),
    ({"title": 42}, "title must be text"),
    ({}, "title is required"),
    ({"title": "Т", "colour": "red"}, "unknown field(s) for a vote: colour"),
    ({"title": "Т" * 10_000}, "title is 10000 characters long; at most 5000"),
]


def test_bad_vote_specs(hall, secretary, present, unchanged):
    present(hall.deputies[:30])
    with unchanged():
        for spec, words in VOTE_SPECS:
            refused(
                secretary.post(f"/sittings/{hall.sitting}/votes", spec),
                422,
                "invalid_input",
                words,
                case=str(spec)[:80],
            )
        refused(
            secretary.post(f"/sittings/{hall.sitting}/votes", {"item_id": "x"}),
            422,
            "invalid_input",
            "agenda item id must be a whole number, got 'x'",
        )
        refused(
            secretary.post(f"/sittings/{hall.sitting}/votes", {"item_id": True}),
            422,
            "invalid_input",
            "whole number",
        )
        refused(
            secretary.get("/journal?after=x"), 422, "invalid_input", "after must be a whole number"
        )


OTHER_BAD = [
    ("post", "/votes/{vote}/choices", {"choice": "for", "weight": 2}, "deputy", "weight"),
    ("post", "/sittings/{sitting}/register", {"seat": 1}, "deputy", "seat"),
    (
        "post",
        "/sittings/{sitting}/register",
        {"deputy_id": "x"},
        "secretary",
        "deputy_id must be a whole number",
    ),
    (
        "post",
        "/sittings/{sitting}/registration/open",
        {"carry_over": "yes"},
        "secretary",
        "carry_over must be true or false",
    ),
    ("post", "/votes/{vote}/annul", {"reason": "Збій", "by": "me"}, "secretary", "by"),
    ("post", "/votes/{vote}/annul", {"reason": 5}, "secretary", "reason must be text"),
    ("post", "/votes/{vote}/annul", {"reason": "з" * 2001}, "secretary", "at most 2000"),
    ("post", "/votes/{vote}/annul", {}, "secretary", "reason is required"),
    ("post", "/sittings/{sitting}/agenda", {"title": "П", "priority": 1}, "secretary", "priority"),
    (
        "post",
        "/sittings/{sitting}/agenda",
        {"title": "П" * 10_000},
        "secretary",
        "title is 10000 characters long",
    ),
    (
        "put",
        "/sittings/{sitting}/agenda/order",
        {"order": "1,2,3"},
        "secretary",
        "order must be a list",
    ),
    (
        "put",
        "/sittings/{sitting}/agenda/order",
        {"order": "{first_two_items}"},
        "secretary",
        "missing [",
    ),
    (
        "put",
        "/agenda-items/{item}/status",
        {"status": "done"},
        "secretary",
        "status must be one of",
    ),
    ("put", "/agenda-items/{item}/status", {"status": "withdrawn", "why": "x"}, "secretary", "why"),
    ("post", "/tokens", {"role": "mayor"}, "secretary", "role must be one of"),
]


def test_bad_fields(hall, vote, secretary, deputy, unchanged):
    with unchanged(vote, deputies=[hall.deputies[0]]):
        for method, path, json, who, words in OTHER_BAD:
            person = secretary if who == "secretary" else deputy(hall.deputies[0])
            if json == {"order": "{first_two_items}"}:
                json, words = {"order": hall.items[:2]}, f"missing [{hall.items[2]}]"
            url = path.format(vote=vote, sitting=hall.sitting, item=hall.items[0])
            response = getattr(person, method)(url, json=json)
            refused(response, 422, "invalid_input", words, case=(path, str(json)[:60]))


# ---------------------------------------------------------------------------------------------
# bodies that are not a JSON object


def test_bodies_that_are_not_a_json_object(hall, vote, deputy, unchanged):
    me = deputy(hall.deputies[0])
    path = f"/votes/{vote}/choices"
    with unchanged(vote, deputies=[hall.deputies[0]]):
        refused(
            me.post(path, data="choice=for", content_type="application/x-www-form-urlencoded"),
            415,
            "unsupported_media_type",
            "JSON",
        )
        refused(
            me.post(path, data="{choice: for", content_type="application/json"),
            400,
            "malformed_json",
            "not valid JSON",
        )
        # strict JSON: a key given twice is refused, not read as its last value; no NaN
        refused(
            me.post(
                path, data='{"choice": "for", "choice": "against"}', content_type="application/json"
            ),
            400,
            "malformed_json",
            "'choice' is given twice",
        )
        refused(
            me.post(path, data='{"choice": "for", "pad": NaN}', content_type="application/json"),
            400,
            "malformed_json",
            "NaN",
        )
        refused(me.post(path, ["for"]), 422, "invalid_input", "must be a JSON object")
        refused(me.post(path, "for"), 422, "invalid_input", "must be a JSON object")
        refused(me.post(path), 422, "invalid_input", "needs a JSON object body")
        huge = me.post(path, {"choice": "for", "padding": "х" * 1_100_000})
        refused(huge, 413, "request_entity_too_large")


# ---------------------------------------------------------------------------------------------
# roles and tokens


STAFF_ACTIONS = [
    ("post", "/sittings/{sitting}/registration/open", None),
    ("post", "/sittings/{sitting}/registration/close", None),
    ("post", "/sittings/{sitting}/votes", {"title": "Моє питання", "override_quorum": True}),
    ("post", "/votes/{vote}/close", None),
    ("post", "/votes/{vote}/annul", {"reason": "Не подобається"}),
    ("post", "/votes/{vote}/revote", None),
    ("post", "/sittings/{sitting}/manual-results", {"title": "Т", "choices": {}}),
    ("post", "/sittings/{sitting}/agenda", {"title": "Моє питання"}),
    ("put", "/sittings/{sitting}/agenda/order", {"order": "{reversed_items}"}),
    ("put", "/agenda-items/{item}/status", {"status": "withdrawn"}),
    ("patch", "/agenda-items/{item}", {"title": "Інша назва"}),
    ("patch", "/council", {"revote_limit": 20}),
    ("post", "/deputies", {"full_name": "Самозванець Іван Іванович"}),
    ("post", "/tokens", {"role": "secretary"}),
    ("post", "/sittings/{sitting}/close", None),
]


def test_a_deputy_cannot_act_as_the_secretary(hall, vote, deputy, unchanged):
    me = hall.deputies[0]
    with unchanged(vote, deputies=[me]):
        for method, path, json in STAFF_ACTIONS:
            if json == {"order": "{reversed_items}"}:
                json = {"order": hall.items[::-1]}
            url = path.format(sitting=hall.sitting, vote=vote, item=hall.items[0])
            response = getattr(deputy(me), method)(url, json=json)
            refused(response, 403, "forbidden", "you act as deputy", case=(method, path))
        for action in ("register", "unregister"):  # someone else: only themselves
            refused(
                deputy(me).post(
                    f"/sittings/{hall.sitting}/{action}", {"deputy_id": hall.deputies[1]}
                ),
                403,
                "forbidden",
                "only themselves",
            )


def test_the_chair_cannot_do_the_secretarys_paperwork(hall, chair, unchanged):
    with unchanged():
        for path, json in (
            (f"/sittings/{hall.sitting}/agenda", {"title": "Нове"}),
            ("/tokens", {"role": "deputy", "deputy_id": hall.deputies[0]}),
            ("/deputies", {"full_name": "Новенький Петро Петрович"}),
        ):
            refused(chair.post(path, json), 403, "forbidden", "secretary")


BAD_HEADERS = [
    ("Bearer not-a-real-token", "unknown or revoked token"),
    ("Token abc", "Bearer <token>"),
    ("Basic dXNlcjpwYXNzd29yZA==", "Bearer <token>"),
    ("Bearer", "Bearer <token>"),
    ("Bearer    ", "Bearer <token>"),
]


def test_bad_authorization_headers(hall, vote, client, unchanged):
    calls = (
        ("post", f"/api/v1/votes/{vote}/close", None),
        ("get", "/api/v1/me", None),
        ("get", f"/api/v1/votes/{vote}", None),
        ("post", f"/api/v1/sittings/{hall.sitting}/votes", {"title": "Т"}),
    )
    with unchanged(vote):
        for header, words in BAD_HEADERS:
            for method, path, json in calls:
                response = getattr(client, method)(
                    path, json=json, headers={"Authorization": header}
                )
                refused(response, 401, "unauthenticated", words, case=(header, method, path))


def test_no_token_and_a_revoked_token(hall, vote, client, public, runtime, unchanged):
    token = auth.create_token(runtime.uow(), SYSTEM, CreateToken.parse({"role": "secretary"}))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    uow = runtime.uow()
    with uow:
        token_id = uow.session.scalars(
            select(orm.ApiToken.id).where(orm.ApiToken.token_hash == auth.token_digest(token))
        ).one()
    auth.revoke_token(runtime.uow(), SYSTEM, token_id)
    with unchanged(vote):
        refused(
            client.post(f"/api/v1/votes/{vote}/close", headers=headers),
            401,
            "unauthenticated",
            "revoked",
        )
        anonymous = public.post(f"/votes/{vote}/close")
        refused(anonymous, 401, "unauthenticated", "Bearer")
        assert anonymous.headers["WWW-Authenticate"] == "Bearer"  # RFC 6750: how to sign in
        refused(public.post(f"/votes/{vote}/choices", {"choice": "for"}), 401, "unauthenticated")


# ---------------------------------------------------------------------------------------------
# routes that do not exist


def test_unknown_route_and_wrong_method_answer_json(client, secretary):
    refused(client.get("/api/v1/nowhere"), 404, "not_found")
    refused(client.get("/api/v1/votes/abc"), 404, "not_found")
    refused(client.get("/nowhere"), 404, "not_found")
    refused(client.delete("/api/v1/state"), 405, "method_not_allowed")
    refused(secretary.post("/state", {}), 405, "method_not_allowed")
    refused(secretary.get("/votes/1/close"), 405, "method_not_allowed")
