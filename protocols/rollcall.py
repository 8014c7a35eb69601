"""The roll-call sheet of a vote (Результати поіменного голосування).

Every participant (the head of the council included) with their choice, grouped by faction with
each faction's totals. A secret ballot's sheet carries the totals only: no name appears on it.
"""

from __future__ import annotations

from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from .document import (
    PLAIN_HEADING,
    PLAIN_TITLE,
    SHADE,
    SMALL,
    SUBTITLE,
    WIDTH,
    DocumentInfo,
    Progress,
    build,
    grid,
)
from .model import OUTCOME_COLUMNS, FactionGroup, RollCallSheet
from .protocol import BLANK, hhmm, para, verdict

# The singular forms on a deputy's line, in the order of the count columns.
_LINE_OUTCOMES = ("За", "Проти", "Утримався", "Не голосував", "Відсутній")
NO_FACTION = "Позафракційні"


def sheet_info(sheet: RollCallSheet) -> DocumentInfo:
    h, vote = sheet.header, sheet.vote
    created = vote.closed_at or h.closed_at or datetime.combine(h.date, datetime.min.time())
    return DocumentInfo(
        title=f"Результати поіменного голосування № {vote.vote_id}: {vote.title}",
        author=h.council.name,
        subject=f"{h.council.name}, {h.name}: голосування № {vote.vote_id}",
        header=f"{h.council.name} · {h.name} · голосування № {vote.vote_id}",
        key=f"rollcall:vote:{vote.vote_id}",
        created=created,
    )


def render_roll_call(sheet: RollCallSheet, progress: Progress | None = None) -> bytes:
    """The roll-call sheet of a closed vote as PDF bytes."""
    return build(roll_call_story(sheet), sheet_info(sheet), progress)


def roll_call_story(sheet: RollCallSheet) -> list[Flowable]:
    h, vote = sheet.header, sheet.vote
    story: list[Flowable] = [
        para(h.council.name.upper(), PLAIN_TITLE),
        para(h.name, SUBTITLE),
        para(
            "РЕЗУЛЬТАТИ ПОІМЕННОГО ГОЛОСУВАННЯ" if not vote.secret else "РЕЗУЛЬТАТИ ГОЛОСУВАННЯ",
            PLAIN_TITLE,
        ),
        Spacer(1, 3 * mm),
    ]
    if sheet.item_title:
        draft = f" (проєкт № {sheet.item_draft_number})" if sheet.item_draft_number else ""
        position = f"{vote.item_position}. " if vote.item_position is not None else ""
        story.append(para(f"Питання порядку денного: {position}{sheet.item_title}{draft}"))
    story += [
        para(f"Голосування № {vote.vote_id}: {vote.title}"),
        para(f"Етап: {vote.stage_uk}. Вид: {vote.kind_uk}."),
        para(f"Час: {vote.opened_at:%d.%m.%Y %H:%M}–{hhmm(vote.closed_at)}."),
        para(
            f"Правило: {vote.rule_uk}; склад ради {vote.total_composition}"
            + (
                f"; база {vote.base_count}; потрібно «за» не менше {vote.threshold}"
                if vote.threshold is not None
                else ""
            )
            + "."
        ),
    ]
    for mark in vote.marks:
        story.append(para(f"Позначка: {mark}."))
    if vote.counts is not None:
        story.append(
            grid(
                [
                    [*OUTCOME_COLUMNS, "Рішення"],
                    [*map(str, vote.counts.as_row()), verdict(vote)],
                ],
                [WIDTH / 6] * 6,
                bold_header=False,
            )
        )
    if vote.secret:
        story.append(
            para("Таємне голосування: поіменні результати не ведуться і не оприлюднюються.", SMALL)
        )
    else:
        for group in sheet.groups:
            story.extend(_group(group))
    story += [
        Spacer(1, 12 * mm),
        para(f"Головуючий  {BLANK}  {h.chair or BLANK}"),
        Spacer(1, 8 * mm),
        para(f"Секретар  {BLANK}  {h.secretary or BLANK}"),
    ]
    if vote.manual:
        story += [Spacer(1, 8 * mm), para(f"Голова лічильної комісії  {BLANK}  {BLANK}")]
    return story


def _group(group: FactionGroup) -> list[Flowable]:
    """A faction's lines, its totals in the table's last row (one table: one per faction)."""
    name = group.name or NO_FACTION
    rows: list[list[object]] = [["№", "Депутат", "Рішення"]]
    for n, line in enumerate(group.lines, 1):
        who = line.name + (" (голова ради)" if line.is_head else "")
        rows.append([str(n), who, line.outcome_uk])
    totals = group.totals
    counts = ", ".join(
        f"{column} {totals.get(o, 0)}"
        for column, o in zip(OUTCOME_COLUMNS, _LINE_OUTCOMES, strict=True)
    )
    rows.append(["", f"Разом {len(group.lines)}: {counts}", ""])
    last = len(rows) - 1
    summary = [("SPAN", (1, last), (2, last)), ("BACKGROUND", (0, last), (-1, last), SHADE)]
    return [
        para(f"{name} ({len(group.lines)})", PLAIN_HEADING),
        grid(rows, [12 * mm, WIDTH - 52 * mm, 40 * mm], summary, bold_header=False),
    ]
