"""Benchmark: the official record of a large sitting, beside a bare ReportLab table (the floor).

For a sitting of 100 agenda items with one roll-call vote each, in a chamber of 120 deputies
(12,000 roll-call rows) and of 450 deputies (45,000 rows), it renders the protocol plus every
vote's roll-call sheet from read models built directly (no database), as `voting protocol` and
`voting rollcall` do, and then the floor: the same rows (name, faction, choice) as one bare
platypus table per vote in the same embedded font, with nothing else (no running header, no
"Сторінка N з M", no groups or totals). Each case runs in a fresh process, so its peak memory
(the process's maximum resident set) is its own.

    .venv/bin/python bench/protocol_render.py                  # 120 and 450 deputies
    .venv/bin/python bench/protocol_render.py --deputies 120 250 450 --repeat 3

Targets (issue 14): 12k rows ≤ 5 s, 45k rows ≤ 20 s, both ≤ 1.5× the floor, peak memory
≤ 400 MB, time growing linearly with the rows. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import resource
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from protocols.model import (  # noqa: E402
    BallotLine,
    CouncilDetails,
    Counts,
    DeputyRef,
    FactionGroup,
    ItemRecord,
    JournalMark,
    RollCallSheet,
    RoundRecord,
    SittingHeader,
    SittingRecord,
    SpeechRecord,
    VoteRecord,
)

ITEMS = 100
FACTIONS = ("Світанок", "Каштанова алея", "Громада-2030", "Зелений берег", None)
CHOICES = ("За", "Проти", "Утримався", "Не голосував", "Відсутній")
KYIV = timezone(timedelta(hours=2))
START = datetime(2026, 11, 25, 10, 0, tzinfo=KYIV)


def build_models(deputies: int) -> tuple[SittingRecord, list[RollCallSheet]]:
    """A closed sitting of ITEMS items, each decided by one roll-call vote of every deputy."""
    header = SittingHeader(
        sitting_id=1,
        council=CouncilDetails("Київська міська рада", "22883141"),
        title="Пленарне засідання",
        date=START.date(),
        convocation_number=9,
        convocation_label="IX скликання",
        session_number=17,
        sitting_number=1,
        opened_at=START,
        closed_at=START + timedelta(hours=8),
    )
    people = [DeputyRef("Головенко Мер Мерович", None, True)] + [
        DeputyRef(f"Депутатенко{n:03d} Ївга Ґеоргіївна", FACTIONS[n % 5])
        for n in range(1, deputies)
    ]
    items, sheets = [], []
    for position in range(1, ITEMS + 1):
        lines = [
            BallotLine(p.name, p.faction, CHOICES[(n + position) % 5], p.is_head)
            for n, p in enumerate(people)
        ]
        counts = [sum(1 for line in lines if line.outcome_uk == c) for c in CHOICES]
        vote = VoteRecord(
            vote_id=position,
            title=f"Про рішення № {position}",
            stage_uk="в цілому",
            kind_uk="поіменне",
            secret=False,
            rule_uk="більше половини від загального складу ради",
            opened_at=START + timedelta(minutes=4 * position),
            closed_at=START + timedelta(minutes=4 * position + 1),
            total_composition=deputies,
            registered=deputies - counts[4],
            base_count=deputies,
            threshold=deputies // 2 + 1,
            counts=Counts(*counts),
            result_uk="Прийнято" if counts[0] > deputies // 2 else "Не прийнято",
            item_position=position,
        )
        groups = tuple(
            FactionGroup(f, tuple(line for line in lines if line.faction == f)) for f in FACTIONS
        )
        sheets.append(
            RollCallSheet(header, vote, f"Про рішення № {position}", f"{position}/9", groups)
        )
        speeches = tuple(
            SpeechRecord(people[(position * 7 + k) % deputies].name, "виступ в обговоренні", 120)
            for k in range(3)
        )
        items.append(
            ItemRecord(
                position,
                f"Про рішення № {position}",
                f"{position}/9",
                "Доповідач",
                "Прийнято",
                speeches,
                (vote,),
            )
        )
    record = SittingRecord(
        header=header,
        elected=tuple(people),
        present=tuple(people[: deputies * 4 // 5]),
        absent=tuple(people[deputies * 4 // 5 :]),
        invited=(),
        rounds=(
            RoundRecord(
                1,
                START,
                None,
                tuple(people[: deputies * 4 // 5]),
                deputies // 2 + 1,
                deputies * 4 // 5,
            ),
        ),
        items=tuple(items),
        journal=JournalMark(123456, "0" * 64),
    )
    return record, sheets


def floor_pdf(sheet: RollCallSheet) -> bytes:
    """The same rows as one bare table: the least ReportLab can do with them."""
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

    from protocols.fonts import REGULAR, register_fonts

    register_fonts()
    rl_config.useA85 = 0  # the same stream encoding as protocols/document.py
    rows = [["Депутат", "Фракція", "Рішення"]]
    rows += [
        [line.name, line.faction or "", line.outcome_uk] for g in sheet.groups for line in g.lines
    ]
    table = Table(rows, repeatRows=1)
    table.setStyle(
        TableStyle([("FONTNAME", (0, 0), (-1, -1), REGULAR), ("FONTSIZE", (0, 0), (-1, -1), 9)])
    )
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, invariant=1).build([table])
    return out.getvalue()


@dataclass
class Case:
    deputies: int
    what: str  # "record" (protocol + sheets) or "floor"
    seconds: float
    cpu_seconds: float
    protocol_seconds: float
    pages_bytes: int
    peak_mb: float


def run_case(deputies: int, what: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from protocols.render import render

    record, sheets = build_models(deputies)
    floor_pdf(sheets[0])  # fonts loaded and modules imported before the clock starts
    started, cpu = time.perf_counter(), time.process_time()
    size = protocol_seconds = 0.0
    if what == "record":
        size += len(render("protocol", record))
        protocol_seconds = time.perf_counter() - started
        for sheet in sheets:
            size += len(render("rollcall", sheet))
    else:
        for sheet in sheets:
            size += len(floor_pdf(sheet))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    queue.put(Case(deputies, what, seconds, cpu, protocol_seconds, int(size), peak))


def measure(deputies: int, what: str) -> Case:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=run_case, args=(deputies, what, queue))
    process.start()
    case = queue.get()
    process.join()
    return case


def linearity(points: list[tuple[int, float]]) -> str:
    """A least-squares line through (rows, seconds), and how far the points stray from it."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum(
        (x - mean_x) ** 2 for x, _ in points
    )
    fixed = mean_y - slope * mean_x
    worst = max(abs(y - (fixed + slope * x)) / y for x, y in points)
    return (
        f"linear fit: {fixed:.2f} s + {slope * 1e6:.1f} µs × rows; "
        f"the farthest point is {worst:.1%} off the line"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deputies", type=int, nargs="+", default=[120, 250, 450])
    parser.add_argument("--repeat", type=int, default=2, help="runs per case; the best is shown")
    args = parser.parse_args()
    print(f"{ITEMS} items × N deputies: protocol + {ITEMS} roll-call sheets, beside the floor")
    print("(wall seconds; CPU seconds of the rendering process in brackets)")
    head = (
        f"{'deputies':>8} {'rows':>7} {'record s':>14} {'protocol s':>10} {'floor s':>14} "
        f"{'× floor':>12} {'µs/row':>7} {'peak MB':>8} {'floor MB':>9} {'PDF MB':>7}"
    )
    print(head)
    print("-" * len(head))
    points = []
    for deputies in args.deputies:
        record = min(
            (measure(deputies, "record") for _ in range(args.repeat)), key=lambda c: c.seconds
        )
        floor = min(
            (measure(deputies, "floor") for _ in range(args.repeat)), key=lambda c: c.seconds
        )
        rows = deputies * ITEMS
        ratio = (
            f"{record.seconds / floor.seconds:.2f} ({record.cpu_seconds / floor.cpu_seconds:.2f})"
        )
        print(
            f"{deputies:>8} {rows:>7,} "
            f"{record.seconds:>6.2f} ({record.cpu_seconds:>5.2f}) {record.protocol_seconds:>10.2f} "
            f"{floor.seconds:>6.2f} ({floor.cpu_seconds:>5.2f}) {ratio:>12} "
            f"{record.seconds / rows * 1e6:>7.1f} {record.peak_mb:>8.0f} {floor.peak_mb:>9.0f} "
            f"{record.pages_bytes / 1e6:>7.1f}"
        )
        points.append((rows, record.seconds))
    if len(points) >= 3:
        print(linearity(points))
    return 0


if __name__ == "__main__":
    sys.exit(main())
