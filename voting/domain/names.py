"""Names of people: ordering by the Ukrainian alphabet (roll-call sheets list deputies that way)."""

from __future__ import annotations

# The Ukrainian alphabet (Правопис 2019, § 4); the apostrophe and hyphen are ignored in ordering.
ALPHABET = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
_RANK = {letter: index for index, letter in enumerate(ALPHABET)}
_IGNORED = "'’ʼ-"


def uk_sort_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """A key that sorts names as a Ukrainian dictionary does (Г before Ґ, И before І before Ї)."""
    key: list[tuple[int, int | str]] = []
    for char in name.lower():
        if char in _IGNORED:
            continue
        rank = _RANK.get(char)
        # Ukrainian letters first in alphabet order; anything else after them, by code point.
        key.append((0, rank) if rank is not None else (1, char))
    return tuple(key)
