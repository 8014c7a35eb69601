"""The protocol of a sitting (протокол пленарного засідання)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph, Spacer

from .document import (
    BODY,
    HEADING,
    SMALL,
    SUBHEADING,
    SUBTITLE,
    TITLE,
    WIDTH,
    DocumentInfo,
    Progress,
    build,
    grid,
)
from .model import (
    OUTCOME_COLUMNS,
    DeputyRef,
    ItemRecord,
    SittingHeader,
    SittingRecord,
    VoteRecord,
)

BLANK = "____________________"
#: An item's title in the agenda's table is cut to this many characters (a title may have 5,000,
#: and a table's row cannot break across pages); the whole title heads the item's section.
AGENDA_TITLE = 600


def para(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text), style)


def verdict(vote: VoteRecord) -> str:
    """The result as counted, or that the vote was annulled (its counts are kept)."""
    if vote.annulled:
        return "Скасовано"
    return vote.result_uk or "—"


def hhmm(moment: datetime | None) -> str:
    return BLANK if moment is None else moment.strftime("%H:%M")


def _chair(header: SittingHeader) -> str:
    if header.chair is None:
        return BLANK
    return header.chair + (" (голова ради)" if header.chair_is_head else "")


def _names(people: Iterable[DeputyRef]) -> str:
    names = [p.name + (" (голова ради)" if p.is_head else "") for p in people]
    return ", ".join(names) if names else "—"


def sitting_info(record: SittingRecord, title: str) -> DocumentInfo:
    header = record.header
    closed = header.closed_at or datetime.combine(header.date, datetime.min.time())
    return DocumentInfo(
        title=f"{title}: {header.council.name}, {header.name}",
        author=header.council.name,
        subject=f"{title} {header.name}",
        header=f"{header.council.name} · {header.name}",
        key=f"protocol:sitting:{header.sitting_id}",
        created=closed,
    )


def render_protocol(record: SittingRecord, progress: Progress | None = None) -> bytes:
    """The protocol of a closed sitting as PDF bytes."""
    return build(protocol_story(record), sitting_info(record, "Протокол"), progress)


def protocol_story(record: SittingRecord) -> list[Flowable]:
    h = record.header
    story: list[Flowable] = [
        para(h.council.name.upper(), TITLE),
        para(f"{h.convocation_label or ''}".strip() or " ", SUBTITLE),
        para("ПРОТОКОЛ", TITLE),
        para(f"пленарного засідання · {h.name}", SUBTITLE),
        para(f"Дата: {h.date:%d.%m.%Y}"),
        para(f"Місце проведення: {h.place or BLANK}"),
        para(f"Початок: {hhmm(h.opened_at)}    Закінчення: {hhmm(h.closed_at)}"),
        para(f"Головуючий: {_chair(h)}"),
        para(f"Секретар: {h.secretary or BLANK}"),
        para("Депутати", HEADING),
        para(
            f"Обрано: {len(record.elected)}. Присутні: {len(record.present)}. "
            f"Відсутні: {len(record.absent)}."
        ),
        para(f"Присутні: {_names(record.present)}.", SMALL),
        Spacer(1, 2 * mm),
        para(f"Відсутні: {_names(record.absent)}.", SMALL),
        para("Запрошені", HEADING),
        para(
            ", ".join(p.name + (f" ({p.position})" if p.position else "") for p in record.invited)
            or "—"
        ),
        *_rounds(record),
        para("Порядок денний", HEADING),
        grid(
            [["№", "Питання", "Проєкт №", "Доповідач"]]
            + [
                [
                    str(i.position),
                    para(_shortened(i.title, AGENDA_TITLE), SMALL),
                    i.draft_number or "—",
                    para(i.rapporteur or "—", SMALL),
                ]
                for i in record.items
            ],
            [10 * mm, WIDTH - 70 * mm, 22 * mm, 38 * mm],
        ),
    ]
    for item in record.items:
        story.extend(_item(item))
    if record.other_votes:
        story.append(para("Процедурні голосування", HEADING))
        for vote in record.other_votes:
            story.extend(_vote(vote))
    story.extend(_closing(record))
    return story


def _rounds(record: SittingRecord) -> list[Flowable]:
    rows: list[list[object]] = [
        ["№", "Початок", "Зареєстровано", "Враховано для кворуму", "Потрібно", "Кворум"]
    ]
    for r in record.rounds:
        rows.append(
            [
                str(r.number),
                hhmm(r.opened_at),
                str(len(r.registered)),
                str(r.quorum_present),
                str(r.quorum_required),
                "так" if r.quorum else "ні",
            ]
        )
    if len(rows) == 1:
        return [para("Реєстрація", HEADING), para("Реєстрацію не проводили.")]
    widths = [12 * mm, 25 * mm, 30 * mm, 45 * mm, 25 * mm]
    return [para("Реєстрація", HEADING), grid(rows, [*widths, WIDTH - sum(widths)])]


def _shortened(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word with "…" (a table's row must fit a page)."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def _item(item: ItemRecord) -> list[Flowable]:
    out: list[Flowable] = [
        CondPageBreak(40 * mm),
        para(f"{item.position}. {item.title}", HEADING),
        para(
            f"Проєкт рішення № {item.draft_number or BLANK}. Доповідач: {item.rapporteur or BLANK}."
        ),
    ]
    if item.speeches:
        out.append(para("Виступили:", SUBHEADING))
        rows: list[list[object]] = [["Промовець", "Вид виступу", "Тривалість"]]
        for s in item.speeches:
            who = s.speaker + (f", {s.position}" if s.position else "")
            minutes, seconds = divmod(s.duration_seconds, 60)
            rows.append([para(who, SMALL), s.type_uk, f"{minutes}:{seconds:02d}"])
        out.append(grid(rows, [WIDTH - 75 * mm, 50 * mm, 25 * mm]))
    for vote in item.votes:
        out.extend(_vote(vote))
    out.append(para(f"Вирішили: {item.status_uk}.", SUBHEADING))
    return out


def _vote(vote: VoteRecord) -> list[Flowable]:
    title = f"Голосування № {vote.vote_id}: {vote.title} ({vote.stage_uk}, {vote.kind_uk})"
    lines: list[Flowable] = [para(title, SUBHEADING)]
    for mark in vote.marks:
        lines.append(para(f"Позначка: {mark}."))
    rule = f"Правило: {vote.rule_uk}; склад ради {vote.total_composition}"
    if vote.base_count is not None and vote.threshold is not None:
        rule += f"; база {vote.base_count}; потрібно «за» не менше {vote.threshold}"
    lines.append(para(rule + "."))
    if vote.counts is not None:
        lines.append(
            grid(
                [
                    [*OUTCOME_COLUMNS, "Результат"],
                    [*map(str, vote.counts.as_row()), verdict(vote)],
                ],
                [WIDTH / 6] * 6,
            )
        )
    elif vote.annulled:
        lines.append(para("Голосування скасовано до підрахунку."))
    lines.append(Spacer(1, 2 * mm))
    return [KeepTogether(lines)]


def _closing(record: SittingRecord) -> list[Flowable]:
    """The signatures and, on the last page, the journal's head at the close."""
    h = record.header
    out: list[Flowable] = [
        Spacer(1, 8 * mm),
        KeepTogether(
            [
                para(f"Головуючий на засіданні  {BLANK}  {h.chair or BLANK}"),
                Spacer(1, 8 * mm),
                para(f"Секретар  {BLANK}  {h.secretary or BLANK}"),
            ]
        ),
        Spacer(1, 8 * mm),
    ]
    if record.journal is not None:
        out.append(
            KeepTogether(
                [
                    para("Контроль цілісності", HEADING),
                    para(
                        "Стан журналу подій на момент закриття засідання: запис № "
                        f"{record.journal.seq}, геш (SHA-256):"
                    ),
                    para(record.journal.hash, SMALL),
                    para(
                        "Перевірка: `voting journal verify` має знайти цей запис із цим самим "
                        "гешем.",
                        SMALL,
                    ),
                ]
            )
        )
    return out
