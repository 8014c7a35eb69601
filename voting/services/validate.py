"""Checks on request values shared by every door: types, lengths, required fields."""

from __future__ import annotations

from datetime import date

from voting.domain.errors import InvalidInput

SHORT = 300
LONG = 5000


def text(value: object, field: str, *, limit: int = SHORT, required: bool = True) -> str | None:
    """A trimmed string of at most `limit` characters."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text, got {type(value).__name__}", field=field)
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(
            f"{field} is {len(value)} characters long; at most {limit} are allowed", field=field
        )
    return value


def integer(
    value: object, field: str, *, minimum: int | None = None, maximum: int | None = None,
    required: bool = True,
) -> int | None:
    """A whole number within bounds (booleans are not numbers)."""
    if value is None:
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{field} must be a whole number, got {value!r}", field=field)
    if minimum is not None and value < minimum:
        raise InvalidInput(f"{field} must be at least {minimum}, got {value}", field=field)
    if maximum is not None and value > maximum:
        raise InvalidInput(f"{field} must be at most {maximum}, got {value}", field=field)
    return value


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
        raise InvalidInput(f"{field} must be a date YYYY-MM-DD, got {value!r}", field=field) from None


def only_fields(data: object, allowed: set[str], what: str) -> dict[str, object]:
    """A JSON object whose keys are all known."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput(f"unknown field(s) for {what}: {', '.join(unknown)}", field=unknown[0])
    return data
