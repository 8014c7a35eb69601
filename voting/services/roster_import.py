"""Read a council's deputies from a CSV file in the open-data structure "deputies" (annex 30).

The file is the one a council already publishes under CMU Resolution No. 835 ("Дані про депутатів
місцевих рад"): UTF-8 (a byte-order mark is allowed), a header row of the standard's column names
(see ``voting.opendata.DEPUTIES``), one deputy per row, comma-separated. A file whose first line
has no comma but has a semicolon (how a Ukrainian-locale spreadsheet saves "CSV") is read with
``;`` as the delimiter.

``parse_deputies_csv`` checks the whole file before it returns anything, and raises
``RosterImportError`` on the first problem, with the physical line number (the header is line 1;
a quoted cell spanning several lines is reported at the line where its row starts), the column
and what is wrong. A caller therefore imports either every deputy or none.

What is checked, and the practical choices made:

- The header must contain every column the standard marks required (all missing ones are named
  at once); optional columns may be absent; unknown extra columns are allowed and ignored; the
  same known column twice is an error. Header cells are trimmed, so ``votingAgainst\\n``-style
  stray whitespace does not matter.
- Every row has as many cells as the header. Rows whose cells are all empty (a spreadsheet's
  trailing ``,,,,`` lines) are skipped. Cells are stripped of surrounding whitespace; none may be
  longer than ``MAX_CELL_LENGTH`` characters.
- Non-empty cells: only ``IMPORT_REQUIRED`` (id, familyName, name, factionName, CATUTTC) must be
  filled. The standard also marks additionalName, gender, birthDate, image, biography, partyName,
  email, telephone, the address and openingHours as required, but voting does not need them:
  councils' files often leave some empty, and refusing a whole roster over a missing phone number
  would help nobody. Empty, they are simply ignored. ``null`` (the standard's placeholder, in any
  letter case) counts as empty everywhere; a deputy outside any faction has factionName
  ``Позафракційний`` (the feminine ``Позафракційна`` is accepted as well).
- Datatypes, wherever a value is given: gender is one of the ISO/IEC 5218 codes 0, 1, 2, 9;
  areaId is a whole number (digits only, no "№"); birthDate is an ISO date YYYY-MM-DD that exists;
  image, homepage and account are links starting with http:// or https:// (account may hold
  several, separated by commas).
- Uniqueness: ``id`` (the standard's primary key) and, where given, ``votingIdentifier``.
- A cell that begins with a single quote followed by ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return loses the quote: the export puts it there so that a spreadsheet shows the
  cell as text (``voting.services.export``), so an exported file reads back exactly.
- Kept besides the names, faction and identifiers: the public contacts email and telephone.

Pure: standard library only, no I/O, no database.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from voting.opendata import DEPUTIES, GENDER_CODES, NO_FACTION, NULL, column_names, unquoted_cell

#: All column names of the deputies structure, in the standard's order.
DEPUTIES_CSV_HEADER: tuple[str, ...] = column_names(DEPUTIES)

#: Columns the header must contain: the ones the standard marks required.
REQUIRED_HEADER: tuple[str, ...] = tuple(c.name for c in DEPUTIES if c.required)

#: Columns whose cells must be non-empty for a deputy to be imported.
IMPORT_REQUIRED: tuple[str, ...] = ("id", "familyName", "name", "factionName", "CATUTTC")

#: Longest cell accepted, in characters, after trimming.
MAX_CELL_LENGTH = 500

#: Longest values the roster keeps (the database's column sizes), in characters.
MAX_ID_LENGTH = 64  # id and votingIdentifier
MAX_FULL_NAME_LENGTH = 300  # "familyName name additionalName"
MAX_SHORT_NAME_LENGTH = 120  # "familyName N. A."
MAX_FACTION_LENGTH = 300  # factionName

_DATATYPES = {column.name: column.datatype for column in DEPUTIES}
_NO_FACTION_SPELLINGS = frozenset({NO_FACTION.casefold(), "позафракційна"})
_DIGITS = re.compile(r"[0-9]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_URL = re.compile(r"https?://\S", re.IGNORECASE)
_MULTI_URL_COLUMNS = frozenset({"account"})
_SHOWN_VALUE_LENGTH = 80


class RosterImportError(ValueError):
    """A problem in a deputies file: where it is (line, column) and what it is."""

    def __init__(self, line: int, field: str | None, message: str) -> None:
        super().__init__(line, field, message)
        self.line = line
        self.field = field
        self.message = message

    def __str__(self) -> str:
        if self.field is None:
            return f"line {self.line}: {self.message}"
        return f'line {self.line}, field "{self.field}": {self.message}'


@dataclass(frozen=True, slots=True)
class DeputyRecord:
    """One deputy read from the file, with only what the voting system uses."""

    external_id: str  # id: the deputy's certificate number or another unique code
    voting_identifier: str | None  # votingIdentifier: their number in the voting system
    family_name: str  # familyName
    given_name: str  # name
    patronymic: str  # additionalName; "" when not given
    faction_name: str | None  # factionName; None for "Позафракційний"
    committee_name: str | None  # commissionName; None for empty or "null"
    area_id: int | None  # areaId: electoral district number
    katottg: str  # CATUTTC: КАТОТТГ code of the community
    email: str | None = None  # email: the deputy's public e-mail address
    telephone: str | None = None  # telephone: the deputy's public phone number

    @property
    def full_name(self) -> str:
        """ "Прізвище Ім'я По батькові" (without a missing patronymic)."""
        return " ".join(p for p in (self.family_name, self.given_name, self.patronymic) if p)

    @property
    def short_name(self) -> str:
        """The family name and the initials: "Прізвище І. П." ("Прізвище І." without a
        patronymic)."""
        initials = [_initials(p) for p in (self.given_name, self.patronymic) if p]
        return " ".join([self.family_name, *initials])


def _initials(name: str) -> str:
    """ "Іван" -> "І."; a double name "Анна-Марія" -> "А.-М."."""
    return "-".join(f"{part[0]}." for part in name.split("-") if part)


def _show(value: str) -> str:
    if len(value) > _SHOWN_VALUE_LENGTH:
        value = value[: _SHOWN_VALUE_LENGTH - 1] + "…"
    return f'"{value}"'


def _is_empty(value: str) -> bool:
    return not value or value.casefold() == NULL


def parse_deputies_csv(text: str | bytes) -> list[DeputyRecord]:
    """Every deputy in the file, in file order; raises ``RosterImportError`` on the first problem.

    ``text`` is the file's content. Bytes are accepted too and decoded as UTF-8 (a file saved
    in another encoding, such as Windows-1251, is refused with the line of the first bad byte).
    """
    if isinstance(text, bytes):
        text = _decode(text)
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise RosterImportError(1, None, "the file is empty")

    first_line = text.splitlines()[0]
    delimiter = ";" if "," not in first_line and ";" in first_line else ","
    rows = _rows(text, delimiter)

    header_line, raw_header = next(rows)
    header, positions = _check_header(header_line, raw_header)

    records: list[DeputyRecord] = []
    id_lines: dict[str, int] = {}
    voting_id_lines: dict[str, int] = {}
    for line, raw in rows:
        # The export's quote before a cell that begins with =, +, -, @ comes off: a file
        # written by `voting export` (or a spreadsheet that kept it) reads back as it was.
        cells = [unquoted_cell(cell.strip()) for cell in raw]
        if not any(cells):
            continue
        if len(cells) != len(header):
            raise RosterImportError(
                line, None, f"expected {len(header)} cells as in the header, found {len(cells)}"
            )
        for index, value in enumerate(cells):
            if len(value) > MAX_CELL_LENGTH:
                field = header[index] or f"column {index + 1}"
                raise RosterImportError(
                    line,
                    field,
                    f"the cell is {len(value)} characters long; "
                    f"at most {MAX_CELL_LENGTH} are allowed",
                )
        row = {name: cells[index] for name, index in positions.items()}
        for name in DEPUTIES_CSV_HEADER:
            if name in row:
                _check_cell(line, name, row[name])
        record = _record(row)
        _check_lengths(line, row, record)
        _check_unique(line, "id", record.external_id, id_lines)
        if record.voting_identifier is not None:
            _check_unique(line, "votingIdentifier", record.voting_identifier, voting_id_lines)
        records.append(record)

    if not records:
        raise RosterImportError(header_line, None, "the file has a header but no deputies")
    return records


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RosterImportError(
            line, None, 'the file is not UTF-8 text; save it as "CSV UTF-8" and try again'
        ) from None


def _rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, its raw cells) for every row, blank lines included."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if str(exc).startswith("field larger than field limit"):
                message = f"a cell is far longer than {MAX_CELL_LENGTH} characters"
            else:
                message = f"this is not valid CSV ({exc})"
            raise RosterImportError(start, None, message) from None
        yield start, row


def _check_header(line: int, raw: list[str]) -> tuple[list[str], dict[str, int]]:
    """The trimmed header, and each known column's index in a row."""
    header = [cell.strip() for cell in raw]
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        if name not in _DATATYPES:
            continue  # an unknown extra column: allowed, ignored
        if name in positions:
            first = positions[name] + 1
            raise RosterImportError(
                line, name, f"the column appears twice (columns {first} and {index + 1})"
            )
        positions[name] = index
    missing = [name for name in REQUIRED_HEADER if name not in positions]
    if missing:
        message = f"the header lacks {len(missing)} required column(s): {', '.join(missing)}"
        if not positions:
            message += (
                "; the first line must hold the standard's column names"
                f" ({', '.join(DEPUTIES_CSV_HEADER[:3])}, …)"
            )
        raise RosterImportError(line, None, message)
    return header, positions


def _check_cell(line: int, name: str, value: str) -> None:
    if _is_empty(value):
        if name in IMPORT_REQUIRED:
            hint = f' (write "{NO_FACTION}" for a deputy outside any faction)'
            raise RosterImportError(
                line, name, "a value is required" + (hint if name == "factionName" else "")
            )
        return
    datatype = _DATATYPES[name]
    if name == "gender":
        if value not in {str(code) for code in GENDER_CODES}:
            raise RosterImportError(
                line,
                name,
                f"{_show(value)} is not a gender code "
                "(0 unknown, 1 male, 2 female, 9 not applicable)",
            )
    elif datatype == "integer":
        if not _DIGITS.fullmatch(value):
            raise RosterImportError(
                line, name, f'{_show(value)} is not a whole number (digits only, without "№")'
            )
    elif datatype == "date":
        if not _is_iso_date(value):
            raise RosterImportError(
                line, name, f"{_show(value)} is not a date (expected YYYY-MM-DD)"
            )
    elif datatype == "anyURL":
        links = value.split(",") if name in _MULTI_URL_COLUMNS else [value]
        for link in links:
            link = link.strip()
            if not _URL.match(link):
                raise RosterImportError(
                    line,
                    name,
                    f"{_show(link)} is not a link (it must start with http:// or https://)",
                )


def _too_long(line: int, field: str, what: str, length: int, limit: int) -> RosterImportError:
    return RosterImportError(
        line, field, f"{what} is {length} characters long; at most {limit} are allowed"
    )


def _check_lengths(line: int, row: dict[str, str], record: DeputyRecord) -> None:
    """Every value the roster keeps fits its column, so the database never cuts or refuses it."""
    kept_ids = (("id", record.external_id), ("votingIdentifier", record.voting_identifier))
    for field, value in kept_ids:
        if value is not None and len(value) > MAX_ID_LENGTH:
            raise _too_long(line, field, "the value", len(value), MAX_ID_LENGTH)
    if record.faction_name is not None and len(record.faction_name) > MAX_FACTION_LENGTH:
        raise _too_long(
            line, "factionName", "the value", len(record.faction_name), MAX_FACTION_LENGTH
        )
    names = ("familyName", "name", "additionalName")
    longest = max(names, key=lambda name: len(row.get(name, "")))
    if len(record.full_name) > MAX_FULL_NAME_LENGTH:
        raise _too_long(
            line,
            longest,
            "the full name (familyName name additionalName)",
            len(record.full_name),
            MAX_FULL_NAME_LENGTH,
        )
    if len(record.short_name) > MAX_SHORT_NAME_LENGTH:
        raise _too_long(
            line,
            "familyName",
            "the short name (familyName and initials)",
            len(record.short_name),
            MAX_SHORT_NAME_LENGTH,
        )


def _is_iso_date(value: str) -> bool:
    if not _ISO_DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_unique(line: int, name: str, value: str, seen: dict[str, int]) -> None:
    if value in seen:
        raise RosterImportError(line, name, f"{_show(value)} is already used on line {seen[value]}")
    seen[value] = line


def _record(row: dict[str, str]) -> DeputyRecord:
    def optional(name: str) -> str | None:
        value = row.get(name, "")
        return None if _is_empty(value) else value

    faction = row["factionName"]
    area = optional("areaId")
    return DeputyRecord(
        external_id=row["id"],
        voting_identifier=optional("votingIdentifier"),
        family_name=row["familyName"],
        given_name=row["name"],
        patronymic=optional("additionalName") or "",
        faction_name=None if faction.casefold() in _NO_FACTION_SPELLINGS else faction,
        committee_name=optional("commissionName"),
        area_id=int(area) if area is not None else None,
        katottg=row["CATUTTC"],
        email=optional("email"),
        telephone=optional("telephone"),
    )
