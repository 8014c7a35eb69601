"""The one statement a batch of casts begins with: the vote, share-locked, with what the guards
of a cast need, and the standing of the batch's deputies in it.

It says in SQL what `voting.domain.presence.standing` says in Python (who takes part in the
sitting's body, with the head rule of art. 59; who of them is registered in the newest round; who
has voted already), for the batch's deputies only, in one round trip while casts wait: a batch
need not load the whole roster. `tests/integration/test_standing_sql.py` proves the two agree over
random rosters, registrations, head settings and ballots, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Exists,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from voting.domain.presence import BodyKind, Standing
from voting.domain.votes import VoteKind

from . import orm

_VOTE, _SITTING = orm.table_of(orm.Vote), orm.table_of(orm.Sitting)
_BODY, _COUNCIL = orm.table_of(orm.Body), orm.table_of(orm.Council)
_DEPUTY, _MEMBER = orm.table_of(orm.Deputy), orm.table_of(orm.CommitteeMember)
_ROUND, _REGISTRATION = orm.table_of(orm.RegistrationRound), orm.table_of(orm.Registration)
_BALLOT, _PARTICIPATION = orm.table_of(orm.Ballot), orm.table_of(orm.SecretParticipation)
_SEALED = orm.table_of(orm.SealedBallot)


def _statement() -> Select[Any]:
    """The vote, share-locked (PostgreSQL; SQLite's writers are serialized anyway), with its
    sitting's body and council settings; joined to one row for each of the batch's deputies
    (`ids`) who takes part in that body, with whether that deputy is registered in the
    sitting's newest registration round (none before the first round) and has already voted in
    this vote. A vote with none of them comes back as one row whose deputy columns are empty."""
    newest_round = (
        select(_ROUND.c.id)
        .where(_ROUND.c.sitting_id == _VOTE.c.sitting_id)
        .order_by(_ROUND.c.number.desc())
        .limit(1)
        .correlate(_VOTE)
        .scalar_subquery()
    )  # the vote two levels up
    registered = exists().where(
        _REGISTRATION.c.round_id == newest_round,
        _REGISTRATION.c.deputy_id == _DEPUTY.c.id,
        _REGISTRATION.c.left_at.is_(None),
    )

    def voted_in(voters: Table) -> Exists:
        return exists().where(voters.c.vote_id == _VOTE.c.id, voters.c.deputy_id == _DEPUTY.c.id)

    secret = _VOTE.c.kind == VoteKind.SECRET.value
    voted = or_(and_(secret, voted_in(_PARTICIPATION)), and_(~secret, voted_in(_BALLOT)))
    plenary = _BODY.c.kind == BodyKind.PLENARY.value
    takes_part = or_(
        # the plenary: the council's deputies, and the head when the head votes (art. 59)
        and_(
            plenary,
            _DEPUTY.c.council_id == _COUNCIL.c.id,
            or_(~_DEPUTY.c.is_head, _COUNCIL.c.head_votes),
        ),
        # a committee: its members
        and_(
            ~plenary,
            exists().where(_MEMBER.c.body_id == _BODY.c.id, _MEMBER.c.deputy_id == _DEPUTY.c.id),
        ),
    )
    return (
        select(
            _VOTE.c.id,
            _VOTE.c.state,
            _VOTE.c.kind,
            _VOTE.c.deadline,
            _VOTE.c.interrupted_at,
            _VOTE.c.allow_change,
            _VOTE.c.tally_key,
            _VOTE.c.sitting_id,
            _BODY.c.id.label("body_id"),
            _BODY.c.kind.label("body_kind"),
            _COUNCIL.c.id.label("council_id"),
            _COUNCIL.c.registration_required_to_vote,
            _DEPUTY.c.id.label("deputy_id"),
            registered.label("registered"),
            voted.label("voted"),
        )
        .join_from(_VOTE, _SITTING, _SITTING.c.id == _VOTE.c.sitting_id)
        .join(_BODY, _BODY.c.id == _SITTING.c.body_id)
        .join(_COUNCIL, _COUNCIL.c.id == _BODY.c.council_id)
        .outerjoin(
            _DEPUTY,
            and_(
                _DEPUTY.c.id.in_(bindparam("ids", expanding=True)),
                _DEPUTY.c.active.is_(True),
                takes_part,
            ),
        )
        .where(_VOTE.c.id == bindparam("vote_id"))
        .with_for_update(read=True, of=_VOTE)
    )


_LOCK_FOR_CASTING = _statement()


def lock_for_casting(
    session: Session, vote_id: int, ids: Collection[int]
) -> tuple[Row[Any], Standing] | None:
    """Lock the vote for casting by the deputies `ids`: the vote, and their standing in it (None
    when there is no such vote).

    On PostgreSQL a close holds the vote locked for update: this statement then waits, and
    reads the vote again once the close has committed (so a cast after a close is refused).
    The standing is read as at the statement's start, before any such wait: a deputy who left
    during it still counts as registered, as if the cast had come a moment earlier. A double
    vote stays impossible whatever was read: the ballot's primary key refuses it."""
    rows = session.execute(_LOCK_FOR_CASTING, {"vote_id": vote_id, "ids": sorted(ids)}).all()
    if not rows:
        return None
    found = [row for row in rows if row.deputy_id is not None]
    return rows[0], Standing(
        participants=frozenset(row.deputy_id for row in found),
        registered=frozenset(row.deputy_id for row in found if row.registered),
        voted=frozenset(row.deputy_id for row in found if row.voted),
    )


@dataclass
class BallotWrites:
    """What a batch of admitted casts writes (each row a dict of its columns)."""

    ballots: list[dict[str, object]] = field(
        default_factory=list
    )  # new: vote_id, deputy_id, outcome
    changed: list[dict[str, object]] = field(
        default_factory=list
    )  # a choice changed, the same keys
    participations: list[dict[str, object]] = field(default_factory=list)  # secret: who took part
    sealed: list[tuple[int, bytes]] = field(default_factory=list)  # secret: vote_id, sealed


def write_ballots(session: Session, writes: BallotWrites, now: datetime) -> None:
    """New ballots, participations and sealed ballots in one statement each, changed ballots one
    by one. IntegrityError when a deputy already has a ballot (whoever wrote it)."""
    for ballot in writes.changed:
        session.execute(
            update(_BALLOT)
            .where(
                _BALLOT.c.vote_id == ballot["vote_id"], _BALLOT.c.deputy_id == ballot["deputy_id"]
            )
            .values(outcome=ballot["outcome"], cast_at=now)
        )
    if writes.ballots:
        session.execute(insert(_BALLOT), [{**ballot, "cast_at": now} for ballot in writes.ballots])
    if writes.participations:
        session.execute(insert(_PARTICIPATION), writes.participations)
    if writes.sealed:
        # In the order of their random bytes, not the casters': nothing in a batch pairs them.
        rows = sorted(writes.sealed, key=lambda row: row[1])
        session.execute(insert(_SEALED), [{"vote_id": v, "sealed": b} for v, b in rows])
