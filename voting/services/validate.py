"""Checks on request values shared by every door: types, lengths, required fields."""

from __future__ import annotations

import unicodedata
from datetime import date

from voting import opendata
from voting.domain.errors import InvalidInput

SHORT = 300
LONG = 5000

#: The range of a database INTEGER column (32-bit signed): ids and counts outside it are refused.
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1

#: Longest time limit of a vote, in seconds (for a vote and for the council's default).
MAX_TIME_LIMIT = 3600

#: Unicode categories no name or title holds: controls, format characters (invisible: zero-width
#: spaces and joiners, U+FEFF, soft hyphens, the bidirectional controls that can make a name read
#: backwards), surrogates, private use, unassigned code points, line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

#: Letters and symbols that draw nothing: the Hangul fillers and the blank Braille pattern.
_BLANK_CHARACTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _refused_character(value: str, multiline: bool) -> str | None:
    """The first character a name or title may not hold, or None (long texts keep line breaks
    and tabs)."""
    for char in value:
        if multiline and char in "\n\t":
            continue
        if unicodedata.category(char) in _REFUSED_CATEGORIES or char in _BLANK_CHARACTERS:
            return char
    return None


def _described(char: str) -> str:
    code = ord(char)
    kind = "control" if unicodedata.category(char) == "Cc" else "invisible"
    name = unicodedata.name(char, "")
    return f"the {kind} character U+{code:04X}" + (f" ({name})" if name else "")


def text(value: object, field: str, *, limit: int = SHORT, required: bool = True) -> str | None:
    """A trimmed string of at most `limit` characters."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text, got {type(value).__name__}", field=field)
    # One spelling of each letter: "й" typed as и + U+0306 and as one character compare equal.
    value = unicodedata.normalize("NFC", value.strip())
    bad = _refused_character(value, multiline=limit > SHORT)
    if bad is not None:
        raise InvalidInput(f"{field} contains {_described(bad)}, which is not allowed", field=field)
    if len(value) > limit:
        raise InvalidInput(
            f"{field} is {len(value)} characters long; at most {limit} are allowed", field=field
        )
    return value


def integer(
    value: object,
    field: str,
    *,
    minimum: int = INT_MIN,
    maximum: int = INT_MAX,
    required: bool = True,
) -> int | None:
    """A whole number within bounds (booleans are not numbers); by default a 32-bit one."""
    if value is None:
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{field} must be a whole number, got {value!r}", field=field)
    if value < minimum:
        raise InvalidInput(f"{field} must be at least {minimum}, got {_shown(value)}", field=field)
    if value > maximum:
        raise InvalidInput(f"{field} must be at most {maximum}, got {_shown(value)}", field=field)
    return value


def link(value: object, field: str, *, limit: int = 500) -> str | None:
    """An optional web address: http:// or https://, a host, no spaces (None when empty); the
    open data's anyURL, which it fills (voting.opendata)."""
    checked = text(value, field, limit=limit, required=False)
    if checked is None:
        return None
    if opendata.datatype_problem("anyURL", checked) is not None:
        raise InvalidInput(
            f"{field} must be a web address beginning with http:// or https://, got {checked!r}",
            field=field,
        )
    return checked


def _shown(number: int) -> str:
    """A number for a message; a huge one is shortened (Python refuses to print > 4300 digits)."""
    if abs(number) < 10**30:
        return str(number)
    return "a number too large to show"


def boolean(value: object, field: str, *, default: bool | None = None) -> bool:
    if value is None and default is not None:
        return default
    if not isinstance(value, bool):
        raise InvalidInput(f"{field} must be true or false, got {value!r}", field=field)
    return value


def iso_date(value: object, field: str) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a date YYYY-MM-DD", field=field)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{field} must be a date YYYY-MM-DD, got {value!r}", field=field
        ) from None


def only_fields(data: object, allowed: set[str], what: str) -> dict[str, object]:
    """A JSON object whose keys are all known."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput(f"unknown field(s) for {what}: {', '.join(unknown)}", field=unknown[0])
    return data
