"""The JSON API under /api/v1: each route parses, calls one service, and responds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, g, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BaseConverter

from voting.adapters.event_loop import off_the_event_loop
from voting.bootstrap import Runtime
from voting.config import Config
from voting.domain.actors import Actor
from voting.domain.errors import InvalidInput, PermissionDenied
from voting.domain.floor import FloorRules
from voting.domain.journal import Anchor
from voting.services import auth as auth_service
from voting.services import (
    casting,
    commands,
    council,
    floor,
    interruptions,
    queries,
    registration,
    sittings,
    validate,
    votes,
)
from voting.services import journal as journal_service
from voting.services.uow import UnitOfWork

from .auth import current_actor, is_staff, presented_token, require_actor, requires
from .events import strict_loads
from .openapi import openapi_document
from .throttle import SignInThrottle

#: Published anchors one verification checks at most (each is one entry looked up).
MAX_ANCHORS = 1000

bp = Blueprint("api", __name__)


class MicrophoneName(BaseConverter):
    """A microphone's name in a path: any one segment but "chair-priority", which is an
    operation of its own (so that its 405 and Allow name only the methods it has)."""

    part_isolating = True  # one segment (werkzeug would guess otherwise from the "/")
    regex = r"(?!chair-priority\Z)[^/]+"


@bp.record_once
def _add_converters(state: BlueprintSetupState) -> None:
    state.app.url_map.converters["microphone"] = MicrophoneName


def rt() -> Runtime:
    runtime: Runtime = current_app.extensions["voting.runtime"]
    return runtime


def config() -> Config:
    configured: Config = current_app.extensions["voting.config"]
    return configured


def uow() -> UnitOfWork:
    return rt().uow()


def reader() -> UnitOfWork:
    return rt().reader()


def actor() -> Actor:
    """Who sends this request (after `require_actor` or `requires` has authenticated them)."""
    who: Actor = g.actor
    return who


def body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what is wrong with it (strict JSON: no key
    given twice, no NaN; voting/web/events.py)."""
    raw = request.get_data()
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # A chunked body has no length to refuse it by beforehand, and werkzeug cuts it off at
        # the limit without a word: what reached the limit was too large.
        raise RequestEntityTooLarge()
    if not raw:
        if optional:
            return {}
        raise InvalidInput("the request needs a JSON object body")
    if not request.is_json:
        raise UnsupportedBody("send the body as JSON (Content-Type: application/json)")
    data = strict_loads(raw)
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    return data


class UnsupportedBody(InvalidInput):
    code = "unsupported_media_type"
    status = 415


def created(payload: dict[str, Any]) -> tuple[dict[str, Any], int]:
    return payload, 201


# --- public reads -----------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return openapi_document()


@bp.get("/state")
def state() -> ResponseReturnValue:
    return queries.current_state(reader())


@bp.get("/council")
def council_info() -> ResponseReturnValue:
    return queries.council_info(reader())


@bp.get("/deputies")
def deputies() -> ResponseReturnValue:
    return {"deputies": queries.deputies(reader())}


@bp.get("/deputies/<int:deputy_id>")
def deputy(deputy_id: int) -> ResponseReturnValue:
    return queries.deputy(reader(), deputy_id)


@bp.get("/attendance")
def attendance() -> ResponseReturnValue:
    return {"attendance": queries.attendance(reader())}


@bp.get("/deputies/<int:deputy_id>/attendance")
def deputy_attendance(deputy_id: int) -> ResponseReturnValue:
    return queries.attendance(reader(), deputy_id)[0]


@bp.get("/sessions")
def sessions() -> ResponseReturnValue:
    return {"sessions": queries.sessions(reader())}


@bp.get("/sittings/<int:sitting_id>")
def sitting(sitting_id: int) -> ResponseReturnValue:
    return queries.sitting(reader(), sitting_id)


@bp.get("/sittings/<int:sitting_id>/agenda")
def agenda(sitting_id: int) -> ResponseReturnValue:
    return {"agenda": queries.agenda(reader(), sitting_id)}


@bp.get("/sittings/<int:sitting_id>/votes")
def sitting_votes(sitting_id: int) -> ResponseReturnValue:
    return {"votes": queries.votes(reader(), sitting_id)}


@bp.get("/votes/<int:vote_id>")
def vote(vote_id: int) -> ResponseReturnValue:
    """Staff (with a token) also see the open vote's per-deputy list, as in the protocol."""
    return queries.vote(reader(), vote_id, staff=is_staff(current_actor(required=False)))


# --- signing in and out -----------------------------------------------------------------------


def sign_in_attempt(door: str, name: str) -> None:
    """Count a sign-in attempt from the caller's address, or refuse it (throttle.py)."""
    throttle: SignInThrottle = current_app.extensions["sign_in_throttle"]
    throttle.attempt(door, request.remote_addr or "unknown", name)


@bp.post("/login")
def login() -> ResponseReturnValue:
    """A user account signs in with a username and password; the token expires."""
    command = commands.SignIn.parse(body())
    sign_in_attempt("login", command.username)
    return auth_service.login(uow(), command).as_dict()


@bp.post("/login/card")
def login_card() -> ResponseReturnValue:
    """A deputy signs in at a terminal with their card's UID and their PIN."""
    command = commands.SignInWithCard.parse(body())
    sign_in_attempt("card", command.card_uid)
    source = request.remote_addr or "unknown"
    signing = config().sign_in
    pins = auth_service.PinPolicy(signing.pin_attempts, timedelta(minutes=signing.pin_lock_minutes))
    return auth_service.login_with_card(uow(), command, source=source, pins=pins).as_dict()


@bp.post("/logout")
@require_actor
def logout() -> ResponseReturnValue:
    """Revoke the token this request presents."""
    return auth_service.logout(uow(), actor(), presented_token())


# --- signed in --------------------------------------------------------------------------------
# Each route that changes something names its command: the caller's role is checked before the
# body is read, then the body is parsed into the command, and one service acts on it.


@bp.get("/me")
@require_actor
def me() -> ResponseReturnValue:
    a = actor()
    return {"role": a.role, "label": a.label, "deputy_id": a.deputy_id}


@bp.patch("/council")
@requires(commands.ChangeSettings)
def update_council() -> ResponseReturnValue:
    return council.update_settings(uow(), actor(), commands.ChangeSettings.parse(body()))


@bp.post("/deputies")
@requires(commands.AddDeputy)
def add_deputy() -> ResponseReturnValue:
    deputy_id = council.add_deputy(uow(), actor(), commands.AddDeputy.parse(body()))
    return created(queries.deputy(reader(), deputy_id))


@bp.patch("/deputies/<int:deputy_id>")
@requires(commands.ChangeDeputy)
def update_deputy(deputy_id: int) -> ResponseReturnValue:
    """ "pin" (write-only: never returned) sets the deputy's PIN; it is checked with everything
    else before anything changes, and the other fields are changed first, so a refused change
    sets no PIN."""
    command = commands.ChangeDeputy.parse(body(), deputy_id=deputy_id)
    if command.changes or command.pin is None:
        council.update_deputy(uow(), actor(), command)
    if command.pin is not None:
        auth_service.set_deputy_pin(uow(), actor(), deputy_id, command.pin)
    return queries.deputy(reader(), deputy_id)


@bp.post("/committees")
@requires(commands.AddCommittee)
def add_committee() -> ResponseReturnValue:
    body_id = council.add_committee(uow(), actor(), commands.AddCommittee.parse(body()))
    return created({"id": body_id})


@bp.post("/convocations")
@requires(commands.CreateConvocation)
def add_convocation() -> ResponseReturnValue:
    command = commands.CreateConvocation.parse(body())
    return created({"id": sittings.create_convocation(uow(), actor(), command)})


@bp.post("/sessions")
@requires(commands.CreateSession)
def add_session() -> ResponseReturnValue:
    command = commands.CreateSession.parse(body())
    return created({"id": sittings.create_session(uow(), actor(), command)})


@bp.post("/sittings")
@requires(commands.CreateSitting)
def add_sitting() -> ResponseReturnValue:
    sitting_id = sittings.create_sitting(uow(), actor(), commands.CreateSitting.parse(body()))
    return created(queries.sitting(reader(), sitting_id))


@bp.patch("/sittings/<int:sitting_id>")
@requires(commands.ChangeSitting)
def change_sitting(sitting_id: int) -> ResponseReturnValue:
    command = commands.ChangeSitting.parse(body(), sitting_id=sitting_id)
    sittings.change_sitting(uow(), actor(), command)
    return queries.sitting(reader(), sitting_id)


@bp.post("/sittings/<int:sitting_id>/open")
@require_actor
def open_sitting(sitting_id: int) -> ResponseReturnValue:
    sittings.open_sitting(uow(), actor(), sitting_id)
    return queries.sitting(reader(), sitting_id)


@bp.post("/sittings/<int:sitting_id>/close")
@require_actor
def close_sitting(sitting_id: int) -> ResponseReturnValue:
    sittings.close_sitting(uow(), actor(), sitting_id)
    return queries.sitting(reader(), sitting_id)


@bp.post("/sittings/<int:sitting_id>/agenda")
@requires(commands.AddItem)
def add_item(sitting_id: int) -> ResponseReturnValue:
    command = commands.AddItem.parse(body(), sitting_id=sitting_id)
    item_id = sittings.add_item(uow(), actor(), command)
    return created({"id": item_id, "agenda": queries.agenda(reader(), sitting_id)})


@bp.put("/sittings/<int:sitting_id>/agenda/order")
@requires(commands.ReorderAgenda)
def reorder(sitting_id: int) -> ResponseReturnValue:
    command = commands.ReorderAgenda.parse(body(), sitting_id=sitting_id)
    sittings.reorder_agenda(uow(), actor(), command)
    return {"agenda": queries.agenda(reader(), sitting_id)}


@bp.patch("/agenda-items/<int:item_id>")
@requires(commands.ChangeItem)
def update_item(item_id: int) -> ResponseReturnValue:
    sittings.update_item(uow(), actor(), commands.ChangeItem.parse(body(), item_id=item_id))
    return {"id": item_id}


@bp.put("/agenda-items/<int:item_id>/status")
@requires(commands.SetItemStatus)
def item_status(item_id: int) -> ResponseReturnValue:
    command = commands.SetItemStatus.parse(body(), item_id=item_id)
    sittings.set_item_status(uow(), actor(), command)
    return {"id": item_id, "status": command.status.value}


@bp.post("/sittings/<int:sitting_id>/registration/open")
@requires(commands.OpenRegistration)
def open_registration(sitting_id: int) -> ResponseReturnValue:
    command = commands.OpenRegistration.parse(body(optional=True), sitting_id=sitting_id)
    number = registration.open_registration(uow(), actor(), command)
    return {"round": number, **queries.sitting(reader(), sitting_id)}


@bp.post("/sittings/<int:sitting_id>/registration/close")
@require_actor
def close_registration(sitting_id: int) -> ResponseReturnValue:
    return registration.close_registration(uow(), actor(), sitting_id)


@bp.post("/sittings/<int:sitting_id>/registration/continue")
@require_actor
def continue_registration(sitting_id: int) -> ResponseReturnValue:
    interruptions.continue_registration(uow(), actor(), sitting_id)
    return queries.sitting(reader(), sitting_id)


@bp.post("/sittings/<int:sitting_id>/register")
@requires(commands.Register)
def register(sitting_id: int) -> ResponseReturnValue:
    command = commands.Register.parse(body(optional=True), sitting_id=sitting_id)
    return registration.register(uow(), actor(), command)


@bp.post("/sittings/<int:sitting_id>/unregister")
@requires(commands.Leave)
def unregister(sitting_id: int) -> ResponseReturnValue:
    command = commands.Leave.parse(body(optional=True), sitting_id=sitting_id)
    return registration.unregister(uow(), actor(), command)


@bp.post("/sittings/<int:sitting_id>/votes")
@requires(commands.OpenVote)
def open_vote(sitting_id: int) -> ResponseReturnValue:
    command = commands.OpenVote.parse(body(optional=True), sitting_id=sitting_id)
    vote_id = votes.open_vote(uow(), actor(), command)
    return created(queries.vote(reader(), vote_id, staff=True))


@bp.post("/sittings/<int:sitting_id>/manual-results")
@requires(commands.ManualResult)
def manual_result(sitting_id: int) -> ResponseReturnValue:
    command = commands.ManualResult.parse(body(), sitting_id=sitting_id)
    result = votes.enter_manual_result(uow(), actor(), command)
    return created(queries.vote(reader(), result["vote_id"], staff=True))


@bp.post("/votes/<int:vote_id>/choices")
@requires(commands.CastChoice)
def cast(vote_id: int) -> ResponseReturnValue:
    command = commands.CastChoice.parse(body(), vote_id=vote_id)
    return casting.cast_choice(uow(), actor(), command)


@bp.post("/votes/<int:vote_id>/close")
@require_actor
def close_vote(vote_id: int) -> ResponseReturnValue:
    votes.close_vote(uow(), actor(), vote_id)
    return queries.vote(reader(), vote_id, staff=True)


@bp.post("/votes/<int:vote_id>/continue")
@require_actor
def continue_vote(vote_id: int) -> ResponseReturnValue:
    interruptions.continue_vote(uow(), actor(), vote_id)
    return queries.vote(reader(), vote_id, staff=True)


@bp.post("/votes/<int:vote_id>/revote")
@requires(commands.Revote)
def revote(vote_id: int) -> ResponseReturnValue:
    command = commands.Revote.parse(body(optional=True), vote_id=vote_id)
    new_id = votes.revote(uow(), actor(), command)
    return created(queries.vote(reader(), new_id, staff=True))


@bp.post("/votes/<int:vote_id>/annul")
@requires(commands.AnnulVote)
def annul(vote_id: int) -> ResponseReturnValue:
    votes.annul_vote(uow(), actor(), commands.AnnulVote.parse(body(), vote_id=vote_id))
    return queries.vote(reader(), vote_id, staff=True)


@bp.post("/votes/<int:vote_id>/announce")
@requires(commands.AnnounceResult)
def announce(vote_id: int) -> ResponseReturnValue:
    command = commands.AnnounceResult.parse(body(optional=True), vote_id=vote_id)
    votes.announce_result(uow(), actor(), command)
    return queries.vote(reader(), vote_id, staff=True)


# --- the floor --------------------------------------------------------------------------------


def floor_rules() -> FloorRules:
    return rt().floor_rules


@bp.get("/sittings/<int:sitting_id>/floor")
def sitting_floor(sitting_id: int) -> ResponseReturnValue:
    """The speech now, the speaker list in order with each one's estimated wait (staff also
    see the microphones and the factions' time)."""
    return floor_of(sitting_id)


def floor_of(sitting_id: int) -> dict[str, object]:
    staff = is_staff(current_actor(required=False))
    with reader() as uow:
        sitting = sittings.get_sitting(uow, sitting_id)
        return floor.floor_view(uow, sitting, floor_rules(), staff=staff)


@bp.post("/sittings/<int:sitting_id>/floor/requests")
@requires(commands.RequestFloor)
def request_floor(sitting_id: int) -> ResponseReturnValue:
    command = commands.RequestFloor.parse(body(optional=True), sitting_id=sitting_id)
    return created(floor.request_floor(uow(), actor(), command, floor_rules()))


@bp.delete("/floor/requests/<int:request_id>")
@requires(commands.WithdrawRequest)
def withdraw_request(request_id: int) -> ResponseReturnValue:
    floor.withdraw_request(
        uow(), actor(), commands.WithdrawRequest.parse({}, request_id=request_id)
    )
    return {"request_id": request_id}


@bp.put("/sittings/<int:sitting_id>/floor/order")
@requires(commands.OrderSpeakers)
def order_speakers(sitting_id: int) -> ResponseReturnValue:
    command = commands.OrderSpeakers.parse(body(), sitting_id=sitting_id)
    floor.order_speakers(uow(), actor(), command, floor_rules())
    return floor_of(sitting_id)


@bp.post("/sittings/<int:sitting_id>/floor/close")
@requires(commands.CloseSpeakerList)
def close_speaker_list(sitting_id: int) -> ResponseReturnValue:
    command = commands.CloseSpeakerList.parse(body(optional=True), sitting_id=sitting_id)
    floor.close_speaker_list(uow(), actor(), command)
    return floor_of(sitting_id)


@bp.post("/sittings/<int:sitting_id>/floor/readd-last")
@requires(commands.ReaddLastSpeaker)
def readd_last(sitting_id: int) -> ResponseReturnValue:
    command = commands.ReaddLastSpeaker.parse({}, sitting_id=sitting_id)
    return created({"request_id": floor.readd_last_speaker(uow(), actor(), command)})


@bp.post("/sittings/<int:sitting_id>/floor/grant")
@requires(commands.GrantFloor)
def grant_floor(sitting_id: int) -> ResponseReturnValue:
    command = commands.GrantFloor.parse(body(optional=True), sitting_id=sitting_id)
    speech_id = floor.grant_floor(uow(), actor(), command, floor_rules())
    return created({"speech_id": speech_id, **floor_of(sitting_id)})


@bp.post("/sittings/<int:sitting_id>/floor/faction-time")
@requires(commands.ExtendFactionBudgets)
def extend_faction_time(sitting_id: int) -> ResponseReturnValue:
    command = commands.ExtendFactionBudgets.parse({}, sitting_id=sitting_id)
    return {"added_seconds": floor.extend_faction_budgets(uow(), actor(), command, floor_rules())}


@bp.post("/sittings/<int:sitting_id>/broadcast")
@requires(commands.MarkBroadcastStart)
def broadcast_start(sitting_id: int) -> ResponseReturnValue:
    command = commands.MarkBroadcastStart.parse(body(optional=True), sitting_id=sitting_id)
    return {"broadcast_started_at": floor.mark_broadcast_start(uow(), actor(), command)}


def _speech_action(speech_id: int, action: str) -> ResponseReturnValue:
    command = commands.SpeechAction.parse({}, speech_id=speech_id)
    if action == "pause":
        floor.pause_speech(uow(), actor(), command)
    elif action == "resume":
        floor.resume_speech(uow(), actor(), command)
    else:
        floor.end_speech(uow(), actor(), command, floor_rules())
    return floor.speeches_one(reader(), speech_id)


@bp.post("/speeches/<int:speech_id>/pause")
@requires(commands.SpeechAction)
def pause_speech(speech_id: int) -> ResponseReturnValue:
    return _speech_action(speech_id, "pause")


@bp.post("/speeches/<int:speech_id>/resume")
@requires(commands.SpeechAction)
def resume_speech(speech_id: int) -> ResponseReturnValue:
    return _speech_action(speech_id, "resume")


@bp.post("/speeches/<int:speech_id>/end")
@requires(commands.SpeechAction)
def end_speech(speech_id: int) -> ResponseReturnValue:
    return _speech_action(speech_id, "end")


@bp.post("/speeches/<int:speech_id>/time")
@requires(commands.AddSpeakingTime)
def add_time(speech_id: int) -> ResponseReturnValue:
    command = commands.AddSpeakingTime.parse(body(optional=True), speech_id=speech_id)
    floor.add_speaking_time(uow(), actor(), command)
    return floor.speeches_one(reader(), speech_id)


@bp.get("/microphones")
@require_actor
def list_microphones() -> ResponseReturnValue:
    """The microphones as recorded, and which the port reports on."""
    if not is_staff(actor()):
        raise PermissionDenied("the microphones are for the secretary and the chair")
    return {
        "microphones": floor.microphones(reader()),
        "on": sorted(rt().microphones.which_on()),
    }


@bp.put("/microphones/<microphone:name>")
@requires(commands.SwitchMicrophone)
def switch_microphone(name: str) -> ResponseReturnValue:
    command = commands.SwitchMicrophone.parse(body(), microphone=name)
    floor.switch_microphone(uow(), actor(), command, floor_rules())
    return list_microphones()


@bp.post("/microphones/chair-priority")
@requires(commands.ChairPriority)
def chair_priority() -> ResponseReturnValue:
    command = commands.ChairPriority.parse(body(optional=True))
    floor.chair_priority(uow(), actor(), command, floor_rules())
    return list_microphones()


def _archive(records: list[dict[str, object]], name: str, fmt: str) -> ResponseReturnValue:
    if fmt == "csv":
        return (
            floor.speeches_csv(records),
            200,
            {
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{name}.csv"',
            },
        )
    return {"speeches": records}


def _staff() -> bool:
    """Whether the caller (who may have no token) is the secretary or the chair."""
    return is_staff(current_actor(required=False))


def _format() -> str:
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise InvalidInput("format must be json or csv", field="format")
    return fmt


@bp.get("/sittings/<int:sitting_id>/speeches")
def sitting_speeches(sitting_id: int) -> ResponseReturnValue:
    fmt = _format()
    records = floor.speeches(reader(), sitting_id=sitting_id, staff=_staff())
    return _archive(records, f"sitting-{sitting_id}-speeches", fmt)


@bp.get("/agenda-items/<int:item_id>/speeches")
def item_speeches(item_id: int) -> ResponseReturnValue:
    fmt = _format()
    records = floor.speeches(reader(), item_id=item_id, staff=_staff())
    return _archive(records, f"item-{item_id}-speeches", fmt)


@bp.get("/deputies/<int:deputy_id>/speeches")
def deputy_speeches(deputy_id: int) -> ResponseReturnValue:
    fmt = _format()
    records = floor.speeches(reader(), deputy_id=deputy_id, staff=_staff())
    if fmt == "csv":
        return _archive(records, f"deputy-{deputy_id}-speeches", fmt)
    return {"speeches": records, "speaking_time": floor.speaking_time(reader(), deputy_id)}


@bp.get("/journal")
@require_actor
def journal() -> ResponseReturnValue:
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
def journal_verify() -> ResponseReturnValue:
    """The same check as `voting journal verify`, with `?anchor=SEQ:HASH` (repeatable) for the
    published anchors the journal must still match."""
    if not is_staff(actor()):
        raise PermissionDenied("the journal is for the secretary and the chair")
    given = request.args.getlist("anchor")
    if len(given) > MAX_ANCHORS:
        raise InvalidInput(f"at most {MAX_ANCHORS} anchors at once", field="anchor")
    try:
        anchors = [Anchor.parse(text) for text in given]
    except ValueError as error:
        raise InvalidInput(str(error), field="anchor") from None
    # One snapshot while casts go on; the checking off the event loop (it takes seconds for a
    # journal of years, and casts must not wait for it).
    report = journal_service.verify_journal(
        rt().reader(one_snapshot=True), anchors, run=off_the_event_loop
    )
    return {
        "ok": report.ok,
        "checked": report.checked,
        "broken_seq": report.broken_seq,
        "table": report.table,
        "row": None if report.row is None else list(report.row),
        "keyed": report.keyed,
        "anchors": report.anchors,
        "message": report.describe(),
    }


@bp.post("/tokens")
@requires(commands.CreateToken)
def create_token() -> ResponseReturnValue:
    command = commands.CreateToken.parse(body())
    token = auth_service.create_token(uow(), actor(), command)
    return created({"token": token, "role": command.role.value, "deputy_id": command.deputy_id})


@bp.get("/tokens")
@require_actor
def tokens() -> ResponseReturnValue:
    """Every token issued: who it is for and whether it is revoked (never the token itself)."""
    return {"tokens": auth_service.list_tokens(reader(), actor())}


@bp.delete("/tokens/<int:token_id>")
@require_actor
def revoke_token(token_id: int) -> ResponseReturnValue:
    return auth_service.revoke_token(uow(), actor(), token_id)
