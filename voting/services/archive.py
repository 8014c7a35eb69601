"""The public archive's read models: closed sittings, their items and votes, and a deputy's
record (attendance per sitting and every roll-call choice), as plain dicts for the archive's
pages and JSON (voting/web/archive.py). The files at the archive's stable URLs are produced by
voting/record_jobs.py.

What is public: a closed sitting with everything in it; a closed (or annulled) vote the moment
it closes, whatever the state of its sitting. A sitting that is still open or planned is not in
the archive: asking for it is `NotInArchive` (404), naming why; the same for a vote still open.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from voting.adapters import orm
from voting.domain.agenda import ITEM_STATUS_UK, ItemStatus
from voting.domain.errors import NotFound
from voting.domain.names import uk_sort_key
from voting.domain.sittings import SittingState
from voting.domain.votes import OUTCOME_UK, RESULT_UK, Outcome, Result, VoteKind, VoteState

from .queries import vote_result
from .uow import UnitOfWork
from .votes import vote_public


class NotInArchive(NotFound):
    """Known, but not public yet: a sitting still open, a vote still open."""

    code = "not_in_archive"


def closed_sitting(uow: UnitOfWork, sitting_id: object) -> orm.Sitting:
    """The sitting, if it is closed (inside an open unit of work)."""
    sitting = uow.get(orm.Sitting, sitting_id, "sitting")
    if sitting.state != SittingState.CLOSED:
        raise NotInArchive(
            f"sitting {sitting.id} is {sitting.state}: the archive holds a sitting once it is "
            "closed",
            sitting_id=sitting.id,
            state=sitting.state,
        )
    return sitting


def public_vote(uow: UnitOfWork, vote_id: object) -> orm.Vote:
    """The vote, if it is closed or annulled (inside an open unit of work)."""
    vote = uow.get(orm.Vote, vote_id, "vote")
    if vote.state == VoteState.OPEN:
        raise NotInArchive(
            f"vote {vote.id} is still open: it is public the moment it closes",
            vote_id=vote.id,
            state=vote.state,
        )
    return vote


def sitting_state(uow: UnitOfWork, sitting_id: object) -> str:
    """The state of a sitting (NotFound for an unknown one)."""
    with uow:
        return str(uow.get(orm.Sitting, sitting_id, "sitting").state)


def a_vote_is_open(uow: UnitOfWork) -> bool:
    """Whether any vote is open now (the record's background work waits for its close)."""
    with uow:
        found = uow.session.scalars(
            select(orm.Vote.id).where(orm.Vote.state == VoteState.OPEN).limit(1)
        ).first()
        return found is not None


def vote_place(uow: UnitOfWork, vote_id: object) -> tuple[int, str, str]:
    """(sitting id, the sitting's state, the vote's state) of a vote (NotFound if unknown)."""
    with uow:
        vote = uow.get(orm.Vote, vote_id, "vote")
        sitting = uow.session.get(orm.Sitting, vote.sitting_id)
        assert sitting is not None
        return sitting.id, str(sitting.state), str(vote.state)


def _sitting_dict(sitting: orm.Sitting, session: orm.Session | None) -> dict[str, object]:
    return {
        "id": sitting.id,
        "title": sitting.title,
        "date": sitting.date.isoformat(),
        "session_number": None if session is None else session.number,
        "opened_at": sitting.opened_at.isoformat() if sitting.opened_at else None,
        "closed_at": sitting.closed_at.isoformat() if sitting.closed_at else None,
    }


def sittings(uow: UnitOfWork) -> list[dict[str, object]]:
    """The closed sittings, newest first, with how many items and votes each had."""
    with uow:
        counts = dict(
            uow.session.execute(
                select(orm.Vote.sitting_id, func.count())
                .where(orm.Vote.state != VoteState.OPEN)
                .group_by(orm.Vote.sitting_id)
            ).all()
        )
        items = dict(
            uow.session.execute(
                select(orm.AgendaItem.sitting_id, func.count()).group_by(orm.AgendaItem.sitting_id)
            ).all()
        )
        rows = uow.session.execute(
            select(orm.Sitting, orm.Session)
            .outerjoin(orm.Session, orm.Session.id == orm.Sitting.session_id)
            .where(orm.Sitting.state == SittingState.CLOSED)
            .order_by(orm.Sitting.date.desc(), orm.Sitting.id.desc())
        ).all()
        return [
            {**_sitting_dict(s, session), "items": items.get(s.id, 0), "votes": counts.get(s.id, 0)}
            for s, session in rows
        ]


def vote_dict(vote: orm.Vote) -> dict[str, object]:
    """A closed or annulled vote as the archive shows it."""
    out = vote_public(vote)
    out["closed_at"] = vote.closed_at.isoformat() if vote.closed_at else None
    out["annul_reason"] = vote.annul_reason if vote.state == VoteState.ANNULLED else None
    out["result"] = vote_result(vote)
    return out


def sitting(uow: UnitOfWork, sitting_id: object) -> dict[str, object]:
    """A closed sitting: its agenda items, each with its votes, and the votes on no item."""
    with uow:
        row = closed_sitting(uow, sitting_id)
        session = None if row.session_id is None else uow.session.get(orm.Session, row.session_id)
        votes: dict[int | None, list[dict[str, object]]] = defaultdict(list)
        rows = list(
            uow.session.scalars(
                select(orm.Vote)
                .where(orm.Vote.sitting_id == row.id, orm.Vote.state != VoteState.OPEN)
                .order_by(orm.Vote.id)
            )
        )
        for v in rows:
            votes[v.item_id].append(vote_dict(v))
        items = [
            {
                "id": i.id,
                "position": i.position,
                "title": i.title,
                "draft_number": i.draft_number,
                "rapporteur": i.rapporteur,
                "status": i.status,
                "status_uk": ITEM_STATUS_UK[ItemStatus(i.status)],
                "votes": votes[i.id],
            }
            for i in uow.session.scalars(
                select(orm.AgendaItem)
                .where(orm.AgendaItem.sitting_id == row.id)
                .order_by(orm.AgendaItem.position)
            )
        ]
        return {
            **_sitting_dict(row, session),
            "anchor": row.anchor,
            "items": items,
            "other_votes": votes[None],
        }


@dataclass(frozen=True, slots=True)
class DeputyFilter:
    """A deputy page's filter: sittings from and to a date (both included), and item titles
    containing a text (case-insensitive)."""

    date_from: date | None = None
    date_to: date | None = None
    text: str = ""

    def covers(self, day: date) -> bool:
        return (self.date_from is None or day >= self.date_from) and (
            self.date_to is None or day <= self.date_to
        )


def deputy(uow: UnitOfWork, deputy_id: object, chosen: DeputyFilter) -> dict[str, object]:
    """A deputy's attendance at each closed sitting (the rounds they registered in) and every
    choice of theirs in a closed roll-call vote, newest first, filtered by `chosen`."""
    with uow:
        person = uow.get(orm.Deputy, deputy_id, "deputy")
        faction = (
            None if person.faction_id is None else uow.session.get(orm.Faction, person.faction_id)
        )
        held = [
            s
            for s in uow.session.scalars(
                select(orm.Sitting)
                .where(orm.Sitting.state == SittingState.CLOSED)
                .order_by(orm.Sitting.date.desc(), orm.Sitting.id.desc())
            )
            if chosen.covers(s.date)
        ]
        rounds: dict[int, int] = defaultdict(int)
        mine: dict[int, list[int]] = defaultdict(list)
        for sitting_id, number, deputy_of in uow.session.execute(
            select(
                orm.RegistrationRound.sitting_id,
                orm.RegistrationRound.number,
                orm.Registration.deputy_id,
            ).outerjoin(
                orm.Registration,
                (orm.Registration.round_id == orm.RegistrationRound.id)
                & (orm.Registration.deputy_id == person.id),
            )
        ).all():
            rounds[sitting_id] = max(rounds[sitting_id], number)
            if deputy_of is not None:
                mine[sitting_id].append(number)
        attendance = [
            {
                "sitting_id": s.id,
                "date": s.date.isoformat(),
                "title": s.title,
                "present": bool(mine[s.id]),
                "rounds_registered": sorted(mine[s.id]),
                "rounds": rounds[s.id],
            }
            for s in held
        ]
        dates = {s.id: s.date for s in uow.session.scalars(select(orm.Sitting))}
        needle = chosen.text.casefold().strip()
        choices = []
        for ballot, vote, item in uow.session.execute(
            select(orm.Ballot, orm.Vote, orm.AgendaItem)
            .join(orm.Vote, orm.Vote.id == orm.Ballot.vote_id)
            .outerjoin(orm.AgendaItem, orm.AgendaItem.id == orm.Vote.item_id)
            .where(
                orm.Ballot.deputy_id == person.id,
                orm.Vote.state == VoteState.CLOSED,
                orm.Vote.kind == VoteKind.ROLL_CALL,
            )
            .order_by(orm.Vote.id.desc())
        ).all():
            day = dates[vote.sitting_id]
            title = item.title if item is not None else vote.title
            if not chosen.covers(day) or (needle and needle not in title.casefold()):
                continue
            choices.append(
                {
                    "vote_id": vote.id,
                    "sitting_id": vote.sitting_id,
                    "date": day.isoformat(),
                    "item_position": None if item is None else item.position,
                    "title": title,
                    "vote_title": vote.title,
                    "stage": vote.stage,
                    "attempt": vote.attempt,
                    "outcome": ballot.outcome,
                    "outcome_uk": OUTCOME_UK[Outcome(ballot.outcome)],
                    "result": vote.result,
                    "result_uk": None if vote.result is None else RESULT_UK[Result(vote.result)],
                }
            )
        totals = {o.value: sum(1 for c in choices if c["outcome"] == o.value) for o in Outcome}
        return {
            "deputy_id": person.id,
            "full_name": person.full_name,
            "faction": None if faction is None else faction.name,
            "is_head": person.is_head,
            "filter": {
                "from": None if chosen.date_from is None else chosen.date_from.isoformat(),
                "to": None if chosen.date_to is None else chosen.date_to.isoformat(),
                "q": chosen.text,
            },
            "sittings_held": len(attendance),
            "sittings_attended": sum(1 for a in attendance if a["present"]),
            "attendance": attendance,
            "choices": choices,
            "totals": totals,
        }


def deputies(uow: UnitOfWork) -> list[dict[str, object]]:
    """Every deputy and the head, for the archive's index (the head first, then by name)."""
    with uow:
        rows = sorted(
            uow.session.scalars(select(orm.Deputy)),
            key=lambda d: (not d.is_head, uk_sort_key(d.full_name), d.id),
        )
        return [{"deputy_id": d.id, "full_name": d.full_name, "active": d.active} for d in rows]
