"""The read models the renderer takes: frozen, complete, and free of the database.

`voting.services.records` builds them from the database; tests and the benchmark build them by
hand. Every text is already in Ukrainian (labels of stages, kinds, outcomes, statuses), every
moment is already in the council's local time: the renderer only lays them out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

#: The columns of a vote's counts, in the order of a Ukrainian protocol.
OUTCOME_COLUMNS = ("За", "Проти", "Утримався", "Не голосували", "Відсутні")


@dataclass(frozen=True)
class CouncilDetails:
    """The council as the documents name it (from its settings)."""

    name: str
    edrpou: str = ""
    katottg: str = ""


@dataclass(frozen=True)
class SittingHeader:
    """What names a sitting on every page: council, convocation, session, sitting, date."""

    sitting_id: int
    council: CouncilDetails
    title: str
    date: date
    convocation_number: int | None = None
    convocation_label: str | None = None
    session_number: int | None = None
    sitting_number: int | None = None  # the sitting's place within its session
    place: str | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    chair: str | None = None  # who chaired the sitting, by name
    secretary: str | None = None  # who kept its record, by name
    chair_is_head: bool = False  # the chair is the head of the council (the mayor)

    @property
    def name(self) -> str:
        """E.g. "17 сесія VIII скликання, засідання 2, 25.11.2026"."""
        session = "" if self.session_number is None else f"{self.session_number} сесія"
        session = f"{session} {self.convocation_label or ''}".strip()
        parts = [session] if session else [self.title]
        if self.sitting_number is not None:
            parts.append(f"засідання {self.sitting_number}")
        parts.append(self.date.strftime("%d.%m.%Y"))
        return ", ".join(parts)


@dataclass(frozen=True)
class DeputyRef:
    """A deputy (or the head of the council) as a document names them."""

    name: str
    faction: str | None = None
    is_head: bool = False


@dataclass(frozen=True)
class InvitedPerson:
    name: str
    position: str | None = None


@dataclass(frozen=True)
class RoundRecord:
    """A registration round: who registered and whether the sitting was competent."""

    number: int
    opened_at: datetime
    closed_at: datetime | None
    registered: tuple[DeputyRef, ...]
    quorum_required: int
    quorum_present: int

    @property
    def quorum(self) -> bool:
        return self.quorum_present >= self.quorum_required


@dataclass(frozen=True)
class SpeechRecord:
    speaker: str
    type_uk: str
    duration_seconds: int
    position: str | None = None
    faction: str | None = None


@dataclass(frozen=True)
class Counts:
    """A closed vote's figures."""

    voted_for: int
    against: int
    abstain: int
    not_voted: int
    absent: int

    def as_row(self) -> tuple[int, int, int, int, int]:
        return (self.voted_for, self.against, self.abstain, self.not_voted, self.absent)


@dataclass(frozen=True)
class BallotLine:
    """One line of a roll-call sheet."""

    name: str
    faction: str | None
    outcome_uk: str  # За, Проти, Утримався, Не голосував, Відсутній
    is_head: bool = False


@dataclass(frozen=True)
class VoteRecord:
    """A vote as the protocol states it."""

    vote_id: int
    title: str
    stage_uk: str
    kind_uk: str
    secret: bool
    rule_uk: str
    opened_at: datetime
    closed_at: datetime | None
    total_composition: int
    registered: int | None = None
    base_count: int | None = None  # the number the threshold's fraction was taken of
    threshold: int | None = None
    counts: Counts | None = None
    result_uk: str | None = None  # Прийнято / Не прийнято; None when annulled before counting
    attempt: int = 1
    manual: bool = False
    annulled: bool = False
    annul_reason: str | None = None
    item_position: int | None = None

    @property
    def marks(self) -> tuple[str, ...]:
        """Re-vote N, manual count, annulled: what the protocol notes beside the vote."""
        out = []
        if self.attempt > 1:
            out.append(f"переголосування {self.attempt}")
        if self.manual:
            out.append("результат лічильної комісії (ручний підрахунок)")
        if self.annulled:
            out.append(f"скасовано: {self.annul_reason or 'причину не зазначено'}")
        return tuple(out)


@dataclass(frozen=True)
class ItemRecord:
    position: int
    title: str
    draft_number: str | None
    rapporteur: str | None
    status_uk: str  # the decision taken
    speeches: tuple[SpeechRecord, ...] = ()
    votes: tuple[VoteRecord, ...] = ()


@dataclass(frozen=True)
class JournalMark:
    """The journal's head at the close of the sitting: a reader can check it later."""

    seq: int
    hash: str


@dataclass(frozen=True)
class SittingRecord:
    """Everything the protocol of a sitting states."""

    header: SittingHeader
    elected: tuple[DeputyRef, ...]
    present: tuple[DeputyRef, ...]
    absent: tuple[DeputyRef, ...]
    invited: tuple[InvitedPerson, ...]
    rounds: tuple[RoundRecord, ...]
    items: tuple[ItemRecord, ...]
    other_votes: tuple[VoteRecord, ...] = ()  # procedural votes on no agenda item
    journal: JournalMark | None = None


@dataclass(frozen=True)
class FactionGroup:
    """A faction's lines of a roll-call sheet (name None: deputies outside any faction)."""

    name: str | None
    lines: tuple[BallotLine, ...]

    @property
    def totals(self) -> Counter[str]:
        return Counter(line.outcome_uk for line in self.lines)


@dataclass(frozen=True)
class RollCallSheet:
    """Результати поіменного голосування: one vote, every participant's choice by faction.

    A secret ballot's sheet has no groups: totals only."""

    header: SittingHeader
    vote: VoteRecord
    item_title: str | None = None
    item_draft_number: str | None = None
    groups: tuple[FactionGroup, ...] = field(default=())


@dataclass(frozen=True)
class AttendanceSitting:
    header: SittingHeader
    rounds: tuple[RoundRecord, ...]


@dataclass(frozen=True)
class AttendanceReport:
    """Who registered at each round of the sittings of a period."""

    council: CouncilDetails
    date_from: date
    date_to: date
    roster: tuple[DeputyRef, ...]
    sittings: tuple[AttendanceSitting, ...]
