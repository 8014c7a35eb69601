"""Use cases for the council: its settings, factions, deputies, committees and the roster import."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import ColumnElement, func, select

from voting.adapters import orm
from voting.domain.actors import Actor, Role
from voting.domain.errors import InvalidInput, NotFound
from voting.domain.journal import GENESIS_HASH
from voting.domain.presence import BodyKind
from voting.domain.rules import QuorumRule

from .commands import (
    SETTINGS,
    AddCommittee,
    AddDeputy,
    ChangeDeputy,
    ChangeSettings,
    check_quorum_fraction,
    checked_deputy,
    checked_settings,
    short_name_of,
)
from .roster_import import DeputyRecord
from .uow import UnitOfWork


def the_council(uow: UnitOfWork) -> orm.Council:
    council = uow.session.scalars(select(orm.Council).order_by(orm.Council.id)).first()
    if council is None:
        raise NotFound("no council is set up yet; run `voting init`")
    return council


def plenary(uow: UnitOfWork, council: orm.Council) -> orm.Body:
    body = uow.session.scalars(
        select(orm.Body).where(orm.Body.council_id == council.id, orm.Body.kind == BodyKind.PLENARY)
    ).first()
    if body is None:
        raise NotFound("the council has no plenary body")
    return body


def quorum_rule(council: orm.Council) -> QuorumRule:
    return QuorumRule(
        council.quorum_numerator, council.quorum_denominator, council.quorum_counts_head
    )


def create_council(uow: UnitOfWork, actor: Actor, settings: Mapping[str, object]) -> int:
    """Create the council with its plenary body (once, at `voting init`)."""
    with uow:
        if uow.session.scalars(select(orm.Council)).first() is not None:
            raise InvalidInput("the council already exists")
        council = orm.Council(**checked_settings(settings, creating=True))
        uow.session.add(council)
        uow.session.flush()
        uow.session.add(
            orm.Body(council_id=council.id, kind=BodyKind.PLENARY, name="Пленарне засідання")
        )
        if uow.session.get(orm.JournalHead, 1) is None:
            uow.session.add(orm.JournalHead(id=1, seq=0, hash=GENESIS_HASH))
            uow.session.flush()
        settings_made = _settings_dict(council)
        if settings_made["place"] is None:
            del settings_made["place"]  # optional: journaled when given, as councils before it
        uow.journal(actor, "council_created", {"council_id": council.id, **settings_made})
        uow.commit()
        return council.id


def _settings_dict(council: orm.Council) -> dict[str, object]:
    return {key: getattr(council, key) for key in SETTINGS}


def update_settings(uow: UnitOfWork, actor: Actor, command: ChangeSettings) -> dict[str, object]:
    """Change council settings; the journal keeps the old and new values."""
    command.authorize(actor)
    with uow:
        council = the_council(uow)
        checked = command.changes
        merged_num = checked.get("quorum_numerator", council.quorum_numerator)
        merged_den = checked.get("quorum_denominator", council.quorum_denominator)
        assert isinstance(merged_num, int) and isinstance(merged_den, int)
        check_quorum_fraction(merged_num, merged_den)
        statutory = checked.get("statutory_deputies")
        if isinstance(statutory, int):
            active = _active_ordinary_deputies(uow, council)
            if statutory < active:
                raise InvalidInput(
                    f"{active} deputies are active; the statutory number cannot be lower",
                    field="statutory_deputies",
                )
        before = {key: getattr(council, key) for key in checked}
        for key, value in checked.items():
            setattr(council, key, value)
        uow.journal(actor, "settings_changed", {"before": before, "after": checked})
        uow.commit()
        return _settings_dict(council)


def _active_ordinary_deputies(uow: UnitOfWork, council: orm.Council) -> int:
    return (
        uow.session.scalar(
            select(func.count())
            .select_from(orm.Deputy)
            .where(
                orm.Deputy.council_id == council.id,
                orm.Deputy.active.is_(True),
                orm.Deputy.is_head.is_(False),
            )
        )
        or 0
    )


def _faction_id(uow: UnitOfWork, council: orm.Council, name: object) -> int | None:
    """The faction of that name (made on first use); None for none."""
    if not name:
        return None
    assert isinstance(name, str)  # checked_deputy made sure
    faction = uow.session.scalars(
        select(orm.Faction).where(orm.Faction.council_id == council.id, orm.Faction.name == name)
    ).first()
    if faction is None:
        faction = orm.Faction(council_id=council.id, name=name)
        uow.session.add(faction)
        uow.session.flush()
    return faction.id


def card_uid_is(uid: str) -> ColumnElement[bool]:
    """The deputy's card is `uid` (in its normal form, commands.normal_card_uid): also a UID
    kept before UIDs were kept in that form ("04:a1:b2")."""
    kept: ColumnElement[str | None] = orm.Deputy.card_uid.expression
    for separator in (":", "-", " "):
        kept = func.replace(kept, separator, "")
    return func.upper(kept) == uid


def _ensure_unique(
    uow: UnitOfWork, council: orm.Council, values: dict[str, object], deputy_id: int | None
) -> None:
    for key in ("voting_identifier", "card_uid", "external_id", "seat_number", "short_name"):
        value = values.get(key)
        if value is None:
            continue
        same = card_uid_is(str(value)) if key == "card_uid" else getattr(orm.Deputy, key) == value
        clash = uow.session.scalars(
            select(orm.Deputy).where(
                orm.Deputy.council_id == council.id, same, orm.Deputy.id != (deputy_id or 0)
            )
        ).first()
        if clash is not None:
            # the screens name deputies by their short names: two alike would be one to the hall
            hint = "; give each a short name of their own" if key == "short_name" else ""
            raise InvalidInput(
                f"{key} {value!r} already belongs to {clash.full_name}{hint}", field=key
            )


def _ensure_capacity(uow: UnitOfWork, council: orm.Council, adding: int = 1) -> None:
    """Active deputies cannot exceed the statutory number (vacancies may only lower it)."""
    if _active_ordinary_deputies(uow, council) + adding > council.statutory_deputies:
        raise InvalidInput(
            f"the council has {council.statutory_deputies} statutory seats and they are all filled"
        )


def add_deputy(uow: UnitOfWork, actor: Actor, command: AddDeputy) -> int:
    """Add a deputy (or the head, with is_head) to the roster."""
    command.authorize(actor)
    with uow:
        council = the_council(uow)
        values = command.details
        deputy_id = _insert_deputy(uow, council, values)
        uow.journal(
            actor, "deputy_added", {"deputy_id": deputy_id, "full_name": values["full_name"]}
        )
        uow.commit()
        return deputy_id


def _insert_deputy(uow: UnitOfWork, council: orm.Council, values: dict[str, object]) -> int:
    _ensure_unique(uow, council, values, None)
    is_head = bool(values.get("is_head", False))
    active = bool(values.get("active", True))
    if is_head and active and _head(uow, council) is not None:
        raise InvalidInput("the council already has a head", field="is_head")
    if active and not is_head:
        _ensure_capacity(uow, council)
    deputy = orm.Deputy(
        council_id=council.id,
        full_name=values["full_name"],
        short_name=values["short_name"],
        faction_id=_faction_id(uow, council, values.get("faction")),
        voting_identifier=values.get("voting_identifier"),
        external_id=values.get("external_id"),
        card_uid=values.get("card_uid"),
        seat_number=values.get("seat_number"),
        is_head=is_head,
        active=active,
        email=values.get("email"),
        telephone=values.get("telephone"),
    )
    uow.session.add(deputy)
    uow.session.flush()
    for body_id in _committee_ids(values):
        _committee(uow, council, body_id)
        uow.session.add(orm.CommitteeMember(body_id=body_id, deputy_id=deputy.id))
    return deputy.id


def _committee_ids(values: dict[str, object]) -> list[int]:
    """The committees a deputy's checked details name (none when they name none)."""
    committees = values.get("committees") or []
    assert isinstance(committees, list)  # checked_deputy made sure
    return committees


def _head(uow: UnitOfWork, council: orm.Council) -> orm.Deputy | None:
    return uow.session.scalars(
        select(orm.Deputy).where(
            orm.Deputy.council_id == council.id,
            orm.Deputy.is_head.is_(True),
            orm.Deputy.active.is_(True),
        )
    ).first()


def _committee(uow: UnitOfWork, council: orm.Council, body_id: object) -> orm.Body:
    body = uow.get(orm.Body, body_id, "committee")
    if body.kind != BodyKind.COMMITTEE or body.council_id != council.id:
        raise NotFound(f"committee {body_id} does not exist")
    return body


def update_deputy(uow: UnitOfWork, actor: Actor, command: ChangeDeputy) -> None:
    """Change a deputy's details; `active: false` leaves the seat vacant."""
    command.authorize(actor)
    with uow:
        council = the_council(uow)
        deputy = uow.get(orm.Deputy, command.deputy_id, "deputy")
        values = dict(command.changes)
        if ("full_name" in values and "short_name" not in values) or (
            "short_name" in values and values["short_name"] is None
        ):
            values["short_name"] = short_name_of(str(values.get("full_name", deputy.full_name)))
        _ensure_unique(uow, council, values, deputy.id)
        becomes_head = values.get("is_head", deputy.is_head)
        becomes_active = values.get("active", deputy.active)
        if becomes_active and not becomes_head and not (deputy.active and not deputy.is_head):
            _ensure_capacity(uow, council)
        if becomes_head and becomes_active:
            head = _head(uow, council)
            if head is not None and head.id != deputy.id:
                raise InvalidInput(
                    f"the council already has a head ({head.full_name})", field="is_head"
                )
        before = {}
        for key, value in values.items():
            if key == "faction":
                before[key] = deputy.faction_id
                deputy.faction_id = _faction_id(uow, council, value)
            elif key == "committees":
                continue
            else:
                before[key] = getattr(deputy, key)
                setattr(deputy, key, value)
        if "committees" in values:
            for member in uow.session.scalars(
                select(orm.CommitteeMember).where(orm.CommitteeMember.deputy_id == deputy.id)
            ):
                uow.session.delete(member)
            uow.session.flush()
            for body_id in _committee_ids(values):
                _committee(uow, council, body_id)
                uow.session.add(orm.CommitteeMember(body_id=body_id, deputy_id=deputy.id))
        uow.journal(
            actor,
            "deputy_changed",
            {"deputy_id": deputy.id, "before": before, "after": {k: v for k, v in values.items()}},
        )
        uow.commit()


def add_committee(uow: UnitOfWork, actor: Actor, command: AddCommittee) -> int:
    """Create a standing committee with some deputies as members."""
    command.authorize(actor)
    title, members = command.name, command.members
    with uow:
        council = the_council(uow)
        if uow.session.scalars(
            select(orm.Body).where(orm.Body.council_id == council.id, orm.Body.name == title)
        ).first():
            raise InvalidInput(f"a body named {title!r} already exists", field="name")
        body = orm.Body(council_id=council.id, kind=BodyKind.COMMITTEE, name=title)
        uow.session.add(body)
        uow.session.flush()
        for deputy_id in dict.fromkeys(members):
            deputy = uow.get(orm.Deputy, deputy_id, "deputy")
            uow.session.add(orm.CommitteeMember(body_id=body.id, deputy_id=deputy.id))
        uow.journal(
            actor,
            "committee_created",
            {"body_id": body.id, "name": title, "members": list(dict.fromkeys(members))},
        )
        uow.commit()
        return body.id


def import_deputies(uow: UnitOfWork, actor: Actor, records: list[DeputyRecord]) -> list[int]:
    """Add every deputy of an already-validated CSV, or none of them."""
    actor.require(Role.SECRETARY)
    with uow:
        council = the_council(uow)
        ids = []
        for record in records:
            values = {
                "full_name": record.full_name,
                "short_name": record.short_name,
                "faction": record.faction_name,
                "voting_identifier": record.voting_identifier,
                "external_id": record.external_id,
                "email": record.email,
                "telephone": record.telephone,
            }
            try:
                checked = checked_deputy(values, creating=True)
                ids.append(_insert_deputy(uow, council, checked))
            except InvalidInput as error:
                who = (
                    record.external_id
                    if len(record.external_id) <= 64
                    else (record.external_id[:63] + "…")
                )
                name = (
                    record.full_name
                    if len(record.full_name) <= 80
                    else (record.full_name[:79] + "…")
                )
                raise InvalidInput(
                    f"deputy {who} ({name}): {error.message}", **error.details
                ) from None
        uow.journal(actor, "deputies_imported", {"count": len(ids), "deputy_ids": ids})
        uow.commit()
        return ids
