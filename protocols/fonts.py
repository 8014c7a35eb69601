"""The embedded font of every document: PT Sans, from the `fontpkg-pt-sans` package.

ReportLab's wheel carries only Bitstream Vera, which has no Cyrillic, so the documents embed a
TrueType font that a pip dependency ships as package data. Candidates on PyPI, weighed for
Ukrainian text (і ї є ґ І Ї Є Ґ and the apostrophe ʼ U+02BC / ’ U+2019, «», №, dashes):

- fontpkg-pt-sans (chosen): ParaType's PT Sans, drawn for the languages of the Cyrillic
  peoples, Ukrainian among them; static Regular, Bold and Italic TrueType files (ReportLab
  embeds and subsets static TrueType; it ignores a variable font's axes, so a variable font gives
  no bold); a 0.9 MB wheel; OFL-1.1; maintained (fontpkg releases the Google Fonts families
  regularly, 2026 at the time of writing). Every letter needed is in its cmap (the unit tests
  extract each one back from a PDF).
- fontpkg-noto-sans: Noto Sans covers everything too, but ships only the variable font
  `NotoSans[wdth,wght].ttf`: ReportLab would give its default instance only, no bold.
- rinoh-typeface-dejavusans: DejaVu Sans, static and complete, but its last release is of 2020
  (and DejaVu itself of 2016), and the wheel is 2.9 MB.
- matplotlib ships DejaVuSans.ttf as well, but brings numpy and tens of megabytes for one file.

The font is looked up through the package's own data folder, never through the system's fonts,
so every machine renders the same glyphs and the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import fontpkg_pt_sans
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "PTSans"
BOLD = "PTSans-Bold"
ITALIC = "PTSans-Italic"

_FILES = {
    REGULAR: "PT_Sans-Web-Regular.ttf",
    BOLD: "PT_Sans-Web-Bold.ttf",
    ITALIC: "PT_Sans-Web-Italic.ttf",
}


def font_file(name: str) -> Path:
    """The TrueType file of one of the document fonts."""
    return Path(fontpkg_pt_sans.ROOT) / "files" / _FILES[name]


def register_fonts() -> None:
    """Register the fonts with ReportLab once per process (idempotent)."""
    if REGULAR in pdfmetrics.getRegisteredFontNames():
        return
    for name in _FILES:
        pdfmetrics.registerFont(TTFont(name, str(font_file(name))))
    pdfmetrics.registerFontFamily(
        REGULAR, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD
    )
