"""The hall display of a council of 30, 55, 121 and 451 seats (deputies and the mayor), at
1920×1080 and at 1280×720, in every state of a sitting (idle, registration, vote open, closed,
announced, speaker), in real headless Chromium. What a person in the back row needs: no text
under 24 px on the 1080p canvas (16 px at 720p, the same canvas scaled), nothing cut or outside
the screen, the result and its threshold and counts above the fold, every seat on the seat map
with a readable name (the family name at least) and its choice by colour and by symbol, a
legend, and a roll-call by faction that pages by itself ("page N of M") and lists everyone once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from chromium import ARTIFACTS
from halls import found_council
from planning import plan_sitting
from playwright.sync_api import Browser, Page, expect
from test_screens import browser as browser  # the module's Chromium

from voting.domain.actors import SYSTEM, Actor
from voting.services import auth, council
from voting.services.commands import AddDeputy, CreateToken
from voting.services.demo import MORE_SURNAMES, invented_names

# On the worker of the timed casts (test_casts_during_render), never beside them.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
    pytest.mark.xdist_group("timed"),
]

# Invented factions; one with a long name, as real ones have.
FACTIONS = (
    "Світанок",
    "Каштанова алея",
    "Обʼєднання «Громадський контроль міста»",
    "Зелений берег",
    "Рух «Міст»",
)


@dataclass
class Hall:
    base: str
    api: str
    sitting: int
    item: int
    deputies: list[int]
    head: int
    tokens: dict[int, str]
    http: requests.Session
    secretary: str

    def call(self, method: str, path: str, token: str, json: Any = None, status: int = 200) -> Any:
        response = self.http.request(
            method,
            self.api + path,
            json=json,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == status, (path, response.status_code, response.text[:300])
        return response.json()

    def staff(self, method: str, path: str, json: Any = None, status: int = 200) -> Any:
        return self.call(method, path, self.secretary, json, status)


class Secretary:
    """The planning calls of tests/e2e/planning.py, as the secretary."""

    def __init__(self, hall: Hall) -> None:
        self.hall = hall

    def ok(self, method: str, path: str, json: Any = None, status: int = 200) -> Any:
        return self.hall.staff(method, path, json, status)


def build_hall(server: Any, seats: int) -> Hall:
    """A council of `seats` seats: seats - 1 deputies at seats 1.. and the mayor; a sitting open
    with one item."""
    rt = server.runtime
    setup = Actor("secretary", "secretary:setup")
    deputies = seats - 1
    found_council(rt, deputies)
    names = invented_names(deputies)  # short and double family names, each short name unique
    ids = [
        council.add_deputy(
            rt.uow(),
            setup,
            AddDeputy.parse(
                {
                    "full_name": names[n - 1],
                    "faction": FACTIONS[n % len(FACTIONS)] if n % 23 else None,
                    "seat_number": n,
                    "voting_identifier": f"dep-{n}",
                }
            ),
        )
        for n in range(1, deputies + 1)
    ]
    head = council.add_deputy(
        rt.uow(),
        setup,
        AddDeputy.parse(
            {"full_name": "Головенко Микола Петрович", "is_head": True, "voting_identifier": "head"}
        ),
    )
    token = auth.create_token(rt.uow(), SYSTEM, CreateToken.parse({"role": "secretary"}))
    tokens = {
        d: auth.create_token(
            rt.uow(), SYSTEM, CreateToken.parse({"role": "deputy", "deputy_id": d})
        )
        for d in [*ids, head]
    }
    hall = Hall(
        server.url.removesuffix("/api/v1"),
        server.url,
        0,
        0,
        ids,
        head,
        tokens,
        requests.Session(),
        token,
    )
    hall.sitting = plan_sitting(Secretary(hall))
    hall.item = hall.staff(
        "post",
        f"/sittings/{hall.sitting}/agenda",
        {
            "title": "Про затвердження Програми розвитку житлово-комунального господарства "
            "та благоустрою міста на 2025–2027 роки",
            "draft_number": "901/7",
        },
        status=201,
    )["id"]
    hall.staff("post", f"/sittings/{hall.sitting}/open")
    return hall


# Every rendered element with text of its own: its font size on the canvas, whether its text runs
# past its box, and whether its box leaves the screen or its board. Each of the board's pages is
# shown in turn (the board turns them by itself; here all are looked at at once).
INSPECT = """() => {
  const main = document.getElementById('display');
  const area = document.querySelector('[data-bind="board-pages"]');
  const pages = [...document.querySelectorAll('.board-page:not(.measuring)')];
  const shownBefore = pages.map(p => p.hidden);
  const out = {small: [], cut: [], outside: [], pages: [], viewport: [innerWidth, innerHeight]};
  const look = (page) => {
    const bounds = area ? area.getBoundingClientRect() : null;
    for (const e of main.querySelectorAll('*')) {
      if (!e.getClientRects().length) continue;
      const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
      if (!own) continue;
      const style = getComputedStyle(e);
      if (style.visibility === 'hidden') continue;
      const r = e.getBoundingClientRect();
      const what = e.textContent.trim().slice(0, 40);
      if (parseFloat(style.fontSize) < 24) out.small.push([what, style.fontSize]);
      if (style.textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth + 1)
        out.cut.push(what);
      // Cut: the text's box runs past a box that hides what overflows it.
      for (let up = e.parentElement; up && up !== document.body; up = up.parentElement) {
        const o = getComputedStyle(up);
        if (o.overflowX === 'visible' && o.overflowY === 'visible') continue;
        const b = up.getBoundingClientRect();
        if (r.right > b.right + 1 || r.bottom > b.bottom + 1
            || r.left < b.left - 1 || r.top < b.top - 1) {
          out.cut.push(what);
          break;
        }
      }
      if (r.right > innerWidth + 1 || r.bottom > innerHeight + 1 || r.left < -1 || r.top < -1)
        out.outside.push(what);
      const section = e.closest('.vote, .speaker-now');
      const box = section && section.getBoundingClientRect();
      if (box && (r.right > box.right + 1 || r.left < box.left - 1))
        out.outside.push('column: ' + what);
      if (page && page.contains(e) && bounds
          && (r.right > bounds.right + 1 || r.bottom > bounds.bottom + 1))
        out.outside.push('board: ' + what);
    }
  };
  if (!pages.length) look(null);
  for (const page of pages) {
    pages.forEach(p => { p.hidden = p !== page; });
    look(page);
    out.pages.push({
      kind: [...page.classList].find(c => c.startsWith('page-')),
      deputies: [...page.querySelectorAll('[data-deputy]')].map(e => +e.dataset.deputy),
    });
  }
  pages.forEach((p, i) => { p.hidden = shownBefore[i]; });
  return out;
}"""


def inspect(page: Page, state: str, seats: int) -> dict[str, Any]:
    seen: dict[str, Any] = page.evaluate(INSPECT)
    where = f"{seats} seats, {state}, {seen['viewport']}"
    assert seen["small"] == [], (where, seen["small"][:5])
    assert seen["cut"] == [], (where, seen["cut"][:5])
    assert seen["outside"] == [], (where, seen["outside"][:5])
    return seen


# The board now: its sheet, the page shown, the pager's text.
BOARD_NOW = """() => [document.querySelector('.board').dataset.sheet,
  document.querySelector('.board-page:not([hidden]):not(.measuring)').dataset.page,
  document.querySelector('[data-bind="pager"]').textContent]"""


def on_pages(seen: dict[str, Any], kind: str) -> list[int]:
    return [d for p in seen["pages"] if p["kind"] == f"page-{kind}" for d in p["deputies"]]


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


@pytest.fixture
def pages(browser: Browser) -> Iterator[list[Page]]:
    opened: list[Page] = []
    yield opened
    for page in opened:
        assert page.errors == [], page.errors  # type: ignore[attr-defined]
        page.close()


@pytest.mark.parametrize("seats", [30, 55, 121, 451])
def test_the_hall_display_is_readable_in_every_state_at_every_size(
    browser: Browser, live_server: Any, pages: list[Page], seats: int
) -> None:
    hall = build_hall(live_server, seats)
    screens = []
    for width, height in ((1920, 1080), (1280, 720)):
        page = browser.new_page(viewport={"width": width, "height": height})
        errors: list[str] = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        page.errors = errors  # type: ignore[attr-defined]
        page.goto(hall.base + "/display")
        pages.append(page)
        screens.append((page, f"{width}x{height}"))
    everyone = {*hall.deputies, hall.head}

    def check(state: str) -> list[dict[str, Any]]:
        seen = []
        for page, size in screens:
            got = inspect(page, state, seats)
            # Every seat once on the seat map (over its pages).
            plan = on_pages(got, "plan")
            assert sorted(plan) == sorted(everyone), (state, size, len(plan))
            shot(page, f"hall-{seats}-{state}-{size}")
            seen.append(got)
        return seen

    # Idle: the sitting open, no item yet.
    for page, _ in screens:
        expect(page.locator(".board .seat")).to_have_count(seats)
        expect(page.locator('[data-bind="legend"]')).to_contain_text("Відсутні")
    check("idle")

    # Registration: two thirds register; the display says it is in progress.
    hall.staff("post", f"/sittings/{hall.sitting}/registration/open")
    present = [hall.head, *hall.deputies[: (2 * len(hall.deputies)) // 3]]
    for d in present:
        hall.call("post", f"/sittings/{hall.sitting}/register", hall.tokens[d])
    for page, _ in screens:
        expect(page.locator('[data-bind="registered"]')).to_have_text(str(len(present)))
        expect(page.locator('[data-bind="registration-open"]')).to_have_text("Триває реєстрація")
        expect(page.locator(".board .seat.registered")).to_have_count(len(present))
        tile = page.locator(f'.board .seat[data-deputy="{present[1]}"]')
        expect(tile.locator(".seat-mark")).to_have_text("\u25cf")  # registered: by a symbol too
    check("registration")
    hall.staff("post", f"/sittings/{hall.sitting}/registration/close")

    # A roll-call vote open on the item.
    hall.staff("put", f"/agenda-items/{hall.item}/status", {"status": "under_consideration"})
    vote = hall.staff(
        "post",
        f"/sittings/{hall.sitting}/votes",
        {"item_id": hall.item, "kind": "roll_call"},
        status=201,
    )["vote_id"]
    choices = ("for", "for", "against", "abstain", "for", "not")
    plan: dict[int, str] = {}
    for n, d in enumerate(present):
        choice = choices[n % len(choices)]
        if choice != "not":
            hall.call("post", f"/votes/{vote}/choices", hall.tokens[d], {"choice": choice})
            plan[d] = choice
    for page, _ in screens:
        expect(page.locator('[data-bind="vote-progress"]')).to_contain_text(
            f"Проголосували: {len(plan)}"
        )
    check("vote-open")

    # Closed: the result above the fold; the roll-call by faction, in pages; the seat map in
    # colours and symbols.
    hall.staff("post", f"/votes/{vote}/close")
    for page, _ in screens:
        expect(page.locator('[data-bind="verdict"]')).to_be_visible()
        expect(page.locator(".board")).to_have_attribute("data-sheet", "roll-call")
    for seen in check("closed"):
        rolled = on_pages(seen, "roll-call")
        assert sorted(rolled) == sorted(everyone), len(rolled)  # the mayor too: he registered
    head = screens[0][0].locator(f'.page-roll-call li[data-deputy="{hall.head}"]')
    expect(head).to_contain_text("Головенко М. П.")
    expect(screens[0][0].locator(".page-roll-call .faction-head").first).to_have_text(
        "Міський голова (1)"
    )
    page = screens[0][0]
    for d, choice in list(plan.items())[:5]:
        symbol = {"for": "\u2713", "against": "\u2717", "abstain": "\u25cb"}[choice]
        tile = page.locator(f'.board .seat[data-deputy="{d}"]')
        expect(tile).to_have_class(re.compile(f"choice-{choice}"))
        expect(tile.locator(".seat-mark")).to_have_text(symbol)
        line = page.locator(f'.page-roll-call li[data-deputy="{d}"]')
        expect(line.locator(".mark")).to_have_text(symbol)
    # The names on the tiles: the family name at least, never cut.
    names = page.evaluate(
        "() => [...document.querySelectorAll('.board .seat:not(.head) .seat-name')]"
        ".map(e => e.textContent)"
    )
    assert all(re.match(r"^\S{2,}", n) for n in names) and len(names) == seats - 1
    assert all(n.split()[0] in MORE_SURNAMES for n in names), names[:5]
    # The factions' totals add up to the result.
    totals = page.evaluate(
        "() => [...document.querySelectorAll('.page-factions tbody td[data-choice=\"for\"]')]"
        ".reduce((s, e) => s + +e.textContent, 0)"
    )
    assert totals == sum(1 for c in plan.values() if c == "for")
    # The board turns its pages by itself; the pager says which page of the sheet is shown.
    assert len(seen["pages"]) >= 3  # the roll-call, the factions' totals, the seat map
    for _ in range(2):
        sheet, number, text = page.evaluate(BOARD_NOW)
        of = sum(1 for p in seen["pages"] if p["kind"] == f"page-{sheet}")
        assert text == (f"Сторінка {number} з {of}" if of > 1 else ""), (sheet, number, text)
        page.wait_for_function(
            "([sheet, number]) => { const b = document.querySelector('.board');"
            " const p = document.querySelector('.board-page:not([hidden]):not(.measuring)');"
            " return b.dataset.sheet !== sheet || p.dataset.page !== number; }",
            arg=[sheet, number],
            timeout=12_000,
        )

    # Announced: the larger verdict still leaves the bars and the threshold above the fold.
    hall.staff("post", f"/votes/{vote}/announce")
    for page, _ in screens:
        expect(page.locator('[data-bind="vote"]')).to_have_class(re.compile("announced"))
    check("announced")

    # The speaker: the floor given to a deputy who asked.
    asking = hall.tokens[present[1]]
    hall.call(
        "post", f"/sittings/{hall.sitting}/floor/requests", asking, {"type": "speech"}, status=201
    )
    hall.staff("post", f"/sittings/{hall.sitting}/floor/grant", status=201)
    for page, _ in screens:
        expect(page.locator('[data-bind="speaker-name"]')).to_be_visible()
    check("speaker")


# A hall of 55 seats (54 deputies and the mayor) as it stands: two blocks a row, rows of
# different lengths, the last row naming seats that nobody has (56, 57), and seat 54 left out.
# Each cell of the seat map's pages by line: a seat number, "|" an aisle, "." a blank.
PLAN_LINES = """() => { const out = [];
  for (const page of document.querySelectorAll('.board-page.page-plan')) {
    const cols = page.style.gridTemplateColumns.match(/repeat.(\\d+)/)[1];
    const cells = [...page.children].map(c => c.classList.contains('seat-aisle') ? '|'
      : c.classList.contains('seat') ? (c.dataset.seat || 'head') : '.');
    for (let i = 0; i < cells.length; i += +cols) out.push(cells.slice(i, i + +cols));
  }
  return out; }"""
HALL_ROWS = ["1-6 | 7-12", "13-19 | 20-26", "27-33 | 34-40", "41-47 | 48-53", "56-57"]


@pytest.mark.parametrize("live_overrides", [{"hall_plan": {"rows": HALL_ROWS}}])
def test_the_seat_map_follows_the_halls_rows_from_the_configuration(
    browser: Browser, live_server: Any, pages: list[Page]
) -> None:
    hall = build_hall(live_server, 55)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    page.goto(hall.base + "/display")
    pages.append(page)
    expect(page.locator(".board .seat")).to_have_count(55)
    lines = page.evaluate(PLAN_LINES)
    seats = [[c for c in line if c != "."] for line in lines]
    assert seats[0] == ["head"]  # the mayor's place in front
    # Row by row, left to right, an aisle between blocks (a row longer than a line of tiles
    # readable at 24 px goes on to the next line)...
    rows = [
        [*map(str, range(1, 7)), "|", *map(str, range(7, 13))],
        [*map(str, range(13, 20)), "|", *map(str, range(20, 27))],
        [*map(str, range(27, 34)), "|", *map(str, range(34, 41))],
        [*map(str, range(41, 48)), "|", *map(str, range(48, 54))],
    ]
    assert [c for line in seats[1:] for c in line] == [*(c for row in rows for c in row), "54"]
    # ... each row on a line of its own: the tiles show the seat and its mark alone so that the
    # longest row fits (each tile's label still names the deputy).
    assert seats[1:5] == rows, seats[1:5]
    expect(page.locator(".board .seat.numbers-only")).to_have_count(55)
    label = page.locator('.board .seat[data-seat="10"]').get_attribute("aria-label")
    assert label == "Місце 10, Вакуленко-Стецюра Олег Андрійович: Відсутній", label
    # seats 56 and 57 blank (nobody sits there), and seat 54, left out of the plan, after it.
    assert [] in seats[1:-1] and seats[-1] == ["54"]
    inspect(page, "configured rows", 55)
    shot(page, "hall-55-configured-rows-1920x1080")
    # A mayor with a seat of the plan sits there, once, not in front.
    hall.staff("patch", f"/deputies/{hall.head}", {"seat_number": 56})
    page.reload()
    expect(page.locator(".board .seat")).to_have_count(55)
    expect(page.locator(".board .seat.head")).to_have_count(1)
    again = [[c for c in line if c != "."] for line in page.evaluate(PLAN_LINES)]
    assert again[0] == rows[0] and ["56"] in again, again  # row 1 first; the mayor at 56
