"""Read models: plain dicts for the API, the screens, the protocols and open data."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import cached_property

from sqlalchemy import func, select

from voting.adapters import orm
from voting.domain.agenda import ITEM_STATUS_UK, ItemStatus
from voting.domain.errors import NotFound
from voting.domain.floor import FloorRules
from voting.domain.names import uk_sort_key
from voting.domain.presence import Presence
from voting.domain.sittings import SittingState
from voting.domain.votes import OUTCOME_UK, RESULT_UK, Outcome, Result, VoteKind, VoteState

from .commands import SETTINGS
from .council import the_council
from .floor import floor_view, public_floor
from .registration import latest_round, presence_in, presence_of, registered_ids
from .sittings import current_item
from .uow import UnitOfWork
from .votes import vote_public


def journal_head(uow: UnitOfWork) -> int:
    """The sequence number of the last journal entry (0 before the first)."""
    with uow:
        head = uow.session.get(orm.JournalHead, 1)
        return 0 if head is None else head.seq


def council_info(uow: UnitOfWork) -> dict[str, object]:
    with uow:
        council = the_council(uow)
        bodies = uow.session.scalars(
            select(orm.Body).where(orm.Body.council_id == council.id).order_by(orm.Body.id)
        )
        return {
            "id": council.id,
            **{k: getattr(council, k) for k in SETTINGS},
            "bodies": [{"id": b.id, "kind": b.kind, "name": b.name} for b in bodies],
        }


def _deputy_dict(deputy: orm.Deputy, factions: dict[int, str]) -> dict[str, object]:
    return {
        "id": deputy.id,
        "full_name": deputy.full_name,
        "short_name": deputy.short_name,
        "faction": factions.get(deputy.faction_id) if deputy.faction_id else None,
        "voting_identifier": deputy.voting_identifier,
        "seat_number": deputy.seat_number,
        "is_head": deputy.is_head,
        "active": deputy.active,
    }


def _factions(uow: UnitOfWork) -> dict[int, str]:
    return dict(uow.session.execute(select(orm.Faction.id, orm.Faction.name)).all())


def _roster_order(deputy: orm.Deputy) -> tuple[object, ...]:
    """The head first, then deputies in Ukrainian alphabetical order."""
    return (not deputy.is_head, uk_sort_key(deputy.full_name), deputy.id)


def deputies(uow: UnitOfWork) -> list[dict[str, object]]:
    with uow:
        factions = _factions(uow)
        memberships: dict[int, list[int]] = defaultdict(list)
        for body_id, deputy_id in uow.session.execute(
            select(orm.CommitteeMember.body_id, orm.CommitteeMember.deputy_id)
        ):
            memberships[deputy_id].append(body_id)
        rows = sorted(uow.session.scalars(select(orm.Deputy)), key=_roster_order)
        return [
            {**_deputy_dict(d, factions), "committees": sorted(memberships[d.id])} for d in rows
        ]


def deputy(uow: UnitOfWork, deputy_id: object) -> dict[str, object]:
    with uow:
        row = uow.get(orm.Deputy, deputy_id, "deputy")
        return _deputy_dict(row, _factions(uow))


def sessions(uow: UnitOfWork) -> list[dict[str, object]]:
    with uow:
        sittings_by_session: dict[int | None, list[dict[str, object]]] = defaultdict(list)
        for s in uow.session.scalars(
            select(orm.Sitting).order_by(orm.Sitting.date, orm.Sitting.id)
        ):
            sittings_by_session[s.session_id].append(_sitting_dict(s))
        out = []
        for session, convocation in uow.session.execute(
            select(orm.Session, orm.Convocation)
            .join(orm.Convocation)
            .order_by(orm.Convocation.number, orm.Session.number)
        ):
            out.append(
                {
                    "id": session.id,
                    "number": session.number,
                    "title": session.title,
                    "convocation": {
                        "id": convocation.id,
                        "number": convocation.number,
                        "label": convocation.label,
                    },
                    "sittings": sittings_by_session[session.id],
                }
            )
        committee = sittings_by_session[None]
        return out + (
            [{"id": None, "title": "Засідання постійних комісій", "sittings": committee}]
            if committee
            else []
        )


def _sitting_dict(s: orm.Sitting) -> dict[str, object]:
    return {
        "id": s.id,
        "body_id": s.body_id,
        "session_id": s.session_id,
        "title": s.title,
        "date": s.date.isoformat(),
        "state": s.state,
        "opened_at": s.opened_at.isoformat() if s.opened_at else None,
        "closed_at": s.closed_at.isoformat() if s.closed_at else None,
        "place": s.place,
        "chair_id": s.chair_id,
        "secretary_id": s.secretary_id,
    }


def _item_dict(item: orm.AgendaItem) -> dict[str, object]:
    return {
        "id": item.id,
        "position": item.position,
        "title": item.title,
        "draft_number": item.draft_number,
        "rapporteur": item.rapporteur,
        "document_url": item.document_url,
        "status": item.status,
        "status_uk": ITEM_STATUS_UK[ItemStatus(item.status)],
    }


def agenda(uow: UnitOfWork, sitting_id: object) -> list[dict[str, object]]:
    with uow:
        sitting = uow.get(orm.Sitting, sitting_id, "sitting")
        return [
            _item_dict(i)
            for i in uow.session.scalars(
                select(orm.AgendaItem)
                .where(orm.AgendaItem.sitting_id == sitting.id)
                .order_by(orm.AgendaItem.position)
            )
        ]


def sitting(uow: UnitOfWork, sitting_id: object) -> dict[str, object]:
    with uow:
        row = uow.get(orm.Sitting, sitting_id, "sitting")
        round_ = latest_round(uow, row.id)
        return {
            **_sitting_dict(row),
            # The journal's head at the close, published: `voting journal verify --anchor`.
            "anchor": row.anchor,
            **presence_of(uow, row).to_dict(),
            "registration": None
            if round_ is None
            else {
                "round": round_.number,
                "open": round_.closed_at is None,
                "opened_at": round_.opened_at.isoformat(),
                "interrupted_at": _waiting_since(round_),
            },
            "agenda": [
                _item_dict(i)
                for i in uow.session.scalars(
                    select(orm.AgendaItem)
                    .where(orm.AgendaItem.sitting_id == row.id)
                    .order_by(orm.AgendaItem.position)
                )
            ],
            "votes": [
                _vote_summary(v)
                for v in uow.session.scalars(
                    select(orm.Vote).where(orm.Vote.sitting_id == row.id).order_by(orm.Vote.id)
                )
            ],
        }


def _vote_summary(vote: orm.Vote) -> dict[str, object]:
    out = vote_public(vote)
    out["closed_at"] = vote.closed_at.isoformat() if vote.closed_at else None
    out["announced_at"] = vote.announced_at.isoformat() if vote.announced_at else None
    # The servers stopped while it was open; it waits for the secretary (interruptions.py).
    out["interrupted_at"] = vote.interrupted_at.isoformat() if vote.interrupted_at else None
    if vote.state == VoteState.ANNULLED:
        out["annul_reason"] = vote.annul_reason
    result = vote_result(vote)
    if result is not None:
        out["result"] = result
    return out


def vote_result(vote: orm.Vote) -> dict[str, object] | None:
    """A counted vote's figures and outcome (None while it has none: open, or annulled before
    it was counted)."""
    if vote.result is None:
        return None
    return {
        "registered": vote.registered,
        "for": vote.count_for,
        "against": vote.count_against,
        "abstain": vote.count_abstain,
        "not_voted": vote.count_not_voted,
        "absent": vote.count_absent,
        "threshold": vote.threshold,
        "result": vote.result,
        # The journal's head at the close, published: `voting journal verify --anchor`.
        "anchor": vote.anchor,
        "result_uk": RESULT_UK[Result(vote.result)],
    }


def votes(uow: UnitOfWork, sitting_id: object) -> list[dict[str, object]]:
    with uow:
        row = uow.get(orm.Sitting, sitting_id, "sitting")
        return [
            _vote_summary(v)
            for v in uow.session.scalars(
                select(orm.Vote).where(orm.Vote.sitting_id == row.id).order_by(orm.Vote.id)
            )
        ]


def vote(uow: UnitOfWork, vote_id: object, *, staff: bool = False) -> dict[str, object]:
    """A vote with its result. Per-deputy lines: roll-call always (after close); open votes only
    for staff (the protocol); secret ballots never. While open: how many have voted."""
    with uow:
        row = uow.get(orm.Vote, vote_id, "vote")
        return _vote_detail(uow, row, staff)


def _vote_detail(uow: UnitOfWork, row: orm.Vote, staff: bool) -> dict[str, object]:
    council = the_council(uow)
    out = _vote_summary(row)
    secret = row.kind == VoteKind.SECRET
    if row.state == VoteState.OPEN:
        model = orm.SecretParticipation if secret else orm.Ballot
        cast = (
            uow.session.scalar(
                select(func.count()).select_from(model).where(model.vote_id == row.id)
            )
            or 0
        )
        out["votes_cast"] = cast
        if not secret and (council.show_running_split or staff):
            split = dict(
                uow.session.execute(
                    select(orm.Ballot.outcome, func.count())
                    .where(orm.Ballot.vote_id == row.id)
                    .group_by(orm.Ballot.outcome)
                ).all()
            )
            out["running"] = {k: split.get(k, 0) for k in ("for", "against", "abstain")}
        if staff and not secret:
            voted = set(
                uow.session.scalars(
                    select(orm.Ballot.deputy_id).where(orm.Ballot.vote_id == row.id)
                )
            )
            sitting_row = uow.session.get(orm.Sitting, row.sitting_id)
            assert sitting_row is not None
            state = presence_of(uow, sitting_row)
            out["not_yet_voted"] = sorted(state.registered - voted)
    elif not secret and (row.kind == VoteKind.ROLL_CALL or staff):
        out["roll_call"] = _roll_call(uow, row)
    if secret and staff:
        out["participants"] = sorted(
            uow.session.scalars(
                select(orm.SecretParticipation.deputy_id).where(
                    orm.SecretParticipation.vote_id == row.id
                )
            )
        )
    return out


def _roll_call(uow: UnitOfWork, vote: orm.Vote) -> list[dict[str, object]]:
    factions = _factions(uow)
    rows = sorted(
        uow.session.execute(
            select(orm.Ballot, orm.Deputy).join(orm.Deputy).where(orm.Ballot.vote_id == vote.id)
        ),
        key=lambda row: _roster_order(row[1]),
    )
    return [
        {
            "deputy_id": d.id,
            "full_name": d.full_name,
            "short_name": d.short_name,
            "faction": factions.get(d.faction_id) if d.faction_id else None,
            "seat_number": d.seat_number,
            "is_head": d.is_head,
            "outcome": b.outcome,
            "outcome_uk": OUTCOME_UK[Outcome(b.outcome)],
        }
        for b, d in rows
    ]


def live_page(uow: UnitOfWork, rules: FloorRules) -> dict[str, object]:
    """The public live page without JavaScript: what the hall display shows (current_state), the
    floor as everyone sees it, and every vote of the sitting so far, newest first, with the
    roll-call of each roll-call vote (the head first, then alphabetical)."""
    state = current_state(uow)
    sitting = state["sitting"]
    if not isinstance(sitting, dict):
        return {**state, "floor": None, "votes": []}
    with uow:
        row = uow.get(orm.Sitting, sitting["id"], "sitting")
        shown = public_floor(floor_view(uow, row, rules))
        votes = [
            _vote_detail(uow, v, False)
            for v in uow.session.scalars(
                select(orm.Vote).where(orm.Vote.sitting_id == row.id).order_by(orm.Vote.id.desc())
            )
        ]
    return {**state, "floor": shown, "votes": votes}


def current_state(uow: UnitOfWork) -> dict[str, object]:
    """What the hall display shows: the sitting in progress, its quorum, item and vote."""
    with uow:
        council = the_council(uow)
        row = uow.session.scalars(
            select(orm.Sitting)
            .where(orm.Sitting.state == SittingState.OPEN)
            .order_by(orm.Sitting.opened_at.desc())
        ).first()
        base: dict[str, object] = {
            "council": {"name": council.name, "statutory_deputies": council.statutory_deputies}
        }
        if row is None:
            return {**base, "sitting": None}
        last_vote = uow.session.scalars(
            select(orm.Vote).where(orm.Vote.sitting_id == row.id).order_by(orm.Vote.id.desc())
        ).first()
        current = current_item(uow, row.id)
        item = None if current is None else _item_dict(current)
        round_ = latest_round(uow, row.id)
        return {
            **base,
            "sitting": {
                **_sitting_dict(row),
                **presence_of(uow, row).to_dict(),
                "registration_open": bool(round_ and round_.closed_at is None),
            },
            "current_item": item,
            "vote": None if last_vote is None else _vote_detail(uow, last_vote, False),
        }


def attendance(uow: UnitOfWork, deputy_id: object = None) -> list[dict[str, object]]:
    """Per deputy: sittings attended (registered in any round) and their roll-call record."""
    with uow:
        if deputy_id is not None:
            uow.get(orm.Deputy, deputy_id, "deputy")  # NotFound for an unknown deputy
        closed_sittings = (
            uow.session.scalar(
                select(func.count())
                .select_from(orm.Sitting)
                .where(orm.Sitting.state != SittingState.PLANNED)
            )
            or 0
        )
        attended = dict(
            uow.session.execute(
                select(
                    orm.Registration.deputy_id,
                    func.count(func.distinct(orm.RegistrationRound.sitting_id)),
                )
                .join(orm.RegistrationRound)
                .group_by(orm.Registration.deputy_id)
            ).all()
        )
        outcome_counts: dict[int, dict[str, int]] = defaultdict(dict)
        for dep, outcome, n in uow.session.execute(
            select(orm.Ballot.deputy_id, orm.Ballot.outcome, func.count())
            .join(orm.Vote)
            .where(orm.Vote.state == VoteState.CLOSED, orm.Vote.kind == VoteKind.ROLL_CALL)
            .group_by(orm.Ballot.deputy_id, orm.Ballot.outcome)
        ):
            outcome_counts[dep][outcome] = n
        query = select(orm.Deputy)
        if deputy_id is not None:
            query = query.where(orm.Deputy.id == deputy_id)
        out = []
        for d in sorted(uow.session.scalars(query), key=_roster_order):
            counts = {o.value: outcome_counts[d.id].get(o.value, 0) for o in Outcome}
            out.append(
                {
                    "deputy_id": d.id,
                    "full_name": d.full_name,
                    "sittings_held": closed_sittings,
                    "sittings_attended": attended.get(d.id, 0),
                    "votes": counts,
                }
            )
        if deputy_id is not None and not out:
            raise NotFound(f"deputy {deputy_id} does not exist")
        return out


AUDIENCES = ("public", "staff", "terminal")


def live_state(uow: UnitOfWork, audience: str = "public") -> dict[str, object]:
    """The compact state the live screens render, pushed to hundreds of screens at once.

    Deputies appear by id only (the screens load the roster once): who is registered, and after
    a roll-call vote closes, each deputy's outcome. Staff also get the agenda and, while a vote
    is open, the running split and who has not voted yet; for a secret ballot nobody gets any
    per-deputy line, and the running split is shown to the public only when the council's
    setting allows and never for a secret ballot. Terminals (audience "terminal") get the least:
    no per-deputy lists at all; each asks for its own line (my_live_state) when the vote or the
    registration round changes.
    """
    return live_states(uow, (audience,))[1][audience]


def _head_last(uow: UnitOfWork, wanted: bool) -> int | None:
    """The journal's head, read after the state it labels (see live_states)."""
    if not wanted:
        return None
    head_row = uow.session.get(orm.JournalHead, 1)
    return 0 if head_row is None else head_row.seq


def live_states(
    uow: UnitOfWork,
    audiences: Iterable[str] = AUDIENCES,
    with_head: bool = False,
    floor_rules: FloorRules | None = None,
) -> tuple[int | None, dict[str, dict[str, object]]]:
    """`live_state` of each audience, read together (a push reads them all at once), and with
    `with_head` the journal's head (else None), read last: no part of a state is newer than
    the number (on PostgreSQL each statement reads the last commit, so a commit during the read
    can leave some parts older; it pokes the pusher, whose next read brings them).
    `floor_rules` order the speaker list (the council's configured rules; defaults if None)."""
    rules = FloorRules() if floor_rules is None else floor_rules
    wanted = list(audiences)
    for audience in wanted:
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience!r}")
    with uow:
        council = the_council(uow)
        common: dict[str, object] = {
            "now": uow.now().isoformat(),
            "council": {
                "name": council.name,
                "statutory_deputies": council.statutory_deputies,
                "show_running_split": council.show_running_split,
                "default_rule": council.default_rule,
                "default_time_limit_seconds": council.default_time_limit_seconds,
                "revote_limit": council.revote_limit,
            },
            "sitting": None,
            "current_item": None,
            "vote": None,
            "floor": None,
        }
        out = {audience: dict(common) for audience in wanted}
        followed = live_sitting(uow)
        if followed is None:
            return _head_last(uow, with_head), out
        round_ = latest_round(uow, followed.id)
        state = presence_in(uow, followed, council, round_)
        sitting = {
            **_sitting_dict(followed),
            **state.to_dict(),
            "registration_open": bool(round_ and round_.closed_at is None),
            "registration_round": round_.number if round_ else None,
            "registration_interrupted_at": _waiting_since(round_),
        }
        items = list(
            uow.session.scalars(
                select(orm.AgendaItem)
                .where(orm.AgendaItem.sitting_id == followed.id)
                .order_by(orm.AgendaItem.position)
            )
        )
        current = next((i for i in items if i.status == ItemStatus.UNDER_CONSIDERATION), None)
        last_vote = uow.session.scalars(
            select(orm.Vote).where(orm.Vote.sitting_id == followed.id).order_by(orm.Vote.id.desc())
        ).first()
        if current is None and last_vote is not None and last_vote.state == VoteState.OPEN:
            # A re-vote of a decided item: the hall considers that item again while it runs.
            current = next((i for i in items if i.id == last_vote.item_id), None)
        facts = None if last_vote is None else _VoteFacts(uow, last_vote)
        decided = next(
            (i for i in items if last_vote is not None and i.id == last_vote.item_id), None
        )
        vote_item = None if decided is None or decided is current else _item_dict(decided)
        floor_staff = floor_view(uow, followed, rules, staff=True)  # read once for all
        floors = {True: floor_staff, False: public_floor(floor_staff)}
        for audience in wanted:
            shown = out[audience]
            staff, light = audience == "staff", audience == "terminal"
            shown["sitting"] = (
                dict(sitting)
                if light
                else {
                    **sitting,
                    "registered_ids": sorted(state.registered),
                    "participant_ids": sorted(state.participants),
                }
            )
            shown["current_item"] = None if current is None else _item_dict(current)
            # The item the latest vote decided, once the hall no longer considers it: the
            # screens show its number and draft number beside the result.
            shown["vote_item"] = vote_item
            shown["floor"] = floors[staff]
            if staff:
                shown["agenda"] = [_item_dict(i) for i in items]
            if facts is not None:
                shown["vote"] = (
                    _live_vote_light(uow, facts.row)
                    if light
                    else _live_vote(facts, council.show_running_split, staff, state)
                )
        return _head_last(uow, with_head), out


def _waiting_since(round_: orm.RegistrationRound | None) -> str | None:
    """When the servers stopped, for an open round their stop interrupted (else None)."""
    if round_ is None or round_.closed_at is not None or round_.interrupted_at is None:
        return None
    return round_.interrupted_at.isoformat()


def live_sitting(uow: UnitOfWork) -> orm.Sitting | None:
    """The sitting the screens follow: the open sitting with an open vote, else the one opened
    last (a committee may sit while the plenary votes: its opening must not hide the vote)."""
    return live_sitting_and_vote(uow)[0]


def live_sitting_and_vote(uow: UnitOfWork) -> tuple[orm.Sitting | None, int | None]:
    """`live_sitting` and the id of its open vote (None if it has none), in one statement: a
    key press at a console asks for both."""
    found = uow.session.execute(
        select(orm.Sitting, orm.Vote.id)
        .outerjoin(
            orm.Vote, (orm.Vote.sitting_id == orm.Sitting.id) & (orm.Vote.state == VoteState.OPEN)
        )
        .where(orm.Sitting.state == SittingState.OPEN)
        .order_by(orm.Vote.id.is_(None), orm.Sitting.opened_at.desc())
        .limit(1)
    ).first()
    return (None, None) if found is None else (found[0], found[1])


def _live_vote_light(uow: UnitOfWork, row: orm.Vote) -> dict[str, object]:
    """A terminal's view of the vote: what it is, whether it is open, its deadline, its result."""
    return {**_vote_summary(row), "allow_change": row.allow_change}


class _VoteFacts:
    """What the screens may be shown of a vote, read once, when first asked for (every audience
    of a push shares one read): each ballot's deputy and choice, or for a secret ballot only who
    has taken part."""

    def __init__(self, uow: UnitOfWork, row: orm.Vote) -> None:
        self.uow, self.row = uow, row

    @cached_property
    def _lines(self) -> dict[int, str | None]:
        """Deputy id -> choice (None for a secret ballot: its choices are not linked to anyone)."""
        if self.row.kind == VoteKind.SECRET:
            model = orm.SecretParticipation
            return dict.fromkeys(
                self.uow.session.scalars(
                    select(model.deputy_id).where(model.vote_id == self.row.id)
                )
            )
        return dict(
            self.uow.session.execute(
                select(orm.Ballot.deputy_id, orm.Ballot.outcome).where(
                    orm.Ballot.vote_id == self.row.id
                )
            ).all()
        )

    @property
    def votes_cast(self) -> int:
        return len(self._lines)

    @property
    def running(self) -> dict[str, int]:  # never asked for a secret ballot
        split = Counter(self._lines.values())
        return {k: split[k] for k in ("for", "against", "abstain")}

    @property
    def choices(self) -> dict[int, str]:  # roll-call only
        return {deputy: choice for deputy, choice in self._lines.items() if choice is not None}

    @property
    def voters(self) -> set[int]:
        return set(self._lines)


def _live_vote(
    facts: _VoteFacts, show_split: bool, staff: bool, state: Presence
) -> dict[str, object]:
    row = facts.row
    out = {**_vote_summary(row), "allow_change": row.allow_change}
    secret = row.kind == VoteKind.SECRET
    if row.state == VoteState.OPEN:
        out["votes_cast"] = facts.votes_cast
        if not secret and (show_split or staff):
            out["running"] = facts.running
        if staff and row.kind == VoteKind.ROLL_CALL:
            # Per deputy while open: staff only, roll-call only (the control screen's hall plan);
            # an open vote's per-deputy list is for the protocol alone.
            out["choices"] = facts.choices
        if staff:
            out["not_yet_voted"] = sorted(state.registered - facts.voters)
    elif row.kind == VoteKind.ROLL_CALL and row.state == VoteState.CLOSED:
        out["outcomes"] = facts.choices
    return out


def my_live_state(uow: UnitOfWork, deputy_id: int) -> dict[str, object]:
    """What a deputy's terminal shows of its own: name, seat and, for the sitting's latest vote,
    whether this deputy has voted and (not for a secret ballot) the choice as recorded."""
    with uow:
        row = uow.session.get(orm.Deputy, deputy_id)
        if row is None:
            raise NotFound(f"deputy {deputy_id} does not exist")
        out: dict[str, object] = {
            "deputy_id": row.id,
            "full_name": row.full_name,
            "short_name": row.short_name,
            "seat_number": row.seat_number,
            "registered": False,
            "registration_round": None,
            "vote_id": None,
            "voted": False,
            "choice": None,
        }
        sitting_row = live_sitting(uow)
        if sitting_row is not None:
            round_ = latest_round(uow, sitting_row.id)
            out["registration_round"] = round_.number if round_ else None
            out["registered"] = row.id in registered_ids(uow, sitting_row.id)
        vote_row = (
            None
            if sitting_row is None
            else uow.session.scalars(
                select(orm.Vote)
                .where(orm.Vote.sitting_id == sitting_row.id)
                .order_by(orm.Vote.id.desc())
            ).first()
        )
        if vote_row is None:
            return out
        out["vote_id"] = vote_row.id
        if vote_row.kind == VoteKind.SECRET:
            out["voted"] = (
                uow.session.get(orm.SecretParticipation, (vote_row.id, deputy_id)) is not None
            )
        else:
            ballot = uow.session.get(orm.Ballot, (vote_row.id, deputy_id))
            if ballot is not None and ballot.cast_at is not None:
                out["voted"], out["choice"] = True, ballot.outcome
        return out
