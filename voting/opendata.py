"""The national open-data structures for council votes and deputies, as facts in code.

Source: the proposed structure standards for the data sets of Cabinet of Ministers of Ukraine
Resolution No. 835 of 21.10.2015 ("Про затвердження Положення про набори даних, які підлягають
оприлюдненню у формі відкритих даних"):

- annex 29, "Поіменні результати голосування депутатів" (roll-call vote results): the resources
  convocations, sessions, motions, motions2, voteEvents, vote and votings;
- annex 30, "Дані про депутатів місцевих рад" (deputies of local councils): the resource deputies.

The CSVW table schemas come from the public repository HubashovD/amendments-835-rec, commit
6d6ac94 (January 2025), files ``Додаток_29_…/<resource>/schema.json`` and
``Додаток_30_…/deputies/schema.json``. Each tuple below lists one resource's columns in the
standard's order, with the ``name`` (the CSV header cell), the ``title`` (trailing spaces
stripped), the ``datatype`` and the ``required`` flag exactly as the schema gives them. The
project never reads the schema files: these constants are the copy it relies on.

CSV published under these structures is UTF-8 with a header row of the ``name`` values; dates
are ISO 8601 (``date``: ``2024-09-04``; ``dateTime``: ``2024-09-04T10:15:00Z``).

Pure data and a pure validator (``validate``), standard library only, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType

#: The CSVW datatypes the standard uses.
DATATYPES = ("string", "integer", "date", "dateTime", "anyURL")


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a resource: CSV header ``name``, Ukrainian ``title``, datatype, required."""

    name: str
    title: str
    datatype: str
    required: bool

    def __post_init__(self) -> None:
        if self.datatype not in DATATYPES:
            raise ValueError(f"unknown datatype {self.datatype!r} for column {self.name!r}")


# --- Annex 29: roll-call vote results (Поіменні результати голосування депутатів) ---------------

# convocations (скликання): annex29-convocations.schema.json; primary key uid.
CONVOCATIONS: tuple[Column, ...] = (
    Column("uid", "Унікальний ідентифікатор", "string", True),
    Column("label", "Скликання", "string", True),
    Column("dateFrom", "Дата початку скликання", "date", True),
    Column("dateUntil", "Дата завершення скликання", "date", True),
    Column("authorityName", "Орган місцевого самоврядування", "string", True),
    Column("authorityId", "Код ЄДРПОУ", "string", True),
    Column("CATUTTC", "Код КАТОТТГ", "string", True),
)

# sessions (сесії): annex29-sessions.schema.json; primary key uid.
SESSIONS: tuple[Column, ...] = (
    Column("uid", "Унікальний ідентифікатор", "string", True),
    Column("label", "Сесія", "string", True),
    Column("convocationUid", "Ідентифікатор скликання", "string", True),
    Column("dateFrom", "Дата початку сесії", "date", True),
    Column("dateUntil", "Дата завершення сесії", "date", True),
)

# motions (питання порядку денного): annex29-motions.schema.json; primary key uid.
MOTIONS: tuple[Column, ...] = (
    Column("uid", "Унікальний ідентифікатор", "string", True),
    Column("sessionUid", "Ідентифікатор сесії", "string", True),
    Column("votingIdentifier", "Ідентифікатор особи", "string", True),
    Column("title", "Питання пленарного засідання", "string", True),
    Column("number", "Номер питання", "integer", True),
    Column("classification", "Категорія питання", "string", True),
    Column("date", "Дата пленарного засідання", "date", True),
    Column("sources", "URL-адреси", "anyURL", False),
)

# motions2 (питання з підсумками голосування, плаский варіант):
#   annex29-motions2.schema.json; primary key uid.
MOTIONS2: tuple[Column, ...] = (
    Column("uid", "Унікальний ідентифікатор", "string", True),
    Column("date", "Дата пленарного засідання", "date", True),
    Column("authorityName", "Орган", "string", True),
    Column("authorityId", "Код ЄДРПОУ", "string", True),
    Column("authorityCattutc", "Код КАТОТТГ", "string", True),
    Column("convocation", "Скликання", "string", True),
    Column("legislativeSession", "Сесія", "string", True),
    Column("number", "Номер питання", "integer", True),
    Column("title", "Питання порядку денного пленарного засідання", "string", True),
    Column("projectNumber", "Номер проєкту рішення", "string", False),
    Column("votingFor", "Голоси “За”", "integer", False),
    Column("votingAgainst", "Голоси “Проти”", "integer", False),
    Column("votingAbstain", "Голоси “Утрималися”", "integer", False),
    Column("notVoting", "Не голосували", "integer", False),
    Column("absent", "Відсутні", "integer", False),
    Column("votingResult", "Результати голосування", "string", True),
    Column("textUrl", "Посилання на документ оприлюднений в мережі Інтернет.", "anyURL", False),
    Column("text", "Назва файлу із прийнятим рішенням", "string", True),
)

# voteEvents (події голосування): annex29-voteEvents.schema.json; primary key uid.
VOTE_EVENTS: tuple[Column, ...] = (
    Column("uid", "Унікальний ідентифікатор", "string", True),
    Column("motionUid", "Ідентифікатор питання порядку денного", "string", True),
    Column("projectNumber", "Номер проєкту рішення", "string", True),
    Column("projectTitle", "Назва проєкту рішення", "string", True),
    Column("startDate", "Час початку голосування", "dateTime", True),
    Column("endDate", "Час, коли голосування закінчується", "dateTime", True),
    Column("result", "Результати голосування", "string", True),
    Column("votingFor", "Голоси “За”", "integer", True),
    # Defect in the source: this column's name is written "votingAgainst\n" (with a stray
    # newline). The intended name, as in MOTIONS2, is "votingAgainst"; see COLUMN_NAME_ALIASES.
    Column("votingAgainst", "Голоси “Проти”", "integer", True),
    Column("votingAbstain", "Голоси “Утрималися”", "integer", True),
    Column("notVoting", "Не голосували", "integer", True),
    Column("absent", "Відсутні", "integer", True),
    Column("textUrl", "Посилання на документ оприлюднений в мережі Інтернет.", "anyURL", True),
    Column("text", "Назва файлу із прийнятим рішенням", "string", True),
)

# vote (голос депутата в події голосування): annex29-vote.schema.json; primary key uid.
VOTE: tuple[Column, ...] = (
    Column("uid", "Унікальний ідентифікатор", "string", True),
    Column("voterUid", "Ідентифікатор учасника голосування", "string", True),
    Column("result", "Результат голосування", "string", True),
)

# votings (голос депутата з питання, з іменами, плаский варіант):
#   annex29-votings.schema.json; primary key motionUid.
VOTINGS: tuple[Column, ...] = (
    Column("motionUid", "Унікальний ідентифікатор", "string", True),
    Column("voterId", "Ідентифікатор учасника голосування", "string", True),
    Column("voterName", "ПІБ учасника голосування", "string", True),
    Column("motionTitle", "Питання пленарного засідання", "string", True),
    Column("result", "Результат голосування", "string", True),
)

# --- Annex 30: deputies of local councils (Дані про депутатів місцевих рад) ---------------------

# deputies (депутати): annex30-deputies.schema.json; primary key id.
DEPUTIES: tuple[Column, ...] = (
    Column("id", "Ідентифікатор", "string", True),
    Column("votingIdentifier", "Номер в системі голосування", "string", False),
    Column("familyName", "Прізвище", "string", True),
    Column("name", "Імʼя", "string", True),
    Column("additionalName", "По батькові", "string", True),
    Column("gender", "Стать", "integer", True),
    Column("birthDate", "Дата народження", "date", True),
    Column("image", "Фото", "anyURL", True),
    Column("biography", "Біографічні дані", "string", True),
    Column("partyName", "Назва партії", "string", True),
    Column("partyId", "Ідентифікатор партії", "string", False),
    Column("email", "Електронна пошта", "string", True),
    Column("telephone", "Номер телефону", "string", True),
    Column("homepage", "Веб-сторінка", "anyURL", False),
    Column("account", "Соціальні медіа", "anyURL", False),
    Column("factionName", "Назва фракції", "string", True),
    Column("factionPost", "Посада у фракції", "string", False),
    Column("commissionName", "Назва постійної комісії", "string", False),
    Column("commissionPost", "Посада у постійній комісії", "string", False),
    Column("areaId", "Виборчий округ", "integer", False),
    Column("CATUTTC", "Код КАТОТТГ", "string", True),
    Column("addressPostCode", "Поштовий індекс", "string", True),
    Column("addressAdminUnitL1", "Країна", "string", True),
    Column("addressAdminUnitL2", "Регіон", "string", True),
    Column("addressAdminUnitL3", "Район", "string", False),
    Column("addressAdminUnitL4", "Територіальна громада", "string", False),
    Column("addressPostName", "Населений пункт", "string", True),
    Column("addressThoroughfare", "Вулиця або аналог", "string", True),
    Column("addressLocatorDesignator", "Номер об’єкта", "string", True),
    Column("addressLocatorBuilding", "Номер корпусу", "string", False),
    Column("addressLocatorName", "Назва будівлі або її частини", "string", False),
    Column("openingHours", "Графік прийому", "string", True),
    Column("availabilityRestriction", "Уточнення графіка прийому", "string", False),
)

#: Every resource by its name in the standard.
RESOURCES: Mapping[str, tuple[Column, ...]] = MappingProxyType(
    {
        "convocations": CONVOCATIONS,
        "sessions": SESSIONS,
        "motions": MOTIONS,
        "motions2": MOTIONS2,
        "voteEvents": VOTE_EVENTS,
        "vote": VOTE,
        "votings": VOTINGS,
        "deputies": DEPUTIES,
    }
)

#: The primary-key column of each resource (the schemas' ``primaryKey``).
PRIMARY_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "convocations": "uid",
        "sessions": "uid",
        "motions": "uid",
        "motions2": "uid",
        "voteEvents": "uid",
        "vote": "uid",
        "votings": "motionUid",
        "deputies": "id",
    }
)

#: Header spellings found in the source schemas that mean another column. An exporter writes
#: the value; a validator reading a header treats the key as the value.
COLUMN_NAME_ALIASES: Mapping[str, str] = MappingProxyType({"votingAgainst\n": "votingAgainst"})


def column_names(columns: tuple[Column, ...]) -> tuple[str, ...]:
    """The CSV header of a resource: its column names in the standard's order."""
    return tuple(column.name for column in columns)


# --- Closed value lists ------------------------------------------------------------------------

#: Result of a vote event (voteEvents.result) or of a question (motions2.votingResult).
MOTION_RESULTS = ("Прийнято", "Не прийнято", "Не голосували", "Не розглядали")
MOTION_ADOPTED, MOTION_NOT_ADOPTED, MOTION_NOT_VOTED, MOTION_NOT_CONSIDERED = MOTION_RESULTS

#: One deputy's result (vote.result, votings.result).
DEPUTY_RESULTS = ("За", "Проти", "Утримався", "Не голосував", "Відсутній")
DEPUTY_FOR, DEPUTY_AGAINST, DEPUTY_ABSTAINED, DEPUTY_NOT_VOTING, DEPUTY_ABSENT = DEPUTY_RESULTS

# --- Literals the deputies schema (annex 30) prescribes ------------------------------------------

#: The placeholder written where a value is absent: no photo (image), no personal page
#: (homepage), a party branch without legal-entity status (partyId), no faction (factionPost),
#: no standing commission (commissionName, commissionPost), no electoral district (areaId), and
#: addressAdminUnitL3, addressAdminUnitL4, addressLocatorBuilding, addressLocatorName.
NULL = "null"

#: The first characters that make a spreadsheet read a cell as a formula. The CSV files put a
#: single quote (') before a cell that begins with one; the roster import takes it off again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def unquoted_cell(cell: str) -> str:
    """A CSV cell as it was before the export's quote was put in front of a formula-like start
    ("'=Петренко" -> "=Петренко", "'+380 44 000 00 00" -> "+380 44 000 00 00"); any other cell
    as it is (an apostrophe before anything else is the cell's own)."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


#: factionName of a deputy who belongs to no faction.
NO_FACTION = "Позафракційний"

#: factionPost of a faction member without a post in the faction.
FACTION_MEMBER_POST = "Член депутатської фракції"

#: commissionPost of a commission member without a post in the commission.
COMMISSION_MEMBER_POST = "Член постійної комісії"

#: addressAdminUnitL1 (country) is always this.
COUNTRY = "Україна"

#: gender codes, ISO/IEC 5218:2004: 0 unknown, 1 male, 2 female, 9 not applicable.
GENDER_CODES: Mapping[int, str] = MappingProxyType(
    {0: "невідомо", 1: "чоловік", 2: "жінка", 9: "не застосовується"}
)

#: Several e-mail addresses, telephone numbers or social-media links go into one cell,
#: separated by commas (email, telephone, account).
MULTI_VALUE_SEPARATOR = ","

#: The value lists the validator holds a column to: (resource, column) -> the allowed cells.
#: Results come from the schemas' descriptions (voteEvents.result, motions2.votingResult,
#: vote.result, votings.result), the gender codes and the country from annex 30.
VALUE_LISTS: Mapping[tuple[str, str], tuple[str, ...]] = MappingProxyType(
    {
        ("voteEvents", "result"): MOTION_RESULTS,
        ("motions2", "votingResult"): MOTION_RESULTS,
        ("vote", "result"): DEPUTY_RESULTS,
        ("votings", "result"): DEPUTY_RESULTS,
        ("deputies", "gender"): tuple(str(code) for code in GENDER_CODES),
        ("deputies", "addressAdminUnitL1"): (COUNTRY,),
    }
)

#: Columns whose description tells to write ``null`` when there is no value (annex 30 only;
#: annex 29 prescribes no placeholder). There ``null`` is accepted whatever the datatype.
NULL_ALLOWED: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "deputies": frozenset(
            {
                "image",
                "partyId",
                "homepage",
                "factionPost",
                "commissionName",
                "commissionPost",
                "areaId",
                "addressAdminUnitL3",
                "addressAdminUnitL4",
                "addressLocatorBuilding",
                "addressLocatorName",
            }
        )
    }
)

#: anyURL columns that may hold several links separated by MULTI_VALUE_SEPARATOR.
MULTI_URL_COLUMNS: frozenset[tuple[str, str]] = frozenset({("deputies", "account")})


@dataclass(frozen=True, slots=True)
class Link:
    """A column whose value names a row of another resource (from the columns' descriptions:
    "атрибут uid ресурсу motions", "атрибут votingIdentifier із набору даних ... депутатів")."""

    resource: str
    column: str
    target: str
    target_column: str


#: Every link between the resources; a blank cell links to nothing (and is checked as required
#: or not by the column's own flag).
LINKS: tuple[Link, ...] = (
    Link("sessions", "convocationUid", "convocations", "uid"),
    Link("motions", "sessionUid", "sessions", "uid"),
    Link("motions", "votingIdentifier", "deputies", "votingIdentifier"),
    Link("voteEvents", "motionUid", "motions", "uid"),
    Link("vote", "uid", "voteEvents", "uid"),
    Link("vote", "voterUid", "deputies", "votingIdentifier"),
    Link("votings", "motionUid", "motions", "uid"),
    Link("votings", "voterId", "deputies", "votingIdentifier"),
)

#: The columns that tell one row from another. The schemas name a ``primaryKey`` for each
#: resource, but for vote (uid) and votings (motionUid) that column is the link to the vote
#: event or the question, repeated on every deputy's row; there a row is the link plus the deputy.
ROW_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        **{resource: (key,) for resource, key in PRIMARY_KEYS.items()},
        "vote": ("uid", "voterUid"),
        "votings": ("motionUid", "voterId"),
    }
)


# --- The validator ------------------------------------------------------------------------------

_INTEGER = re.compile(r"[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
_URL = re.compile(r"https?://[^\s/?#]+\S*", re.IGNORECASE)
_SHOWN = 60


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…")


def datatype_problem(datatype: str, value: str, *, several_urls: bool = False) -> str | None:
    """What is wrong with a non-blank cell for its datatype, or None.

    integer: digits only (the standard's counts, numbers and codes are never negative);
    date: an existing day written YYYY-MM-DD; dateTime: ISO 8601 ``YYYY-MM-DDTHH:MM[:SS[.f]]``
    with an optional ``Z`` or ``±HH:MM``; anyURL: a link beginning with http:// or https://
    (with ``several_urls``, each of a comma-separated list); string: anything.
    """
    if datatype == "integer":
        if not _INTEGER.fullmatch(value):
            return f"{_shown(value)} is not a whole number"
    elif datatype == "date":
        if not _DATE.fullmatch(value) or not _parses(date.fromisoformat, value):
            return f"{_shown(value)} is not a date (YYYY-MM-DD)"
    elif datatype == "dateTime":
        if not _DATE_TIME.fullmatch(value) or not _parses(datetime.fromisoformat, value):
            return f"{_shown(value)} is not a date and time (YYYY-MM-DDTHH:MM:SSZ)"
    elif datatype == "anyURL":
        links = value.split(MULTI_VALUE_SEPARATOR) if several_urls else [value]
        for link in links:
            if not _URL.fullmatch(link.strip()):
                return f"{_shown(link.strip())} is not a link starting with http:// or https://"
    return None


def _parses(parse: Callable[[str], object], value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def validate(
    resources: Mapping[str, Sequence[Mapping[str, object]]],
    *,
    allow_blank: Mapping[str, Collection[str]] | None = None,
) -> list[str]:
    """Every problem found in `resources` (resource name -> rows, each row column -> cell text),
    checked against the structures above; an empty list when there is none.

    Checked: the resource names; every row has exactly the resource's columns; a required
    column's cell is not blank (blank: empty or only spaces), except where `allow_blank` (resource
    -> columns) allows it; every non-blank cell fits its datatype (``null`` is accepted where the
    standard prescribes it, NULL_ALLOWED) and its value list (VALUE_LISTS); no two rows have the
    same ROW_KEYS; and every LINKS cell names an existing row of its target resource (a problem
    also when the target resource is not given at all). Cells must be text (``str``).
    """
    blank_ok = allow_blank or {}
    problems: list[str] = []
    for resource, rows in resources.items():
        columns = RESOURCES.get(resource)
        if columns is None:
            problems.append(f"{resource}: not a resource of the standard")
            continue
        problems.extend(_check_rows(resource, columns, rows, frozenset(blank_ok.get(resource, ()))))
    problems.extend(_check_links(resources))
    return problems


def _is_blank(value: object) -> bool:
    return isinstance(value, str) and not value.strip()


def _check_rows(
    resource: str,
    columns: tuple[Column, ...],
    rows: Sequence[Mapping[str, object]],
    blank_ok: frozenset[str],
) -> list[str]:
    problems: list[str] = []
    names = column_names(columns)
    nullable = NULL_ALLOWED.get(resource, frozenset())
    key = ROW_KEYS[resource]
    seen: dict[tuple[object, ...], int] = {}
    for number, row in enumerate(rows, start=1):
        where = f"{resource} row {number}"
        missing = [name for name in names if name not in row]
        if missing:
            problems.append(f"{where}: lacks the column(s) {', '.join(missing)}")
        extra = [str(name) for name in row if name not in names]
        if extra:
            problems.append(f"{where}: unknown column(s) {', '.join(map(repr, extra))}")
        for column in columns:
            if column.name not in row:
                continue
            value = row[column.name]
            if not isinstance(value, str):
                problems.append(f"{where}, {column.name}: {value!r} is not text")
                continue
            if _is_blank(value):
                if column.required and column.name not in blank_ok:
                    problems.append(f"{where}, {column.name}: a value is required")
                continue
            if value == NULL and column.name in nullable:
                continue
            wrong = datatype_problem(
                column.datatype, value, several_urls=(resource, column.name) in MULTI_URL_COLUMNS
            )
            if wrong is not None:
                problems.append(f"{where}, {column.name}: {wrong} ({column.datatype})")
                continue
            allowed = VALUE_LISTS.get((resource, column.name))
            if allowed is not None and value not in allowed:
                problems.append(
                    f"{where}, {column.name}: {_shown(value)} is not one of {', '.join(allowed)}"
                )
        identity = tuple(row.get(name) for name in key)
        if all(isinstance(v, str) and not _is_blank(v) for v in identity):
            if identity in seen:
                problems.append(
                    f"{where}: {', '.join(key)} {' / '.join(map(str, identity))} "
                    f"repeats row {seen[identity]}"
                )
            else:
                seen[identity] = number
    return problems


def _check_links(resources: Mapping[str, Sequence[Mapping[str, object]]]) -> list[str]:
    problems: list[str] = []
    for link in LINKS:
        rows = resources.get(link.resource)
        if not rows:
            continue
        targets = resources.get(link.target)
        if targets is None:
            problems.append(
                f"{link.resource}.{link.column}: cannot be checked, "
                f"the resource {link.target} is missing"
            )
            continue
        known = {row.get(link.target_column) for row in targets}
        for number, row in enumerate(rows, start=1):
            value = row.get(link.column)
            if not isinstance(value, str) or _is_blank(value):
                continue
            if value not in known:
                problems.append(
                    f"{link.resource} row {number}, {link.column}: {_shown(value)} names no "
                    f"{link.target} row ({link.target}.{link.target_column})"
                )
    return problems
