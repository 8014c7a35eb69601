"""Deputies CSV files in the national (annex 30) structure, for the import tests."""

from __future__ import annotations

import csv
import io

from voting.services.roster_import import DEPUTIES_CSV_HEADER


def deputies_csv(rows: list[dict[str, str]]) -> bytes:
    """A UTF-8 file: the standard's header row, then one line per row (missing cells empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DEPUTIES_CSV_HEADER)
    for row in rows:
        writer.writerow([row.get(name, "") for name in DEPUTIES_CSV_HEADER])
    return out.getvalue().encode("utf-8")
