"""Planning a sitting over HTTP, as the secretary does before the day: convocation, session,
sitting (not yet opened)."""

from __future__ import annotations

from typing import Any


def plan_sitting(secretary: Any, session_number: int = 17, date: str = "2026-11-25") -> int:
    """`secretary` is any caller with .ok(method, path, json, status); returns the sitting id."""
    convocation = secretary.ok(
        "post",
        "/convocations",
        {"number": 8, "label": "VIII скликання", "date_from": "2020-12-01"},
        status=201,
    )["id"]
    session = secretary.ok(
        "post", "/sessions", {"convocation_id": convocation, "number": session_number}, status=201
    )["id"]
    return secretary.ok("post", "/sittings", {"date": date, "session_id": session}, status=201)[
        "id"
    ]
