"""Use cases for convocations, sessions, sittings and their agenda."""

from __future__ import annotations

from sqlalchemy import select

from voting.adapters import orm
from voting.domain import sittings as rules
from voting.domain.actors import PROCEDURE, Actor
from voting.domain.agenda import ItemStatus, reordered, set_by_hand
from voting.domain.errors import InvalidInput, InvalidTransition, NotFound
from voting.domain.presence import BodyKind
from voting.domain.sittings import SittingState
from voting.domain.votes import VoteState

from . import validate
from .commands import (
    AddItem,
    ChangeItem,
    ChangeSitting,
    CreateConvocation,
    CreateSession,
    CreateSitting,
    ReorderAgenda,
    SetItemStatus,
)
from .council import plenary, the_council
from .uow import UnitOfWork


def create_convocation(uow: UnitOfWork, actor: Actor, command: CreateConvocation) -> int:
    """Record a convocation (скликання) of the council."""
    command.authorize(actor)
    with uow:
        council = the_council(uow)
        if uow.session.scalars(
            select(orm.Convocation).where(
                orm.Convocation.council_id == council.id,
                orm.Convocation.number == command.number,
            )
        ).first():
            raise InvalidInput(f"convocation {command.number} already exists", field="number")
        row = orm.Convocation(
            council_id=council.id,
            number=command.number,
            label=command.label,
            date_from=command.date_from,
            date_until=command.date_until,
        )
        uow.session.add(row)
        uow.session.flush()
        uow.journal(
            actor, "convocation_created", {"convocation_id": row.id, "number": command.number}
        )
        uow.commit()
        return row.id


def create_session(uow: UnitOfWork, actor: Actor, command: CreateSession) -> int:
    """Create a session, numbered within its convocation."""
    command.authorize(actor)
    with uow:
        convocation = uow.get(orm.Convocation, command.convocation_id, "convocation")
        num = command.number
        if uow.session.scalars(
            select(orm.Session).where(
                orm.Session.convocation_id == convocation.id, orm.Session.number == num
            )
        ).first():
            raise InvalidInput(f"session {num} of this convocation already exists", field="number")
        label = command.title or f"{num} сесія {convocation.label}"
        row = orm.Session(convocation_id=convocation.id, number=num, title=label)
        uow.session.add(row)
        uow.session.flush()
        uow.journal(actor, "session_created", {"session_id": row.id, "number": num})
        uow.commit()
        return row.id


def create_sitting(uow: UnitOfWork, actor: Actor, command: CreateSitting) -> int:
    """Plan a plenary sitting of a session, or a sitting of a standing committee."""
    command.authorize(actor)
    with uow:
        council = the_council(uow)
        body = (
            plenary(uow, council)
            if command.body_id is None
            else uow.get(orm.Body, command.body_id, "body")
        )
        assert isinstance(body, orm.Body)
        session = None
        if command.session_id is not None:
            session = uow.get(orm.Session, command.session_id, "session")
        elif body.kind == BodyKind.PLENARY:
            raise InvalidInput(
                "a plenary sitting belongs to a session: give session_id", field="session_id"
            )
        day = command.date
        label = command.title or (
            f"Пленарне засідання {day.isoformat()}"
            if body.kind == BodyKind.PLENARY
            else f"Засідання: {body.name}, {day.isoformat()}"
        )
        details = _checked_details(
            uow,
            council,
            {
                "place": command.place or council.place,
                "chair_id": command.chair_id,
                "secretary_id": command.secretary_id,
            },
            {"chair_id": None, "secretary_id": None},
        )
        row = orm.Sitting(
            body_id=body.id,
            session_id=None if session is None else session.id,
            title=label,
            date=day,
            state=SittingState.PLANNED,
            **details,
        )
        uow.session.add(row)
        uow.session.flush()
        # The details are journaled when given (a sitting without them reads as it always did).
        given = {key: value for key, value in details.items() if value is not None}
        uow.journal(
            actor,
            "sitting_created",
            {"sitting_id": row.id, "body_id": body.id, "date": day.isoformat(), **given},
        )
        uow.commit()
        return row.id


def change_sitting(uow: UnitOfWork, actor: Actor, command: ChangeSitting) -> None:
    """Set or correct where a sitting is held, who chairs it and who keeps its record. A
    closed sitting may be corrected too: its record is produced again as a new version."""
    command.authorize(actor)
    with uow:
        sitting = uow.lock(orm.Sitting, command.sitting_id, "sitting")
        current = {"chair_id": sitting.chair_id, "secretary_id": sitting.secretary_id}
        changes = _checked_details(uow, the_council(uow), command.changes, current)
        before = {key: getattr(sitting, key) for key in changes}
        if before == changes:
            return
        for key, value in changes.items():
            setattr(sitting, key, value)
        uow.journal(
            actor,
            "sitting_changed",
            {"sitting_id": sitting.id, "before": before, "after": changes},
        )
        uow.commit()


def _checked_details(
    uow: UnitOfWork,
    council: orm.Council,
    changes: dict[str, object],
    current: dict[str, int | None],
) -> dict[str, object]:
    """The details as given, once the chair and the secretary are found to be the council's
    deputies (the head included) with their mandate, and two different people."""
    people = {**current}
    for key, role in (("chair_id", "the chair"), ("secretary_id", "the secretary")):
        if key not in changes:
            continue
        deputy_id = changes[key]
        if deputy_id is None:
            people[key] = None
            continue
        deputy = uow.session.get(orm.Deputy, deputy_id)
        if deputy is None or deputy.council_id != council.id:
            raise InvalidInput(
                f"{key}: there is no deputy {deputy_id} to be {role} of the sitting", field=key
            )
        if not deputy.active:
            raise InvalidInput(
                f"{key}: {deputy.full_name} (deputy {deputy.id}) has no mandate now and cannot "
                f"be {role} of the sitting",
                field=key,
            )
        people[key] = deputy.id
    if people["chair_id"] is not None and people["chair_id"] == people["secretary_id"]:
        raise InvalidInput(
            "the chair and the secretary of a sitting must be two different people",
            field="secretary_id",
        )
    return dict(changes)


def get_sitting(uow: UnitOfWork, sitting_id: object) -> orm.Sitting:
    sitting = uow.get(orm.Sitting, sitting_id, "sitting")
    return sitting


def open_sitting_row(uow: UnitOfWork, sitting_id: object) -> orm.Sitting:
    """Load a sitting that must be open."""
    sitting = get_sitting(uow, sitting_id)
    rules.ensure_sitting_open(sitting.id, SittingState(sitting.state))
    return sitting


def current_item(uow: UnitOfWork, sitting_id: int) -> orm.AgendaItem | None:
    """The sitting's item under consideration, if any."""
    return uow.session.scalars(
        select(orm.AgendaItem)
        .where(
            orm.AgendaItem.sitting_id == sitting_id,
            orm.AgendaItem.status == ItemStatus.UNDER_CONSIDERATION,
        )
        .order_by(orm.AgendaItem.position)
    ).first()


def open_vote_id(uow: UnitOfWork, sitting_id: int) -> int | None:
    """The sitting's open vote, if any (there is at most one: a partial unique index)."""
    return uow.session.scalars(
        select(orm.Vote.id).where(
            orm.Vote.sitting_id == sitting_id, orm.Vote.state == VoteState.OPEN
        )
    ).first()


def open_sitting(uow: UnitOfWork, actor: Actor, sitting_id: object) -> None:
    """A planned sitting opens: registration and votes may begin."""
    actor.require(*PROCEDURE)
    with uow:
        sitting = get_sitting(uow, sitting_id)
        sitting.state = rules.open_sitting(sitting.id, SittingState(sitting.state))
        sitting.opened_at = uow.now()
        uow.journal(actor, "sitting_opened", {"sitting_id": sitting.id})
        uow.commit()


def close_sitting(uow: UnitOfWork, actor: Actor, sitting_id: object) -> None:
    """Close a sitting: no vote may be open; an open registration round is closed with it, and
    a speech still going on ends (its microphone goes off)."""
    from .floor import end_speech_at_close  # the floor's module imports this one

    actor.require(*PROCEDURE)
    with uow:
        # Locked first (before the journal), as the floor locks it: no speech is given while
        # the sitting closes.
        sitting = uow.lock(orm.Sitting, sitting_id, "sitting")
        closed = rules.close_sitting(
            sitting.id, SittingState(sitting.state), open_vote_id(uow, sitting.id) is not None
        )
        for round_ in uow.session.scalars(
            select(orm.RegistrationRound).where(
                orm.RegistrationRound.sitting_id == sitting.id,
                orm.RegistrationRound.closed_at.is_(None),
            )
        ):
            round_.closed_at = uow.now()
            uow.journal(
                actor, "registration_closed", {"sitting_id": sitting.id, "round": round_.number}
            )
        end_speech_at_close(uow, actor, sitting.id)
        sitting.state, sitting.closed_at = closed, uow.now()
        uow.journal(actor, "sitting_closed", {"sitting_id": sitting.id})
        sitting.anchor = uow.anchor()  # published with the record (domain/journal.py)
        uow.commit()


def _items(uow: UnitOfWork, sitting_id: int) -> list[orm.AgendaItem]:
    return list(
        uow.session.scalars(
            select(orm.AgendaItem)
            .where(orm.AgendaItem.sitting_id == sitting_id)
            .order_by(orm.AgendaItem.position)
        )
    )


def add_item(uow: UnitOfWork, actor: Actor, command: AddItem) -> int:
    """Add a question to the agenda, at the end or at `position` (1-based)."""
    command.authorize(actor)
    with uow:
        sitting = get_sitting(uow, command.sitting_id)
        rules.ensure_agenda_can_change(SittingState(sitting.state))
        items = _items(uow, sitting.id)
        position = (
            validate.integer(
                command.position,
                "position",
                minimum=1,
                maximum=len(items) + 1,
                required=False,
            )
            or len(items) + 1
        )
        item = orm.AgendaItem(
            sitting_id=sitting.id,
            position=0,
            status=ItemStatus.PENDING,
            title=command.title,
            draft_number=command.draft_number,
            rapporteur=command.rapporteur,
            document_url=command.document_url,
        )
        uow.session.add(item)
        uow.session.flush()
        items.insert(position - 1, item)
        for index, row in enumerate(items, start=1):
            row.position = index
        uow.journal(
            actor,
            "item_added",
            {
                "item_id": item.id,
                "sitting_id": sitting.id,
                "position": position,
                "title": command.title,
            },
        )
        uow.commit()
        return item.id


def get_item(uow: UnitOfWork, item_id: object) -> orm.AgendaItem:
    item = uow.get(orm.AgendaItem, item_id, "agenda item")
    return item


def update_item(uow: UnitOfWork, actor: Actor, command: ChangeItem) -> None:
    """Change an item's title, draft number or rapporteur, before or during the sitting."""
    command.authorize(actor)
    with uow:
        item = get_item(uow, command.item_id)
        _ensure_sitting_not_closed(uow, item)
        values = command.changes
        before = {key: getattr(item, key) for key in values}
        for key, value in values.items():
            setattr(item, key, value)
        uow.journal(actor, "item_changed", {"item_id": item.id, "before": before, "after": values})
        uow.commit()


def reorder_agenda(uow: UnitOfWork, actor: Actor, command: ReorderAgenda) -> None:
    """Put the agenda in a new order, before or during the sitting."""
    command.authorize(actor)
    with uow:
        sitting = get_sitting(uow, command.sitting_id)
        rules.ensure_agenda_can_change(SittingState(sitting.state))
        items = {item.id: item for item in _items(uow, sitting.id)}
        wanted = reordered(list(items), list(command.order))
        for index, item_id in enumerate(wanted, start=1):
            items[item_id].position = index
        uow.journal(actor, "agenda_reordered", {"sitting_id": sitting.id, "order": wanted})
        uow.commit()


def set_item_status(uow: UnitOfWork, actor: Actor, command: SetItemStatus) -> None:
    """Set an item's status by hand: withdrawn, postponed, or back to consideration.

    Adopted and not adopted come only from a vote "в цілому" (or a manual result of one).
    """
    command.authorize(actor)
    with uow:
        item = get_item(uow, command.item_id)
        _ensure_sitting_not_closed(uow, item)
        status = set_by_hand(command.status)
        if status is ItemStatus.UNDER_CONSIDERATION:
            set_aside_others(uow, actor, item)
        change_item_status(uow, actor, item, status)
        uow.commit()


def set_aside_others(uow: UnitOfWork, actor: Actor, item: orm.AgendaItem) -> None:
    """The hall considers one item at a time: taking `item` up sets any other item still under
    consideration (undecided) aside as postponed ("Перенесено": not decided at this point; the
    secretary takes it up again with one press). Refused while a vote on another item is open:
    a vote runs to its end first."""
    others = list(
        uow.session.scalars(
            select(orm.AgendaItem).where(
                orm.AgendaItem.sitting_id == item.sitting_id,
                orm.AgendaItem.id != item.id,
                orm.AgendaItem.status == ItemStatus.UNDER_CONSIDERATION,
            )
        )
    )
    for other in others:
        voting = uow.session.scalar(
            select(orm.Vote.id).where(
                orm.Vote.item_id == other.id, orm.Vote.state == VoteState.OPEN
            )
        )
        if voting is not None:
            raise InvalidTransition(
                f"vote {voting} on agenda item {other.id} is open; close or annul it before "
                f"taking up item {item.id}"
            )
    for other in others:
        change_item_status(
            uow, actor, other, ItemStatus.POSTPONED, reason=f"item {item.id} taken up"
        )


def _ensure_sitting_not_closed(uow: UnitOfWork, item: orm.AgendaItem) -> None:
    rules.ensure_agenda_can_change(SittingState(get_sitting(uow, item.sitting_id).state))


def change_item_status(
    uow: UnitOfWork,
    actor: Actor,
    item: orm.AgendaItem,
    status: ItemStatus,
    reason: str | None = None,
) -> None:
    """Record an item's new status in the journal (inside the caller's transaction)."""
    if item.status == status:
        return
    before, item.status = item.status, status
    payload: dict[str, object] = {"item_id": item.id, "before": before, "after": status.value}
    if reason:
        payload["reason"] = reason
    uow.journal(actor, "item_status_changed", payload)


def ensure_item_in_sitting(item: orm.AgendaItem, sitting: orm.Sitting) -> None:
    if item.sitting_id != sitting.id:
        raise NotFound(f"agenda item {item.id} is not on the agenda of sitting {sitting.id}")
