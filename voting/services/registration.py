"""Use cases for registration rounds, and who is present for the quorum and the votes.

Who takes part, who is registered and the total composition are decided by the domain
(`voting.domain.presence`); this module loads what it needs: the body's roster and the newest
round's registrations.
"""

from __future__ import annotations

from sqlalchemy import select

from voting.adapters import orm
from voting.domain import sittings as rules
from voting.domain.actors import PROCEDURE, Actor, Role
from voting.domain.errors import InvalidInput, PermissionDenied
from voting.domain.presence import BodyKind, Member, Presence, Roster, presence

from .commands import Leave, OpenRegistration, Register
from .council import quorum_rule, the_council
from .sittings import open_sitting_row, open_vote_id
from .uow import UnitOfWork


def latest_round(
    uow: UnitOfWork, sitting_id: int, lock: bool = False
) -> orm.RegistrationRound | None:
    """The sitting's newest round; `lock` serializes registrations so each sees the last count."""
    query = (
        select(orm.RegistrationRound)
        .where(orm.RegistrationRound.sitting_id == sitting_id)
        .order_by(orm.RegistrationRound.number.desc())
        .limit(1)
    )
    if lock:
        query = query.with_for_update()
    return uow.session.scalars(query).first()


def registered_ids(uow: UnitOfWork, sitting_id: int) -> set[int]:
    """Who is registered in the sitting's newest round (and has not left)."""
    return registered_in(uow, latest_round(uow, sitting_id))


def registered_in(uow: UnitOfWork, round_: orm.RegistrationRound | None) -> set[int]:
    """Who is registered in `round_` (and has not left); nobody without a round."""
    if round_ is None:
        return set()
    return set(
        uow.session.scalars(
            select(orm.Registration.deputy_id).where(
                orm.Registration.round_id == round_.id, orm.Registration.left_at.is_(None)
            )
        )
    )


def roster_of(uow: UnitOfWork, body: orm.Body, council: orm.Council) -> Roster:
    """The body's active people: the council's deputies and head (plenary), or its members."""
    kind = BodyKind(body.kind)
    if kind is BodyKind.PLENARY:
        rows = uow.session.execute(
            select(orm.Deputy.id, orm.Deputy.is_head)
            .where(orm.Deputy.council_id == council.id, orm.Deputy.active.is_(True))
            .order_by(orm.Deputy.id)
        ).all()
        members = tuple(Member(row.id, row.is_head) for row in rows)
    else:
        ids = uow.session.scalars(
            select(orm.CommitteeMember.deputy_id)
            .join(orm.Deputy)
            .where(orm.CommitteeMember.body_id == body.id, orm.Deputy.active.is_(True))
            .order_by(orm.CommitteeMember.deputy_id)
        )
        members = tuple(Member(deputy_id) for deputy_id in ids)
    return Roster(kind, members, council.statutory_deputies, council.head_votes)


def presence_of(uow: UnitOfWork, sitting: orm.Sitting) -> Presence:
    """The total composition, the registered participants and the quorum of a sitting now."""
    return presence_in(uow, sitting, the_council(uow), latest_round(uow, sitting.id))


def presence_in(
    uow: UnitOfWork,
    sitting: orm.Sitting,
    council: orm.Council,
    round_: orm.RegistrationRound | None,
) -> Presence:
    """`presence_of` with the council and the sitting's newest round already read."""
    body = uow.session.get(orm.Body, sitting.body_id)
    assert body is not None
    return presence(roster_of(uow, body, council), registered_in(uow, round_), quorum_rule(council))


def open_registration(uow: UnitOfWork, actor: Actor, command: OpenRegistration) -> int:
    """Open a new round; with carry_over those registered in the last round stay registered."""
    command.authorize(actor)
    keep = command.carry_over
    with uow:
        sitting = open_sitting_row(uow, command.sitting_id)
        last = latest_round(uow, sitting.id)
        number = rules.open_round(
            None if last is None else last.number,
            last is not None and last.closed_at is None,
            open_vote_id(uow, sitting.id) is not None,
        )
        kept = registered_ids(uow, sitting.id) if (keep and last) else set()
        round_ = orm.RegistrationRound(sitting_id=sitting.id, number=number, opened_at=uow.now())
        uow.session.add(round_)
        uow.session.flush()
        for deputy_id in sorted(kept):
            uow.session.add(
                orm.Registration(round_id=round_.id, deputy_id=deputy_id, registered_at=uow.now())
            )
        uow.session.flush()
        state = presence_of(uow, sitting)
        uow.journal(
            actor,
            "registration_opened",
            {
                "sitting_id": sitting.id,
                "round": round_.number,
                "carried_over": sorted(kept),
                **state.to_dict(),
            },
        )
        uow.commit()
        return round_.number


def close_registration(uow: UnitOfWork, actor: Actor, sitting_id: object) -> dict[str, object]:
    """Close the open round: who registered in it stays registered until the next round."""
    actor.require(*PROCEDURE)
    with uow:
        sitting = open_sitting_row(uow, sitting_id)
        round_ = latest_round(uow, sitting.id)
        rules.close_round(
            None if round_ is None else round_.number,
            round_ is not None and round_.closed_at is None,
            open_vote_id(uow, sitting.id) is not None,
        )
        assert round_ is not None
        round_.closed_at = uow.now()
        state = presence_of(uow, sitting)
        uow.journal(
            actor,
            "registration_closed",
            {"sitting_id": sitting.id, "round": round_.number, **state.to_dict()},
        )
        uow.commit()
        return state.to_dict()


def _acting_for(actor: Actor, command: Register) -> int:
    """Deputies register only themselves; the secretary or chair may mark any deputy present."""
    command.authorize(actor)
    if actor.role is Role.DEPUTY:
        if command.deputy_id is not None and command.deputy_id != actor.deputy_id:
            raise PermissionDenied("a deputy can register only themselves")
        assert actor.deputy_id is not None
        return actor.deputy_id
    if command.deputy_id is None:
        raise InvalidInput("deputy_id is required", field="deputy_id")
    return command.deputy_id


def register(uow: UnitOfWork, actor: Actor, command: Register) -> dict[str, object]:
    """Register a deputy in the open round; returns the new count and quorum."""
    who = _acting_for(actor, command)
    with uow:
        sitting = open_sitting_row(uow, command.sitting_id)
        round_ = latest_round(uow, sitting.id, lock=True)
        before = presence_of(uow, sitting)
        rules.register(
            who,
            round_ is not None and round_.closed_at is None,
            before.participants,
            before.registered,
            round_ is not None and round_.interrupted_at is not None,
        )
        assert round_ is not None
        row = uow.session.get(orm.Registration, (round_.id, who))
        if row is None:
            uow.session.add(
                orm.Registration(round_id=round_.id, deputy_id=who, registered_at=uow.now())
            )
        else:  # back in the hall after leaving
            row.left_at = None
        uow.session.flush()
        state = presence_of(uow, sitting)
        uow.journal(
            actor,
            "deputy_registered",
            {"sitting_id": sitting.id, "round": round_.number, "deputy_id": who, **state.to_dict()},
        )
        uow.commit()
        return {"deputy_id": who, "registered": True, "presence": state.to_dict()}


def unregister(uow: UnitOfWork, actor: Actor, command: Leave) -> dict[str, object]:
    """A deputy leaves the hall (or is marked as having left); the count and quorum drop."""
    who = _acting_for(actor, command)
    with uow:
        sitting = open_sitting_row(uow, command.sitting_id)
        round_ = latest_round(uow, sitting.id, lock=True)
        row = None if round_ is None else uow.session.get(orm.Registration, (round_.id, who))
        rules.leave(who, row is not None and row.left_at is None)
        assert row is not None and round_ is not None
        row.left_at = uow.now()
        uow.session.flush()
        state = presence_of(uow, sitting)
        uow.journal(
            actor,
            "deputy_left",
            {"sitting_id": sitting.id, "round": round_.number, "deputy_id": who, **state.to_dict()},
        )
        uow.commit()
        return {"deputy_id": who, "registered": False, "presence": state.to_dict()}
