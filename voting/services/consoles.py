"""Use cases of the seat consoles: a card in a seat, a key pressed, a console's health, and the
secretary's settling of a seat alarm; and what every console shows (its lights and text line).

The console gateway (hardware/gateway.py) reports what happened at a seat; it never names a
deputy. The deputy is the one whose card sits in the seat, and what they may do is decided here
and by the same services every other door uses (registration, casting, the floor), acting as
that deputy. Against proxy button-pressing (кнопкодавство): a key counts only from a seat that
holds the card of a deputy registered in the current round; one card in two seats raises an
alarm and neither seat may vote until the secretary settles it; a card taken out during a vote
blocks the seat for the rest of that vote. Every step is journaled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from voting.adapters import orm
from voting.domain.actors import Actor, Role
from voting.domain.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from voting.domain.floor import FloorRules
from voting.domain.votes import Choice, VoteKind, VoteState

from . import casting, floor, queries
from .commands import (
    CastChoice,
    ConsoleCard,
    ConsoleHealth,
    ConsoleKey,
    ConsolePress,
    Leave,
    Register,
    RequestFloor,
    ResolveSeatAlarm,
    WithdrawRequest,
)
from .council import card_uid_is
from .registration import register, registered_ids, unregister
from .uow import UnitOfWork


@dataclass(frozen=True)
class ConsoleRules:
    """The settings of config.toml's [consoles] that decide what a console may do."""

    register_on_card: bool = True
    deregister_on_card_removal: bool = False
    hold_to_vote_ms: int = 0


class SeatRefused(PermissionDenied):
    """A key or card at a seat that may not act now: the console shows it locked."""

    code = "seat_refused"


def seat_actor(seat: int, deputy_id: int) -> Actor:
    """The deputy as they act through their seat's console (the journal names the seat)."""
    return Actor(Role.DEPUTY, f"deputy:{deputy_id}@seat:{seat}", deputy_id)


def _seat(uow: UnitOfWork, seat: int, lock: bool = False) -> orm.ConsoleSeat:
    row = uow.session.get(orm.ConsoleSeat, seat, with_for_update=lock)
    if row is None:
        row = orm.ConsoleSeat(seat_number=seat, port="", address=0, online=False, faults=0)
        row.alarm = False
        uow.session.add(row)
        uow.session.flush()
    return row


def declare_seats(
    uow: UnitOfWork, actor: Actor, seats: dict[int, tuple[str, int]]
) -> list[dict[str, object]]:
    """The gateway's seat map (seat -> port and address): a row for every seat it serves."""
    actor.require(Role.CONSOLE_GATEWAY)
    with uow:
        for seat, (port, address) in sorted(seats.items()):
            row = _seat(uow, seat, lock=True)
            row.port, row.address = port[:300], address
        uow.commit()
    return consoles_state(uow)


def card_changed(
    uow: UnitOfWork, actor: Actor, command: ConsoleCard, rules: ConsoleRules
) -> dict[str, object]:
    """A card put into a seat (or taken out): who sits there, alarms, and registration."""
    command.authorize(actor)
    if command.uid is None:
        return _card_removed(uow, actor, command.seat, rules)
    with uow:
        row = _seat(uow, command.seat, lock=True)
        deputy = uow.session.scalars(
            select(orm.Deputy).where(card_uid_is(command.uid), orm.Deputy.active.is_(True))
        ).first()
        row.card_uid, row.card_since = command.uid, uow.now()
        row.deputy_id = None if deputy is None else deputy.id
        if row.blocked_vote_id != _open_vote(uow):  # blocked only for the vote it left in
            row.blocked_vote_id = None
        payload: dict[str, object] = {
            "seat": command.seat,
            "deputy_id": row.deputy_id,
            "known_card": deputy is not None,
        }
        uow.journal(actor, "console_card_inserted", payload)
        twins: list[orm.ConsoleSeat] = []
        if deputy is not None:
            twins = list(
                uow.session.scalars(
                    select(orm.ConsoleSeat).where(
                        orm.ConsoleSeat.deputy_id == deputy.id,
                        orm.ConsoleSeat.seat_number != command.seat,
                    )
                )
            )
        if twins:
            for seat_row in [row, *twins]:
                seat_row.alarm = True
            seats = sorted(s.seat_number for s in [row, *twins])
            uow.journal(actor, "console_alarm", {"deputy_id": row.deputy_id, "seats": seats})
        sitting = _live_sitting_id(uow)
        uow.commit()
        deputy_id, alarm = row.deputy_id, row.alarm
    answer: dict[str, object] = {"seat": command.seat, "deputy_id": deputy_id, "alarm": alarm}
    if deputy_id is None:
        raise SeatRefused(f"the card in seat {command.seat} belongs to no deputy of the council")
    if rules.register_on_card and not alarm:
        answer["registered"] = _register_if_open(uow, command.seat, deputy_id, sitting)
    return answer


def _register_if_open(uow: UnitOfWork, seat: int, deputy_id: int, sitting: int | None) -> bool:
    if sitting is None:
        return False
    try:
        register(uow, seat_actor(seat, deputy_id), Register(sitting_id=sitting))
    except DomainError:  # no round open, already registered: the card is still in its seat
        return False
    return True


def _card_removed(
    uow: UnitOfWork, actor: Actor, seat: int, rules: ConsoleRules
) -> dict[str, object]:
    with uow:
        row = _seat(uow, seat, lock=True)
        deputy_id, vote_id = row.deputy_id, _open_vote(uow)
        row.card_uid = row.deputy_id = row.card_since = None
        row.blocked_vote_id = vote_id
        was_alarm, row.alarm = row.alarm, False
        if was_alarm and deputy_id is not None:
            _clear_lone_alarm(uow, deputy_id)
        uow.journal(
            actor,
            "console_card_removed",
            {"seat": seat, "deputy_id": deputy_id, "blocked_vote_id": vote_id},
        )
        sitting = _live_sitting_id(uow)
        uow.commit()
    answer: dict[str, object] = {"seat": seat, "deputy_id": deputy_id, "blocked": vote_id}
    if rules.deregister_on_card_removal and deputy_id is not None and sitting is not None:
        try:
            unregister(uow, seat_actor(seat, deputy_id), Leave(sitting_id=sitting))
            answer["deregistered"] = True
        except DomainError:
            answer["deregistered"] = False
    return answer


def _clear_lone_alarm(uow: UnitOfWork, deputy_id: int) -> None:
    """The card left one of two seats: the other seat alone holds it now, no more alarm."""
    rest = list(
        uow.session.scalars(
            select(orm.ConsoleSeat).where(
                orm.ConsoleSeat.deputy_id == deputy_id, orm.ConsoleSeat.alarm.is_(True)
            )
        )
    )
    if len(rest) == 1:
        rest[0].alarm = False


def key_pressed(
    uow: UnitOfWork,
    actor: Actor,
    command: ConsolePress,
    rules: ConsoleRules,
    floor_rules: FloorRules,
) -> dict[str, object]:
    """A vote key or the speak key at a seat: acts for the deputy whose card sits there."""
    command.authorize(actor)
    choice = None if command.key is ConsoleKey.SPEAK else Choice(command.key.value)
    counts_on_release = choice is not None and rules.hold_to_vote_ms > 0
    if (command.held_ms is not None) != counts_on_release:
        return {"seat": command.seat, "ignored": True}  # the other edge of the key is the one
    if counts_on_release and (command.held_ms or 0) < rules.hold_to_vote_ms:
        raise SeatRefused(
            f"hold the key for {rules.hold_to_vote_ms} ms to vote (held {command.held_ms} ms)"
        )
    reader = uow.reader()  # reads only: no transaction to begin and end on PostgreSQL
    with reader:
        sitting_row, vote_id = queries.live_sitting_and_vote(reader)
        sitting = None if sitting_row is None else sitting_row.id
        deputy_id, blocked_vote_id = _seat_deputy(reader, command.seat, sitting)
        if choice is not None and vote_id is None:
            raise SeatRefused("no vote is open")
        if choice is not None and blocked_vote_id == vote_id:
            raise SeatRefused(
                f"the card left seat {command.seat} during this vote: the seat is blocked"
            )
    who = seat_actor(command.seat, deputy_id)
    if choice is not None:
        assert vote_id is not None
        answer = casting.cast_choice(uow, who, CastChoice(vote_id=vote_id, choice=choice))
        return {"seat": command.seat, **answer}
    assert sitting is not None
    return {"seat": command.seat, **_toggle_request(uow, who, sitting, floor_rules)}


def _seat_deputy(uow: UnitOfWork, seat: int, sitting: int | None) -> tuple[int, int | None]:
    """The deputy who may act from this seat now and the vote the seat is blocked for, or
    SeatRefused saying why not: the seat, its card and the deputy's registration in the
    sitting's newest round, in one read."""
    newest = (
        select(orm.RegistrationRound.id)
        .where(orm.RegistrationRound.sitting_id == sitting)
        .order_by(orm.RegistrationRound.number.desc())
        .limit(1)
        .scalar_subquery()
    )
    row = uow.session.execute(
        select(
            orm.ConsoleSeat.deputy_id,
            orm.ConsoleSeat.alarm,
            orm.ConsoleSeat.blocked_vote_id,
            orm.Registration.deputy_id.is_not(None) & orm.Registration.left_at.is_(None),
        )
        .outerjoin(
            orm.Registration,
            (orm.Registration.round_id == newest)
            & (orm.Registration.deputy_id == orm.ConsoleSeat.deputy_id),
        )
        .where(orm.ConsoleSeat.seat_number == seat)
    ).first()
    deputy_id, alarm, blocked_vote_id, registered = row or (None, False, None, False)
    if deputy_id is None:
        raise SeatRefused(f"no deputy's card is in seat {seat}")
    if alarm:
        raise SeatRefused(
            f"the card in seat {seat} is in another seat too: the secretary must settle it"
        )
    if sitting is None or not registered:
        raise SeatRefused(f"the deputy in seat {seat} is not registered in the current round")
    return deputy_id, blocked_vote_id


def _toggle_request(
    uow: UnitOfWork, who: Actor, sitting: int, floor_rules: FloorRules
) -> dict[str, object]:
    """The speak key asks for the floor, and a second press withdraws the request."""
    with uow:
        waiting = _waiting_request(uow, who.deputy_id, sitting)
    if waiting is not None:
        floor.withdraw_request(uow, who, WithdrawRequest(request_id=waiting))
        return {"request_id": waiting, "withdrawn": True}
    return floor.request_floor(uow, who, RequestFloor(sitting_id=sitting), floor_rules)


def _waiting_request(uow: UnitOfWork, deputy_id: int | None, sitting: int) -> int | None:
    speaker_list = floor.current_list(uow, sitting)
    if speaker_list is None:
        return None
    return uow.session.scalars(
        select(orm.SpeechRequest.id).where(
            orm.SpeechRequest.list_id == speaker_list.id,
            orm.SpeechRequest.deputy_id == deputy_id,
            orm.SpeechRequest.state == "waiting",
        )
    ).first()


def health_changed(uow: UnitOfWork, actor: Actor, command: ConsoleHealth) -> dict[str, object]:
    """A console went offline or came back, or its faults changed: journaled for the record
    (a deputy who says their console failed during a vote can be answered)."""
    command.authorize(actor)
    with uow:
        row = _seat(uow, command.seat, lock=True)
        if row.online == command.online and row.faults == command.faults:
            return {"seat": command.seat, "changed": False}
        row.online, row.faults = command.online, command.faults
        uow.journal(
            actor,
            "console_online" if command.online else "console_offline",
            {"seat": command.seat, "faults": command.faults},
        )
        uow.commit()
    return {"seat": command.seat, "changed": True}


def bus_trouble(uow: UnitOfWork, actor: Actor, payload: dict[str, object]) -> None:
    """What the gateway refused on the bus (forged or replayed frames, noise) or a port lost
    or back: journaled so the secretary sees it and the record keeps it."""
    actor.require(Role.CONSOLE_GATEWAY)
    with uow:
        uow.journal(actor, "console_bus_trouble", payload)
        uow.commit()


def resolve_alarm(uow: UnitOfWork, actor: Actor, command: ResolveSeatAlarm) -> dict[str, object]:
    """The secretary settles a seat alarm: `seat` keeps the card, the others are emptied."""
    command.authorize(actor)
    with uow:
        row = uow.session.get(orm.ConsoleSeat, command.seat, with_for_update=True)
        if row is None or not row.alarm or row.deputy_id is None:
            raise NotFound(f"seat {command.seat} has no alarm")
        others = list(
            uow.session.scalars(
                select(orm.ConsoleSeat).where(
                    orm.ConsoleSeat.deputy_id == row.deputy_id,
                    orm.ConsoleSeat.seat_number != command.seat,
                )
            )
        )
        for other in others:
            other.card_uid = other.deputy_id = other.card_since = None
            other.alarm = False
        row.alarm = False
        emptied = sorted(o.seat_number for o in others)
        uow.journal(
            actor,
            "console_alarm_resolved",
            {"seat": command.seat, "deputy_id": row.deputy_id, "emptied": emptied},
        )
        uow.commit()
        return {"seat": command.seat, "emptied": emptied}


def _live_sitting_id(uow: UnitOfWork) -> int | None:
    sitting = queries.live_sitting(uow)
    return None if sitting is None else sitting.id


def _open_vote(uow: UnitOfWork) -> int | None:
    return queries.live_sitting_and_vote(uow)[1]


def consoles_state(uow: UnitOfWork) -> list[dict[str, object]]:
    """What every console shows: its lights and text line (one read for the whole hall).

    `choice` is the deputy's recorded choice in the open roll-call vote (never for a secret
    ballot: nothing here links a deputy to a secret choice; the gateway lights a secret choice
    only from the acknowledgement of that very cast, and keeps it nowhere)."""
    with uow:
        seat = orm.ConsoleSeat
        seats = uow.session.execute(  # plain rows: read ten times a second in a vote of 450
            select(
                seat.seat_number,
                seat.deputy_id,
                seat.card_uid,
                seat.alarm,
                seat.blocked_vote_id,
                seat.online,
                seat.faults,
                seat.port,
                seat.address,
            ).order_by(seat.seat_number)
        ).all()
        sitting_row, vote_id = queries.live_sitting_and_vote(uow)
        sitting = None if sitting_row is None else sitting_row.id
        registered = set() if sitting is None else registered_ids(uow, sitting)
        vote = None if vote_id is None else uow.session.get(orm.Vote, vote_id)
        ballots: dict[int, str] = {}
        if vote is not None and vote.kind != VoteKind.SECRET:
            ballots = {
                deputy_id: outcome
                for deputy_id, outcome in uow.session.execute(
                    select(orm.Ballot.deputy_id, orm.Ballot.outcome).where(
                        orm.Ballot.vote_id == vote.id,
                        orm.Ballot.outcome.in_([c.value for c in Choice]),
                    )
                )
            }
        microphones = {
            m.name for m in uow.session.scalars(select(orm.Microphone).where(orm.Microphone.is_on))
        }
        queued = _queued(uow, sitting)
        item = _item_text(uow, vote)
        # the same for every seat
        vote_id = None if vote is None else vote.id
        vote_open = vote is not None and vote.state == VoteState.OPEN
        secret = vote is not None and vote.kind == VoteKind.SECRET
        deadline = None if vote is None or vote.deadline is None else vote.deadline.isoformat()
        out: list[dict[str, object]] = []
        for row in seats:
            deputy = row.deputy_id
            out.append(
                {
                    "seat": row.seat_number,
                    "deputy_id": deputy,
                    "card": row.card_uid is not None,
                    "registered": deputy is not None and deputy in registered,
                    "vote_open": vote_open,
                    "vote_id": vote_id,
                    "secret": secret,
                    "choice": None if deputy is None else ballots.get(deputy),
                    "microphone": deputy is not None and f"deputy:{deputy}" in microphones,
                    "queued": deputy is not None and deputy in queued,
                    "locked": row.alarm or (vote_id is not None and row.blocked_vote_id == vote_id),
                    "alarm": row.alarm,
                    "online": row.online,
                    "faults": row.faults,
                    "port": row.port,
                    "address": row.address,
                    "text": item,
                    "deadline": deadline,
                }
            )
        return out


def _queued(uow: UnitOfWork, sitting: int | None) -> set[int]:
    if sitting is None:
        return set()
    speaker_list = floor.current_list(uow, sitting)
    if speaker_list is None:
        return set()
    return {
        d
        for d in uow.session.scalars(
            select(orm.SpeechRequest.deputy_id).where(
                orm.SpeechRequest.list_id == speaker_list.id,
                orm.SpeechRequest.state == "waiting",
            )
        )
        if d is not None
    }


def _item_text(uow: UnitOfWork, vote: orm.Vote | None) -> str:
    """The console's text line: the item's number in the agenda while a vote is open."""
    if vote is None or vote.item_id is None:
        return ""
    item = uow.session.get(orm.AgendaItem, vote.item_id)
    return "" if item is None else f"Пит. {item.position}"


def parse_seat_map(data: Any) -> dict[int, tuple[str, int]]:
    """The gateway's seat map as it sends it: [{seat, port, address}, ...]."""
    if not isinstance(data, list) or len(data) > 10_000:
        raise InvalidInput("seats must be a list of at most 10000 {seat, port, address}")
    out: dict[int, tuple[str, int]] = {}
    for entry in data:
        if not isinstance(entry, dict) or set(entry) != {"seat", "port", "address"}:
            raise InvalidInput("each seat must be {seat, port, address}")
        seat, port, address = entry["seat"], entry["port"], entry["address"]
        if not (type(seat) is int and 1 <= seat <= 9999):
            raise InvalidInput(f"seat must be 1-9999, got {seat!r}")
        if not (isinstance(port, str) and type(address) is int and 0 < address < 0xFFFF):
            raise InvalidInput(f"seat {seat}: port must be text and address 1-65534")
        if seat in out:
            raise InvalidInput(f"seat {seat} appears twice in the seat map")
        out[seat] = (port, address)
    return out
