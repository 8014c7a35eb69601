"""One entry for every kind of document: render(kind, model) -> PDF bytes."""

from __future__ import annotations

from .attendance import render_attendance
from .document import Progress
from .model import AttendanceReport, RollCallSheet, SittingRecord
from .protocol import render_protocol
from .rollcall import render_roll_call

#: The kinds of document, as the CLI and the worker name them.
KINDS = ("protocol", "rollcall", "attendance")

Model = SittingRecord | RollCallSheet | AttendanceReport


def render(kind: str, model: Model, progress: Progress | None = None) -> bytes:
    """Render one document of a kind in KINDS from its read model, as PDF bytes."""
    if kind == "protocol" and isinstance(model, SittingRecord):
        return render_protocol(model, progress)
    if kind == "rollcall" and isinstance(model, RollCallSheet):
        return render_roll_call(model, progress)
    if kind == "attendance" and isinstance(model, AttendanceReport):
        return render_attendance(model, progress)
    raise ValueError(f"cannot render a {kind!r} from a {type(model).__name__}")


__all__ = [
    "KINDS",
    "Model",
    "Progress",
    "render",
    "render_attendance",
    "render_protocol",
    "render_roll_call",
]
