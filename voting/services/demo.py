"""The demonstration council: 42 deputies in five factions, the mayor, and an open sitting of today.

`build_demo` fills an empty database through the ordinary use cases (so the journal records every
step, as it would for a real council); `load_demo` finds that demo again in a database built
earlier; `issue_demo_tokens` and `ensure_demo_logins` give people a way in. No web, no files.

Signing in to the demo: the logins `secretary` and `chair` with `DEMO_PASSWORD`; every deputy with
their card (`card_uid(seat)`) and the PIN `demo_pin(seat)`: the seat number written with four
digits (seat 7: 0007; the mayor, who has no seat: 0000). Fine for a demo, never for a council.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from voting.domain.actors import SYSTEM, Actor, Role
from voting.domain.errors import InvalidInput, NotFound

from . import auth, council, queries, sittings
from .commands import (
    AddDeputy,
    AddItem,
    CreateConvocation,
    CreateSession,
    CreateSitting,
    CreateToken,
)
from .uow import Units

DEMO_COUNCIL_NAME = "Демонстраційна міська рада"
#: Where the demo council sits, and the seat of the deputy elected council secretary.
DEMO_PLACE = "Сесійна зала міської ради"
DEMO_COUNCIL_SECRETARY_SEAT = 2
DEMO_PASSWORD = "demo-password"  # printed by `voting demo`; a demo database is never a real one
DEMO_LOGINS = ("secretary", "chair")

# The use cases that prepare a roster and an agenda are the secretary's; the demo acts as one.
DEMO_SECRETARY = Actor(Role.SECRETARY, "secretary:demo")

# (faction, number of seats); the seats are given out in this order, one faction after another.
# Invented names: a demo shown in a council hall must not put words in a real party's mouth.
FACTIONS = (
    ("Світанок", 13),
    ("Каштанова алея", 10),
    ("Громада-2030", 8),
    ("Зелений берег", 6),
    ("Рух «Міст»", 5),
)

DEPUTY_NAMES = (
    "Бондаренко Олена Василівна",
    "Ткаченко Андрій Миколайович",
    "Кравченко Ірина Олександрівна",
    "Шевчук Василь Петрович",
    "Коваль Наталія Іванівна",
    "Поліщук Сергій Вікторович",
    "Бойко Тетяна Михайлівна",
    "Мельник Юрій Степанович",
    "Савченко Оксана Григорівна",
    "Руденко Дмитро Анатолійович",
    "Марченко Людмила Володимирівна",
    "Лисенко Олег Богданович",
    "Гнатюк Мар'яна Ярославівна",
    "Кузьменко Віталій Сергійович",
    "Павленко Світлана Олегівна",
    "Левченко Ігор Валентинович",
    "Карпенко Галина Юріївна",
    "Вдовиченко Роман Іванович",
    "Зінченко Алла Петрівна",
    "Мороз Тарас Васильович",
    "Остапчук Ольга Дмитрівна",
    "Литвиненко Володимир Федорович",
    "Кушнір Вікторія Андріївна",
    "Романюк Дем'ян Остапович",
    "Білоус Катерина Леонідівна",
    "Дячук Михайло Романович",
    "Ярошенко Лариса Миколаївна",
    "Гордієнко Євген Олександрович",
    "Приходько Надія Степанівна",
    "Захарченко Артем Вікторович",
    "Симоненко Валентина Іванівна",
    "Остапенко Богдан Ігорович",
    "Федоренко Юлія Сергіївна",
    "Клименко Григорій Павлович",
    "Головко Інна Василівна",
    "Паламарчук Святослав Юрійович",
    "Сидоренко Ганна Олексіївна",
    "Тимошенко Максим Володимирович",
    "Петренко Софія Тарасівна",
    "Нестеренко Олександр Григорович",
    "Вакуленко Людмила Анатоліївна",
    "Юрченко Ярослав Ілліч",
)
MAYOR_NAME = "Гребенюк Віктор Станіславович"

#: The demo's size by default: its 42 named deputies and the mayor.
DEMO_SEATS = len(DEPUTY_NAMES) + 1
#: The sizes `voting demo --seats` builds (the largest: a hall of 450 deputies and the mayor).
MIN_SEATS, MAX_SEATS = 10, 451
# A larger hall's further deputies: invented names, one short name each ("Прізвище І. П.": the
# given names and patronymics differ in their first letters).
MORE_SURNAMES = (
    "Левченко",
    "Мороз",
    "Гончаренко",
    "Кузьменко",
    "Савченко",
    "Ус",
    "Романенко",
    "Олійник",
    "Дорошенко",
    "Вакуленко-Стецюра",
    "Бабич",
    "Заїка",
    "Огороднійчук",
    "Панченко",
    "Голуб",
    "Кравчук",
    "Семенко",
    "Литвиненко",
    "Кириленко-Остапенко",
    "Марченко",
)
MORE_GIVEN = ("Олег", "Анна", "Богдан", "Галина", "Дмитро", "Євгенія", "Жанна", "Зіновій", "Іван")
MORE_PATRONYMICS = ("Андрійович", "Богданівна", "Вікторович", "Григорівна", "Денисович")


def invented_names(count: int) -> list[str]:
    """`count` invented full names (at most 900), each with a short name of its own; the family
    names run from the shortest a hall meets to double ones."""
    return [
        f"{surname} {given} {patronymic}"
        for patronymic in MORE_PATRONYMICS
        for given in MORE_GIVEN
        for surname in MORE_SURNAMES
    ][:count]


def deputy_names(count: int) -> tuple[str, ...]:
    """`count` deputies' full names: the demo's 42, then invented ones (at most 942)."""
    return (DEPUTY_NAMES + tuple(invented_names(max(0, count - len(DEPUTY_NAMES)))))[:count]


def factions_for(count: int) -> list[str]:
    """Each of `count` seats' faction, in seat order: the demo's factions in their proportions."""
    total = sum(n for _, n in FACTIONS)
    sizes = [n * count // total for _, n in FACTIONS]
    sizes[0] += count - sum(sizes)  # the largest takes what rounding left
    return [name for (name, _), size in zip(FACTIONS, sizes, strict=True) for _ in range(size)]


CONVOCATION = (8, "VIII скликання", "2020-12-01")
SESSION_NUMBER = 17

# (title, draft number, rapporteur); "{year}" is the sitting's year.
AGENDA = (
    (
        "Про внесення змін до бюджету міської територіальної громади на {year} рік",
        "757/1",
        "Мельник Оксана Петрівна, начальник фінансового управління",
    ),
    (
        "Про затвердження Програми розвитку освіти на {year}–{year2} роки",
        "757/2",
        "Захарчук Ірина Василівна, начальник управління освіти",
    ),
    (
        "Про затвердження Програми підтримки захисників і захисниць України та членів їхніх сімей "
        "на {year} рік",
        "758",
        "Дорошенко Павло Іванович, начальник управління соціального захисту населення",
    ),
    (
        "Про встановлення місцевих податків і зборів на {next} рік",
        "759/1",
        "Мельник Оксана Петрівна, начальник фінансового управління",
    ),
    (
        "Про затвердження Програми «Питна вода» на {year}–{year4} роки",
        "760",
        "Кириленко Андрій Олегович, директор КП «Міськводоканал»",
    ),
    (
        "Про затвердження тарифів на послуги з вивезення побутових відходів",
        "761",
        "Гуменюк Сергій Миколайович, начальник управління житлово-комунального господарства",
    ),
    (
        "Про надання дозволу на розроблення детального плану території в районі вулиці Соборної",
        "762/3",
        "Олійник Марина Юріївна, головний архітектор міста",
    ),
    (
        "Про передачу в оренду нежитлових приміщень комунальної власності",
        "763",
        "Білик Роман Вікторович, начальник управління комунального майна",
    ),
    (
        "Про внесення змін до Статуту комунального некомерційного підприємства "
        "«Центральна міська лікарня»",
        "764",
        "Савчук Наталія Олександрівна, начальник управління охорони здоров'я",
    ),
    (
        "Про безоплатне прийняття у комунальну власність об'єктів інженерної інфраструктури",
        "765",
        "Білик Роман Вікторович, начальник управління комунального майна",
    ),
    (
        "Про присвоєння звання «Почесний громадянин міста»",
        "766",
        "Ткачук Олег Степанович, керуючий справами виконавчого комітету",
    ),
    (
        "Про звіт про виконання бюджету міської територіальної громади за дев'ять місяців "
        "{year} року",
        "767",
        "Мельник Оксана Петрівна, начальник фінансового управління",
    ),
)


@dataclass(frozen=True)
class DemoDeputy:
    id: int
    full_name: str
    voting_identifier: str | None
    seat_number: int | None
    faction: str | None
    is_head: bool = False
    card_uid: str = ""  # what their card reports at a terminal
    pin: str = ""  # the demo PIN that goes with the card (demo_pin)


@dataclass(frozen=True)
class DemoItem:
    id: int
    position: int
    title: str
    draft_number: str | None


@dataclass(frozen=True)
class DemoInfo:
    """What the demo holds: the people, today's sitting and its agenda."""

    council_name: str
    deputies: tuple[DemoDeputy, ...]  # ordinary deputies, by seat
    head: DemoDeputy
    sitting_id: int
    sitting_date: str
    sitting_state: str
    items: tuple[DemoItem, ...]
    reused: bool = False

    @property
    def participants(self) -> int:
        return len(self.deputies) + 1


@dataclass(frozen=True)
class DemoTokens:
    """Bearer tokens, shown once: only their hashes are stored."""

    secretary: str
    chair: str
    deputies: dict[int, str]  # deputy id -> token (the head included)


def card_uid(seat: int) -> str:
    """A stable 7-byte card UID (as a MIFARE card reports it) for a demo seat."""
    return "04" + hashlib.sha256(f"demo-card-{seat}".encode()).hexdigest()[:12].upper()


def demo_pin(seat: int | None) -> str:
    """The demo PIN of a seat: its number in four digits (the mayor, without a seat: 0000)."""
    return f"{seat or 0:04d}"


def build_demo(runtime: Units, today: date, seats: int = DEMO_SEATS) -> DemoInfo:
    """Create the demo council in an empty database, with an open plenary sitting on `today`:
    `seats` seats, the mayor's one of them (MIN_SEATS-MAX_SEATS; 43 by default)."""
    if not MIN_SEATS <= seats <= MAX_SEATS:
        raise InvalidInput(
            f"a demo hall has {MIN_SEATS}-{MAX_SEATS} seats (the mayor's one of them), got {seats}",
            field="seats",
        )
    names = deputy_names(seats - 1)
    council.create_council(
        runtime.uow(),
        SYSTEM,
        {
            "name": DEMO_COUNCIL_NAME,
            "edrpou": "00000000",
            "katottg": "UA00000000000000000",
            "statutory_deputies": len(names),
            "head_votes": True,
            "place": DEMO_PLACE,
        },
    )
    seated = []
    for seat, (full_name, faction) in enumerate(
        zip(names, factions_for(len(names)), strict=True), start=1
    ):
        seated.append(
            council.add_deputy(
                runtime.uow(),
                DEMO_SECRETARY,
                AddDeputy.parse(
                    {
                        "full_name": full_name,
                        "faction": faction,
                        "seat_number": seat,
                        "voting_identifier": f"dep-{seat}",
                        "card_uid": card_uid(seat),
                    }
                ),
            )
        )
    mayor = council.add_deputy(
        runtime.uow(),
        DEMO_SECRETARY,
        AddDeputy.parse(
            {
                "full_name": MAYOR_NAME,
                "is_head": True,
                "voting_identifier": "mayor",
                "card_uid": card_uid(0),
            }
        ),
    )
    number, label, date_from = CONVOCATION
    convocation = sittings.create_convocation(
        runtime.uow(),
        DEMO_SECRETARY,
        CreateConvocation(number=number, label=label, date_from=date.fromisoformat(date_from)),
    )
    session = sittings.create_session(
        runtime.uow(),
        DEMO_SECRETARY,
        CreateSession(convocation_id=convocation, number=SESSION_NUMBER),
    )
    # The mayor chairs; the council secretary (a deputy) keeps the record; the council's place.
    sitting = sittings.create_sitting(
        runtime.uow(),
        DEMO_SECRETARY,
        CreateSitting(
            date=today,
            session_id=session,
            chair_id=mayor,
            secretary_id=seated[DEMO_COUNCIL_SECRETARY_SEAT - 1],
        ),
    )
    years = {
        "year": today.year,
        "next": today.year + 1,
        "year2": today.year + 2,
        "year4": today.year + 4,
    }
    for title, draft, rapporteur in AGENDA:
        sittings.add_item(
            runtime.uow(),
            DEMO_SECRETARY,
            AddItem(
                sitting_id=sitting,
                title=title.format(**years),
                draft_number=draft,
                rapporteur=rapporteur,
            ),
        )
    sittings.open_sitting(runtime.uow(), DEMO_SECRETARY, sitting)
    ensure_demo_pins(runtime)
    return load_demo(runtime)


def load_demo(runtime: Units) -> DemoInfo:
    """Find the demo in a database built earlier; NotFound if the database holds something else."""
    name = str(queries.council_info(runtime.uow())["name"])
    if name != DEMO_COUNCIL_NAME:
        raise NotFound(
            f"the database holds the council {name!r}, not the demo; "
            "the demo gives out tokens only for its own council"
        )
    people = [_demo_deputy(row) for row in queries.deputies(runtime.uow()) if row["active"]]
    heads = [d for d in people if d.is_head]
    ordinary = sorted(
        (d for d in people if not d.is_head),
        key=lambda d: (d.seat_number is None, d.seat_number or 0, d.id),
    )
    plenary: list[dict[str, Any]] = [
        sitting
        for session in queries.sessions(runtime.uow())
        if session["id"] is not None
        for sitting in cast(list[dict[str, Any]], session["sittings"])
    ]
    if not heads or not plenary:
        raise NotFound(
            "the demo database is incomplete (no mayor or no sitting); build it again with --fresh"
        )
    sitting = max(plenary, key=lambda s: (s["date"], s["id"]))
    items = tuple(
        DemoItem(i["id"], i["position"], i["title"], i["draft_number"])
        for i in cast(list[dict[str, Any]], queries.agenda(runtime.uow(), sitting["id"]))
    )
    return DemoInfo(
        council_name=name,
        deputies=tuple(ordinary),
        head=heads[0],
        sitting_id=sitting["id"],
        sitting_date=sitting["date"],
        sitting_state=sitting["state"],
        items=items,
    )


def _demo_deputy(row: Mapping[str, Any]) -> DemoDeputy:
    return DemoDeputy(
        id=row["id"],
        full_name=row["full_name"],
        voting_identifier=row["voting_identifier"],
        seat_number=row["seat_number"],
        faction=row["faction"],
        is_head=row["is_head"],
        card_uid=card_uid(row["seat_number"] or 0),
        pin=demo_pin(row["seat_number"]),
    )


def issue_demo_tokens(runtime: Units, info: DemoInfo) -> DemoTokens:
    """New tokens for the secretary, the chair, every deputy and the mayor (old ones stay valid)."""

    def token(role: Role, deputy_id: int | None, label: str) -> str:
        command = CreateToken(role=role, deputy_id=deputy_id, label=label)
        return auth.create_token(runtime.uow(), SYSTEM, command)

    secretary = token(Role.SECRETARY, None, "demo secretary")
    chair = token(Role.CHAIR, None, "demo chair")
    deputies = {
        person.id: token(Role.DEPUTY, person.id, f"demo: {person.full_name}")
        for person in (*info.deputies, info.head)
    }
    return DemoTokens(secretary, chair, deputies)


def ensure_demo_pins(runtime: Units) -> list[int]:
    """Give every demo deputy without a PIN their demo PIN; returns the ids given one now."""
    have = auth.deputies_with_pin(runtime.uow())
    given = []
    for row in queries.deputies(runtime.uow()):
        if row["id"] not in have:
            auth.set_deputy_pin(
                runtime.uow(),
                DEMO_SECRETARY,
                row["id"],
                demo_pin(cast(int | None, row["seat_number"])),
            )
            given.append(cast(int, row["id"]))
    return given


def ensure_demo_logins(runtime: Units, password: str = DEMO_PASSWORD) -> list[str]:
    """Logins `secretary` and `chair` with the demo password, and every deputy's demo PIN (for a
    demo built before deputies had PINs); returns the logins created now."""
    ensure_demo_pins(runtime)
    created = []
    for role in DEMO_LOGINS:
        try:
            auth.add_user(runtime.uow(), SYSTEM, role, password, role)
        except InvalidInput as error:
            if error.details.get("field") != "username":
                raise
            continue  # made by an earlier run
        created.append(role)
    return created
