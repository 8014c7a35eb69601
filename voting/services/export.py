"""Open data: the council's votes and deputies in the national structures (annexes 29 and 30 of
CMU Resolution No. 835; the columns are in ``voting.opendata``), as CSV and JSON files.

``build_resources`` reads a selection (one sitting, a session, a convocation or a date range)
through a unit of work and gives the rows of all eight resources; ``write_resources`` writes
them; ``export`` does both and says what it wrote. Every export is checked by
``voting.opendata.validate`` before a file is written, and refused if it finds a problem.

What goes where, and the choices the structures leave open:

- Only plenary sittings (a committee's sitting has no session, and the structures have none).
  A sitting never opened is left out; one still open refuses the export (``include_open`` lets
  a caller publishing during the sitting take its closed votes). A vote still open is never
  exported, with or without ``include_open``.
- convocations, sessions: those of the sittings exported. A session runs from its first to its
  last sitting held. uid: the convocation's number ("8"); the convocation's and the session's
  numbers ("8-17").
- motions: every agenda item of the sittings, uid ``<date>-<sitting id>-<agenda number>``
  (the standard suggests date and number; the sitting's id keeps two sittings of one day apart).
  A procedural question (a vote without an item) is a motion of its own, number 0 and
  classification "Процедурне питання", uid ``<date>-<sitting id>-0-<first vote's id>``; its
  re-votes belong to it. votingIdentifier is the rapporteur's when the rapporteur is a deputy.
- voteEvents: every counted vote, re-votes and counting commissions' results included, uid the
  vote's id (as in the API). An annulled vote has no result in law and the structures have no
  way to mark one, so it is left out of voteEvents, vote, votings and motions2 (the protocol
  keeps it, with its reason).
- vote: one row per deputy, for roll-call votes only. An open vote and a secret ballot give
  their counts only (in voteEvents); nothing names who took part in a secret ballot.
- motions2 and votings, the flat variants, give each question's deciding vote: an item's latest
  counted vote "в цілому" (its result is the item's status: adopted, not adopted; an item never
  taken up is "Не розглядали", one taken up but not decided "Не голосували"); a procedural
  question's latest counted attempt. votings lists its deputies when that vote is roll-call.
- deputies: every active deputy and the head, and anyone else the rows name. id is the
  deputy's external id (their certificate number, as imported) or ``deputy-<id>``;
  votingIdentifier is their identifier in the voting system (or the same fallback), the value
  vote.voterUid and votings.voterId carry. The full name is split at spaces: family name, name,
  the rest as patronymic.
- The council's name, EDRPOU and KATOTTG fill authorityName, authorityId, CATUTTC and
  authorityCattutc. Dates are ``YYYY-MM-DD``, times UTC ``YYYY-MM-DDTHH:MM:SSZ``.
- What the voting system holds beyond the votes: a deputy's public e-mail and telephone (from
  the roster import, or set through the API) fill deputies.email and .telephone; an agenda
  item's document_url (where its draft decision is published) fills voteEvents.textUrl and
  motions2.textUrl (else the vote's public address when the caller gives ``vote_url``).
- What it does not hold is left blank (NOT_HELD: birth dates, biographies and reception
  addresses of deputies, the file names of decisions, question categories, and the contacts and
  links above where none was given), or ``null`` where annex 30 prescribes it; gender is 0
  ("невідомо", ISO/IEC 5218). ``unfilled`` lists the required columns left blank, for the
  council to complete before it publishes.

Files, one per resource and format: ``<resource>.csv``: UTF-8 (no byte-order mark), a header
row of the standard's column names in its order, comma-separated, RFC 4180 quoting, CRLF line
ends; ``<resource>.json``: a JSON array of objects, one per CSV row, each with every column of
the resource in the standard's order; integer columns are numbers, the rest strings; a blank
cell or ``null`` is JSON null. (The structures are CSVW table schemas; this is CSVW's "minimal"
JSON form, except that a null cell keeps its key so every object has the same keys.)

Spreadsheet safety: in CSV, a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a single quote (``'``) in front, so a spreadsheet shows it as text and never
runs it as a formula (the annex 30 description of telephone allows the same "'+" for spreadsheets).
JSON cells are written as they are.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType

from sqlalchemy import select

from voting import opendata
from voting.adapters import orm
from voting.domain.agenda import ItemStatus
from voting.domain.errors import DomainError
from voting.domain.names import uk_sort_key
from voting.domain.sittings import SittingState
from voting.domain.votes import OUTCOME_UK, RESULT_UK, Outcome, Result, Stage, VoteKind, VoteState
from voting.opendata import (
    COUNTRY,
    FACTION_MEMBER_POST,
    MOTION_NOT_CONSIDERED,
    MOTION_NOT_VOTED,
    NO_FACTION,
    NULL,
    RESOURCES,
    column_names,
)

from .council import the_council
from .uow import UnitOfWork

Row = dict[str, str]
Resources = dict[str, list[Row]]

#: Required columns the voting system may hold no value for: left blank, to be completed by
#: the council (``unfilled`` lists them). Everything else required is always filled.
NOT_HELD: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "convocations": frozenset({"dateUntil"}),  # a convocation still in office
        "motions": frozenset({"votingIdentifier", "classification"}),
        "motions2": frozenset({"text"}),  # the decision's file: not kept here
        "voteEvents": frozenset({"projectNumber", "textUrl", "text"}),
        "deputies": frozenset(
            {
                "additionalName",
                "birthDate",
                "biography",
                "partyName",
                "email",
                "telephone",
                "addressPostCode",
                "addressAdminUnitL2",
                "addressPostName",
                "addressThoroughfare",
                "addressLocatorDesignator",
                "openingHours",
            }
        ),
    }
)

#: motions.classification of a procedural question (a vote without an agenda item).
PROCEDURAL_CLASSIFICATION = "Процедурне питання"

FORMULA_STARTS = opendata.FORMULA_STARTS

#: ISO/IEC 5218 "not known": the voting system keeps no gender.
GENDER_UNKNOWN = "0"

_ITEM_RESULTS = {
    ItemStatus.ADOPTED: RESULT_UK[Result.ADOPTED],
    ItemStatus.NOT_ADOPTED: RESULT_UK[Result.NOT_ADOPTED],
    ItemStatus.UNDER_CONSIDERATION: MOTION_NOT_VOTED,
    ItemStatus.PENDING: MOTION_NOT_CONSIDERED,
    ItemStatus.WITHDRAWN: MOTION_NOT_CONSIDERED,
    ItemStatus.POSTPONED: MOTION_NOT_CONSIDERED,
}
_CHUNK = 500  # ids per IN (...) list


class ExportError(DomainError):
    """An export that cannot be made as asked; nothing was written."""

    code = "export_refused"
    status = 409


@dataclass(frozen=True, slots=True)
class Selection:
    """What to export: exactly one of a sitting, a session, a convocation, or a date range
    (both ends included)."""

    sitting_id: int | None = None
    session_id: int | None = None
    convocation_id: int | None = None
    date_from: date | None = None
    date_until: date | None = None

    def __post_init__(self) -> None:
        chosen = [
            self.sitting_id is not None,
            self.session_id is not None,
            self.convocation_id is not None,
            self.date_from is not None or self.date_until is not None,
        ]
        if sum(chosen) != 1:
            raise ExportError("choose one of a sitting, a session, a convocation or a date range")
        if (self.date_from is None) != (self.date_until is None):
            raise ExportError("a date range needs both its first and its last day")
        if self.date_from and self.date_until and self.date_from > self.date_until:
            raise ExportError(
                f"the date range {self.date_from} to {self.date_until} ends before it begins"
            )

    def describe(self) -> str:
        if self.sitting_id is not None:
            return f"sitting {self.sitting_id}"
        if self.session_id is not None:
            return f"session {self.session_id}"
        if self.convocation_id is not None:
            return f"convocation {self.convocation_id}"
        return f"{self.date_from} to {self.date_until}"


@dataclass(frozen=True, slots=True)
class Report:
    """What `export` wrote: the files (in the folder), rows per resource, blanks left to fill."""

    folder: Path
    files: tuple[Path, ...]
    rows: Mapping[str, int]
    unfilled: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


# --- reading -----------------------------------------------------------------------------------


def _selected_sittings(
    uow: UnitOfWork, selection: Selection, include_open: bool
) -> list[orm.Sitting]:
    query = select(orm.Sitting).where(orm.Sitting.session_id.is_not(None))
    if selection.sitting_id is not None:
        sitting = uow.get(orm.Sitting, selection.sitting_id, "sitting")
        if sitting.session_id is None:
            raise ExportError(
                f"sitting {sitting.id} is a committee's sitting; the open-data structures "
                "cover plenary sittings only"
            )
        if sitting.state == SittingState.PLANNED:
            raise ExportError(f"sitting {sitting.id} has not been held; there is nothing to export")
        found = [sitting]
    else:
        if selection.session_id is not None:
            uow.get(orm.Session, selection.session_id, "session")
            query = query.where(orm.Sitting.session_id == selection.session_id)
        elif selection.convocation_id is not None:
            uow.get(orm.Convocation, selection.convocation_id, "convocation")
            query = query.join(orm.Session).where(
                orm.Session.convocation_id == selection.convocation_id
            )
        else:
            assert selection.date_from is not None and selection.date_until is not None
            query = query.where(
                orm.Sitting.date >= selection.date_from, orm.Sitting.date <= selection.date_until
            )
        found = [
            s
            for s in uow.session.scalars(query.order_by(orm.Sitting.date, orm.Sitting.id))
            if s.state != SittingState.PLANNED
        ]
        if not found:
            raise ExportError(f"no plenary sitting has been held in {selection.describe()}")
    if not include_open:
        still_open = [s for s in found if s.state == SittingState.OPEN]
        if still_open:
            names = ", ".join(f"{s.id} ({s.date.isoformat()})" for s in still_open)
            raise ExportError(
                f"sitting {names} is still open; its votes are exported once it is closed"
            )
    return found


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _day(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _moment(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


def _split_name(full_name: str) -> tuple[str, str, str]:
    parts = full_name.split()
    family = parts[0] if parts else ""
    given = parts[1] if len(parts) > 1 else ""
    return family, given, " ".join(parts[2:])


def voter_uid(deputy: orm.Deputy) -> str:
    """The deputy's identifier in the structures (deputies.votingIdentifier, vote.voterUid)."""
    return deputy.voting_identifier or f"deputy-{deputy.id}"


def _roster_order(deputy: orm.Deputy) -> tuple[object, ...]:
    return (not deputy.is_head, uk_sort_key(deputy.full_name), deputy.id)


@dataclass
class _Motion:
    uid: str
    sitting: orm.Sitting
    number: int
    title: str
    draft_number: str | None
    classification: str
    rapporteur: str | None
    status: ItemStatus | None  # None: a procedural question
    votes: list[orm.Vote] = field(default_factory=list)
    document_url: str | None = None  # where the draft decision (the decision) is published

    def text_url(self, vote: orm.Vote | None, vote_url: Callable[[int], str] | None) -> str:
        """textUrl: the item's published document, else the vote's public address if known."""
        if self.document_url:
            return self.document_url
        return vote_url(vote.id) if vote_url and vote is not None else ""

    def deciding(self) -> orm.Vote | None:
        counted = [v for v in self.votes if v.state == VoteState.CLOSED]
        if self.status is not None:
            counted = [v for v in counted if v.stage == Stage.AS_A_WHOLE]
        return counted[-1] if counted else None


def build_resources(
    uow: UnitOfWork,
    selection: Selection,
    *,
    include_open: bool = False,
    vote_url: Callable[[int], str] | None = None,
) -> Resources:
    """The rows of every resource (resource name -> rows, each column -> cell text) for
    `selection`, read in one transaction. `vote_url(vote_id)`, when given, is the public address
    of a vote (voteEvents.textUrl, motions2.textUrl). Raises NotFound for an unknown id and
    ExportError for a selection that cannot be exported."""
    with uow:
        council = the_council(uow)
        sittings = _selected_sittings(uow, selection, include_open)
        session_ids = sorted({s.session_id for s in sittings if s.session_id is not None})
        sessions = {
            s.id: s
            for s in uow.session.scalars(select(orm.Session).where(orm.Session.id.in_(session_ids)))
        }
        convocations = {
            c.id: c
            for c in uow.session.scalars(
                select(orm.Convocation).where(
                    orm.Convocation.id.in_({s.convocation_id for s in sessions.values()})
                )
            )
        }
        session_days: dict[int, list[date]] = defaultdict(list)
        for session_id, day in uow.session.execute(
            select(orm.Sitting.session_id, orm.Sitting.date).where(
                orm.Sitting.session_id.in_(session_ids),
                orm.Sitting.state != SittingState.PLANNED,
            )
        ):
            if session_id is not None:
                session_days[session_id].append(day)

        sitting_ids = [s.id for s in sittings]
        items: list[orm.AgendaItem] = []
        votes: list[orm.Vote] = []
        for chunk in _chunks(sitting_ids):
            items.extend(
                uow.session.scalars(
                    select(orm.AgendaItem).where(orm.AgendaItem.sitting_id.in_(chunk))
                )
            )
            votes.extend(
                uow.session.scalars(
                    select(orm.Vote).where(
                        orm.Vote.sitting_id.in_(chunk), orm.Vote.state != VoteState.OPEN
                    )
                )
            )
        votes.sort(key=lambda v: v.id)
        deputies = {d.id: d for d in uow.session.scalars(select(orm.Deputy))}
        roll_call_ids = [
            v.id for v in votes if v.kind == VoteKind.ROLL_CALL and v.state == VoteState.CLOSED
        ]
        ballots: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for chunk in _chunks(roll_call_ids):
            for vote_id, deputy_id, outcome in uow.session.execute(
                select(orm.Ballot.vote_id, orm.Ballot.deputy_id, orm.Ballot.outcome).where(
                    orm.Ballot.vote_id.in_(chunk)
                )
            ):
                ballots[vote_id].append((deputy_id, outcome))
        factions = dict(uow.session.execute(select(orm.Faction.id, orm.Faction.name)).all())
        commissions: dict[int, list[str]] = defaultdict(list)
        for deputy_id, name in uow.session.execute(
            select(orm.CommitteeMember.deputy_id, orm.Body.name)
            .join(orm.Body, orm.Body.id == orm.CommitteeMember.body_id)
            .order_by(orm.Body.id)
        ):
            commissions[deputy_id].append(name)

        motions = _motions(sittings, items, votes)
        by_name: dict[str, orm.Deputy] = {}
        for person in sorted(deputies.values(), key=lambda d: d.id):
            for name in (person.full_name, person.short_name):
                by_name.setdefault(name.strip().casefold(), person)
        authority = {"name": council.name, "id": council.edrpou, "katottg": council.katottg}
        named: set[int] = set()

        out: Resources = {name: [] for name in RESOURCES}
        for convocation in sorted(convocations.values(), key=lambda c: c.number):
            out["convocations"].append(
                {
                    "uid": _convocation_uid(convocation),
                    "label": convocation.label,
                    "dateFrom": _day(convocation.date_from),
                    "dateUntil": _day(convocation.date_until),
                    "authorityName": authority["name"],
                    "authorityId": authority["id"],
                    "CATUTTC": authority["katottg"],
                }
            )
        for session in sorted(
            sessions.values(), key=lambda s: (convocations[s.convocation_id].number, s.number)
        ):
            days = session_days[session.id]
            out["sessions"].append(
                {
                    "uid": _session_uid(session, convocations),
                    "label": session.title,
                    "convocationUid": _convocation_uid(convocations[session.convocation_id]),
                    "dateFrom": _day(min(days)),
                    "dateUntil": _day(max(days)),
                }
            )
        for motion in motions:
            assert motion.sitting.session_id is not None
            session = sessions[motion.sitting.session_id]
            rapporteur = (
                by_name.get(motion.rapporteur.strip().casefold()) if motion.rapporteur else None
            )
            if rapporteur is not None:
                named.add(rapporteur.id)
            out["motions"].append(
                {
                    "uid": motion.uid,
                    "sessionUid": _session_uid(session, convocations),
                    "votingIdentifier": "" if rapporteur is None else voter_uid(rapporteur),
                    "title": motion.title,
                    "number": str(motion.number),
                    "classification": motion.classification,
                    "date": _day(motion.sitting.date),
                    "sources": "",
                }
            )
            for vote in motion.votes:
                if vote.state != VoteState.CLOSED:
                    continue  # annulled: no result in law
                out["voteEvents"].append(_vote_event(motion, vote, vote_url))
                for deputy_id, outcome in sorted(
                    ballots.get(vote.id, []), key=lambda b: _roster_order(deputies[b[0]])
                ):
                    named.add(deputy_id)
                    out["vote"].append(
                        {
                            "uid": str(vote.id),
                            "voterUid": voter_uid(deputies[deputy_id]),
                            "result": OUTCOME_UK[Outcome(outcome)],
                        }
                    )
            deciding = motion.deciding()
            convocation = convocations[session.convocation_id]
            out["motions2"].append(
                {
                    "uid": motion.uid,
                    "date": _day(motion.sitting.date),
                    "authorityName": authority["name"],
                    "authorityId": authority["id"],
                    "authorityCattutc": authority["katottg"],
                    "convocation": convocation.label,
                    "legislativeSession": session.title,
                    "number": str(motion.number),
                    "title": motion.title,
                    "projectNumber": motion.draft_number or "",
                    "votingFor": _count(deciding.count_for if deciding else None),
                    "votingAgainst": _count(deciding.count_against if deciding else None),
                    "votingAbstain": _count(deciding.count_abstain if deciding else None),
                    "notVoting": _count(deciding.count_not_voted if deciding else None),
                    "absent": _count(deciding.count_absent if deciding else None),
                    "votingResult": _motion_result(motion, deciding),
                    "textUrl": motion.text_url(deciding, vote_url),
                    "text": "",
                }
            )
            if deciding is not None and deciding.kind == VoteKind.ROLL_CALL:
                for deputy_id, outcome in sorted(
                    ballots.get(deciding.id, []), key=lambda b: _roster_order(deputies[b[0]])
                ):
                    person = deputies[deputy_id]
                    out["votings"].append(
                        {
                            "motionUid": motion.uid,
                            "voterId": voter_uid(person),
                            "voterName": person.full_name,
                            "motionTitle": motion.title,
                            "result": OUTCOME_UK[Outcome(outcome)],
                        }
                    )
        people = [d for d in deputies.values() if d.active or d.id in named]
        for person in sorted(people, key=_roster_order):
            out["deputies"].append(
                _deputy_row(person, factions, commissions[person.id], authority["katottg"])
            )
        return out


def _convocation_uid(convocation: orm.Convocation) -> str:
    return str(convocation.number)


def _session_uid(session: orm.Session, convocations: Mapping[int, orm.Convocation]) -> str:
    return f"{convocations[session.convocation_id].number}-{session.number}"


def _motions(
    sittings: Sequence[orm.Sitting], items: Sequence[orm.AgendaItem], votes: Sequence[orm.Vote]
) -> list[_Motion]:
    """The questions of the sittings in order: each sitting's agenda, then its procedural
    questions in the order first put; each with its votes in the order held."""
    by_item: dict[int, _Motion] = {}
    per_sitting: dict[int, list[_Motion]] = defaultdict(list)
    sitting_of = {s.id: s for s in sittings}
    for item in sorted(items, key=lambda i: (i.sitting_id, i.position)):
        sitting = sitting_of[item.sitting_id]
        motion = _Motion(
            uid=f"{sitting.date.isoformat()}-{sitting.id}-{item.position}",
            sitting=sitting,
            number=item.position,
            title=item.title,
            draft_number=item.draft_number,
            classification="",
            rapporteur=item.rapporteur,
            status=ItemStatus(item.status),
            document_url=item.document_url,
        )
        by_item[item.id] = motion
        per_sitting[sitting.id].append(motion)
    root: dict[int, int] = {}  # a procedural vote -> the first vote of its question
    procedural: dict[int, _Motion] = {}
    for vote in votes:  # in id order: a re-vote comes after the vote it repeats
        if vote.item_id is not None:
            by_item[vote.item_id].votes.append(vote)
            continue
        first = root.get(vote.previous_vote_id, vote.id) if vote.previous_vote_id else vote.id
        root[vote.id] = first
        if first not in procedural:
            sitting = sitting_of[vote.sitting_id]
            procedural[first] = _Motion(
                uid=f"{sitting.date.isoformat()}-{sitting.id}-0-{first}",
                sitting=sitting,
                number=0,
                title=vote.title,
                draft_number=None,
                classification=PROCEDURAL_CLASSIFICATION,
                rapporteur=None,
                status=None,
            )
        procedural[first].votes.append(vote)
    for motion in procedural.values():
        if motion.deciding() is not None:  # a question whose every attempt was annulled: none
            per_sitting[motion.sitting.id].append(motion)
    return [motion for sitting in sittings for motion in per_sitting[sitting.id]]


def _vote_event(
    motion: _Motion, vote: orm.Vote, vote_url: Callable[[int], str] | None
) -> dict[str, str]:
    assert vote.result is not None
    return {
        "uid": str(vote.id),
        "motionUid": motion.uid,
        "projectNumber": motion.draft_number or "",
        "projectTitle": vote.title,
        "startDate": _moment(vote.opened_at),
        "endDate": _moment(vote.closed_at),
        "result": RESULT_UK[Result(vote.result)],
        "votingFor": _count(vote.count_for),
        "votingAgainst": _count(vote.count_against),
        "votingAbstain": _count(vote.count_abstain),
        "notVoting": _count(vote.count_not_voted),
        "absent": _count(vote.count_absent),
        "textUrl": motion.text_url(vote, vote_url),
        "text": "",
    }


def _motion_result(motion: _Motion, deciding: orm.Vote | None) -> str:
    if motion.status is not None:
        return _ITEM_RESULTS[motion.status]
    assert deciding is not None and deciding.result is not None
    return RESULT_UK[Result(deciding.result)]


def _deputy_row(
    person: orm.Deputy, factions: Mapping[int, str], commissions: Sequence[str], katottg: str
) -> dict[str, str]:
    family, given, patronymic = _split_name(person.full_name)
    faction = factions.get(person.faction_id) if person.faction_id is not None else None
    row = dict.fromkeys(column_names(opendata.DEPUTIES), "")
    row.update(
        {
            "id": person.external_id or f"deputy-{person.id}",
            "votingIdentifier": voter_uid(person),
            "familyName": family,
            "name": given,
            "additionalName": patronymic,
            "gender": GENDER_UNKNOWN,
            "factionName": faction or NO_FACTION,
            "factionPost": FACTION_MEMBER_POST if faction else NULL,
            "commissionName": "; ".join(commissions) if commissions else NULL,
            "commissionPost": opendata.COMMISSION_MEMBER_POST if commissions else NULL,
            "CATUTTC": katottg,
            "addressAdminUnitL1": COUNTRY,
            "email": person.email or "",
            "telephone": person.telephone or "",
        }
    )
    for column in opendata.NULL_ALLOWED["deputies"]:
        if not row[column]:
            row[column] = NULL
    return row


# --- checking ----------------------------------------------------------------------------------


def problems(resources: Mapping[str, Sequence[Mapping[str, object]]]) -> list[str]:
    """What `voting.opendata.validate` finds, blanks in NOT_HELD columns allowed."""
    return opendata.validate(resources, allow_blank=NOT_HELD)


def unfilled(resources: Mapping[str, Sequence[Mapping[str, str]]]) -> dict[str, tuple[str, ...]]:
    """Per resource, the required columns left blank in some row (the council fills them in)."""
    out: dict[str, tuple[str, ...]] = {}
    for resource, rows in resources.items():
        blank = [
            c.name
            for c in RESOURCES[resource]
            if c.required and any(not row.get(c.name, "").strip() for row in rows)
        ]
        if blank:
            out[resource] = tuple(blank)
    return out


# --- writing -----------------------------------------------------------------------------------


def spreadsheet_safe(cell: str) -> str:
    """The cell with a single quote in front when it begins with =, +, -, @, a tab or a carriage
    return, so that a spreadsheet shows it as text instead of running it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def to_csv(resource: str, rows: Iterable[Mapping[str, str]]) -> str:
    """The resource's CSV text: the header of the standard's names, then the rows, every cell
    made spreadsheet-safe."""
    names = column_names(RESOURCES[resource])
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([spreadsheet_safe(row[name]) for name in names])
    return buffer.getvalue()


def to_json(resource: str, rows: Iterable[Mapping[str, str]]) -> str:
    """The resource's JSON text: an array of objects, every column in the standard's order;
    integers as numbers, a blank or ``null`` cell as null."""
    columns = RESOURCES[resource]

    def value(datatype: str, cell: str) -> object:
        if not cell.strip() or cell == NULL:
            return None
        return int(cell) if datatype == "integer" else cell

    objects = [{c.name: value(c.datatype, row[c.name]) for c in columns} for row in rows]
    return json.dumps(objects, ensure_ascii=False, indent=1) + "\n"


def file_names(resource: str) -> tuple[str, str]:
    return f"{resource}.csv", f"{resource}.json"


def check_target(out: Path) -> Path:
    """`out` if files can be written into it (or it can be created), else ExportError."""
    out = Path(out)
    parent = out.parent
    if out.exists() and not out.is_dir():
        raise ExportError(f"cannot write to {out}: it exists and is not a folder")
    if not parent.is_dir():
        raise ExportError(f"cannot write to {out}: the folder {parent} does not exist")
    if not os.access(out if out.is_dir() else parent, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write to {out}: permission denied")
    return out


def write_resources(resources: Mapping[str, Sequence[Mapping[str, str]]], out: Path) -> list[Path]:
    """Write every resource as CSV and JSON into the folder `out`, all or nothing: the files are
    written into a new temporary folder beside `out` and moved into place only when all of them
    are complete (`out` is created; in an existing `out`, files of the same names are replaced
    and other files left alone). Raises ExportError, naming the folder, when it cannot be
    written; nothing is left behind then."""
    out = check_target(out)
    parent = out.parent
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))
    except OSError as error:
        raise ExportError(f"cannot write to {out}: {error.strerror or error}") from None
    try:
        names: list[str] = []
        for resource, rows in resources.items():
            csv_name, json_name = file_names(resource)
            (staging / csv_name).write_text(to_csv(resource, rows), encoding="utf-8", newline="")
            (staging / json_name).write_text(to_json(resource, rows), encoding="utf-8")
            names += [csv_name, json_name]
        if out.is_dir():
            for name in names:
                os.replace(staging / name, out / name)
            staging.rmdir()
        else:
            os.chmod(staging, 0o755)  # mkdtemp made it private; the files are for the public
            staging.rename(out)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise ExportError(f"cannot write to {out}: {error.strerror or error}") from None
    return [out / name for name in names]


def export(
    uow: UnitOfWork,
    selection: Selection,
    out: Path,
    *,
    include_open: bool = False,
    vote_url: Callable[[int], str] | None = None,
) -> Report:
    """Read `selection`, check it, and write every resource as CSV and JSON into `out`.

    Refused with ExportError (NotFound for an unknown id), and nothing written, when the
    selection cannot be exported or the rows do not pass the validator. To keep published files
    current during a sitting, call this with ``include_open=True`` after each vote closes (its
    closed votes are exported, never an open one)."""
    resources = build_resources(uow, selection, include_open=include_open, vote_url=vote_url)
    found = problems(resources)
    if found:
        shown = "; ".join(found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
        raise ExportError(f"the export of {selection.describe()} is not valid: {shown}")
    files = write_resources(resources, out)
    return Report(
        folder=Path(out),
        files=tuple(files),
        rows={name: len(rows) for name, rows in resources.items()},
        unfilled=unfilled(resources),
    )
