"""Use cases for convocations, sessions, sittings and their agenda."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from voting.adapters import orm
from voting.domain.agenda import ItemStatus, reordered
from voting.domain.errors import InvalidInput, InvalidTransition, NotFound, SittingNotOpen
from voting.domain.votes import VoteState, parse_enum

from . import validate
from .council import PROCEDURE, plenary, the_council
from .uow import Actor, UnitOfWork


def create_convocation(
    uow: UnitOfWork,
    actor: Actor,
    number: object,
    label: object,
    date_from: object,
    date_until: object = None,
) -> int:
    actor.require("secretary")
    with uow:
        council = the_council(uow)
        num = validate.integer(number, "number", minimum=1, maximum=100)
        if uow.session.scalars(
            select(orm.Convocation).where(
                orm.Convocation.council_id == council.id, orm.Convocation.number == num
            )
        ).first():
            raise InvalidInput(f"convocation {num} already exists", field="number")
        row = orm.Convocation(
            council_id=council.id,
            number=num,
            label=validate.text(label, "label", limit=100),
            date_from=validate.iso_date(date_from, "date_from"),
            date_until=None if date_until is None else validate.iso_date(date_until, "date_until"),
        )
        uow.session.add(row)
        uow.session.flush()
        uow.journal(actor, "convocation_created", {"convocation_id": row.id, "number": num})
        uow.commit()
        return row.id


def create_session(
    uow: UnitOfWork, actor: Actor, convocation_id: object, number: object, title: object = None
) -> int:
    """Create a session, numbered within its convocation."""
    actor.require("secretary")
    with uow:
        convocation = uow.get(orm.Convocation, convocation_id, "convocation")
        assert isinstance(convocation, orm.Convocation)
        num = validate.integer(number, "number", minimum=1, maximum=10_000)
        if uow.session.scalars(
            select(orm.Session).where(
                orm.Session.convocation_id == convocation.id, orm.Session.number == num
            )
        ).first():
            raise InvalidInput(f"session {num} of this convocation already exists", field="number")
        label = validate.text(title, "title", required=False) or f"{num} сесія {convocation.label}"
        row = orm.Session(convocation_id=convocation.id, number=num, title=label)
        uow.session.add(row)
        uow.session.flush()
        uow.journal(actor, "session_created", {"session_id": row.id, "number": num})
        uow.commit()
        return row.id


def create_sitting(
    uow: UnitOfWork,
    actor: Actor,
    *,
    date: object,
    title: object = None,
    session_id: object = None,
    body_id: object = None,
) -> int:
    """Plan a plenary sitting of a session, or a sitting of a standing committee."""
    actor.require("secretary")
    with uow:
        council = the_council(uow)
        body = plenary(uow, council) if body_id is None else uow.get(orm.Body, body_id, "body")
        assert isinstance(body, orm.Body)
        session = None
        if session_id is not None:
            session = uow.get(orm.Session, session_id, "session")
        elif body.kind == "plenary":
            raise InvalidInput(
                "a plenary sitting belongs to a session: give session_id", field="session_id"
            )
        day = validate.iso_date(date, "date")
        label = validate.text(title, "title", required=False) or (
            f"Пленарне засідання {day.isoformat()}"
            if body.kind == "plenary"
            else f"Засідання: {body.name}, {day.isoformat()}"
        )
        row = orm.Sitting(
            body_id=body.id,
            session_id=None if session is None else session.id,
            title=label,
            date=day,
            state="planned",
        )
        uow.session.add(row)
        uow.session.flush()
        uow.journal(
            actor,
            "sitting_created",
            {"sitting_id": row.id, "body_id": body.id, "date": day.isoformat()},
        )
        uow.commit()
        return row.id


def get_sitting(uow: UnitOfWork, sitting_id: object) -> orm.Sitting:
    sitting = uow.get(orm.Sitting, sitting_id, "sitting")
    assert isinstance(sitting, orm.Sitting)
    return sitting


def open_sitting_row(uow: UnitOfWork, sitting_id: object) -> orm.Sitting:
    """Load a sitting that must be open."""
    sitting = get_sitting(uow, sitting_id)
    if sitting.state != "open":
        raise SittingNotOpen(f"sitting {sitting.id} is {sitting.state}, not open")
    return sitting


def open_sitting(uow: UnitOfWork, actor: Actor, sitting_id: object) -> None:
    actor.require(*PROCEDURE)
    with uow:
        sitting = get_sitting(uow, sitting_id)
        if sitting.state != "planned":
            raise InvalidTransition(
                f"sitting {sitting.id} is {sitting.state}; only a planned one opens"
            )
        sitting.state, sitting.opened_at = "open", uow.now()
        uow.journal(actor, "sitting_opened", {"sitting_id": sitting.id})
        uow.commit()


def close_sitting(uow: UnitOfWork, actor: Actor, sitting_id: object) -> None:
    """Close a sitting: no vote may be open; an open registration round is closed with it."""
    actor.require(*PROCEDURE)
    with uow:
        sitting = open_sitting_row(uow, sitting_id)
        if uow.session.scalars(
            select(orm.Vote).where(
                orm.Vote.sitting_id == sitting.id, orm.Vote.state == VoteState.OPEN
            )
        ).first():
            raise InvalidTransition("close the open vote before closing the sitting")
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
        sitting.state, sitting.closed_at = "closed", uow.now()
        uow.journal(actor, "sitting_closed", {"sitting_id": sitting.id})
        uow.commit()


ITEM_FIELDS = {"title", "draft_number", "rapporteur"}


def _item_values(data: Mapping[str, object], creating: bool) -> dict[str, object]:
    data = validate.only_fields(
        dict(data), ITEM_FIELDS | ({"position"} if creating else set()), "an agenda item"
    )
    out: dict[str, object] = {}
    if "title" in data or creating:
        out["title"] = validate.text(data.get("title"), "title", limit=validate.LONG)
    if "draft_number" in data:
        out["draft_number"] = validate.text(
            data["draft_number"], "draft_number", limit=40, required=False
        )
    if "rapporteur" in data:
        out["rapporteur"] = validate.text(data["rapporteur"], "rapporteur", required=False)
    return out


def _items(uow: UnitOfWork, sitting_id: int) -> list[orm.AgendaItem]:
    return list(
        uow.session.scalars(
            select(orm.AgendaItem)
            .where(orm.AgendaItem.sitting_id == sitting_id)
            .order_by(orm.AgendaItem.position)
        )
    )


def add_item(uow: UnitOfWork, actor: Actor, sitting_id: object, data: Mapping[str, object]) -> int:
    """Add a question to the agenda, at the end or at `position` (1-based)."""
    actor.require("secretary")
    with uow:
        sitting = get_sitting(uow, sitting_id)
        if sitting.state == "closed":
            raise InvalidTransition("the sitting is closed; its agenda cannot change")
        values = _item_values(data, creating=True)
        items = _items(uow, sitting.id)
        position = (
            validate.integer(
                dict(data).get("position"),
                "position",
                minimum=1,
                maximum=len(items) + 1,
                required=False,
            )
            or len(items) + 1
        )
        item = orm.AgendaItem(
            sitting_id=sitting.id, position=0, status=ItemStatus.PENDING, **values
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
                "title": values["title"],
            },
        )
        uow.commit()
        return item.id


def get_item(uow: UnitOfWork, item_id: object) -> orm.AgendaItem:
    item = uow.get(orm.AgendaItem, item_id, "agenda item")
    assert isinstance(item, orm.AgendaItem)
    return item


def update_item(uow: UnitOfWork, actor: Actor, item_id: object, data: Mapping[str, object]) -> None:
    actor.require("secretary")
    with uow:
        item = get_item(uow, item_id)
        _ensure_sitting_not_closed(uow, item)
        values = _item_values(data, creating=False)
        before = {key: getattr(item, key) for key in values}
        for key, value in values.items():
            setattr(item, key, value)
        uow.journal(actor, "item_changed", {"item_id": item.id, "before": before, "after": values})
        uow.commit()


def reorder_agenda(uow: UnitOfWork, actor: Actor, sitting_id: object, order: object) -> None:
    """Put the agenda in a new order, before or during the sitting."""
    actor.require(*PROCEDURE)
    with uow:
        sitting = get_sitting(uow, sitting_id)
        if sitting.state == "closed":
            raise InvalidTransition("the sitting is closed; its agenda cannot change")
        if not isinstance(order, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in order
        ):
            raise InvalidInput("order must be a list of agenda item ids", field="order")
        items = {item.id: item for item in _items(uow, sitting.id)}
        wanted = reordered(list(items), order)
        for index, item_id in enumerate(wanted, start=1):
            items[item_id].position = index
        uow.journal(actor, "agenda_reordered", {"sitting_id": sitting.id, "order": wanted})
        uow.commit()


MANUAL_STATUSES = (
    ItemStatus.PENDING,
    ItemStatus.UNDER_CONSIDERATION,
    ItemStatus.WITHDRAWN,
    ItemStatus.POSTPONED,
)


def set_item_status(uow: UnitOfWork, actor: Actor, item_id: object, status: object) -> None:
    """Set an item's status by hand: withdrawn, postponed, or back to consideration.

    Adopted and not adopted come only from a vote "в цілому" (or a manual result of one).
    """
    actor.require(*PROCEDURE)
    with uow:
        item = get_item(uow, item_id)
        _ensure_sitting_not_closed(uow, item)
        new = ItemStatus(parse_enum(ItemStatus, status, "status"))
        if new not in MANUAL_STATUSES:
            raise InvalidInput(
                f"status {new.value} comes from a vote; by hand use one of: "
                + ", ".join(s.value for s in MANUAL_STATUSES),
                field="status",
            )
        change_item_status(uow, actor, item, new)
        uow.commit()


def _ensure_sitting_not_closed(uow: UnitOfWork, item: orm.AgendaItem) -> None:
    sitting = get_sitting(uow, item.sitting_id)
    if sitting.state == "closed":
        raise InvalidTransition("the sitting is closed; its agenda cannot change")


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
