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

Pure data, standard library only, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
