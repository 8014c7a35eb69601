"""Agenda items and their status."""

from __future__ import annotations

from enum import StrEnum


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
    from .errors import InvalidInput

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
