"""Attendance: who registered at each round of each sitting of a period, with totals."""

from __future__ import annotations

from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Spacer

from .document import (
    BOLD,
    HEADING,
    SMALL,
    SUBTITLE,
    TITLE,
    WIDTH,
    DocumentInfo,
    Progress,
    build,
    grid,
)
from .model import AttendanceReport, AttendanceSitting, DeputyRef
from .protocol import para

MARK_PRESENT, MARK_ABSENT = "+", "—"


def _period(report: AttendanceReport) -> str:
    if report.date_from == report.date_to:
        return f"{report.date_from:%d.%m.%Y}"
    return f"{report.date_from:%d.%m.%Y}–{report.date_to:%d.%m.%Y}"


def attendance_info(report: AttendanceReport) -> DocumentInfo:
    last = max(
        (s.header for s in report.sittings), key=lambda h: (h.date, h.sitting_id), default=None
    )
    created = (last.closed_at if last else None) or datetime.combine(
        report.date_to, datetime.min.time()
    )
    ids = ",".join(str(s.header.sitting_id) for s in report.sittings)
    return DocumentInfo(
        title=f"Відвідування засідань: {report.council.name}, {_period(report)}",
        author=report.council.name,
        subject=f"Реєстрація депутатів на засіданнях {_period(report)}",
        header=f"{report.council.name} · відвідування засідань {_period(report)}",
        key=f"attendance:{report.date_from}:{report.date_to}:{ids}",
        created=created,
    )


def render_attendance(report: AttendanceReport, progress: Progress | None = None) -> bytes:
    """The attendance report as PDF bytes."""
    return build(attendance_story(report), attendance_info(report), progress)


def _label(person: DeputyRef) -> str:
    return person.name + (" (голова ради)" if person.is_head else "")


def attendance_story(report: AttendanceReport) -> list[Flowable]:
    story: list[Flowable] = [
        para(report.council.name.upper(), TITLE),
        para("ВІДВІДУВАННЯ ПЛЕНАРНИХ ЗАСІДАНЬ", TITLE),
        para(f"Період: {_period(report)}. Засідань: {len(report.sittings)}.", SUBTITLE),
    ]
    attended: dict[DeputyRef, int] = {person: 0 for person in report.roster}
    for sitting in report.sittings:
        story.extend(_sitting(report, sitting))
        for person in {p for r in sitting.rounds for p in r.registered}:
            attended[person] = attended.get(person, 0) + 1
    rows: list[list[object]] = [["№", "Депутат", "Фракція", "Засідань відвідано"]]
    for n, person in enumerate(report.roster, 1):
        rows.append(
            [
                str(n),
                _label(person),
                person.faction or "—",
                f"{attended[person]} з {len(report.sittings)}",
            ]
        )
    story += [
        CondPageBreak(40 * mm),
        para("Підсумок за період", HEADING),
        grid(rows, [12 * mm, WIDTH - 112 * mm, 60 * mm, 40 * mm]),
    ]
    return story


def _sitting(report: AttendanceReport, sitting: AttendanceSitting) -> list[Flowable]:
    h = sitting.header
    rounds = sitting.rounds
    heading = para(f"{h.name}: {h.title}", HEADING)
    if not rounds:
        return [heading, para("Реєстрацію не проводили.", SMALL)]
    registered = [set(r.registered) for r in rounds]
    rows: list[list[object]] = [["№", "Депутат", *(f"Реєстр. {r.number}" for r in rounds)]]
    for n, person in enumerate(report.roster, 1):
        marks = [MARK_PRESENT if person in names else MARK_ABSENT for names in registered]
        rows.append([str(n), _label(person), *marks])
    rows.append(["", "Зареєстровано", *(str(len(names)) for names in registered)])
    rows.append(["", "Кворум", *("так" if r.quorum else "ні" for r in rounds)])
    mark_width = min(25 * mm, (WIDTH - 82 * mm) / len(rounds))
    last = len(rows) - 2
    table = grid(
        rows,
        [12 * mm, 70 * mm, *([mark_width] * len(rounds))],
        [("FONTNAME", (0, last), (-1, -1), BOLD), ("ALIGN", (2, 0), (-1, -1), "CENTER")],
    )
    return [CondPageBreak(30 * mm), heading, table, Spacer(1, 3 * mm)]
