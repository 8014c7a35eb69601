"""Who takes part in a body's sittings, who is registered, and the total composition: the one
rule of art. 59 that the quorum, every threshold and every cast rest on.

Law No. 280/97-ВР, art. 59 part 2 (and art. 46): the total composition of the plenary is the
statutory number of deputies plus the head (the mayor) when the head takes part; vacant seats do
not reduce it. The head takes part when the head votes in this council (a council setting) and is
registered, or, for a vote, has voted. A standing committee's total composition is its number of
members. Only active deputies (a mandate not vacant) take part.

Everything here is pure: the services load a `Roster` and the registered ids, and ask. The cast
path reads the same facts for a batch of deputies in one SQL statement
(`voting/adapters/casting_sql.py`); a property test proves it agrees with `standing` below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from .rules import QuorumRule, total_composition


class BodyKind(StrEnum):
    PLENARY = "plenary"  # пленарне засідання ради
    COMMITTEE = "committee"  # постійна комісія


@dataclass(frozen=True)
class Member:
    """An active deputy of the body (for the plenary: of the council), or the head."""

    id: int
    is_head: bool = False


@dataclass(frozen=True)
class Roster:
    """The people of one body: for the plenary, the council's active deputies and its head; for
    a committee, its active members (a head among them is an ordinary member there)."""

    kind: BodyKind
    members: tuple[Member, ...]
    statutory_deputies: int
    head_votes: bool

    @cached_property
    def head_id(self) -> int | None:
        """The head, when the head votes in this body (plenary only, and the council says so)."""
        if self.kind is not BodyKind.PLENARY or not self.head_votes:
            return None
        return next((m.id for m in self.members if m.is_head), None)

    @cached_property
    def participants(self) -> frozenset[int]:
        """Who may take part in this body's votes: its deputies, and the head when voting."""
        if self.kind is not BodyKind.PLENARY:
            return frozenset(m.id for m in self.members)
        return frozenset(m.id for m in self.members if not m.is_head or m.id == self.head_id)

    def total(self, head_takes_part: bool) -> int:
        """The total composition: the statutory number and the head when taking part (plenary);
        the number of members (committee; never below one)."""
        if self.kind is BodyKind.PLENARY:
            return total_composition(self.statutory_deputies, head_takes_part)
        return max(1, len(self.participants))


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


def presence(roster: Roster, registered: Iterable[int], quorum: QuorumRule) -> Presence:
    """The presence of a sitting of the roster's body, given who is registered in its newest
    round (anyone else registered is ignored)."""
    present = frozenset(registered) & roster.participants
    head_id = roster.head_id
    head_present = head_id is not None and head_id in present
    total = roster.total(head_present)
    return Presence(
        total=total,
        head_id=head_id,
        head_takes_part=head_present,
        participants=roster.participants,
        registered=present,
        quorum_required=quorum.required(total),
        quorum_present=quorum.present(len(present) - (1 if head_present else 0), head_present),
    )


@dataclass(frozen=True)
class Standing:
    """Of some deputies (a batch of casts): who takes part in the vote, who of them is
    registered, and who of them has voted in it already."""

    participants: frozenset[int]
    registered: frozenset[int]
    voted: frozenset[int]


def standing(
    roster: Roster, registered: Iterable[int], voters: Iterable[int], ids: Iterable[int]
) -> Standing:
    """The standing of the deputies `ids` in a vote of the roster's body: `registered` are those
    registered in the newest round, `voters` those who have a ballot in this vote."""
    taking_part = roster.participants & frozenset(ids)
    return Standing(
        participants=taking_part,
        registered=frozenset(registered) & taking_part,
        voted=frozenset(voters) & taking_part,
    )


@dataclass(frozen=True)
class Composition:
    """A vote's total composition and whether the head takes part in it."""

    total: int
    head_takes_part: bool


def composition_at_close(opened: Composition, now: Presence, voters: Iterable[int]) -> Composition:
    """The composition a vote is counted on: the head takes part when registered at the close or
    having voted, even having arrived after the vote opened (art. 59). The statutory number is
    the one the vote opened with."""
    if now.head_id is None:
        return opened
    takes_part = now.head_id in now.registered or now.head_id in frozenset(voters)
    if takes_part == opened.head_takes_part:
        return opened
    return Composition(opened.total + (1 if takes_part else -1), takes_part)


def counted_participants(now: Presence, composition: Composition) -> frozenset[int]:
    """The participants counted in a vote's total composition: the head only when taking part."""
    if now.head_id is not None and not composition.head_takes_part:
        return now.participants - {now.head_id}
    return now.participants
