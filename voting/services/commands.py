"""Typed commands: every request that changes the record, parsed once, the same way at every door.

A door (the JSON API, the Socket.IO events, the CLI) turns what it received into one command with
`CommandType.parse(data, **address)`: `data` is the request's JSON object (a body, an event's
argument), `address` the values the door took from elsewhere (the URL's ids). Parsing refuses,
with `InvalidInput` naming the field: anything but an object, an unknown field, a missing
required field, a value of the wrong type, out of range, or not among the allowed values. What it
returns is typed; the use cases (`voting.services.*`) take it and check only what needs the
database or the rules (does the sitting exist, is there a quorum).

Each command names who may send it (`ROLES`); a door checks that with `authorize` before it reads
the body, and the use case checks it again. Before this module the two doors each checked part of
the input, with different messages and codes for the same mistake.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from datetime import date as Day
from enum import StrEnum
from typing import Any, ClassVar, Final, Self

from voting.domain.actors import PERSON_ROLES, PROCEDURE, Actor, Role
from voting.domain.agenda import ItemStatus
from voting.domain.errors import InvalidInput, PermissionDenied
from voting.domain.floor import SpeechType, checked_added_seconds, checked_microphone
from voting.domain.rules import PRESET_RULES, AdoptionRule, rule_from_spec
from voting.domain.votes import Choice, Stage, VoteKind, parse_enum

from . import validate


class _Missing:
    """A field the request did not send (unlike one sent as null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

#: A field's check: the value sent (or MISSING) and the field's name -> the typed value.
Check = Callable[[object, str], Any]


_REQUIRED: Final = object()


def arg(check: Check, default: object = _REQUIRED, derived: bool = False) -> Any:
    """A command field with its check. Without a default the field is required when a command
    is made directly (in code); `parse` always fills every field from the check. A `derived`
    field is not a field of the request: `check_together` sets it from what was sent."""
    metadata = {"check": check, "derived": derived}
    if default is _REQUIRED:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Command:
    """A request to change the record, its values checked and typed."""

    #: How the request is named in messages: "unknown field(s) for a vote: colour".
    WHAT: ClassVar[str] = "a request"
    #: Who may send it.
    ROLES: ClassVar[tuple[Role, ...]] = PROCEDURE

    @classmethod
    def authorize(cls, actor: Actor) -> None:
        """Refuse an actor whose role may not send this (before anything reads the body)."""
        actor.require(*cls.ROLES)

    @classmethod
    def parse(cls, data: object, **address: object) -> Self:
        """The command from a request's JSON object and the door's own values (see module)."""
        if not isinstance(data, Mapping):
            raise InvalidInput(f"{cls.WHAT} must be a JSON object")
        fields = [f for f in dataclasses.fields(cls) if not f.metadata["derived"]]
        allowed = {f.name for f in fields} - set(address)
        unknown = sorted(str(key) for key in data if key not in allowed)
        if unknown:
            raise InvalidInput(
                f"unknown field(s) for {cls.WHAT}: {', '.join(unknown)}", field=unknown[0]
            )
        values = {}
        for f in fields:
            raw = address[f.name] if f.name in address else data.get(f.name, MISSING)
            if raw is None:  # null is the same as not sent (a required field is then missing)
                raw = MISSING
            values[f.name] = f.metadata["check"](raw, f.name)
        cls.check_together(data, values)
        return cls(**values)

    @classmethod
    def check_together(cls, data: Mapping[str, object], values: dict[str, Any]) -> None:
        """Checks of one field against another (none by default)."""


# --- checks ------------------------------------------------------------------------------------


def record_id(what: str, required: bool = True) -> Check:
    """The id of a row (`what`: "sitting", "agenda item"): a whole number. Whether such a row
    exists is for the use case to say (not found)."""

    def check(value: object, name: str) -> int | None:
        if value is MISSING or value is None:
            if not required:
                return None
            value = None
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInput(f"{what} id must be a whole number, got {value!r}")
        return value

    return check


def whole(minimum: int = validate.INT_MIN, maximum: int = validate.INT_MAX) -> Check:
    """A whole number within bounds, which must be sent."""

    def check(value: object, name: str) -> int | None:
        return validate.integer(
            None if value is MISSING else value, name, minimum=minimum, maximum=maximum
        )

    return check


def optional_whole(minimum: int = 1, maximum: int = validate.INT_MAX) -> Check:
    """A whole number, or nothing (not sent, or null)."""

    def check(value: object, name: str) -> int | None:
        if value is MISSING:
            return None
        return validate.integer(value, name, minimum=minimum, maximum=maximum, required=False)

    return check


def text(limit: int = validate.SHORT, required: bool = True) -> Check:
    """Trimmed text of at most `limit` characters (an optional one may be empty: None)."""

    def check(value: object, name: str) -> str | None:
        return validate.text(
            None if value is MISSING else value, name, limit=limit, required=required
        )

    return check


def web_link(value: object, name: str) -> str | None:
    """An optional http(s) address (not sent, null or empty: None)."""
    return validate.link(None if value is MISSING else value, name)


def flag(absent: bool | None = None) -> Check:
    """true or false; `absent` when not sent or null."""

    def check(value: object, name: str) -> bool | None:
        if value is MISSING or value is None:
            return absent
        return validate.boolean(value, name)

    return check


def one_of(enum: type[Any], absent: object = None) -> Check:
    """A member of `enum` given by its value; `absent` when not sent (or null)."""

    def check(value: object, name: str) -> Any:
        if value is MISSING:
            return absent
        return parse_enum(enum, value, name)

    return check


def iso_date(required: bool = True) -> Check:
    """A date YYYY-MM-DD."""

    def check(value: object, name: str) -> Day | None:
        if not required and (value is MISSING or value is None):
            return None
        return validate.iso_date(None if value is MISSING else value, name)

    return check


def adoption_rule(value: object, name: str) -> AdoptionRule | None:
    """A preset rule's name or a custom rule {base, comparator, numerator, denominator}; None
    when not sent (the council's default applies)."""
    return None if value is MISSING else rule_from_spec(value)


def id_list(message: str, absent: tuple[int, ...] | None = None) -> Check:
    """A list of ids (whole numbers), or `message` as the error; `absent` when not sent (None:
    it must be sent)."""

    def check(value: object, name: str) -> tuple[int, ...]:
        if value is MISSING and absent is not None:
            return absent
        if not isinstance(value, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in value
        ):
            raise InvalidInput(message, field=name)
        return tuple(value)

    return check


def _unchecked(value: object, name: str) -> Any:
    """A field its command's own `parse` checks (the details of a patch)."""
    return value


# --- votes -------------------------------------------------------------------------------------


def _pad(value: object, name: str) -> str:
    # Spaces a terminal adds so that every cast is the same size on the wire, whatever the
    # choice: a secret choice must not show in the length of an encrypted frame.
    if value is MISSING:
        return ""
    if not isinstance(value, str) or len(value) > 16 or value.strip(" "):
        raise InvalidInput("pad must be at most 16 spaces", field=name)
    return value


def _choice(value: object, name: str) -> Choice:
    if value is MISSING:
        raise InvalidInput("choice is required: for, against or abstain", field=name)
    return parse_enum(Choice, value, name)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CastChoice(Command):
    """A deputy's choice in an open vote (always their own)."""

    WHAT = "a choice"
    ROLES = (Role.DEPUTY,)

    vote_id: int = arg(record_id("vote"))
    choice: Choice = arg(_choice)
    deputy_id: int | None = arg(optional_whole(), default=None)
    pad: str = arg(_pad, default="")

    @classmethod
    def authorize(cls, actor: Actor) -> None:
        if actor.role is not Role.DEPUTY or actor.deputy_id is None:
            raise PermissionDenied("only a deputy votes, and only for themselves")


def _time_limit(value: object, name: str) -> int | None:
    if value is MISSING:
        return None  # the council's default
    return validate.integer(value, name, minimum=0, maximum=validate.MAX_TIME_LIMIT)


@dataclasses.dataclass(frozen=True, kw_only=True)
class OpenVote(Command):
    """A vote on an agenda item, or on a procedural question (a title)."""

    WHAT = "a vote"

    sitting_id: int = arg(record_id("sitting"))
    item_id: int | None = arg(record_id("agenda item", required=False), default=None)
    title: str | None = arg(text(validate.LONG, required=False), default=None)
    stage: Stage | None = arg(one_of(Stage), default=None)
    kind: VoteKind = arg(one_of(VoteKind, absent=VoteKind.ROLL_CALL), default=VoteKind.ROLL_CALL)
    rule: AdoptionRule | None = arg(adoption_rule, default=None)
    time_limit_seconds: int | None = arg(_time_limit, default=None)
    allow_change: bool | None = arg(flag(), default=None)
    #: Whether the request named allow_change at all (even as null: the council's default).
    allow_change_sent: bool = arg(_unchecked, default=False, derived=True)
    override_quorum: bool = arg(flag(absent=False), default=False)

    @classmethod
    def check_together(cls, data: Mapping[str, object], values: dict[str, Any]) -> None:
        values["allow_change_sent"] = "allow_change" in data


@dataclasses.dataclass(frozen=True, kw_only=True)
class Revote(Command):
    """The same question put again, linked to the vote before."""

    WHAT = "a re-vote"

    vote_id: int = arg(record_id("vote"))
    time_limit_seconds: int | None = arg(_time_limit, default=None)
    override_quorum: bool = arg(flag(absent=False), default=False)


#: The most votes a counting commission may report for one choice.
MAX_MANUAL_COUNT = 10_000


def _manual_choices(value: object, name: str) -> dict[int, Choice] | None:
    if value is MISSING:
        return None
    if not isinstance(value, Mapping):
        raise InvalidInput("choices must map deputy ids to for, against or abstain", field=name)
    out: dict[int, Choice] = {}
    for key, choice in value.items():
        try:
            deputy_id = int(key)
        except (TypeError, ValueError):
            raise InvalidInput(f"choices: {key!r} is not a deputy id", field=name) from None
        out[deputy_id] = parse_enum(Choice, choice, f"choices.{deputy_id}")
    return out


def _manual_counts(value: object, name: str) -> dict[str, int] | None:
    if value is MISSING:
        return None
    counts = validate.only_fields(
        value if value is not None else {}, {c.value for c in Choice}, "counts"
    )
    out: dict[str, int] = {}
    for choice in Choice:
        count = validate.integer(
            counts.get(choice.value, 0),
            f"counts.{choice.value}",
            minimum=0,
            maximum=MAX_MANUAL_COUNT,
        )
        assert count is not None
        out[choice.value] = count
    return out


@dataclasses.dataclass(frozen=True, kw_only=True)
class ManualResult(Command):
    """A counting commission's result, when the electronic system fails: per deputy (`choices`)
    for a roll-call or open vote, counts only for a secret ballot."""

    WHAT = "a manual result"

    sitting_id: int = arg(record_id("sitting"))
    item_id: int | None = arg(record_id("agenda item", required=False), default=None)
    title: str | None = arg(text(validate.LONG, required=False), default=None)
    stage: Stage | None = arg(one_of(Stage), default=None)
    kind: VoteKind = arg(one_of(VoteKind, absent=VoteKind.ROLL_CALL), default=VoteKind.ROLL_CALL)
    rule: AdoptionRule | None = arg(adoption_rule, default=None)
    choices: dict[int, Choice] | None = arg(_manual_choices, default=None)
    counts: dict[str, int] | None = arg(_manual_counts, default=None)
    previous_vote_id: int | None = arg(record_id("vote", required=False), default=None)
    note: str | None = arg(text(2000, required=False), default=None)

    @classmethod
    def check_together(cls, data: Mapping[str, object], values: dict[str, Any]) -> None:
        if values["kind"] is VoteKind.SECRET:
            if "choices" in data:
                raise InvalidInput("a secret ballot is entered as counts only", field="choices")
        elif "counts" in data:
            raise InvalidInput(
                "a roll-call or open vote is entered deputy by deputy (choices)", field="counts"
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnnulVote(Command):
    """A vote annulled, with the reason: kept, marked, no longer deciding its item."""

    WHAT = "an annulment"

    vote_id: int = arg(record_id("vote"))
    reason: str = arg(text(2000))


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnnounceResult(Command):
    """The chair announces a closed vote's result."""

    WHAT = "an announcement"

    vote_id: int = arg(record_id("vote"))


# --- registration ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class OpenRegistration(Command):
    """A new registration round; `carry_over` keeps those registered in the last one."""

    WHAT = "a registration round"

    sitting_id: int = arg(record_id("sitting"))
    carry_over: bool = arg(flag(absent=False), default=False)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Register(Command):
    """A deputy registers (themselves; the secretary or chair may name any deputy)."""

    WHAT = "a registration"
    ROLES = (Role.DEPUTY, *PROCEDURE)

    sitting_id: int = arg(record_id("sitting"))
    deputy_id: int | None = arg(optional_whole(), default=None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Leave(Register):
    """A deputy leaves the hall (or the secretary or chair marks them as having left)."""


# --- sittings and the agenda -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class CreateConvocation(Command):
    WHAT = "a convocation"
    ROLES = (Role.SECRETARY,)

    number: int = arg(whole(minimum=1, maximum=100))
    label: str = arg(text(100))
    date_from: Day = arg(iso_date())
    date_until: Day | None = arg(iso_date(required=False), default=None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CreateSession(Command):
    WHAT = "a session"
    ROLES = (Role.SECRETARY,)

    convocation_id: int = arg(record_id("convocation"))
    number: int = arg(whole(minimum=1, maximum=10_000))
    title: str | None = arg(text(required=False), default=None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CreateSitting(Command):
    """A plenary sitting of a session, or a sitting of a standing committee (`body_id`)."""

    WHAT = "a sitting"
    ROLES = (Role.SECRETARY,)

    date: Day = arg(iso_date())
    title: str | None = arg(text(required=False), default=None)
    session_id: int | None = arg(record_id("session", required=False), default=None)
    body_id: int | None = arg(record_id("body", required=False), default=None)
    #: Where it is held (not given: the council's usual place), who chairs it and who keeps its
    #: record (deputies' ids, the head's included).
    place: str | None = arg(text(required=False), default=None)
    chair_id: int | None = arg(optional_whole(), default=None)
    secretary_id: int | None = arg(optional_whole(), default=None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AddItem(Command):
    """A question added to the agenda, at the end or at `position` (1-based)."""

    WHAT = "an agenda item"
    ROLES = (Role.SECRETARY,)

    sitting_id: int = arg(record_id("sitting"))
    title: str = arg(text(validate.LONG))
    draft_number: str | None = arg(text(40, required=False), default=None)
    rapporteur: str | None = arg(text(required=False), default=None)
    position: int | None = arg(optional_whole(), default=None)
    document_url: str | None = arg(web_link, default=None)


ITEM_CHANGES = {"title", "draft_number", "rapporteur", "document_url"}


def _item_changes(data: Mapping[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    if "title" in data:
        out["title"] = validate.text(data["title"], "title", limit=validate.LONG)
    if "draft_number" in data:
        out["draft_number"] = validate.text(
            data["draft_number"], "draft_number", limit=40, required=False
        )
    if "rapporteur" in data:
        out["rapporteur"] = validate.text(data["rapporteur"], "rapporteur", required=False)
    if "document_url" in data:
        out["document_url"] = validate.link(data["document_url"], "document_url")
    return out


class _Patch(Command):
    """A command whose body is checked as a whole by `from_body` (a patch of details: only what
    is sent changes); its other fields come from the door's address."""

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> dict[str, Any]:
        """The command's values read from the body."""
        raise NotImplementedError

    @classmethod
    def parse(cls, data: object, **address: object) -> Self:
        if not isinstance(data, Mapping):
            raise InvalidInput(f"{cls.WHAT} must be a JSON object")
        values = cls.from_body(data)
        for f in dataclasses.fields(cls):
            if f.name not in values:
                values[f.name] = f.metadata["check"](address.get(f.name, MISSING), f.name)
        return cls(**values)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChangeItem(_Patch):
    """An agenda item's title, draft number or rapporteur changed (only those sent)."""

    WHAT = "an agenda item"
    ROLES = (Role.SECRETARY,)

    item_id: int = arg(record_id("agenda item"))
    changes: dict[str, object] = arg(_unchecked)

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> dict[str, Any]:
        checked = validate.only_fields(dict(body), ITEM_CHANGES, cls.WHAT)
        return {"changes": _item_changes(checked)}


SITTING_DETAILS = {"place", "chair_id", "secretary_id"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChangeSitting(_Patch):
    """A sitting's place, chair or secretary changed (only those sent; null clears one)."""

    WHAT = "sitting details"
    ROLES = (Role.SECRETARY,)

    sitting_id: int = arg(record_id("sitting"))
    changes: dict[str, object] = arg(_unchecked)

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> dict[str, Any]:
        checked = validate.only_fields(dict(body), SITTING_DETAILS, cls.WHAT)
        if not checked:
            raise InvalidInput(
                f"nothing to change: send one or more of {', '.join(sorted(SITTING_DETAILS))}"
            )
        changes: dict[str, object] = {}
        if "place" in checked:
            changes["place"] = validate.text(checked["place"], "place", required=False)
        for key in ("chair_id", "secretary_id"):
            if key in checked:
                changes[key] = validate.integer(
                    checked[key], key, minimum=1, maximum=validate.INT_MAX, required=False
                )
        return {"changes": changes}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReorderAgenda(Command):
    WHAT = "an agenda order"

    sitting_id: int = arg(record_id("sitting"))
    order: tuple[int, ...] = arg(id_list("order must be a list of agenda item ids"))


def _status(value: object, name: str) -> ItemStatus:
    return parse_enum(ItemStatus, None if value is MISSING else value, name)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetItemStatus(Command):
    """An item withdrawn, postponed, or back to consideration (adopted comes from a vote)."""

    WHAT = "an item status"

    item_id: int = arg(record_id("agenda item"))
    status: ItemStatus = arg(_status)


# --- the floor ---------------------------------------------------------------------------------


def _speech_type(value: object, name: str) -> SpeechType:
    if value is MISSING or value is None:
        return SpeechType.SPEECH  # the console's speak key asks for a debate speech
    return parse_enum(SpeechType, value, name)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RequestFloor(Command):
    """A request for the floor: a deputy's own, or one the chair or secretary adds for any
    deputy (`deputy_id`) or for an invited speaker (`invited_name` and `invited_position`)."""

    WHAT = "a request for the floor"
    ROLES = (Role.DEPUTY, *PROCEDURE)

    sitting_id: int = arg(record_id("sitting"))
    type: SpeechType = arg(_speech_type, default=SpeechType.SPEECH)
    deputy_id: int | None = arg(optional_whole(), default=None)
    invited_name: str | None = arg(text(required=False), default=None)
    invited_position: str | None = arg(text(required=False), default=None)

    @classmethod
    def check_together(cls, data: Mapping[str, object], values: dict[str, Any]) -> None:
        if values["invited_name"] is not None and values["deputy_id"] is not None:
            raise InvalidInput(
                "a request is for a deputy (deputy_id) or an invited speaker (invited_name), "
                "not both",
                field="invited_name",
            )
        if values["invited_position"] is not None and values["invited_name"] is None:
            raise InvalidInput("invited_position goes with invited_name", field="invited_position")


@dataclasses.dataclass(frozen=True, kw_only=True)
class WithdrawRequest(Command):
    """A waiting request withdrawn by its deputy, or removed by the chair or secretary."""

    WHAT = "a withdrawal"
    ROLES = (Role.DEPUTY, *PROCEDURE)

    request_id: int = arg(record_id("request"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class OrderSpeakers(Command):
    """The chair's own order of the waiting requests (every one of them, first to last)."""

    WHAT = "an order of speakers"

    sitting_id: int = arg(record_id("sitting"))
    order: tuple[int, ...] = arg(id_list("order must be a list of request ids"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class CloseSpeakerList(Command):
    """The speaker list closed to new requests (`closed` false opens it again)."""

    WHAT = "a speaker list"

    sitting_id: int = arg(record_id("sitting"))
    closed: bool = arg(flag(absent=True), default=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReaddLastSpeaker(Command):
    """The last speaker back at the head of the list."""

    WHAT = "a speaker re-added"

    sitting_id: int = arg(record_id("sitting"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class GrantFloor(Command):
    """The floor to the next in the list, or to the waiting request `request_id`."""

    WHAT = "a grant of the floor"

    sitting_id: int = arg(record_id("sitting"))
    request_id: int | None = arg(record_id("request", required=False), default=None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SpeechAction(Command):
    """Pause, resume or end a speech."""

    WHAT = "a speech"

    speech_id: int = arg(record_id("speech"))


def _added_seconds(value: object, name: str) -> int:
    if value is MISSING:
        return 60  # the +1 min key
    seconds = validate.integer(value, name, minimum=validate.INT_MIN, maximum=validate.INT_MAX)
    assert seconds is not None
    return checked_added_seconds(seconds)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AddSpeakingTime(Command):
    """More time for a speech (a minute unless `seconds` says otherwise)."""

    WHAT = "added speaking time"

    speech_id: int = arg(record_id("speech"))
    seconds: int = arg(_added_seconds, default=60)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExtendFactionBudgets(Command):
    """Every faction's time on the item raised by the largest overrun so far."""

    WHAT = "faction time"

    sitting_id: int = arg(record_id("sitting"))


def _microphone(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput('microphone must be "chair", "tribune" or "deputy:<id>"', field=name)
    return checked_microphone(value)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SwitchMicrophone(Command):
    """A microphone switched on or off by hand."""

    WHAT = "a microphone switch"

    microphone: str = arg(_microphone)
    on: bool = arg(flag())

    @classmethod
    def check_together(cls, data: Mapping[str, object], values: dict[str, Any]) -> None:
        if values["on"] is None:
            raise InvalidInput("on is required: true or false", field="on")


class ChairPriorityMode(StrEnum):
    HOLD = "hold"  # the others off while the key is held
    RELEASE = "release"  # the key let go: those it silenced come back on
    MUTE_ALL = "mute_all"  # the others off for good


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChairPriority(Command):
    """The chair's priority key."""

    WHAT = "the chair's priority"

    mode: ChairPriorityMode = arg(
        one_of(ChairPriorityMode, absent=ChairPriorityMode.HOLD), default=ChairPriorityMode.HOLD
    )


def _moment(value: object, name: str) -> datetime | None:
    if value is MISSING or value is None:
        return None  # now
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidInput(f"{name} must be a date and time (ISO 8601)", field=name)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a date and time (ISO 8601), got {value!r}") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{name} must name its time zone (e.g. +02:00 or Z)", field=name)
    if not 2000 <= moment.year <= 2200 or not 2000 <= moment.astimezone(UTC).year <= 2200:
        raise InvalidInput(f"{name} must be in the years 2000-2200, got {value!r}", field=name)
    return moment.astimezone(UTC)


@dataclasses.dataclass(frozen=True, kw_only=True)
class MarkBroadcastStart(Command):
    """When the sitting's broadcast started (now unless `started_at` is given)."""

    WHAT = "a broadcast start"

    sitting_id: int = arg(record_id("sitting"))
    started_at: datetime | None = arg(_moment, default=None)


# --- the council and its roster ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class AddCommittee(Command):
    """A standing committee with some deputies as members."""

    WHAT = "a committee"
    ROLES = (Role.SECRETARY,)

    name: str = arg(text())
    members: tuple[int, ...] = arg(
        id_list("members must be a list of deputy ids", absent=()), default=()
    )


#: Codes of the council: ЄДРПОУ (8 digits) and КАТОТТГ ("UA" and 17 digits).
CODES = {
    "edrpou": (re.compile(r"[0-9]{8}"), "8 digits"),
    "katottg": (re.compile(r"UA[0-9]{17}"), '"UA" followed by 17 digits'),
}

#: Council settings: kind and bounds of each (the [council] and [rules] sections of config.toml
#: seed them; PATCH /api/v1/council changes them).
SETTINGS: dict[str, tuple[str, tuple[int, int] | None]] = {
    "name": ("text", None),
    "edrpou": ("text", None),
    "katottg": ("text", None),
    "place": ("optional_text", None),
    "statutory_deputies": ("int", (1, 1000)),
    "head_votes": ("bool", None),
    "quorum_numerator": ("int", (1, 100)),
    "quorum_denominator": ("int", (1, 100)),
    "quorum_counts_head": ("bool", None),
    "default_rule": ("rule", None),
    "revote_limit": ("int", (0, 20)),
    "default_time_limit_seconds": ("int", (0, validate.MAX_TIME_LIMIT)),
    "allow_change_choice": ("bool", None),
    "registration_required_to_vote": ("bool", None),
    "show_running_split": ("bool", None),
}


def checked_settings(settings: Mapping[str, object], creating: bool = False) -> dict[str, object]:
    """Council settings, each checked by its kind and bounds (the codes by their shape)."""
    values = validate.only_fields(dict(settings), set(SETTINGS), "council settings")
    checked: dict[str, object] = {}
    for key, value in values.items():
        kind, bounds = SETTINGS[key]
        if kind == "text":
            checked[key] = validate.text(value, key)
            if key in CODES:
                pattern, shape = CODES[key]
                if not pattern.fullmatch(str(checked[key])):
                    raise InvalidInput(f"{key} must be {shape}, got {checked[key]!r}", field=key)
        elif kind == "optional_text":
            checked[key] = validate.text(value, key, required=False)
        elif kind == "int":
            assert bounds is not None
            checked[key] = validate.integer(value, key, minimum=bounds[0], maximum=bounds[1])
        elif kind == "bool":
            checked[key] = validate.boolean(value, key)
        elif kind == "rule":
            if not isinstance(value, str) or value not in PRESET_RULES:
                raise InvalidInput(
                    f"default_rule must be one of {', '.join(PRESET_RULES)}", field=key
                )
            checked[key] = value
    if creating:
        for key in ("name", "edrpou", "katottg", "statutory_deputies"):
            if key not in checked:
                raise InvalidInput(f"{key} is required", field=key)
    num, den = checked.get("quorum_numerator"), checked.get("quorum_denominator")
    if isinstance(num, int) and isinstance(den, int):
        check_quorum_fraction(num, den)
    return checked


def check_quorum_fraction(numerator: int, denominator: int) -> None:
    """The quorum is "more than numerator/denominator": it must be less than the whole."""
    if numerator >= denominator:
        raise InvalidInput(
            f"the quorum is more than {numerator}/{denominator} of the total composition, which "
            "can never be reached; quorum_numerator must be smaller than quorum_denominator",
            field="quorum_numerator",
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChangeSettings(_Patch):
    """Council settings changed (only those sent); the journal keeps the old and new values."""

    WHAT = "council settings"
    ROLES = (Role.SECRETARY,)

    changes: dict[str, object] = arg(_unchecked)

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> dict[str, Any]:
        return {"changes": checked_settings(body)}


DEPUTY_FIELDS = {
    "full_name",
    "short_name",
    "faction",
    "voting_identifier",
    "external_id",
    "card_uid",
    "seat_number",
    "is_head",
    "active",
    "committees",
    "email",
    "telephone",
}


#: The longest short name a deputy may have (its column's length).
SHORT_NAME_LIMIT = 120


def short_name_of(full_name: str) -> str:
    """ "Прізвище Ім'я По батькові" → "Прізвище І. П."; InvalidInput when the surname alone is
    longer than a short name may be (then short_name must be given)."""
    parts = full_name.split()
    short = " ".join(parts[:1] + [f"{p[0]}." for p in parts[1:3]]) if parts else full_name
    if len(short) > SHORT_NAME_LIMIT:
        raise InvalidInput(
            f"the short name made from full_name would be {len(short)} characters long; at most "
            f"{SHORT_NAME_LIMIT} are allowed: give short_name as well",
            field="full_name",
        )
    return short


def checked_deputy(data: Mapping[str, object], creating: bool) -> dict[str, object]:
    """A deputy's details (a new deputy's, or only those sent to change one)."""
    data = validate.only_fields(dict(data), DEPUTY_FIELDS, "a deputy")
    out: dict[str, object] = {}
    for key in ("full_name", "short_name"):
        if key in data or creating:
            out[key] = validate.text(
                data.get(key),
                key,
                limit=300 if key == "full_name" else SHORT_NAME_LIMIT,
                required=key == "full_name",
            )
    for key in ("faction", "voting_identifier", "external_id"):
        if key in data:
            out[key] = validate.text(
                data[key], key, limit=64 if key != "faction" else 300, required=False
            )
    if "card_uid" in data:
        out["card_uid"] = card_uid_text(required=False)(data["card_uid"], "card_uid")
    for key, limit in (("email", 300), ("telephone", 100)):  # public contacts (open data)
        if key in data:
            out[key] = validate.text(data[key], key, limit=limit, required=False)
    if "seat_number" in data:
        out["seat_number"] = validate.integer(
            data["seat_number"], "seat_number", minimum=1, maximum=10_000, required=False
        )
    for key in ("is_head", "active"):
        if key in data:
            out[key] = validate.boolean(data[key], key)
    if "committees" in data:
        committees = data["committees"]
        if not isinstance(committees, list) or not all(isinstance(c, int) for c in committees):
            raise InvalidInput("committees must be a list of committee ids", field="committees")
        out["committees"] = committees
    if creating and not out.get("short_name"):
        out["short_name"] = short_name_of(str(out["full_name"]))
    return out


@dataclasses.dataclass(frozen=True, kw_only=True)
class AddDeputy(_Patch):
    """A deputy (or the head, with is_head) added to the roster."""

    WHAT = "a deputy"
    ROLES = (Role.SECRETARY,)

    details: dict[str, object] = arg(_unchecked)

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> dict[str, Any]:
        # a new deputy: null is the same as not sent, as for every other new record
        sent = {key: value for key, value in body.items() if value is not None}
        return {"details": checked_deputy(sent, creating=True)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChangeDeputy(_Patch):
    """A deputy's details changed (only those sent); `active: false` leaves the seat vacant.
    `pin` (write-only: never shown) gives the deputy a new PIN for their card."""

    WHAT = "a deputy"
    ROLES = (Role.SECRETARY,)

    deputy_id: int = arg(record_id("deputy"))
    changes: dict[str, object] = arg(_unchecked)
    pin: str | None = arg(_unchecked, default=None)

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> dict[str, Any]:
        details = dict(body)
        pin = pin_value(details.pop("pin")) if "pin" in details else None  # checked first
        checked = checked_deputy(details, creating=False) if details or pin is None else {}
        return {"changes": checked, "pin": pin}


# --- signing in, logins and tokens -------------------------------------------------------------


class _Anyone(Command):
    """A request anyone may send, without a token (signing in)."""

    ROLES = PERSON_ROLES

    @classmethod
    def authorize(cls, actor: Actor) -> None:
        """No token is needed to sign in."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class SignIn(_Anyone):
    """A username and password (a login's token follows)."""

    WHAT = "a login"

    username: str = arg(text(80))
    password: str = arg(text(200))


PIN_PATTERN = re.compile(r"[0-9]{4,8}")


#: What may stand between a card UID's digits as people and readers write it: "04:A1:B2",
#: "04-a1-b2", "04 A1 B2" are one card, 04A1B2.
_UID_SEPARATORS = re.compile(r"[\s:\-]")


def normal_card_uid(uid: str) -> str:
    """A card UID as it is kept and compared: no separators, capital letters."""
    return _UID_SEPARATORS.sub("", uid).upper()


def card_uid_text(required: bool) -> Check:
    """A card's UID as a person types it (up to 64 characters), kept in its normal form."""

    def check(value: object, name: str) -> str | None:
        given = validate.text(
            None if value is MISSING else value, name, limit=64, required=required
        )
        if given is None:
            return None
        uid = normal_card_uid(given)
        if not uid:
            raise InvalidInput(f"{name} has no characters but separators", field=name)
        return uid

    return check


def pin_value(value: object, field: str = "pin") -> str:
    """A PIN: text of 4 to 8 digits. The message never repeats what was given."""
    if value is MISSING or value is None or value == "":
        raise InvalidInput(f"{field} is required: 4 to 8 digits", field=field)
    if not isinstance(value, str):
        raise InvalidInput(
            f"{field} must be text of 4 to 8 digits, got {type(value).__name__}", field=field
        )
    if not PIN_PATTERN.fullmatch(value):
        raise InvalidInput(f"{field} must be 4 to 8 digits (0-9), nothing else", field=field)
    return value


@dataclasses.dataclass(frozen=True, kw_only=True)
class SignInWithCard(_Anyone):
    """A deputy at a terminal: the card's UID and the PIN."""

    WHAT = "a card login"

    card_uid: str = arg(card_uid_text(required=True))
    pin: str = arg(pin_value)


def person_role(value: object, name: str = "role") -> Role:
    """A role a person signs in with (a token's, a login's); the system's is not one."""
    for role in PERSON_ROLES:
        if role.value == value:
            return role
    roles = ", ".join(PERSON_ROLES)
    raise InvalidInput(f"role must be one of {roles}; got {value!r}", field="role")


@dataclasses.dataclass(frozen=True, kw_only=True)
class CreateToken(Command):
    """A bearer token for a role (a deputy's acts only as that deputy)."""

    WHAT = "a token"
    ROLES = (Role.SECRETARY, Role.SYSTEM)

    role: Role = arg(person_role)
    deputy_id: int | None = arg(record_id("deputy", required=False), default=None)
    label: str | None = arg(text(200, required=False), default=None)


# --- the seat consoles (sent by the console gateway) -------------------------------------------

#: A card's UID as the gateway sends it: the 4, 7 or 10 bytes in hexadecimal.
_CARD_UID = re.compile(r"[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20}")


class ConsoleKey(StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"
    SPEAK = "speak"


def _card_uid(value: object, name: str) -> str:
    if not isinstance(value, str) or not _CARD_UID.fullmatch(value):
        raise InvalidInput(f"{name} must be a card UID of 4, 7 or 10 bytes in hex", field=name)
    return value.upper()


def _console_key(value: object, name: str) -> ConsoleKey:
    return parse_enum(ConsoleKey, value, name)


_SEAT = whole(1, 9999)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConsoleCard(Command):
    """A card put into a seat's console (`uid`), or taken out (`uid` null)."""

    WHAT = "a console's card"
    ROLES = (Role.CONSOLE_GATEWAY,)

    seat: int = arg(_SEAT)
    uid: str | None = arg(lambda v, n: None if v in (MISSING, None) else _card_uid(v, n))


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConsolePress(Command):
    """A key of a seat's console went down (`held_ms` null) or came up after `held_ms`."""

    WHAT = "a console's key"
    ROLES = (Role.CONSOLE_GATEWAY,)

    seat: int = arg(_SEAT)
    key: ConsoleKey = arg(_console_key)
    held_ms: int | None = arg(optional_whole(0, 65535), default=None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConsoleHealth(Command):
    """Whether a seat's console answers on its bus, and the faults it reports."""

    WHAT = "a console's health"
    ROLES = (Role.CONSOLE_GATEWAY,)

    seat: int = arg(_SEAT)
    online: bool = arg(lambda v, n: validate.boolean(None if v is MISSING else v, n))
    faults: int = arg(lambda v, n: 0 if v is MISSING else whole(0, 255)(v, n), default=0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResolveSeatAlarm(Command):
    """The secretary settles an alarm (one card in two seats): `seat` keeps the card, every
    other seat that holds it is emptied and must have the card put in again."""

    WHAT = "the resolution of a seat alarm"

    seat: int = arg(_SEAT)
