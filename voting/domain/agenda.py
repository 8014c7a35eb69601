"""Agenda items and their status: set by hand (withdrawn, postponed, back to consideration) or
decided by a vote "в цілому"."""

from __future__ import annotations

from enum import StrEnum

from .errors import InvalidInput, InvalidTransition


class ItemStatus(StrEnum):
    PENDING = "pending"  # не розглядалось
    UNDER_CONSIDERATION = "under_consideration"  # розглядається
    ADOPTED = "adopted"  # прийнято
    NOT_ADOPTED = "not_adopted"  # не прийнято
    WITHDRAWN = "withdrawn"  # знято з розгляду
    POSTPONED = "postponed"  # перенесено


ITEM_STATUS_UK = {
    ItemStatus.PENDING: "Не розглядалось",
    ItemStatus.UNDER_CONSIDERATION: "Розглядається",
    ItemStatus.ADOPTED: "Прийнято",
    ItemStatus.NOT_ADOPTED: "Не прийнято",
    ItemStatus.WITHDRAWN: "Знято з розгляду",
    ItemStatus.POSTPONED: "Перенесено",
}


def reordered(current: list[int], wanted: list[int]) -> list[int]:
    """Check that `wanted` is a permutation of `current` and return it."""
    if sorted(current) != sorted(wanted) or len(set(wanted)) != len(wanted):
        missing = sorted(set(current) - set(wanted))
        extra = sorted(set(wanted) - set(current))
        raise InvalidInput(
            "the new order must list every item of the agenda exactly once"
            + (f"; missing {missing}" if missing else "")
            + (f"; not on this agenda {extra}" if extra else ""),
            field="order",
        )
    return list(wanted)


#: The statuses the secretary or chair set by hand; the others come from a vote.
MANUAL_STATUSES = (
    ItemStatus.PENDING,
    ItemStatus.UNDER_CONSIDERATION,
    ItemStatus.WITHDRAWN,
    ItemStatus.POSTPONED,
)
DECIDED = (ItemStatus.ADOPTED, ItemStatus.NOT_ADOPTED)


def set_by_hand(status: ItemStatus) -> ItemStatus:
    """Guard: adopted and not adopted come only from a vote "в цілому" (or a manual result of
    one)."""
    if status not in MANUAL_STATUSES:
        raise InvalidInput(
            f"status {status.value} comes from a vote; by hand use one of: "
            + ", ".join(s.value for s in MANUAL_STATUSES),
            field="status",
        )
    return status


def ensure_can_be_voted(item_id: int, status: ItemStatus, following: bool) -> None:
    """Guard: a withdrawn or postponed item is not voted; a decided one only through a new
    attempt (`following`: a re-vote or a counting commission's result of its vote)."""
    if status in (ItemStatus.WITHDRAWN, ItemStatus.POSTPONED):
        raise InvalidTransition(
            f"agenda item {item_id} is {status}; set it back to under consideration first"
        )
    if status in DECIDED and not following:
        raise InvalidTransition(
            f"agenda item {item_id} is already decided ({status}); call a re-vote of its "
            "vote, or set the item back to under consideration first"
        )


def decided_by(adopted: bool | None) -> ItemStatus:
    """The status an item's latest counted vote "в цілому" gives it (None: no such vote)."""
    if adopted is None:
        return ItemStatus.UNDER_CONSIDERATION
    return ItemStatus.ADOPTED if adopted else ItemStatus.NOT_ADOPTED
