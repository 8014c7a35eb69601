"""Use cases for registration rounds, and who is present for the quorum and the votes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from voting.adapters import orm
from voting.domain.errors import (
    AlreadyRegistered,
    InvalidInput,
    InvalidTransition,
    NoOpenRegistration,
    NotRegistered,
    PermissionDenied,
    RegistrationAlreadyOpen,
)
from voting.domain.rules import total_composition

from . import validate
from .council import PROCEDURE, quorum_rule, the_council
from .sittings import open_sitting_row
from .uow import Actor, UnitOfWork


@dataclass(frozen=True)
class Presence:
    """Who may take part in a sitting's votes and who is registered now."""

    total: int  # the total composition
    head_id: int | None  # the head when they vote in this body
    head_takes_part: bool
    participants: frozenset[int]  # active deputies (and the head) of the body
    registered: frozenset[int]  # of them, registered in the latest round
    quorum_required: int
    quorum_present: int

    @property
    def quorum(self) -> bool:
        return self.quorum_present >= self.quorum_required

    def to_dict(self) -> dict[str, object]:
        return {
            "total_composition": self.total,
            "registered": len(self.registered),
            "quorum_required": self.quorum_required,
            "quorum_present": self.quorum_present,
            "quorum": self.quorum,
            "head_takes_part": self.head_takes_part,
        }


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
    round_ = latest_round(uow, sitting_id)
    if round_ is None:
        return set()
    return set(
        uow.session.scalars(
            select(orm.Registration.deputy_id).where(
                orm.Registration.round_id == round_.id, orm.Registration.left_at.is_(None)
            )
        )
    )


def presence(uow: UnitOfWork, sitting: orm.Sitting) -> Presence:
    """Compute the total composition, the registered participants and the quorum of a sitting.

    Plenary: the statutory number plus the head when registered (art. 59); vacancies do not reduce
    it. Committee: its members.
    """
    council = the_council(uow)
    body = uow.session.get(orm.Body, sitting.body_id)
    assert body is not None
    registered = registered_ids(uow, sitting.id)
    if body.kind == "plenary":
        rows = uow.session.execute(
            select(orm.Deputy.id, orm.Deputy.is_head).where(
                orm.Deputy.council_id == council.id, orm.Deputy.active.is_(True)
            )
        ).all()
        head_id = next((r.id for r in rows if r.is_head), None) if council.head_votes else None
        participants = frozenset(r.id for r in rows if not r.is_head or r.id == head_id)
        head_takes_part = head_id is not None and head_id in registered
        total = total_composition(council.statutory_deputies, head_takes_part)
    else:
        members = uow.session.scalars(
            select(orm.CommitteeMember.deputy_id)
            .join(orm.Deputy)
            .where(orm.CommitteeMember.body_id == body.id, orm.Deputy.active.is_(True))
        )
        participants, head_id, head_takes_part = frozenset(members), None, False
        total = max(1, len(participants))
    present = frozenset(registered & participants)
    rule = quorum_rule(council)
    head_present = head_id is not None and head_id in present
    deputies_present = len(present) - (1 if head_present else 0)
    return Presence(
        total=total,
        head_id=head_id,
        head_takes_part=head_takes_part,
        participants=participants,
        registered=present,
        quorum_required=rule.required(total),
        quorum_present=rule.present(deputies_present, head_present),
    )


def open_registration(
    uow: UnitOfWork, actor: Actor, sitting_id: object, carry_over: object = False
) -> int:
    """Open a new round; with carry_over those registered in the last round stay registered."""
    actor.require(*PROCEDURE)
    keep = validate.boolean(carry_over, "carry_over", default=False)
    with uow:
        sitting = open_sitting_row(uow, sitting_id)
        _ensure_no_open_vote(uow, sitting.id)
        last = latest_round(uow, sitting.id)
        if last is not None and last.closed_at is None:
            raise RegistrationAlreadyOpen(f"registration round {last.number} is already open")
        kept = registered_ids(uow, sitting.id) if (keep and last) else set()
        round_ = orm.RegistrationRound(
            sitting_id=sitting.id, number=(last.number + 1 if last else 1), opened_at=uow.now()
        )
        uow.session.add(round_)
        uow.session.flush()
        for deputy_id in sorted(kept):
            uow.session.add(
                orm.Registration(round_id=round_.id, deputy_id=deputy_id, registered_at=uow.now())
            )
        uow.session.flush()
        state = presence(uow, sitting)
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
    actor.require(*PROCEDURE)
    with uow:
        sitting = open_sitting_row(uow, sitting_id)
        _ensure_no_open_vote(uow, sitting.id)
        round_ = latest_round(uow, sitting.id)
        if round_ is None or round_.closed_at is not None:
            raise NoOpenRegistration("no registration round is open")
        round_.closed_at = uow.now()
        state = presence(uow, sitting)
        uow.journal(
            actor,
            "registration_closed",
            {"sitting_id": sitting.id, "round": round_.number, **state.to_dict()},
        )
        uow.commit()
        return state.to_dict()


def _ensure_no_open_vote(uow: UnitOfWork, sitting_id: int) -> None:
    """A new round would change who counts as registered under a vote already running."""
    if (
        uow.session.scalars(
            select(orm.Vote.id).where(orm.Vote.sitting_id == sitting_id, orm.Vote.state == "open")
        ).first()
        is not None
    ):
        raise InvalidTransition("a vote is open; close it before opening or closing registration")


def _acting_for(actor: Actor, deputy_id: object) -> int:
    """Deputies register only themselves; the secretary or chair may mark any deputy present."""
    if actor.role == "deputy":
        if deputy_id is not None and deputy_id != actor.deputy_id:
            raise PermissionDenied("a deputy can register only themselves")
        assert actor.deputy_id is not None
        return actor.deputy_id
    actor.require(*PROCEDURE)
    return validate.integer(deputy_id, "deputy_id", minimum=1)  # type: ignore[return-value]


def register(
    uow: UnitOfWork, actor: Actor, sitting_id: object, deputy_id: object = None
) -> dict[str, object]:
    """Register a deputy in the open round; returns the new count and quorum."""
    who = _acting_for(actor, deputy_id)
    with uow:
        sitting = open_sitting_row(uow, sitting_id)
        round_ = latest_round(uow, sitting.id, lock=True)
        if round_ is None or round_.closed_at is not None:
            raise NoOpenRegistration("registration is not open")
        before = presence(uow, sitting)
        if who not in before.participants:
            raise InvalidInput(
                f"deputy {who} does not take part in this sitting's body", field="deputy_id"
            )
        if who in before.registered:
            raise AlreadyRegistered("already registered in this round")
        row = uow.session.get(orm.Registration, (round_.id, who))
        if row is None:
            uow.session.add(
                orm.Registration(round_id=round_.id, deputy_id=who, registered_at=uow.now())
            )
        else:  # back in the hall after leaving
            row.left_at = None
        uow.session.flush()
        state = presence(uow, sitting)
        uow.journal(
            actor,
            "deputy_registered",
            {"sitting_id": sitting.id, "round": round_.number, "deputy_id": who, **state.to_dict()},
        )
        uow.commit()
        return {"deputy_id": who, "registered": True, "presence": state.to_dict()}


def unregister(
    uow: UnitOfWork, actor: Actor, sitting_id: object, deputy_id: object = None
) -> dict[str, object]:
    """A deputy leaves the hall (or is marked as having left); the count and quorum drop."""
    who = _acting_for(actor, deputy_id)
    with uow:
        sitting = open_sitting_row(uow, sitting_id)
        round_ = latest_round(uow, sitting.id, lock=True)
        row = None if round_ is None else uow.session.get(orm.Registration, (round_.id, who))
        if row is None or round_ is None or row.left_at is not None:
            raise NotRegistered(f"deputy {who} is not registered")
        row.left_at = uow.now()
        uow.session.flush()
        state = presence(uow, sitting)
        uow.journal(
            actor,
            "deputy_left",
            {"sitting_id": sitting.id, "round": round_.number, "deputy_id": who, **state.to_dict()},
        )
        uow.commit()
        return {"deputy_id": who, "registered": False, "presence": state.to_dict()}
