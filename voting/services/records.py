"""The official record's read models: what the protocol, a roll-call sheet and the attendance
report state, built from the database as frozen `protocols.model` objects for the renderer.

Only a closed sitting has a record: its figures are final (annulling, announcing and manual
results refuse a closed sitting). An unknown sitting or vote is NotFound; a sitting that is not
closed yet is SittingNotClosed, naming it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import select

from protocols.model import (
    AttendanceReport,
    AttendanceSitting,
    BallotLine,
    CouncilDetails,
    Counts,
    DeputyRef,
    FactionGroup,
    InvitedPerson,
    ItemRecord,
    JournalMark,
    RollCallSheet,
    RoundRecord,
    SittingHeader,
    SittingRecord,
    SpeechRecord,
    VoteRecord,
)
from voting.adapters import orm
from voting.domain.agenda import ITEM_STATUS_UK, ItemStatus
from voting.domain.errors import DomainError, InvalidInput, NotFound
from voting.domain.floor import SpeechType
from voting.domain.names import uk_sort_key
from voting.domain.presence import presence
from voting.domain.sittings import SittingState
from voting.domain.votes import OUTCOME_UK, RESULT_UK, Outcome, Result, Stage, VoteKind, VoteState

from .council import quorum_rule, the_council
from .registration import roster_of
from .uow import UnitOfWork
from .votes import vote_rule

KYIV = ZoneInfo("Europe/Kyiv")

STAGE_UK = {
    Stage.AS_A_BASIS: "за основу",
    Stage.AS_A_WHOLE: "в цілому",
    Stage.AMENDMENT: "поправка",
    Stage.PROCEDURAL: "процедурне питання",
    Stage.OTHER: "інше",
}
KIND_UK = {VoteKind.ROLL_CALL: "поіменне", VoteKind.OPEN: "відкрите", VoteKind.SECRET: "таємне"}
SPEECH_TYPE_UK = {
    SpeechType.REPORT: "доповідь",
    SpeechType.CO_REPORT: "співдоповідь",
    SpeechType.CLOSING_WORD: "заключне слово",
    SpeechType.SPEECH: "виступ в обговоренні",
    SpeechType.QUESTION: "запитання доповідачу",
    SpeechType.ANSWER: "відповідь доповідача",
    SpeechType.REPLY: "репліка",
    SpeechType.POINT_OF_ORDER: "з процедурного питання",
    SpeechType.EXPLANATION_OF_VOTE: "з мотивів голосування",
    SpeechType.FACTION_STATEMENT: "виступ від фракції",
    SpeechType.INVITED: "запрошений",
}


class SittingNotClosed(DomainError):
    """The record of a sitting is made once it is closed."""

    code = "sitting_not_closed"


class VoteStillOpen(DomainError):
    """A roll-call sheet asked for while its vote is still open."""

    code = "vote_still_open"


# --- shared pieces ------------------------------------------------------------------------------


def _local(moment: datetime | None, zone: tzinfo) -> datetime | None:
    return None if moment is None else moment.astimezone(zone)


def _closed_sitting(uow: UnitOfWork, sitting_id: object) -> orm.Sitting:
    sitting = uow.get(orm.Sitting, sitting_id, "sitting")
    if sitting.state != SittingState.CLOSED:
        raise SittingNotClosed(
            f"sitting {sitting.id} ({sitting.title}, {sitting.date:%d.%m.%Y}) is {sitting.state}, "
            "not closed; its record is made when it closes",
            sitting_id=sitting.id,
        )
    return sitting


def _council(uow: UnitOfWork) -> CouncilDetails:
    council = the_council(uow)
    return CouncilDetails(council.name, council.edrpou, council.katottg)


def _header(uow: UnitOfWork, sitting: orm.Sitting, zone: tzinfo) -> SittingHeader:
    convocation_number = convocation_label = session_number = sitting_number = None
    if sitting.session_id is not None:
        session = uow.session.get(orm.Session, sitting.session_id)
        assert session is not None
        convocation = uow.session.get(orm.Convocation, session.convocation_id)
        assert convocation is not None
        convocation_number, convocation_label = convocation.number, convocation.label
        session_number = session.number
        order = uow.session.execute(
            select(orm.Sitting.id)
            .where(orm.Sitting.session_id == session.id)
            .order_by(orm.Sitting.date, orm.Sitting.id)
        ).scalars()
        sitting_number = list(order).index(sitting.id) + 1
    opened = _local(sitting.opened_at, zone)
    chair = None if sitting.chair_id is None else uow.session.get(orm.Deputy, sitting.chair_id)
    secretary = (
        None if sitting.secretary_id is None else uow.session.get(orm.Deputy, sitting.secretary_id)
    )
    return SittingHeader(
        sitting_id=sitting.id,
        council=_council(uow),
        title=sitting.title,
        date=sitting.date,
        convocation_number=convocation_number,
        convocation_label=convocation_label,
        session_number=session_number,
        sitting_number=sitting_number,
        opened_at=opened,
        closed_at=_local(sitting.closed_at, zone),
        place=sitting.place,
        chair=None if chair is None else chair.full_name,
        secretary=None if secretary is None else secretary.full_name,
        chair_is_head=chair is not None and chair.is_head,
    )


def _person_key(deputy: orm.Deputy) -> tuple[object, ...]:
    """The head first, then deputies in Ukrainian alphabetical order."""
    return (not deputy.is_head, uk_sort_key(deputy.full_name), deputy.id)


class _People:
    """The council's deputies by id, with their factions, as documents name them."""

    def __init__(self, uow: UnitOfWork) -> None:
        factions = dict(uow.session.execute(select(orm.Faction.id, orm.Faction.name)).all())
        self.rows = {d.id: d for d in uow.session.scalars(select(orm.Deputy))}
        self.refs = {
            d.id: DeputyRef(
                d.full_name, factions.get(d.faction_id) if d.faction_id else None, d.is_head
            )
            for d in self.rows.values()
        }

    def ordered(self, ids: Iterable[int]) -> list[int]:
        """The ids, the head first, then in Ukrainian alphabetical order."""
        return [d.id for d in sorted((self.rows[i] for i in set(ids)), key=_person_key)]

    def refs_of(self, ids: Iterable[int]) -> tuple[DeputyRef, ...]:
        return tuple(self.refs[i] for i in self.ordered(ids))


def _rounds(
    uow: UnitOfWork, sitting: orm.Sitting, people: _People, zone: tzinfo
) -> tuple[RoundRecord, ...]:
    council = the_council(uow)
    body = uow.session.get(orm.Body, sitting.body_id)
    assert body is not None
    roster = roster_of(uow, body, council)
    rule = quorum_rule(council)
    registered: dict[int, list[int]] = defaultdict(list)
    rounds = list(
        uow.session.scalars(
            select(orm.RegistrationRound)
            .where(orm.RegistrationRound.sitting_id == sitting.id)
            .order_by(orm.RegistrationRound.number)
        )
    )
    for round_id, deputy_id in uow.session.execute(
        select(orm.Registration.round_id, orm.Registration.deputy_id).where(
            orm.Registration.round_id.in_([r.id for r in rounds])
        )
    ).all():
        registered[round_id].append(deputy_id)
    out = []
    for r in rounds:
        state = presence(roster, registered[r.id], rule)
        opened = _local(r.opened_at, zone)
        assert opened is not None
        out.append(
            RoundRecord(
                number=r.number,
                opened_at=opened,
                closed_at=_local(r.closed_at, zone),
                registered=people.refs_of(registered[r.id]),
                quorum_required=state.quorum_required,
                quorum_present=state.quorum_present,
            )
        )
    return tuple(out)


def _vote_record(vote: orm.Vote, position: int | None, zone: tzinfo) -> VoteRecord:
    rule = vote_rule(vote)
    counts = base = None
    if vote.result is not None:
        counts = Counts(
            vote.count_for or 0,
            vote.count_against or 0,
            vote.count_abstain or 0,
            vote.count_not_voted or 0,
            vote.count_absent or 0,
        )
        voting = counts.voted_for + counts.against + counts.abstain
        base = rule.base_count(vote.total_composition, vote.registered or 0, voting)
    opened = _local(vote.opened_at, zone)
    assert opened is not None
    return VoteRecord(
        vote_id=vote.id,
        title=vote.title,
        stage_uk=STAGE_UK[Stage(vote.stage)],
        kind_uk=KIND_UK[VoteKind(vote.kind)],
        secret=vote.kind == VoteKind.SECRET,
        rule_uk=rule.describe_uk(),
        opened_at=opened,
        closed_at=_local(vote.closed_at, zone),
        total_composition=vote.total_composition,
        registered=vote.registered,
        base_count=base,
        threshold=vote.threshold,
        counts=counts,
        result_uk=None if vote.result is None else RESULT_UK[Result(vote.result)],
        attempt=vote.attempt,
        manual=vote.manual,
        annulled=vote.state == VoteState.ANNULLED,
        annul_reason=vote.annul_reason,
        item_position=position,
    )


# --- the protocol -------------------------------------------------------------------------------


def sitting_record(uow: UnitOfWork, sitting_id: object, zone: tzinfo = KYIV) -> SittingRecord:
    """Everything the protocol of a closed sitting states."""
    with uow:
        sitting = _closed_sitting(uow, sitting_id)
        people = _People(uow)
        council = the_council(uow)
        body = uow.session.get(orm.Body, sitting.body_id)
        assert body is not None
        elected = {m.id for m in roster_of(uow, body, council).members}
        rounds = _rounds(uow, sitting, people, zone)
        present_ids = {
            deputy_id
            for deputy_id in uow.session.scalars(
                select(orm.Registration.deputy_id)
                .join(orm.RegistrationRound)
                .where(orm.RegistrationRound.sitting_id == sitting.id)
            )
        }
        items = list(
            uow.session.scalars(
                select(orm.AgendaItem)
                .where(orm.AgendaItem.sitting_id == sitting.id)
                .order_by(orm.AgendaItem.position)
            )
        )
        positions = {i.id: i.position for i in items}
        votes: dict[int | None, list[VoteRecord]] = defaultdict(list)
        for v in uow.session.scalars(
            select(orm.Vote).where(orm.Vote.sitting_id == sitting.id).order_by(orm.Vote.id)
        ):
            position = None if v.item_id is None else positions.get(v.item_id)
            votes[v.item_id].append(_vote_record(v, position, zone))
        speeches = list(
            uow.session.scalars(
                select(orm.Speech)
                .where(orm.Speech.sitting_id == sitting.id)
                .order_by(orm.Speech.id)
            )
        )
        by_item: dict[int | None, list[SpeechRecord]] = defaultdict(list)
        invited: dict[str, InvitedPerson] = {}
        for s in speeches:
            by_item[s.item_id].append(_speech(s))
            if s.deputy_id is None:
                invited.setdefault(
                    s.speaker_name, InvitedPerson(s.speaker_name, s.speaker_position)
                )
        return SittingRecord(
            header=_header(uow, sitting, zone),
            elected=people.refs_of(elected),
            present=people.refs_of(present_ids),
            absent=people.refs_of(elected - present_ids),
            invited=tuple(sorted(invited.values(), key=lambda p: uk_sort_key(p.name))),
            rounds=rounds,
            items=tuple(
                ItemRecord(
                    position=i.position,
                    title=i.title,
                    draft_number=i.draft_number,
                    rapporteur=i.rapporteur,
                    status_uk=ITEM_STATUS_UK[ItemStatus(i.status)],
                    speeches=tuple(by_item[i.id]),
                    votes=tuple(votes[i.id]),
                )
                for i in items
            ),
            other_votes=tuple(votes[None]),
            journal=_journal_at_close(uow, sitting.id),
        )


def _speech(speech: orm.Speech) -> SpeechRecord:
    try:
        type_uk = SPEECH_TYPE_UK[SpeechType(speech.type)]
    except ValueError:
        type_uk = speech.type
    return SpeechRecord(
        speaker=speech.speaker_name,
        type_uk=type_uk,
        duration_seconds=round(speech.used_seconds),
        position=speech.speaker_position,
        faction=speech.faction,
    )


def _journal_at_close(uow: UnitOfWork, sitting_id: int) -> JournalMark | None:
    """The journal's head at the close: the sitting's (last) `sitting_closed` entry."""
    rows = uow.session.execute(
        select(orm.JournalEntry.seq, orm.JournalEntry.hash, orm.JournalEntry.payload)
        .where(orm.JournalEntry.kind == "sitting_closed")
        .order_by(orm.JournalEntry.seq.desc())
    ).all()
    for seq, digest, payload in rows:
        if json.loads(payload).get("sitting_id") == sitting_id:
            return JournalMark(seq, digest)
    return None


# --- roll-call sheets ---------------------------------------------------------------------------


def roll_call_sheet(uow: UnitOfWork, vote_id: object, zone: tzinfo = KYIV) -> RollCallSheet:
    """The sheet of a counted vote (a secret ballot's: totals only), from the moment it closes:
    the law makes a roll-call public the same day, before its sitting ends."""
    with uow:
        vote = uow.get(orm.Vote, vote_id, "vote")
        if vote.state == VoteState.OPEN:
            raise VoteStillOpen(
                f"vote {vote.id} is still open: its sheet is made when it closes", vote_id=vote.id
            )
        sitting = uow.get(orm.Sitting, vote.sitting_id, "sitting")
        return _sheet(uow, vote, sitting, _People(uow), zone)


def roll_call_sheets(
    uow: UnitOfWork, sitting_id: object, zone: tzinfo = KYIV
) -> list[RollCallSheet]:
    """The sheets of every counted vote of a closed sitting, in the order they were held."""
    with uow:
        sitting = _closed_sitting(uow, sitting_id)
        people = _People(uow)
        rows = uow.session.scalars(
            select(orm.Vote)
            .where(orm.Vote.sitting_id == sitting.id, orm.Vote.result.is_not(None))
            .order_by(orm.Vote.id)
        )
        return [_sheet(uow, v, sitting, people, zone) for v in rows]


def _sheet(
    uow: UnitOfWork, vote: orm.Vote, sitting: orm.Sitting, people: _People, zone: tzinfo
) -> RollCallSheet:
    if vote.result is None:
        raise InvalidInput(f"vote {vote.id} was annulled before it was counted: it has no sheet")
    item = None if vote.item_id is None else uow.session.get(orm.AgendaItem, vote.item_id)
    groups: tuple[FactionGroup, ...] = ()
    if vote.kind != VoteKind.SECRET:
        outcomes = dict(
            uow.session.execute(
                select(orm.Ballot.deputy_id, orm.Ballot.outcome).where(
                    orm.Ballot.vote_id == vote.id
                )
            ).all()
        )
        groups = _groups(people, outcomes)
    return RollCallSheet(
        header=_header(uow, sitting, zone),
        vote=_vote_record(vote, None if item is None else item.position, zone),
        item_title=None if item is None else item.title,
        item_draft_number=None if item is None else item.draft_number,
        groups=groups,
    )


def _groups(people: _People, outcomes: dict[int, str]) -> tuple[FactionGroup, ...]:
    """Lines by faction (factions in alphabetical order, deputies outside any faction last)."""
    by_faction: dict[str | None, list[BallotLine]] = defaultdict(list)
    for deputy_id in people.ordered(outcomes):
        ref = people.refs[deputy_id]
        outcome = OUTCOME_UK[Outcome(outcomes[deputy_id])]
        line = BallotLine(ref.name, ref.faction, outcome, ref.is_head)
        by_faction[ref.faction].append(line)
    names = sorted((f for f in by_faction if f is not None), key=uk_sort_key)
    order: Sequence[str | None] = [*names, None] if None in by_faction else names
    return tuple(FactionGroup(name, tuple(by_faction[name])) for name in order)


# --- attendance ---------------------------------------------------------------------------------


def attendance_report(
    uow: UnitOfWork,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    sitting_id: object = None,
    zone: tzinfo = KYIV,
) -> AttendanceReport:
    """Who registered at each round of one closed sitting, or of the closed sittings of a date
    range (both ends included)."""
    with uow:
        if sitting_id is not None:
            chosen = [_closed_sitting(uow, sitting_id)]
        else:
            if date_from is None or date_to is None:
                raise InvalidInput("give a sitting, or a date range with both ends")
            if date_from > date_to:
                raise InvalidInput(f"the range {date_from} – {date_to} ends before it begins")
            chosen = list(
                uow.session.scalars(
                    select(orm.Sitting)
                    .where(
                        orm.Sitting.date >= date_from,
                        orm.Sitting.date <= date_to,
                        orm.Sitting.state == SittingState.CLOSED,
                    )
                    .order_by(orm.Sitting.date, orm.Sitting.id)
                )
            )
            if not chosen:
                raise NotFound(f"no sitting was closed between {date_from} and {date_to}")
        people = _People(uow)
        sittings = tuple(
            AttendanceSitting(_header(uow, s, zone), _rounds(uow, s, people, zone)) for s in chosen
        )
        seen = {p for s in sittings for r in s.rounds for p in r.registered}
        active = {d.id for d in people.rows.values() if d.active}
        roster = tuple(
            sorted(
                {*people.refs_of(active), *seen},
                key=lambda p: (not p.is_head, uk_sort_key(p.name)),
            )
        )
        first = min(s.header.date for s in sittings)
        last = max(s.header.date for s in sittings)
        return AttendanceReport(
            council=_council(uow),
            date_from=date_from or first,
            date_to=date_to or last,
            roster=roster,
            sittings=sittings,
        )
