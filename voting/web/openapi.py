"""The OpenAPI 3 document of /api/v1; a test checks it against the real routes."""

from __future__ import annotations

from typing import Any

ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
TERM = {"type": "integer", "minimum": 1, "maximum": 1000}
TEXT = {"type": "string", "maxLength": 300}
#: OpenAPI 3.0 spells "or null" with `nullable` (a patch clears a value with null).
OPTIONAL_TEXT = {**TEXT, "nullable": True}
#: Text that must hold more than spaces.
REQUIRED_TEXT = {**TEXT, "pattern": r"\S"}
STAGE = {
    "type": "string",
    "enum": ["as_a_basis", "as_a_whole", "amendment", "procedural", "other"],
}
OPTIONAL_ID = {**ID, "nullable": True}
LINK = {
    "type": "string",
    "maxLength": 500,
    # blank is taken as not given, as for every optional text
    "pattern": "^\\s*($|[Hh][Tt][Tt][Pp][Ss]?://)",
    "nullable": True,
}
CHOICE = {"type": "string", "enum": ["for", "against", "abstain"]}
PIN = {
    "type": "string",
    "pattern": "^[0-9]{4,8}$",
    "writeOnly": True,
    "description": "the deputy's PIN for signing in with their card; never returned",
}
RULE = {
    "oneOf": [
        {
            "type": "string",
            "enum": [
                "majority_of_total",
                "two_thirds_of_total",
                "majority_of_registered",
                "majority_of_voting",
            ],
        },
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["base", "comparator", "numerator", "denominator"],
            "properties": {
                "base": {"type": "string", "enum": ["total", "registered", "voting"]},
                "comparator": {"type": "string", "enum": ["more_than", "at_least"]},
                "numerator": TERM,
                "denominator": TERM,
            },
        },
    ]
}


def obj(required: list[str] | None = None, **properties: Any) -> dict[str, Any]:
    """A request object as the shared parser reads it (voting.services.commands): an optional
    field sent as null is taken as not sent, and a blank optional text too; a required text
    must hold more than spaces. Changes (patches) say their own null, which clears a value."""
    wanted = set(required or ())
    shaped = {}
    for name, schema in properties.items():
        free_text = (
            schema.get("type") == "string"
            and not {"enum", "pattern"} & set(schema)
            and schema.get("format") in (None, "password")
        )
        if free_text and name in wanted:
            schema = {**schema, "pattern": r"\S"}
        elif name not in wanted:  # (OpenAPI 3.0: an enum that allows null lists it)
            schema = {**schema, "nullable": True}
            if "enum" in schema:
                schema["enum"] = [*schema["enum"], None]
        shaped[name] = schema
    out: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": shaped}
    if required:
        out["required"] = required
    return out


def plain(required: list[str] | None = None, **properties: Any) -> dict[str, Any]:
    """An object exactly as given: a patch (only the fields sent change; null only where the
    field says so), an answer, or an object inside a request."""
    out: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    if required:
        out["required"] = required
    return out


SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": plain(
        ["error"],
        error=plain(
            ["code", "message"],
            code={"type": "string"},
            message={"type": "string"},
            details={"type": "object"},
        ),
    ),
    "CouncilSettings": plain(
        name=TEXT,
        edrpou={"type": "string", "pattern": "^[0-9]{8}$"},
        katottg={"type": "string", "pattern": "^UA[0-9]{17}$"},
        place=OPTIONAL_TEXT,
        statutory_deputies={"type": "integer", "minimum": 1, "maximum": 1000},
        head_votes={"type": "boolean"},
        quorum_numerator={"type": "integer", "minimum": 1, "maximum": 100},
        quorum_denominator={"type": "integer", "minimum": 1, "maximum": 100},
        quorum_counts_head={"type": "boolean"},
        default_rule=RULE["oneOf"][0],
        revote_limit={"type": "integer", "minimum": 0, "maximum": 20},
        default_time_limit_seconds={"type": "integer", "minimum": 0, "maximum": 3600},
        allow_change_choice={"type": "boolean"},
        registration_required_to_vote={"type": "boolean"},
        show_running_split={"type": "boolean"},
    ),
    "Deputy": obj(
        ["full_name"],
        full_name=TEXT,
        short_name=TEXT,
        faction=TEXT,
        voting_identifier=TEXT,
        external_id=TEXT,
        card_uid=TEXT,
        seat_number={**ID, "maximum": 10_000},
        is_head={"type": "boolean"},
        active={"type": "boolean"},
        committees={"type": "array", "items": ID},
        email=OPTIONAL_TEXT,
        telephone={"type": "string", "maxLength": 100, "nullable": True},
    ),
    "DeputyChange": plain(
        full_name=REQUIRED_TEXT,
        short_name=OPTIONAL_TEXT,  # null: made again from the full name
        faction=OPTIONAL_TEXT,
        voting_identifier=OPTIONAL_TEXT,
        external_id=OPTIONAL_TEXT,
        card_uid=OPTIONAL_TEXT,
        seat_number={**ID, "maximum": 10_000, "nullable": True},
        is_head={"type": "boolean"},
        active={"type": "boolean"},
        committees={"type": "array", "items": ID},
        email=OPTIONAL_TEXT,
        telephone={"type": "string", "maxLength": 100, "nullable": True},
        pin=PIN,
    ),
    "Committee": obj(["name"], name=TEXT, members={"type": "array", "items": ID}),
    "Convocation": obj(
        ["number", "label", "date_from"],
        number=ID,
        label=TEXT,
        date_from={"type": "string", "format": "date"},
        date_until={"type": "string", "format": "date"},
    ),
    "Session": obj(["convocation_id", "number"], convocation_id=ID, number=ID, title=TEXT),
    "Sitting": obj(
        ["date"],
        date={"type": "string", "format": "date"},
        title=TEXT,
        session_id=ID,
        body_id=ID,
        place=OPTIONAL_TEXT,
        chair_id=OPTIONAL_ID,
        secretary_id=OPTIONAL_ID,
    ),
    "SittingChange": plain(place=OPTIONAL_TEXT, chair_id=OPTIONAL_ID, secretary_id=OPTIONAL_ID),
    "AgendaItem": obj(
        ["title"],
        title={"type": "string", "maxLength": 5000},
        draft_number=TEXT,
        rapporteur=TEXT,
        position=ID,
        document_url=LINK,
    ),
    "AgendaItemChange": plain(
        title={"type": "string", "maxLength": 5000, "pattern": r"\S"},
        draft_number=OPTIONAL_TEXT,
        rapporteur=OPTIONAL_TEXT,
        document_url=LINK,
    ),
    "AgendaOrder": obj(["order"], order={"type": "array", "items": ID}),
    "ItemStatus": obj(
        ["status"],
        status={
            "type": "string",
            "enum": [
                "pending",
                "under_consideration",
                "adopted",
                "not_adopted",
                "withdrawn",
                "postponed",
            ],
        },
    ),
    "RegistrationRound": obj(carry_over={"type": "boolean"}),
    "RegistrationTarget": obj(deputy_id=ID),
    "VoteSpec": obj(
        item_id=ID,
        title={"type": "string", "maxLength": 5000},
        stage=STAGE,
        kind={"type": "string", "enum": ["roll_call", "open", "secret"]},
        rule=RULE,
        time_limit_seconds={"type": "integer", "minimum": 0, "maximum": 3600},
        allow_change={"type": "boolean"},
        override_quorum={"type": "boolean"},
    ),
    "ManualResult": obj(
        item_id=ID,
        title={"type": "string"},
        stage=STAGE,
        kind={"type": "string", "enum": ["roll_call", "open", "secret"]},
        rule=RULE,
        choices={"type": "object", "additionalProperties": CHOICE},
        counts=plain(
            None,
            **{
                "for": {"type": "integer", "minimum": 0},
                "against": {"type": "integer", "minimum": 0},
                "abstain": {"type": "integer", "minimum": 0},
            },
        ),
        previous_vote_id=ID,
        note={"type": "string", "maxLength": 2000},
    ),
    "Choice": obj(
        ["choice"],
        choice=CHOICE,
        deputy_id=ID,
        # spaces a terminal adds so that every cast is the same size, whatever the choice
        pad={"type": "string", "maxLength": 16, "pattern": "^ *$"},
    ),
    "Revote": obj(
        time_limit_seconds={"type": "integer", "minimum": 0}, override_quorum={"type": "boolean"}
    ),
    "Annulment": obj(["reason"], reason={"type": "string", "maxLength": 2000}),
    "Login": obj(
        ["username", "password"],
        username={"type": "string", "maxLength": 80},
        password={"type": "string", "maxLength": 200, "format": "password"},
    ),
    "CardLogin": obj(["card_uid", "pin"], card_uid={"type": "string", "maxLength": 64}, pin=PIN),
    "TokenRequest": obj(
        ["role"],
        role={"type": "string", "enum": ["secretary", "chair", "deputy"]},
        deputy_id=ID,
        label=TEXT,
    ),
}
SPEECH_TYPES = [
    "report",
    "co_report",
    "closing_word",
    "speech",
    "question",
    "answer",
    "reply",
    "point_of_order",
    "explanation_of_vote",
    "faction_statement",
    "invited",
]
SCHEMAS.update(
    {
        "FloorRequest": obj(
            type={"type": "string", "enum": SPEECH_TYPES, "default": "speech"},
            deputy_id=ID,
            invited_name=TEXT,
            invited_position=TEXT,
        ),
        "SpeakerOrder": obj(["order"], order={"type": "array", "items": ID}),
        "SpeakerListState": obj(closed={"type": "boolean", "default": True}),
        "Grant": obj(request_id=ID),
        "AddedTime": obj(seconds={"type": "integer", "minimum": 1, "maximum": 3600, "default": 60}),
        "MicrophoneSwitch": obj(["on"], on={"type": "boolean"}),
        "ChairPriority": obj(
            mode={"type": "string", "enum": ["hold", "release", "mute_all"], "default": "hold"}
        ),
        "BroadcastStart": obj(started_at={"type": "string", "format": "date-time"}),
    }
)

FLOOR_OPERATIONS: list[tuple[str, str, str, str, str | None, bool, int]] = [
    (
        "get",
        "/sittings/{sitting_id}/floor",
        "The speech now and the speaker list in order (staff also see the microphones)",
        "floor",
        None,
        False,
        200,
    ),
    (
        "post",
        "/sittings/{sitting_id}/floor/requests",
        "Ask for the floor (a deputy: themselves; staff: any deputy or an invited speaker)",
        "floor",
        "FloorRequest",
        True,
        201,
    ),
    (
        "delete",
        "/floor/requests/{request_id}",
        "Withdraw a waiting request (staff: remove it)",
        "floor",
        None,
        True,
        200,
    ),
    (
        "put",
        "/sittings/{sitting_id}/floor/order",
        "Order the speaker list by hand",
        "floor",
        "SpeakerOrder",
        True,
        200,
    ),
    (
        "post",
        "/sittings/{sitting_id}/floor/close",
        "Close (or reopen) the speaker list",
        "floor",
        "SpeakerListState",
        True,
        200,
    ),
    (
        "post",
        "/sittings/{sitting_id}/floor/readd-last",
        "Put the last speaker back at the head of the list",
        "floor",
        None,
        True,
        201,
    ),
    (
        "post",
        "/sittings/{sitting_id}/floor/grant",
        "Give the floor to the next (or the request named); a running speech ends first",
        "floor",
        "Grant",
        True,
        201,
    ),
    (
        "post",
        "/sittings/{sitting_id}/floor/faction-time",
        "Raise every faction's time on the item by the largest overrun",
        "floor",
        None,
        True,
        200,
    ),
    (
        "post",
        "/sittings/{sitting_id}/broadcast",
        "Record when the sitting's broadcast started",
        "floor",
        "BroadcastStart",
        True,
        200,
    ),
    ("post", "/speeches/{speech_id}/pause", "Pause a speech", "floor", None, True, 200),
    ("post", "/speeches/{speech_id}/resume", "Resume a speech", "floor", None, True, 200),
    ("post", "/speeches/{speech_id}/end", "End a speech", "floor", None, True, 200),
    (
        "post",
        "/speeches/{speech_id}/time",
        "Add speaking time (a minute unless seconds is given)",
        "floor",
        "AddedTime",
        True,
        200,
    ),
    ("get", "/microphones", "The microphones and which are on", "floor", None, True, 200),
    (
        "get",
        "/consoles",
        "Every seat's console: card, alarm, lock, online (staff)",
        "consoles",
        None,
        True,
        200,
    ),
    (
        "post",
        "/consoles/{seat}/resolve",
        "Settle a seat alarm (one card in two seats): this seat keeps the card",
        "consoles",
        None,
        True,
        200,
    ),
    (
        "put",
        "/microphones/{name}",
        'Switch a microphone ("chair", "tribune" or "deputy:<id>")',
        "floor",
        "MicrophoneSwitch",
        True,
        200,
    ),
    (
        "post",
        "/microphones/chair-priority",
        "The chair's priority key: hold, release or mute_all",
        "floor",
        "ChairPriority",
        True,
        200,
    ),
    (
        "get",
        "/sittings/{sitting_id}/speeches",
        "The archive of a sitting's speeches (?format=csv for CSV)",
        "floor",
        None,
        False,
        200,
    ),
    (
        "get",
        "/agenda-items/{item_id}/speeches",
        "The speeches on an agenda item (?format=csv for CSV)",
        "floor",
        None,
        False,
        200,
    ),
    (
        "get",
        "/deputies/{deputy_id}/speeches",
        "A deputy's speeches and speaking time (?format=csv for CSV)",
        "floor",
        None,
        False,
        200,
    ),
]

#: The public archive (voting/web/archive.py); its files are at /archive/..., outside the API.
ARCHIVE_OPERATIONS: list[tuple[str, str, str, str, str | None, bool, int]] = [
    (
        "get",
        "/archive/sittings",
        "Closed sittings, newest first, with links to their protocol and attendance (PDF)",
        "archive",
        None,
        False,
        200,
    ),
    (
        "get",
        "/archive/sittings/{sitting_id}",
        "A closed sitting: items, votes, links to roll-call sheets, PDFs and open data, with "
        "every version of each file (404 not_in_archive while it is open)",
        "archive",
        None,
        False,
        200,
    ),
    (
        "get",
        "/archive/deputies/{deputy_id}",
        "A deputy's attendance per closed sitting and every roll-call choice "
        "(?from=&to= dates, ?q= words of the item's title)",
        "archive",
        None,
        False,
        200,
    ),
    (
        "post",
        "/archive/sittings/{sitting_id}/records",
        "Start producing a closed sitting's record again (a new version of each file that "
        "changed); the answer gives the production's status URL",
        "archive",
        None,
        True,
        202,
    ),
    (
        "get",
        "/archive/record-jobs/{production_id}",
        "How far a production of the record has got (done of total, percent), then its files",
        "archive",
        None,
        True,
        200,
    ),
]

# (method, path, summary, tag, request schema or None, needs a token, success status)
OPERATIONS: list[tuple[str, str, str, str, str | None, bool, int]] = [
    ("get", "/openapi.json", "This document", "public", None, False, 200),
    ("get", "/state", "What the hall display shows now", "public", None, False, 200),
    ("get", "/council", "The council and its settings", "public", None, False, 200),
    ("get", "/deputies", "The roster", "public", None, False, 200),
    ("get", "/deputies/{deputy_id}", "One deputy", "public", None, False, 200),
    (
        "get",
        "/attendance",
        "Attendance and roll-call record of every deputy",
        "public",
        None,
        False,
        200,
    ),
    (
        "get",
        "/deputies/{deputy_id}/attendance",
        "One deputy's attendance",
        "public",
        None,
        False,
        200,
    ),
    ("get", "/sessions", "Sessions with their sittings", "public", None, False, 200),
    (
        "get",
        "/sittings/{sitting_id}",
        "A sitting: quorum, agenda, votes",
        "public",
        None,
        False,
        200,
    ),
    ("get", "/sittings/{sitting_id}/agenda", "A sitting's agenda", "public", None, False, 200),
    (
        "get",
        "/sittings/{sitting_id}/votes",
        "A sitting's votes with results",
        "public",
        None,
        False,
        200,
    ),
    (
        "get",
        "/votes/{vote_id}",
        "A vote: result, roll-call list (never for secret ballots)",
        "public",
        None,
        False,
        200,
    ),
    (
        "post",
        "/login",
        "Sign in with a username and password: a token that expires",
        "auth",
        "Login",
        False,
        200,
    ),
    (
        "post",
        "/login/card",
        "A deputy signs in with their card's UID and PIN (5 wrong PINs lock "
        "the card for 5 minutes: 429)",
        "auth",
        "CardLogin",
        False,
        200,
    ),
    ("post", "/logout", "Sign out: revoke the token presented", "auth", None, True, 200),
    ("get", "/me", "Who the token belongs to", "auth", None, True, 200),
    ("patch", "/council", "Change council settings", "roster", "CouncilSettings", True, 200),
    ("post", "/deputies", "Add a deputy or the head", "roster", "Deputy", True, 201),
    (
        "patch",
        "/deputies/{deputy_id}",
        "Change a deputy (active: false leaves the seat vacant)",
        "roster",
        "DeputyChange",
        True,
        200,
    ),
    ("post", "/committees", "Create a standing committee", "roster", "Committee", True, 201),
    ("post", "/convocations", "Create a convocation", "sittings", "Convocation", True, 201),
    ("post", "/sessions", "Create a session", "sittings", "Session", True, 201),
    ("post", "/sittings", "Plan a sitting", "sittings", "Sitting", True, 201),
    (
        "patch",
        "/sittings/{sitting_id}",
        "Set a sitting's place, chair and secretary (null clears one; a closed sitting's record "
        "is produced again)",
        "sittings",
        "SittingChange",
        True,
        200,
    ),
    ("post", "/sittings/{sitting_id}/open", "Open a sitting", "sittings", None, True, 200),
    ("post", "/sittings/{sitting_id}/close", "Close a sitting", "sittings", None, True, 200),
    (
        "post",
        "/sittings/{sitting_id}/agenda",
        "Add an agenda item",
        "agenda",
        "AgendaItem",
        True,
        201,
    ),
    (
        "put",
        "/sittings/{sitting_id}/agenda/order",
        "Reorder the agenda",
        "agenda",
        "AgendaOrder",
        True,
        200,
    ),
    (
        "patch",
        "/agenda-items/{item_id}",
        "Change an agenda item",
        "agenda",
        "AgendaItemChange",
        True,
        200,
    ),
    (
        "put",
        "/agenda-items/{item_id}/status",
        "Set an item's status",
        "agenda",
        "ItemStatus",
        True,
        200,
    ),
    (
        "post",
        "/sittings/{sitting_id}/registration/open",
        "Open a registration round",
        "registration",
        "RegistrationRound",
        True,
        200,
    ),
    (
        "post",
        "/sittings/{sitting_id}/registration/close",
        "Close the registration round",
        "registration",
        None,
        True,
        200,
    ),
    (
        "post",
        "/sittings/{sitting_id}/registration/continue",
        "Continue a registration round the servers' stop interrupted",
        "registration",
        None,
        True,
        200,
    ),
    (
        "post",
        "/sittings/{sitting_id}/register",
        "Register (a deputy: themselves)",
        "registration",
        "RegistrationTarget",
        True,
        200,
    ),
    (
        "post",
        "/sittings/{sitting_id}/unregister",
        "Leave (a deputy: themselves)",
        "registration",
        "RegistrationTarget",
        True,
        200,
    ),
    ("post", "/sittings/{sitting_id}/votes", "Open a vote", "votes", "VoteSpec", True, 201),
    (
        "post",
        "/sittings/{sitting_id}/manual-results",
        "Enter the counting commission's result",
        "votes",
        "ManualResult",
        True,
        201,
    ),
    (
        "post",
        "/votes/{vote_id}/choices",
        "Cast your own choice (deputies)",
        "votes",
        "Choice",
        True,
        200,
    ),
    ("post", "/votes/{vote_id}/close", "Close a vote and count it", "votes", None, True, 200),
    (
        "post",
        "/votes/{vote_id}/continue",
        "Continue a vote the servers' stop interrupted (every recorded choice stays)",
        "votes",
        None,
        True,
        200,
    ),
    (
        "post",
        "/votes/{vote_id}/revote",
        "Call a re-vote (with the same time limit unless one is given)",
        "votes",
        "Revote",
        True,
        201,
    ),
    (
        "post",
        "/votes/{vote_id}/annul",
        "Annul a vote with a reason",
        "votes",
        "Annulment",
        True,
        200,
    ),
    (
        "post",
        "/votes/{vote_id}/announce",
        "Announce a closed vote's result",
        "votes",
        None,
        True,
        200,
    ),
    ("get", "/journal", "Journal entries after a sequence number", "journal", None, True, 200),
    (
        "get",
        "/journal/verify",
        "Verify the journal (chain, codes, published anchors) and the record against it",
        "journal",
        None,
        True,
        200,
    ),
    ("post", "/tokens", "Issue a bearer token", "auth", "TokenRequest", True, 201),
    ("get", "/tokens", "The tokens issued (never the tokens themselves)", "auth", None, True, 200),
    ("delete", "/tokens/{token_id}", "Revoke a token (it then gets 401)", "auth", None, True, 200),
    *FLOOR_OPERATIONS,
    *ARCHIVE_OPERATIONS,
]

ERRORS = {
    "400": "Malformed request",
    "401": "No or bad token",
    "403": "The role does not allow it",
    "404": "Not found",
    "409": "The rules refuse it in the current state",
    "413": "Body too large",
    "422": "A field is invalid",
}
#: Extra error responses of single operations.
MORE_ERRORS = {
    "/login": {
        "429": "Too many sign-in attempts from this address, or for this account from it "
        "(too_many_attempts; Retry-After says how many seconds)"
    },
    "/login/card": {
        "429": "Too many sign-in attempts from this address (too_many_attempts), or too many "
        "wrong PINs for this card from it (card_locked; the card still works elsewhere); "
        "Retry-After says how many seconds"
    },
    "/votes/{vote_id}/close": {
        "503": "A secret ballot is counted by the server process that holds its key: the close "
        "was handed to it and it did not count the ballot within 5 s (owner_silent; look at the "
        "vote again, or try again)"
    },
}


#: A path as part of an operation id: /votes/{vote_id}/close -> votes_vote_id_close.
_OPERATION_ID = str.maketrans({"/": "_", "-": "_", ".": "_", "{": None, "}": None})


def openapi_document() -> dict[str, Any]:
    """Build the OpenAPI 3.0 document."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, tag, schema, token, status in OPERATIONS:
        params = [
            {
                "name": part[1:-1],
                "in": "path",
                "required": True,
                "schema": {"type": "string", "maxLength": 40}
                if part in ("{name}", "{production_id}")
                else ID,
            }
            for part in path.split("/")
            if part.startswith("{")
        ]
        if path == "/journal":
            params.append({"name": "after", "in": "query", "schema": {"type": "integer"}})
        if path == "/journal/verify":
            params.append(
                {
                    "name": "anchor",
                    "in": "query",
                    "description": "A published anchor SEQ:HASH the journal must still match",
                    "schema": {
                        "type": "array",
                        "maxItems": 1000,
                        "items": {
                            "type": "string",
                            "pattern": "^[1-9][0-9]{0,17}:[0-9a-fA-F]{64}$",
                        },
                    },
                    "style": "form",
                    "explode": True,
                }
            )
        if path.endswith("/speeches"):
            params.append(
                {
                    "name": "format",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["json", "csv"]},
                }
            )
        if path == "/archive/deputies/{deputy_id}":
            params += [  # empty, as the archive page's form sends a date left blank: no bound
                {
                    "name": name,
                    "in": "query",
                    "schema": {
                        "anyOf": [
                            {"type": "string", "format": "date"},
                            {"type": "string", "enum": [""]},
                        ]
                    },
                }
                for name in ("from", "to")
            ]
            params.append(
                {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}}
            )
        op: dict[str, Any] = {
            "summary": summary,
            "tags": [tag],
            "operationId": f"{method}_{path.strip('/').translate(_OPERATION_ID)}",
            "responses": {
                str(status): {
                    "description": "OK",
                    "content": {
                        "application/json": {"schema": {"type": "object"}},
                        **(
                            {"text/csv": {"schema": {"type": "string"}}}
                            if path.endswith("/speeches")
                            else {}
                        ),
                    },
                },
                **{
                    code: {
                        "description": text,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    }
                    for code, text in {**ERRORS, **MORE_ERRORS.get(path, {})}.items()
                },
            },
        }
        if params:
            op["parameters"] = params
        if schema:
            op["requestBody"] = {
                "required": schema
                not in {
                    "RegistrationRound",
                    "RegistrationTarget",
                    "Revote",
                    "VoteSpec",
                    "FloorRequest",
                    "SpeakerListState",
                    "Grant",
                    "AddedTime",
                    "ChairPriority",
                    "BroadcastStart",
                },
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
                },
            }
        if token:
            op["security"] = [{"bearer": []}]
        elif path == "/votes/{vote_id}":  # staff with a token see the protocol's fuller view
            op["security"] = [{}, {"bearer": []}]
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Council voting API",
            "version": "1",
            "description": "Run a council sitting: roster, agenda, registration and quorum, "
            "roll-call, open and secret votes, the floor (speaker list, speaking time, "
            "microphones, the archive of speeches). Public reads need no token.",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
