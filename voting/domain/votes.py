"""Votes: kinds, stages, choices, the state machine's guards and the tally at close."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from .errors import (
    AlreadyVoted,
    Interrupted,
    InvalidInput,
    InvalidTransition,
    NotRegistered,
    QuorumNotMet,
    RevoteLimitReached,
    VoteAlreadyClosed,
    VoteAlreadyOpen,
    VoteNotOpen,
)
from .presence import Presence
from .rules import AdoptionRule

E = TypeVar("E", bound=StrEnum)


class VoteKind(StrEnum):
    ROLL_CALL = "roll_call"  # поіменне: every deputy's choice is public
    OPEN = "open"  # відкрите: counts public, the per-deputy list only in the protocol
    SECRET = "secret"  # таємне: no per-deputy record exists


class Stage(StrEnum):
    AS_A_BASIS = "as_a_basis"  # за основу
    AS_A_WHOLE = "as_a_whole"  # в цілому
    AMENDMENT = "amendment"  # поправка
    PROCEDURAL = "procedural"  # процедурне питання
    OTHER = "other"


class VoteState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ANNULLED = "annulled"


class Choice(StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


class Outcome(StrEnum):
    """A deputy's line in a roll-call sheet."""

    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"
    NOT_VOTED = "not_voted"  # registered, did not press
    ABSENT = "absent"  # not registered


class Result(StrEnum):
    ADOPTED = "adopted"
    NOT_ADOPTED = "not_adopted"


# The closed value lists of the national open-data standard (annex 29).
OUTCOME_UK = {
    Outcome.FOR: "За",
    Outcome.AGAINST: "Проти",
    Outcome.ABSTAIN: "Утримався",
    Outcome.NOT_VOTED: "Не голосував",
    Outcome.ABSENT: "Відсутній",
}
RESULT_UK = {Result.ADOPTED: "Прийнято", Result.NOT_ADOPTED: "Не прийнято"}


def parse_enum(enum: type[E], value: object, field: str) -> E:
    """Turn a request value into an enum member, or name the field and the allowed values."""
    for member in enum:
        if member.value == value:
            return member
    allowed = ", ".join(member.value for member in enum)
    raise InvalidInput(f"{field} must be one of: {allowed}; got {value!r}", field=field)


@dataclass(frozen=True)
class Tally:
    """The counts of a closed vote; they always add up to the total composition."""

    total: int
    registered: int
    voted_for: int
    against: int
    abstain: int
    not_voted: int
    absent: int
    threshold: int
    result: Result

    @property
    def voting(self) -> int:
        return self.voted_for + self.against + self.abstain

    def to_dict(self) -> dict[str, object]:
        return {
            "total_composition": self.total,
            "registered": self.registered,
            "for": self.voted_for,
            "against": self.against,
            "abstain": self.abstain,
            "not_voted": self.not_voted,
            "absent": self.absent,
            "threshold": self.threshold,
            "result": self.result.value,
            "result_uk": RESULT_UK[self.result],
        }


def tally_counts(
    rule: AdoptionRule,
    total: int,
    registered: int,
    voted_for: int,
    against: int,
    abstain: int,
    registered_voters: int | None = None,
) -> Tally:
    """Count a vote from its choice counts: registered non-voters are "not voted", the rest absent.

    `registered_voters` is how many of those who chose are registered (defaults to all of them);
    vacant seats and unregistered participants count as absent, and all count against adoption.
    """
    for name, value in (("for", voted_for), ("against", against), ("abstain", abstain)):
        if value < 0:
            raise InvalidInput(f"the count {name} cannot be negative", field=name)
    voting = voted_for + against + abstain
    registered_voters = voting if registered_voters is None else registered_voters
    if registered > total:
        raise InvalidInput(f"{registered} registered exceeds the total composition of {total}")
    if voting > total:
        raise InvalidInput(f"{voting} choices exceed the total composition of {total}")
    not_voted = max(0, registered - registered_voters)
    absent = total - voting - not_voted
    if absent < 0:
        raise InvalidInput("the counts exceed the total composition")
    threshold = rule.threshold(total=total, registered=registered, voting=voting)
    result = Result.ADOPTED if voted_for >= threshold else Result.NOT_ADOPTED
    return Tally(
        total, registered, voted_for, against, abstain, not_voted, absent, threshold, result
    )


def tally_ballots(
    rule: AdoptionRule,
    total: int,
    registered_ids: Iterable[int],
    choices: Mapping[int, Choice],
) -> tuple[Tally, dict[int, Outcome]]:
    """Count per-deputy choices; return the tally and each known participant's outcome."""
    registered = set(registered_ids)
    counts = Counter(choices.values())
    tally = tally_counts(
        rule,
        total,
        len(registered),
        counts[Choice.FOR],
        counts[Choice.AGAINST],
        counts[Choice.ABSTAIN],
        registered_voters=len(registered & set(choices)),
    )
    outcomes: dict[int, Outcome] = {pid: Outcome(choice.value) for pid, choice in choices.items()}
    for pid in registered - set(choices):
        outcomes[pid] = Outcome.NOT_VOTED
    return tally, outcomes


def ensure_open(state: VoteState, deadline: datetime | None, now: datetime) -> None:
    """Guard: a choice needs an open vote whose time has not run out."""
    ensure_can_close(state)
    if deadline is not None and now >= deadline:
        raise VoteNotOpen("the time for this vote has run out")


def ensure_can_cast(
    state: VoteState,
    deadline: datetime | None,
    now: datetime,
    registered: bool,
    registration_required: bool,
    previous_choice_exists: bool,
    allow_change: bool,
    interrupted: bool = False,
) -> None:
    """Guard for casting a choice: open, in time, not interrupted, registered, and no second
    vote unless allowed."""
    ensure_can_close(state)
    ensure_not_interrupted(interrupted)  # before the time: an interrupted vote's stands still
    ensure_open(state, deadline, now)
    if registration_required and not registered:
        raise NotRegistered("register before voting")
    if previous_choice_exists and not allow_change:
        raise AlreadyVoted(
            "your choice is already recorded and this vote does not allow changing it"
        )


# --- the vote's transitions: open → closed (counted) or annulled; a closed vote is announced;
# a finished one may be followed by one re-vote (or a counting commission's result).


def ensure_none_open(vote_open: bool) -> None:
    """Guard: one open vote per sitting (the database's partial unique index holds it too)."""
    if vote_open:
        raise VoteAlreadyOpen("another vote is open in this sitting; close it first")


def ensure_quorum(present: Presence, override: bool) -> None:
    """Guard: a vote opens with a quorum, or when the chair overrides it (journaled)."""
    if not present.quorum and not override:
        raise QuorumNotMet(
            f"no quorum: {present.quorum_present} present, {present.quorum_required} needed; "
            "open with override_quorum to proceed anyway",
            **present.to_dict(),
        )


def ensure_can_close(state: VoteState) -> None:
    """Guard: only an open vote closes (also one whose time has run out)."""
    if state is VoteState.CLOSED:
        raise VoteAlreadyClosed("the vote is already closed")
    if state is VoteState.ANNULLED:
        raise VoteNotOpen("the vote was annulled")


def ensure_not_interrupted(interrupted: bool) -> None:
    """Guard: nothing is recorded in a vote the servers' stop interrupted until the secretary
    decides what becomes of it."""
    if interrupted:
        raise Interrupted(
            "this vote was interrupted when the server stopped; the secretary continues, closes "
            "or annuls it"
        )


def ensure_can_continue(kind: VoteKind, state: VoteState, interrupted: bool) -> None:
    """Guard: an interrupted vote may go on (every recorded choice stays), unless it is secret:
    a secret ballot cut short is annulled and held again (its tally is not kept while it runs)."""
    if state is not VoteState.OPEN or not interrupted:
        raise InvalidTransition("only an open vote that the server's stop interrupted continues")
    if kind is VoteKind.SECRET:
        raise InvalidTransition(
            "a secret ballot cut short by the server's stop cannot continue or be counted: "
            "annul it and hold it again"
        )


def ensure_can_close_interrupted(kind: VoteKind, interrupted: bool) -> None:
    """Guard: a secret ballot the servers' stop cut short is not counted (annul it)."""
    if interrupted and kind is VoteKind.SECRET:
        raise InvalidTransition(
            "a secret ballot cut short by the server's stop cannot be counted: annul it and "
            "hold it again"
        )


def annul(state: VoteState) -> VoteState:
    """open or closed → annulled: kept, marked, and no longer deciding its item."""
    if state is VoteState.ANNULLED:
        raise InvalidTransition("the vote is already annulled")
    return VoteState.ANNULLED


def ensure_can_announce(state: VoteState, announced: bool) -> None:
    """Guard: only a counted vote is announced, and only once."""
    if state is not VoteState.CLOSED:
        raise InvalidTransition(f"only a closed vote's result is announced; this one is {state}")
    if announced:
        raise InvalidTransition("this result is already announced")


def ensure_can_follow(
    vote_id: int,
    state: VoteState,
    attempt: int,
    revote_limit: int,
    followed_by: int | None,
) -> int:
    """Guard: a new attempt (a re-vote, or a counting commission's result) follows a finished
    vote, once, within the Regulation's limit. Returns the new attempt's number."""
    if state is VoteState.OPEN:
        raise InvalidTransition(f"vote {vote_id} is still open; close or annul it first")
    if attempt - 1 >= revote_limit:
        raise RevoteLimitReached(
            f"this question has been re-voted {attempt - 1} times; the limit is {revote_limit}"
        )
    if followed_by is not None:
        raise InvalidTransition(f"vote {vote_id} already has a re-vote (vote {followed_by})")
    return attempt + 1


def ensure_manual_may_follow(vote_id: int, state: VoteState) -> None:
    """Guard: a counting commission's result is a new attempt after a vote that did not count
    (annulled: the system failed, or the vote was irregular), never a second result beside a
    counted one: it would override the choices the deputies recorded themselves."""
    if state is not VoteState.ANNULLED:
        raise InvalidTransition(
            f"vote {vote_id} was counted; a manual result follows only an annulled vote "
            "(annul it first, with the reason)"
        )


def revote(
    vote_id: int,
    state: VoteState,
    manual: bool,
    attempt: int,
    revote_limit: int,
    followed_by: int | None,
) -> int:
    """A re-vote of a closed (or annulled) electronic vote: the new attempt's number."""
    if state is VoteState.OPEN:
        raise InvalidTransition("close the vote before calling a re-vote")
    if manual:
        raise InvalidTransition("a manual result cannot be re-voted electronically")
    return ensure_can_follow(vote_id, state, attempt, revote_limit, followed_by)
