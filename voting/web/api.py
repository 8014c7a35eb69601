"""The JSON API under /api/v1: each route parses, calls one service, and responds."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, request
from werkzeug.exceptions import BadRequest

from voting.domain.errors import InvalidInput, PermissionDenied
from voting.services import auth as auth_service
from voting.services import council, queries, registration, sittings, validate, votes
from voting.services import journal as journal_service
from voting.services.runtime import Runtime
from voting.services.uow import Actor

from .auth import current_actor, is_staff, presented_token, require_actor
from .errors import error_body
from .openapi import openapi_document

bp = Blueprint("api", __name__)


def rt() -> Runtime:
    return current_app.extensions["voting.runtime"]


def uow():  # type: ignore[no-untyped-def]
    return rt().uow()


def reader():  # type: ignore[no-untyped-def]
    return rt().reader()


def actor() -> Actor:
    return g.actor


def body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what is wrong with it."""
    if not request.get_data():
        if optional:
            return {}
        raise InvalidInput("the request needs a JSON object body")
    if not request.is_json:
        raise UnsupportedBody("send the body as JSON (Content-Type: application/json)")
    try:
        data = request.get_json()
    except BadRequest:
        raise MalformedBody("the body is not valid JSON") from None
    except RecursionError:
        raise MalformedBody("the body's JSON is nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    return data


class MalformedBody(InvalidInput):
    code = "malformed_json"
    status = 400


class UnsupportedBody(InvalidInput):
    code = "unsupported_media_type"
    status = 415


def created(payload: dict[str, Any]) -> tuple[dict[str, Any], int]:
    return payload, 201


# --- public reads -----------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    return openapi_document()


@bp.get("/state")
def state():  # type: ignore[no-untyped-def]
    return queries.current_state(reader())


@bp.get("/council")
def council_info():  # type: ignore[no-untyped-def]
    return queries.council_info(reader())


@bp.get("/deputies")
def deputies():  # type: ignore[no-untyped-def]
    return {"deputies": queries.deputies(reader())}


@bp.get("/deputies/<int:deputy_id>")
def deputy(deputy_id: int):  # type: ignore[no-untyped-def]
    return queries.deputy(reader(), deputy_id)


@bp.get("/attendance")
def attendance():  # type: ignore[no-untyped-def]
    return {"attendance": queries.attendance(reader())}


@bp.get("/deputies/<int:deputy_id>/attendance")
def deputy_attendance(deputy_id: int):  # type: ignore[no-untyped-def]
    return queries.attendance(reader(), deputy_id)[0]


@bp.get("/sessions")
def sessions():  # type: ignore[no-untyped-def]
    return {"sessions": queries.sessions(reader())}


@bp.get("/sittings/<int:sitting_id>")
def sitting(sitting_id: int):  # type: ignore[no-untyped-def]
    return queries.sitting(reader(), sitting_id)


@bp.get("/sittings/<int:sitting_id>/agenda")
def agenda(sitting_id: int):  # type: ignore[no-untyped-def]
    return {"agenda": queries.agenda(reader(), sitting_id)}


@bp.get("/sittings/<int:sitting_id>/votes")
def sitting_votes(sitting_id: int):  # type: ignore[no-untyped-def]
    return {"votes": queries.votes(reader(), sitting_id)}


@bp.get("/votes/<int:vote_id>")
def vote(vote_id: int):  # type: ignore[no-untyped-def]
    """Staff (with a token) also see the open vote's per-deputy list, as in the protocol."""
    return queries.vote(reader(), vote_id, staff=is_staff(current_actor(required=False)))


# --- signing in and out -----------------------------------------------------------------------


@bp.post("/login")
def login():  # type: ignore[no-untyped-def]
    """A user account signs in with a username and password; the token expires."""
    data = _fields(body(), {"username", "password"}, "a login")
    return auth_service.login(uow(), data.get("username"), data.get("password")).as_dict()


@bp.post("/login/card")
def login_card():  # type: ignore[no-untyped-def]
    """A deputy signs in at a terminal with their card's UID and their PIN."""
    data = _fields(body(), {"card_uid", "pin"}, "a card login")
    try:
        return auth_service.login_with_card(uow(), data.get("card_uid"), data.get("pin")).as_dict()
    except auth_service.CardLocked as locked:
        return (
            error_body(locked.code, locked.message, locked.details),
            locked.status,
            {"Retry-After": str(locked.details["retry_after"])},
        )


@bp.post("/logout")
@require_actor
def logout():  # type: ignore[no-untyped-def]
    """Revoke the token this request presents."""
    return auth_service.logout(uow(), actor(), presented_token())


# --- signed in --------------------------------------------------------------------------------


@bp.get("/me")
@require_actor
def me():  # type: ignore[no-untyped-def]
    a = actor()
    return {"role": a.role, "label": a.label, "deputy_id": a.deputy_id}


@bp.patch("/council")
@require_actor
def update_council():  # type: ignore[no-untyped-def]
    return council.update_settings(uow(), actor(), body())


@bp.post("/deputies")
@require_actor
def add_deputy():  # type: ignore[no-untyped-def]
    deputy_id = council.add_deputy(uow(), actor(), body())
    return created(queries.deputy(reader(), deputy_id))


@bp.patch("/deputies/<int:deputy_id>")
@require_actor
def update_deputy(deputy_id: int):  # type: ignore[no-untyped-def]
    """ "pin" (write-only: never returned) sets the deputy's PIN; it is checked before anything
    else changes, and the other fields are changed first, so a refused change sets no PIN."""
    data = dict(body())
    has_pin = "pin" in data
    pin = data.pop("pin", None)
    if has_pin:
        auth_service.pin_value(pin)
    if data or not has_pin:
        council.update_deputy(uow(), actor(), deputy_id, data)
    if has_pin:
        auth_service.set_deputy_pin(uow(), actor(), deputy_id, pin)
    return queries.deputy(reader(), deputy_id)


@bp.post("/committees")
@require_actor
def add_committee():  # type: ignore[no-untyped-def]
    data = body()
    unknown = set(data) - {"name", "members"}
    if unknown:
        raise InvalidInput(f"unknown field(s) for a committee: {', '.join(sorted(unknown))}")
    body_id = council.add_committee(uow(), actor(), data.get("name"), data.get("members", []))
    return created({"id": body_id})


@bp.post("/convocations")
@require_actor
def add_convocation():  # type: ignore[no-untyped-def]
    data = _fields(body(), {"number", "label", "date_from", "date_until"}, "a convocation")
    convocation_id = sittings.create_convocation(
        uow(),
        actor(),
        data.get("number"),
        data.get("label"),
        data.get("date_from"),
        data.get("date_until"),
    )
    return created({"id": convocation_id})


@bp.post("/sessions")
@require_actor
def add_session():  # type: ignore[no-untyped-def]
    data = _fields(body(), {"convocation_id", "number", "title"}, "a session")
    session_id = sittings.create_session(
        uow(), actor(), data.get("convocation_id"), data.get("number"), data.get("title")
    )
    return created({"id": session_id})


@bp.post("/sittings")
@require_actor
def add_sitting():  # type: ignore[no-untyped-def]
    data = _fields(body(), {"date", "title", "session_id", "body_id"}, "a sitting")
    sitting_id = sittings.create_sitting(uow(), actor(), **data)
    return created(queries.sitting(reader(), sitting_id))


def _fields(data: dict[str, Any], allowed: set[str], what: str) -> dict[str, Any]:
    unknown = set(data) - allowed
    if unknown:
        raise InvalidInput(
            f"unknown field(s) for {what}: {', '.join(sorted(unknown))}", field=sorted(unknown)[0]
        )
    return data


@bp.post("/sittings/<int:sitting_id>/open")
@require_actor
def open_sitting(sitting_id: int):  # type: ignore[no-untyped-def]
    sittings.open_sitting(uow(), actor(), sitting_id)
    return queries.sitting(reader(), sitting_id)


@bp.post("/sittings/<int:sitting_id>/close")
@require_actor
def close_sitting(sitting_id: int):  # type: ignore[no-untyped-def]
    sittings.close_sitting(uow(), actor(), sitting_id)
    return queries.sitting(reader(), sitting_id)


@bp.post("/sittings/<int:sitting_id>/agenda")
@require_actor
def add_item(sitting_id: int):  # type: ignore[no-untyped-def]
    item_id = sittings.add_item(uow(), actor(), sitting_id, body())
    return created({"id": item_id, "agenda": queries.agenda(reader(), sitting_id)})


@bp.put("/sittings/<int:sitting_id>/agenda/order")
@require_actor
def reorder(sitting_id: int):  # type: ignore[no-untyped-def]
    data = _fields(body(), {"order"}, "an agenda order")
    sittings.reorder_agenda(uow(), actor(), sitting_id, data.get("order"))
    return {"agenda": queries.agenda(reader(), sitting_id)}


@bp.patch("/agenda-items/<int:item_id>")
@require_actor
def update_item(item_id: int):  # type: ignore[no-untyped-def]
    sittings.update_item(uow(), actor(), item_id, body())
    return {"id": item_id}


@bp.put("/agenda-items/<int:item_id>/status")
@require_actor
def item_status(item_id: int):  # type: ignore[no-untyped-def]
    data = _fields(body(), {"status"}, "an item status")
    sittings.set_item_status(uow(), actor(), item_id, data.get("status"))
    return {"id": item_id, "status": data.get("status")}


@bp.post("/sittings/<int:sitting_id>/registration/open")
@require_actor
def open_registration(sitting_id: int):  # type: ignore[no-untyped-def]
    data = _fields(body(optional=True), {"carry_over"}, "a registration round")
    number = registration.open_registration(uow(), actor(), sitting_id, data.get("carry_over"))
    return {"round": number, **queries.sitting(reader(), sitting_id)}


@bp.post("/sittings/<int:sitting_id>/registration/close")
@require_actor
def close_registration(sitting_id: int):  # type: ignore[no-untyped-def]
    return registration.close_registration(uow(), actor(), sitting_id)


@bp.post("/sittings/<int:sitting_id>/register")
@require_actor
def register(sitting_id: int):  # type: ignore[no-untyped-def]
    data = _fields(body(optional=True), {"deputy_id"}, "a registration")
    return registration.register(uow(), actor(), sitting_id, data.get("deputy_id"))


@bp.post("/sittings/<int:sitting_id>/unregister")
@require_actor
def unregister(sitting_id: int):  # type: ignore[no-untyped-def]
    data = _fields(body(optional=True), {"deputy_id"}, "a registration")
    return registration.unregister(uow(), actor(), sitting_id, data.get("deputy_id"))


@bp.post("/sittings/<int:sitting_id>/votes")
@require_actor
def open_vote(sitting_id: int):  # type: ignore[no-untyped-def]
    vote_id = votes.open_vote(uow(), actor(), sitting_id, body(optional=True))
    return created(queries.vote(reader(), vote_id, staff=True))


@bp.post("/sittings/<int:sitting_id>/manual-results")
@require_actor
def manual_result(sitting_id: int):  # type: ignore[no-untyped-def]
    result = votes.enter_manual_result(uow(), actor(), sitting_id, body())
    return created(queries.vote(reader(), result["vote_id"], staff=True))


@bp.post("/votes/<int:vote_id>/choices")
@require_actor
def cast(vote_id: int):  # type: ignore[no-untyped-def]
    data = _fields(body(), {"choice", "deputy_id"}, "a choice")
    if "choice" not in data:
        raise InvalidInput("choice is required: for, against or abstain", field="choice")
    return votes.cast_choice(uow(), actor(), vote_id, data["choice"], data.get("deputy_id"))


@bp.post("/votes/<int:vote_id>/close")
@require_actor
def close_vote(vote_id: int):  # type: ignore[no-untyped-def]
    votes.close_vote(uow(), actor(), vote_id)
    return queries.vote(reader(), vote_id, staff=True)


@bp.post("/votes/<int:vote_id>/revote")
@require_actor
def revote(vote_id: int):  # type: ignore[no-untyped-def]
    new_id = votes.revote(uow(), actor(), vote_id, body(optional=True))
    return created(queries.vote(reader(), new_id, staff=True))


@bp.post("/votes/<int:vote_id>/annul")
@require_actor
def annul(vote_id: int):  # type: ignore[no-untyped-def]
    data = _fields(body(), {"reason"}, "an annulment")
    votes.annul_vote(uow(), actor(), vote_id, data.get("reason"))
    return queries.vote(reader(), vote_id, staff=True)


@bp.post("/votes/<int:vote_id>/announce")
@require_actor
def announce(vote_id: int):  # type: ignore[no-untyped-def]
    _fields(body(optional=True), set(), "an announcement")
    votes.announce_result(uow(), actor(), vote_id)
    return queries.vote(reader(), vote_id, staff=True)


@bp.get("/journal")
@require_actor
def journal():  # type: ignore[no-untyped-def]
    if not is_staff(actor()):
        raise PermissionDenied("the journal is for the secretary and the chair")
    after = request.args.get("after", "0")
    if not (after.isascii() and after.isdigit()):
        raise InvalidInput("after must be a whole number", field="after")
    if len(after) > 10 or int(after) > validate.INT_MAX:
        raise InvalidInput(f"after must be at most {validate.INT_MAX}", field="after")
    return {"entries": journal_service.read_journal(reader(), int(after))}


@bp.get("/journal/verify")
@require_actor
def journal_verify():  # type: ignore[no-untyped-def]
    if not is_staff(actor()):
        raise PermissionDenied("the journal is for the secretary and the chair")
    report = journal_service.verify_journal(reader())
    return {
        "ok": report.ok,
        "checked": report.checked,
        "broken_seq": report.broken_seq,
        "message": report.describe(),
    }


@bp.post("/tokens")
@require_actor
def create_token():  # type: ignore[no-untyped-def]
    data = _fields(body(), {"role", "deputy_id", "label"}, "a token")
    token = auth_service.create_token(
        uow(), actor(), data.get("role"), data.get("deputy_id"), data.get("label")
    )
    return created({"token": token, "role": data.get("role"), "deputy_id": data.get("deputy_id")})


@bp.get("/tokens")
@require_actor
def tokens():  # type: ignore[no-untyped-def]
    """Every token issued: who it is for and whether it is revoked (never the token itself)."""
    return {"tokens": auth_service.list_tokens(reader(), actor())}


@bp.delete("/tokens/<int:token_id>")
@require_actor
def revoke_token(token_id: int):  # type: ignore[no-untyped-def]
    return auth_service.revoke_token(uow(), actor(), token_id)
