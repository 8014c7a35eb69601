"""What every document shares: the page, the fonts and styles, the running header, "Сторінка N з
M", the metadata, and reproducible bytes.

Reproducible: the canvas runs in ReportLab's invariant mode, the creation date is the one the
caller gives (the sitting's close), and the document id is a digest seeded with the caller's key
(the sitting or vote) and then fed the content, so the same model gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from hashlib import md5
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, SimpleDocTemplate, Table, TableStyle

from .fonts import BOLD, REGULAR, register_fonts

#: progress(done, total): how many of the document's parts are laid out.
Progress = Callable[[int, int], None]

PAGE = A4
LEFT, RIGHT, TOP, BOTTOM = 20 * mm, 15 * mm, 22 * mm, 18 * mm
WIDTH = PAGE[0] - LEFT - RIGHT
CREATOR = "council-voting"

register_fonts()  # paragraphs resolve their fonts when they are made, before any build
# Streams as compressed binary, not also ASCII85-encoded: smaller files, less work per page and
# per embedded font (every PDF reader takes binary streams).
rl_config.useA85 = 0

BODY = ParagraphStyle("body", fontName=REGULAR, fontSize=10, leading=13, spaceAfter=3)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8.5, leading=11, spaceAfter=0)
TITLE = ParagraphStyle(
    "title", parent=BODY, fontName=BOLD, fontSize=14, leading=18, alignment=TA_CENTER
)
SUBTITLE = ParagraphStyle("subtitle", parent=BODY, alignment=TA_CENTER, spaceAfter=8)
HEADING = ParagraphStyle(
    "heading", parent=BODY, fontName=BOLD, fontSize=11.5, leading=15, spaceBefore=8
)
SUBHEADING = ParagraphStyle("subheading", parent=BODY, fontName=BOLD, spaceBefore=4)
# The roll-call sheets are set in the regular face only: a second embedded face costs each of a
# sitting's hundred sheets as much as two hundred of its rows (bench/protocol_render.py).
PLAIN_TITLE = ParagraphStyle("plain-title", parent=TITLE, fontName=REGULAR, fontSize=15)
PLAIN_HEADING = ParagraphStyle("plain-heading", parent=HEADING, fontName=REGULAR, fontSize=12.5)

SHADE = colors.Color(0.9, 0.9, 0.9)
_GRID = [
    ("FONTNAME", (0, 0), (-1, -1), REGULAR),
    ("FONTSIZE", (0, 0), (-1, -1), 9),
    ("LEADING", (0, 0), (-1, -1), 11),
    ("BACKGROUND", (0, 0), (-1, 0), SHADE),
    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
]


def grid(
    rows: Sequence[Sequence[object]],
    widths: Sequence[float],
    extra: Sequence[tuple[Any, ...]] = (),
    bold_header: bool = True,
) -> Table:
    """A table with a shaded (and bold) header row that repeats on every page it runs over."""
    table = Table(list(rows), colWidths=list(widths), repeatRows=1)
    header = [("FONTNAME", (0, 0), (-1, 0), BOLD)] if bold_header else []
    table.setStyle(TableStyle([*_GRID, *header, *extra]))
    return table


@dataclass(frozen=True)
class DocumentInfo:
    """The metadata and the running header of one document."""

    title: str
    author: str  # the council
    subject: str
    header: str  # the running header: the council and the sitting
    key: str  # seeds the document id: "sitting:12", "vote:40", ...
    created: datetime  # the creation date written into the file

    def pdf_date(self) -> str:
        offset = self.created.utcoffset()
        minutes = 0 if offset is None else int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        hours, rest = divmod(abs(minutes), 60)
        return f"D:{self.created:%Y%m%d%H%M%S}{sign}{hours:02d}'{rest:02d}'"


def _canvas_class(info: DocumentInfo) -> type[Canvas]:
    class NumberedCanvas(Canvas):
        """Keeps each page until the end, then writes the header and "Сторінка N з M"."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            self._doc.signature = md5(info.key.encode(), usedforsecurity=False)
            self.setDateFormatter(lambda *_: info.pdf_date())

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(total)
                Canvas.showPage(self)
            Canvas.save(self)

        def _decorate(self, total: int) -> None:
            width, height = PAGE
            self.saveState()
            self.setFont(REGULAR, 8)
            self.setFillColor(colors.Color(0.25, 0.25, 0.25))
            self.drawString(LEFT, height - 12 * mm, info.header)
            self.setStrokeColor(colors.grey)
            self.setLineWidth(0.4)
            self.line(LEFT, height - 13.5 * mm, width - RIGHT, height - 13.5 * mm)
            self.drawRightString(width - RIGHT, 10 * mm, f"Сторінка {self._pageNumber} з {total}")
            self.restoreState()

    return NumberedCanvas


def build(story: list[Flowable], info: DocumentInfo, progress: Progress | None = None) -> bytes:
    """Lay out the story on A4 pages and return the PDF's bytes."""
    register_fonts()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=PAGE,
        leftMargin=LEFT,
        rightMargin=RIGHT,
        topMargin=TOP,
        bottomMargin=BOTTOM,
        title=info.title,
        author=info.author,
        subject=info.subject,
        creator=CREATOR,
        producer=CREATOR,
        lang="uk",
        invariant=1,
        initialFontName=REGULAR,
    )
    if progress is not None:
        doc.setProgressCallBack(_progress_adapter(progress))
    doc.build(story, canvasmaker=_canvas_class(info))
    return out.getvalue()


def _progress_adapter(progress: Progress) -> Callable[[str, int], None]:
    total = [0]

    def callback(kind: str, value: int) -> None:
        if kind == "SIZE_EST":
            total[0] = value
            progress(0, value)
        elif kind == "PROGRESS":
            progress(min(value, total[0]), total[0])
        elif kind == "FINISHED":
            progress(total[0], total[0])

    return callback
