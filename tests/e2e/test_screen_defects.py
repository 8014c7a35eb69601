"""Defects a new user found on the screens (issue 16), each as that user meets it in real headless
Chromium: the hall display keeping the last item's result under the next item's title, G emptying
the registration without a question, V ignored while a vote form field has the focus, the
public page's unreadable "secret" label, the control screen's empty event list after a reload,
a re-vote without its time limit or its item, an annulment without its reason, and a terminal
that keeps an old error, shows no stage and no result, and lets a deputy press while offline."""

from __future__ import annotations

import re

import pytest
import test_screens
from chromium import Relay
from playwright.sync_api import Browser, Page, expect
from test_screens import Sitting, shot, sign_in_control

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

# The screens' fixtures: a browser, and a sitting open with its agenda and everyone's tokens.
browser = test_screens.browser
sitting = test_screens.sitting
relay = test_screens.relay


def opened(sitting: Sitting, index: int, **spec: object) -> int:
    """A vote opened on agenda item `index` (with `spec`: kind, stage, time limit...)."""
    return int(
        sitting.secretary.ok(
            "post",
            f"/sittings/{sitting.id}/votes",
            {"item_id": sitting.items[index], **spec},
            status=201,
        )["vote_id"]
    )


def held_vote(sitting: Sitting, index: int, choice: str = "for", kind: str = "roll_call") -> int:
    """Item `index` put up and voted by those registered; returns the closed vote."""
    sitting.put_up(index)
    vote = opened(sitting, index, kind=kind)
    for d in sitting.deputies[:25]:
        sitting.as_deputy(d, "post", f"/votes/{vote}/choices", {"choice": choice})
    sitting.secretary.ok("post", f"/votes/{vote}/close")
    return vote


def test_the_hall_display_drops_the_last_result_when_the_next_item_comes_up(
    browser: Browser, sitting: Sitting
) -> None:
    sitting.register_first(25)
    display = sitting.page(browser, "/display", 1920, 1080)
    held_vote(sitting, 0)
    expect(display.locator('[data-bind="verdict"]')).to_have_text("Прийнято")
    # Decided, the item is no longer under consideration: its number and draft stay shown.
    expect(display.locator('[data-bind="item-number"]')).to_have_text("Питання 1 · № 751/1")
    expect(display.locator('[data-bind="item-title"]')).to_have_text("Про бюджет міста на 2027 рік")
    expect(display.locator(".board")).to_have_attribute("data-sheet", "roll-call")
    sitting.put_up(1)  # the next item, not yet voted
    expect(display.locator('[data-bind="item-title"]')).to_have_text("Про вибори секретаря ради")
    expect(display.locator('[data-bind="vote"]')).to_be_hidden()
    expect(display.locator(".page-roll-call")).to_have_count(0)
    expect(display.locator(".board")).to_have_attribute("data-sheet", "plan")
    expect(display.get_by_text("Прийнято")).to_be_hidden()


def test_g_asks_before_a_new_round_makes_everyone_register_again(
    browser: Browser, sitting: Sitting
) -> None:
    sitting.register_first(25)
    sitting.secretary.ok("post", f"/sittings/{sitting.id}/registration/close")
    control = sitting.page(browser, "/control")
    sign_in_control(control)
    expect(control.locator('[data-bind="registered"]')).to_have_text("25")
    asked: list[str] = []

    def say_no(dialog: object) -> None:
        asked.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()  # type: ignore[attr-defined]

    control.once("dialog", say_no)
    control.keyboard.press("g")
    expect(control.get_by_role("button", name="Відкрити реєстрацію")).to_be_visible()
    assert asked and "25 депутатів" in asked[0], asked
    assert "зареєструватися знову" in asked[0]
    expect(control.locator('[data-bind="registered"]')).to_have_text("25")  # nothing changed
    control.once("dialog", lambda dialog: dialog.accept())
    control.keyboard.press("g")
    expect(control.locator('[data-bind="registered"]')).to_have_text("0")  # a new round


def test_v_starts_the_vote_from_the_vote_forms_fields(browser: Browser, sitting: Sitting) -> None:
    sitting.register_first(25)
    sitting.put_up(0)
    control = sitting.page(browser, "/control")
    sign_in_control(control)
    expect(control.locator('[data-bind="current-item"]')).to_contain_text("Про бюджет")
    kind = control.locator('#vote-form select[name="kind"]')
    kind.select_option("open")
    kind.focus()  # the secretary has just chosen the kind: the focus is still there
    control.keyboard.press("v")
    expect(control.locator("#vote-live")).to_be_visible()
    assert sitting.secretary.ok("get", "/state")["vote"]["kind"] == "open"
    control.once("dialog", lambda dialog: dialog.accept())
    control.keyboard.press("c")
    expect(control.locator("#vote-result")).to_be_visible()
    sitting.put_up(1)  # decided: the next item comes up
    expect(control.locator('[data-bind="current-item"]')).to_contain_text("Про вибори")

    limit = control.locator('#vote-form input[name="time_limit_seconds"]')
    limit.fill("90")  # typed in the time limit, the focus still in the field
    control.keyboard.press("v")
    expect(control.locator("#vote-live")).to_be_visible()
    assert sitting.secretary.ok("get", "/state")["vote"]["deadline"] is not None


def contrast(page: Page, selector: str) -> float:
    """The WCAG contrast ratio of an element's text against the background it stands on."""
    ratio: float = page.evaluate(
        """(selector) => {
          const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 4).map(Number);
          const lum = ([r, g, b]) => {
            const f = (v) => {
              v /= 255;
              return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
            };
            return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
          };
          const node = document.querySelector(selector);
          let back = null;
          for (let e = node; e; e = e.parentElement) {
            const c = rgb(getComputedStyle(e).backgroundColor);
            if (c.length < 4 || c[3] > 0) { back = c; break; }
          }
          back = back ?? [255, 255, 255];
          const [a, b] = [lum(rgb(getComputedStyle(node).color)), lum(back)];
          return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        }""",
        selector,
    )
    return ratio


def test_the_public_pages_secret_label_is_readable(browser: Browser, sitting: Sitting) -> None:
    sitting.register_first(25)
    sitting.put_up(0)
    public = sitting.page(browser, "/live", 1280, 900)
    expect(public.locator('[data-bind="item-title"]')).to_have_text("Про бюджет міста на 2027 рік")
    opened(sitting, 0, kind="secret")
    label = public.locator('[data-bind="vote-kind"]')
    expect(label).to_have_text(re.compile("Таємне"))
    assert contrast(public, '[data-bind="vote-kind"]') >= 4.5


def test_a_reloaded_control_screen_still_lists_what_just_happened(
    browser: Browser, sitting: Sitting
) -> None:
    sitting.register_first(25)
    held_vote(sitting, 0)
    control = sitting.page(browser, "/control")
    sign_in_control(control)
    events = control.locator('[data-bind="events"] li')
    log = control.locator('[data-bind="events"]')
    expect(events).to_have_count(15)  # the latest fifteen, before anything new happens
    expect(log).to_contain_text("голосування завершено")
    expect(events.first).to_contain_text("вхід")  # the newest first: the secretary's sign-in
    control.reload()  # signed in still (the tab keeps its token): the same list again
    expect(events).to_have_count(15)
    expect(log).to_contain_text("голосування завершено")
    sitting.put_up(1)
    expect(events.first).to_contain_text("змінено стан питання")


def test_a_re_vote_keeps_its_item_and_time_limit_and_an_annulment_says_why(
    browser: Browser, sitting: Sitting
) -> None:
    sitting.register_first(25)
    sitting.put_up(0)
    control = sitting.page(browser, "/control")
    sign_in_control(control)
    public = sitting.page(browser, "/live", 1280, 900)
    control.on("dialog", lambda dialog: dialog.accept())
    first = opened(sitting, 0, time_limit_seconds=120)
    for d in sitting.deputies[:25]:
        sitting.as_deputy(d, "post", f"/votes/{first}/choices", {"choice": "for"})
    sitting.secretary.ok("post", f"/votes/{first}/close")  # adopted: the item is decided
    expect(control.locator("#revote")).to_be_enabled()
    control.locator("#revote").click()  # confirmed
    expect(control.locator("#vote-live")).to_be_visible()
    expect(control.locator('[data-bind="current-item"]')).to_have_text(
        "Питання 1: Про бюджет міста на 2027 рік"
    )
    expect(control.locator('[data-bind="vote-time-left"]')).to_contain_text("Залишилось")
    again = sitting.current_vote()
    assert again != first
    shown = sitting.secretary.ok("get", f"/votes/{again}")
    assert shown["deadline"] is not None

    sitting.secretary.ok("post", f"/votes/{again}/annul", {"reason": "Збій табло в залі"})
    expect(public.locator('[data-bind="vote-progress"]')).to_contain_text(
        "Причина: Збій табло в залі"
    )


def test_an_item_whose_vote_was_annulled_can_be_taken_up_again(
    browser: Browser, sitting: Sitting
) -> None:
    sitting.register_first(25)
    vote = held_vote(sitting, 0)  # adopted
    sitting.put_up(1)  # the hall moves on
    control = sitting.page(browser, "/control")
    sign_in_control(control)
    display = sitting.page(browser, "/display", 1920, 1080)
    sitting.secretary.ok("post", f"/votes/{vote}/annul", {"reason": "Збій пульта"})
    items = control.locator(".agenda-item")
    # The annulled item is set aside; the hall stays on the item it is considering.
    expect(items.nth(0)).to_contain_text("Перенесено")
    expect(items.nth(1)).to_contain_text("Розглядається")
    expect(display.locator('[data-bind="item-title"]')).to_have_text("Про вибори секретаря ради")
    items.nth(0).get_by_role("button", name="Розглянути").click()
    expect(display.locator('[data-bind="item-title"]')).to_have_text("Про бюджет міста на 2027 рік")
    expect(items.nth(1)).to_contain_text("Перенесено")  # one item at a time
    expect(control.locator('[data-bind="current-item"]')).to_contain_text("Про бюджет міста")
    control.keyboard.press("v")  # and it is voted again
    expect(display.locator('[data-bind="vote-progress"]')).to_contain_text("Проголосували: 0")
    # A withdrawn item can be put back on the agenda too.
    sitting.secretary.ok("put", f"/agenda-items/{sitting.items[2]}/status", {"status": "withdrawn"})
    expect(items.nth(2)).to_contain_text("Знято з розгляду")
    expect(items.nth(2).get_by_role("button", name="Розглянути")).to_be_visible()


def test_the_terminal_shows_stage_and_result_and_no_stale_error_and_no_press_offline(
    browser: Browser, sitting: Sitting, relay: Relay
) -> None:
    me = sitting.deputies[0]
    sitting.register_first(25)
    sitting.put_up(0)
    phone = sitting.page(
        browser, f"/terminal#token={sitting.tokens[me]}", 390, 844, f"http://127.0.0.1:{relay.port}"
    )
    first = opened(sitting, 0, stage="as_a_basis")
    expect(phone.locator('[data-bind="vote-stage"]')).to_have_text("За основу")
    # The secretary marks the deputy as having left: the press is refused (register first).
    sitting.secretary.ok("post", f"/sittings/{sitting.id}/unregister", {"deputy_id": me})
    phone.get_by_role("button", name="Проти").click()
    expect(phone.locator('[data-bind="error"]')).to_contain_text("Помилка")
    for d in sitting.deputies[1:25]:
        sitting.as_deputy(d, "post", f"/votes/{first}/choices", {"choice": "for"})
    sitting.secretary.ok("post", f"/votes/{first}/close")
    expect(phone.locator('[data-bind="vote-result"]')).to_have_text(
        "Прийнято · За 24 · Проти 0 · Утрималися 0"
    )
    sitting.secretary.ok("post", f"/sittings/{sitting.id}/register", {"deputy_id": me})
    second = opened(sitting, 0, stage="amendment", title="Поправка 1")
    expect(phone.locator('[data-bind="vote-stage"]')).to_have_text("Поправка")
    expect(phone.locator('[data-bind="error"]')).to_have_text("")  # not the last vote's refusal
    expect(phone.get_by_role("button", name="За", exact=True)).to_be_enabled()
    relay.cut()  # the hall's network drops the phone
    expect(phone.get_by_role("button", name="За", exact=True)).to_be_disabled()
    expect(phone.locator('[data-bind="recorded"]')).to_contain_text("Немає зʼєднання")
    relay.mend()
    expect(phone.get_by_role("button", name="За", exact=True)).to_be_enabled(timeout=15_000)
    phone.get_by_role("button", name="За", exact=True).click()
    expect(phone.locator('[data-bind="recorded"]')).to_contain_text("За")
    assert sitting.secretary.ok("get", f"/votes/{second}")["votes_cast"] == 1


def test_counts_are_labelled_in_the_plural_and_the_date_is_shown_once(
    browser: Browser, sitting: Sitting
) -> None:
    sitting.register_first(25)
    display = sitting.page(browser, "/display", 1920, 1080)
    control = sitting.page(browser, "/control")
    sign_in_control(control)
    heading = "Пленарне засідання 25 листопада 2026 р."
    expect(display.locator('[data-bind="sitting"]')).to_have_text(heading)
    expect(control.locator('[data-bind="sitting"]')).to_have_text(heading)
    held_vote(sitting, 0)
    labels = display.locator('[data-bind="bars"] .bar-label')
    expect(labels).to_have_text(["За", "Проти", "Утрималися", "Не голосували", "Відсутні"])
    expect(control.locator('[data-bind="result-bars"] .bar-label')).to_have_text(
        ["За", "Проти", "Утрималися", "Не голосували", "Відсутні"]
    )


def overflow(page: Page) -> list[str]:
    """What sticks out past the right edge of the page's viewport (the page then scrolls
    sideways), by element; empty when everything fits."""
    found: list[str] = page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const out = [];
          for (const e of document.querySelectorAll("body *")) {
            const box = e.getBoundingClientRect();
            if (box.width && box.right > width + 0.5 && getComputedStyle(e).visibility !== "hidden")
              out.push(`${e.tagName}.${e.className}[${e.dataset.bind ?? ""}] ${box.right}`);
          }
          return [`page ${document.documentElement.scrollWidth} of ${width}`, ...out].slice(0, 12);
        }"""
    )
    wider = page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    return found if wider else []


def two_terminals(browser: Browser, sitting: Sitting) -> tuple[int, Page, Page]:
    """25 registered, the first item up, and the first deputy signed in on a tablet and a phone."""
    me = sitting.deputies[0]
    sitting.register_first(25)
    sitting.put_up(0)
    tablet = sitting.page(browser, f"/terminal#token={sitting.tokens[me]}", 1280, 800)
    phone = sitting.page(browser, f"/terminal#token={sitting.tokens[me]}", 390, 844)
    return me, tablet, phone


def test_the_terminal_and_the_public_page_fit_a_390_px_phone(
    browser: Browser, sitting: Sitting
) -> None:
    _, _, phone = two_terminals(browser, sitting)
    public = sitting.page(browser, "/live", 390, 844)
    expect(phone.locator('[data-bind="me-name"]')).to_have_text("Депутатенко01 Іван Петрович")
    assert overflow(phone) == [] and overflow(public) == []
    vote = sitting.open_vote(0)
    expect(phone.get_by_role("button", name="За", exact=True)).to_be_enabled()
    expect(public.locator('[data-bind="vote-progress"]')).to_contain_text("Проголосували")
    assert overflow(phone) == [] and overflow(public) == []
    for d in sitting.deputies[:25]:
        sitting.as_deputy(d, "post", f"/votes/{vote}/choices", {"choice": "for"})
    sitting.secretary.ok("post", f"/votes/{vote}/close")
    expect(public.locator('[data-bind="verdict"]')).to_have_text("Прийнято")
    expect(phone.locator('[data-bind="vote-result"]')).to_contain_text("Прийнято")
    assert overflow(phone) == [] and overflow(public) == []
    expect(phone.get_by_role("button", name="Вийти")).to_be_in_viewport()


def test_a_deputys_other_terminal_follows_a_vote_cast_elsewhere(
    browser: Browser, sitting: Sitting
) -> None:
    me, tablet, phone = two_terminals(browser, sitting)
    vote = sitting.open_vote(0)
    for page in (tablet, phone):
        expect(page.get_by_role("button", name="Проти")).to_be_enabled()
    tablet.get_by_role("button", name="Проти").click()
    expect(tablet.locator('[data-bind="recorded"]')).to_contain_text("Проти")
    expect(phone.locator('[data-bind="recorded"]')).to_contain_text("Проти")  # without a press
    expect(
        phone.get_by_role("button", name="За", exact=True)
    ).to_be_disabled()  # no second vote to try
    assert sitting.secretary.ok("get", f"/votes/{vote}")["votes_cast"] == 1

    for d in sitting.deputies[1:25]:
        sitting.as_deputy(d, "post", f"/votes/{vote}/choices", {"choice": "for"})
    sitting.secretary.ok("post", f"/votes/{vote}/close")
    sitting.put_up(1)
    secret = opened(sitting, 1, kind="secret")
    expect(phone.get_by_role("button", name="За", exact=True)).to_be_enabled()
    sitting.as_deputy(me, "post", f"/votes/{secret}/choices", {"choice": "for"})  # over HTTP
    for page in (tablet, phone):
        expect(page.locator('[data-bind="recorded"]')).to_have_text("Ваш бюлетень враховано")
        expect(page.get_by_role("button", name="За", exact=True)).to_be_disabled()


def test_an_announced_result_fits_the_hall_display(browser: Browser, sitting: Sitting) -> None:
    sitting.register_first(25)
    display = sitting.page(browser, "/display", 1920, 1080)
    vote = held_vote(sitting, 0, choice="against")  # "Не прийнято": the longest verdict
    sitting.secretary.ok("post", f"/votes/{vote}/announce")
    expect(display.locator('[data-bind="vote"]')).to_have_class(re.compile("announced"))
    expect(display.locator('[data-bind="verdict"]')).to_have_text("Не прийнято")
    box = display.evaluate(
        """() => {
          const size = (bind) =>
            document.querySelector(`[data-bind="${bind}"]`).getBoundingClientRect();
          const verdict = document.querySelector('[data-bind="verdict"]');
          return {
            verdictHeight: size("verdict").height,
            line: parseFloat(getComputedStyle(verdict).fontSize),
            verdictRight: size("verdict").right,
            column: size("vote").right,
            bars: size("bars").bottom,
            threshold: size("threshold").bottom,
          };
        }"""
    )
    assert box["verdictHeight"] < 1.6 * box["line"], box  # one line, not wrapped
    assert box["verdictRight"] <= box["column"] + 1, box
    assert box["bars"] <= 1080 and box["threshold"] <= 1080, box  # above the fold
    shot(display, "display-announced-not-adopted")


# Every button and link a deputy may touch on the terminal, with its size.
TARGETS = """() => [...document.querySelectorAll('#terminal button, #terminal a, nav a')]
  .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .map(e => { const r = e.getBoundingClientRect();
    return [e.textContent.trim().slice(0, 30), Math.round(r.width), Math.round(r.height)]; })"""


def phone_terminal(browser: Browser, sitting: Sitting) -> Page:
    """The first deputy's terminal on a 360×740 phone, 25 registered, the first item up."""
    me = sitting.deputies[0]
    sitting.register_first(25)
    sitting.put_up(0)
    phone = sitting.page(browser, f"/terminal#token={sitting.tokens[me]}", 360, 740)
    expect(phone.locator('[data-bind="me-name"]')).to_have_text("Депутатенко01 Іван Петрович")
    return phone


def keys_on_the_first_screen(phone: Page) -> None:
    """The three keys within the phone's first screen, each a large target; nothing wider than
    the screen; every button and link at least 48 px."""
    for name in ("За", "Проти", "Утримався"):
        box = phone.get_by_role("button", name=name, exact=True).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 740 and box["height"] >= 80, box
    assert overflow(phone) == []
    small = [t for t in phone.evaluate(TARGETS) if t[1] < 48 or t[2] < 48]
    assert small == [], small


def test_the_terminal_is_a_deputys_tool_on_a_360_px_phone(
    browser: Browser, sitting: Sitting
) -> None:
    phone = phone_terminal(browser, sitting)
    vote = opened(sitting, 0, stage="as_a_basis", time_limit_seconds=120)
    expect(phone.get_by_role("button", name="За", exact=True)).to_be_enabled()
    # The item, the stage, the rule with the votes needed, the time left.
    expect(phone.locator('[data-bind="vote-title"]')).to_have_text("Про бюджет міста на 2027 рік")
    expect(phone.locator('[data-bind="vote-stage"]')).to_have_text("За основу")
    expect(phone.locator('[data-bind="vote-rule"]')).to_have_text(
        "Правило прийняття: більше половини від загального складу ради · Потрібно: 22"
    )
    expect(phone.locator('[data-bind="time-left"]')).to_contain_text("Залишилось")
    keys_on_the_first_screen(phone)
    shot(phone, "terminal-360-vote-open")
    phone.get_by_role("button", name="За", exact=True).click()
    expect(phone.locator('[data-bind="recorded"]')).to_have_text("Ваш голос враховано: За")
    for d in sitting.deputies[1:25]:
        sitting.as_deputy(d, "post", f"/votes/{vote}/choices", {"choice": "for"})
    sitting.secretary.ok("post", f"/votes/{vote}/close")
    # After the close: the result, and the deputy's own recorded choice.
    expect(phone.locator('[data-bind="vote-result"]')).to_contain_text("Прийнято · За 25")
    expect(phone.locator('[data-bind="recorded"]')).to_have_text("Ваш голос враховано: За")
    expect(phone.locator(".choices")).to_be_hidden()  # nothing left to press
    for shown in ("vote-result", "recorded"):  # first on the screen, above the floor's keys
        box = phone.locator(f'[data-bind="{shown}"]').bounding_box()
        assert box is not None and box["y"] + box["height"] <= 740, (shown, box)
    assert overflow(phone) == []
    small = [t for t in phone.evaluate(TARGETS) if t[1] < 48 or t[2] < 48]
    assert small == [], small
    shot(phone, "terminal-360-vote-closed")


#: A draft decision's title as councils write them: long.
LONG_TITLE = (
    "Про внесення змін до рішення міської ради від 22.12.2026 № 1234 «Про бюджет міської "
    "територіальної громади на 2027 рік» та затвердження переліку об'єктів капітального "
    "ремонту доріг комунальної власності"
)


def test_a_long_title_and_the_secret_notice_leave_the_keys_on_a_phones_first_screen(
    browser: Browser, sitting: Sitting
) -> None:
    phone = phone_terminal(browser, sitting)
    long_one = opened(sitting, 0, kind="secret", title=LONG_TITLE, time_limit_seconds=120)
    title = phone.locator('[data-bind="vote-title"]')
    expect(title).to_have_text(LONG_TITLE)  # all of it, for screen readers and on a tap
    expect(phone.get_by_role("button", name="За", exact=True)).to_be_enabled()
    keys_on_the_first_screen(phone)
    shot(phone, "terminal-360-long-secret")
    # The title is cut to three lines; "Уся назва" opens it whole, "Згорнути" cuts it again.
    cut = title.bounding_box()
    assert cut is not None and cut["height"] < 4.5 * 1.35 * 16, cut
    more = phone.get_by_role("button", name="Уся назва")
    more.click()
    expect(phone.get_by_role("button", name="Згорнути")).to_have_attribute("aria-expanded", "true")
    whole = title.bounding_box()
    assert whole is not None and whole["height"] > 1.5 * cut["height"], (cut, whole)
    phone.get_by_role("button", name="Згорнути").click()
    expect(more).to_have_attribute("aria-expanded", "false")
    # A short title has nothing cut, and no button.
    sitting.secretary.ok("post", f"/votes/{long_one}/close")
    sitting.put_up(1)
    opened(sitting, 1, kind="secret", time_limit_seconds=120)
    expect(title).to_have_text("Про вибори секретаря ради")
    expect(phone.locator('[data-bind="title-more"]')).to_be_hidden()
