"""Sittings and their registration rounds: states, and every move between them.

A sitting is planned, then open, then closed (its record is final then). While it is open,
registration goes in numbered rounds: a round opens, deputies register in it (and may leave and
come back), and it closes; the newest round says who is registered. A round may not open or close
while a vote is open: it would change who counts as registered under the vote. Each function
below is one transition: it refuses an illegal move with a named domain error and changes
nothing; the services call it before they write.
"""

from __future__ import annotations

from enum import StrEnum

from .errors import (
    AlreadyRegistered,
    Interrupted,
    InvalidInput,
    InvalidTransition,
    NoOpenRegistration,
    NotRegistered,
    RegistrationAlreadyOpen,
    SittingNotOpen,
)


class SittingState(StrEnum):
    PLANNED = "planned"  # заплановане
    OPEN = "open"  # триває
    CLOSED = "closed"  # закрите


def ensure_sitting_open(sitting_id: int, state: SittingState) -> None:
    """Guard: registration, votes and their results need an open sitting."""
    if state is not SittingState.OPEN:
        raise SittingNotOpen(f"sitting {sitting_id} is {state}, not open")


def open_sitting(sitting_id: int, state: SittingState) -> SittingState:
    """planned → open."""
    if state is not SittingState.PLANNED:
        raise InvalidTransition(f"sitting {sitting_id} is {state}; only a planned one opens")
    return SittingState.OPEN


def close_sitting(sitting_id: int, state: SittingState, vote_open: bool) -> SittingState:
    """open → closed, with no vote open (an open round is closed with it)."""
    ensure_sitting_open(sitting_id, state)
    if vote_open:
        raise InvalidTransition("close the open vote before closing the sitting")
    return SittingState.CLOSED


def ensure_agenda_can_change(state: SittingState) -> None:
    """Guard: the agenda changes before and during a sitting, never after."""
    if state is SittingState.CLOSED:
        raise InvalidTransition("the sitting is closed; its agenda cannot change")


def _ensure_no_vote_open(vote_open: bool) -> None:
    if vote_open:
        raise InvalidTransition("a vote is open; close it before opening or closing registration")


def open_round(last_number: int | None, last_open: bool, vote_open: bool) -> int:
    """A new registration round: the number it gets. None before the first round."""
    _ensure_no_vote_open(vote_open)
    if last_number is not None and last_open:
        raise RegistrationAlreadyOpen(f"registration round {last_number} is already open")
    return 1 if last_number is None else last_number + 1


def close_round(last_number: int | None, last_open: bool, vote_open: bool) -> None:
    """The open round closes."""
    _ensure_no_vote_open(vote_open)
    if last_number is None or not last_open:
        raise NoOpenRegistration("no registration round is open")


def register(
    deputy_id: int,
    round_open: bool,
    participants: frozenset[int],
    registered: frozenset[int],
    interrupted: bool = False,
) -> None:
    """A deputy taking part in the body registers in the open round, once; not while the round
    waits for the secretary after the servers' stop interrupted it."""
    if not round_open:
        raise NoOpenRegistration("registration is not open")
    if interrupted:
        raise Interrupted(
            "this registration round was interrupted when the server stopped; the secretary "
            "continues or closes it"
        )
    if deputy_id not in participants:
        raise InvalidInput(
            f"deputy {deputy_id} does not take part in this sitting's body", field="deputy_id"
        )
    if deputy_id in registered:
        raise AlreadyRegistered("already registered in this round")


def leave(deputy_id: int, registered_in_round: bool) -> None:
    """A registered deputy leaves the hall (the count and the quorum drop)."""
    if not registered_in_round:
        raise NotRegistered(f"deputy {deputy_id} is not registered")
