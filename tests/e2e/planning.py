"""Planning, as before the day: the council founded (through the services, as `voting init`
does), and a sitting planned over HTTP by the secretary: convocation, session, sitting (not yet
opened)."""

from __future__ import annotations

from typing import Any

from voting.bootstrap import Runtime
from voting.domain.actors import SYSTEM
from voting.services import council


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


def found_council(rt: Runtime, deputies: int) -> None:
    """The council, as `voting init` founds it, of `deputies` deputies (the mayor besides)."""
    council.create_council(
        rt.uow(),
        SYSTEM,
        {
            "name": "Тестова міська рада",
            "edrpou": "12345678",
            "katottg": "UA12345678901234567",
            "statutory_deputies": deputies,
        },
    )
