"""Accessibility of every screen in every state of a sitting, as axe-core (from npm) finds it
inside real headless Chromium: no serious or critical violation on the control screen, the hall
display, the broadcast overlay, the public page (desktop, phone, and without JavaScript) or a
deputy's terminal, from an idle sitting through registration, a roll-call vote, its result and
announcement, a secret ballot and a speech. Text contrast is part of axe's rules (4.5:1)."""

from __future__ import annotations

import pytest
import test_screens
from chromium import axe_findings
from playwright.sync_api import Browser, Page, expect
from test_screen_defects import opened
from test_screens import Sitting, sign_in_control

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

browser = test_screens.browser
sitting = test_screens.sitting


def test_no_screen_has_a_serious_accessibility_violation_in_any_state(
    browser: Browser, sitting: Sitting
) -> None:
    me = sitting.deputies[0]
    control = sitting.page(browser, "/control", 1600, 1000)
    sign_in_control(control)
    screens: dict[str, Page] = {
        "control": control,
        "display": sitting.page(browser, "/display", 1920, 1080),
        "overlay": sitting.page(browser, "/display/overlay", 1920, 1080),
        "public": sitting.page(browser, "/live", 1280, 900),
        "public-phone": sitting.page(browser, "/live", 390, 844),
        "terminal": sitting.page(browser, f"/terminal#token={sitting.tokens[me]}", 390, 844),
        "terminal-tablet": sitting.page(
            browser, f"/terminal#token={sitting.tokens[me]}", 1280, 800
        ),
    }
    # The page for browsers without JavaScript loads no script of its own: axe reads it in a
    # page that runs axe, loaded afresh each time (it reloads itself only after 10 s).
    plain_context = browser.new_context()
    plain = plain_context.new_page()
    found: list[str] = []

    def check(state: str) -> None:
        for name, page in screens.items():
            found.extend(axe_findings(page, f"{name}, {state}"))
        plain.goto(sitting.base + "/live/plain")
        found.extend(axe_findings(plain, f"public without JavaScript, {state}"))

    try:
        expect(screens["terminal"].locator('[data-bind="me-name"]')).to_have_text(
            "Депутатенко01 Іван Петрович"
        )
        check("idle")
        sitting.register_first(25)
        expect(screens["display"].locator('[data-bind="registered"]')).to_have_text("25")
        check("registration")
        sitting.put_up(0)
        vote = opened(sitting, 0, time_limit_seconds=300)
        expect(screens["terminal"].get_by_role("button", name="За", exact=True)).to_be_enabled()
        screens["terminal"].get_by_role("button", name="За", exact=True).click()
        for d in sitting.deputies[1:20]:
            sitting.as_deputy(d, "post", f"/votes/{vote}/choices", {"choice": "against"})
        expect(screens["display"].locator('[data-bind="vote-progress"]')).to_contain_text(
            "Проголосували: 20"
        )
        check("roll-call vote open")
        sitting.secretary.ok("post", f"/votes/{vote}/close")
        expect(screens["display"].locator('[data-bind="verdict"]')).to_have_text("Не прийнято")
        check("roll-call result")
        sitting.secretary.ok("post", f"/votes/{vote}/announce")
        expect(screens["display"].locator(".vote.announced")).to_have_count(1)
        check("announced")
        sitting.put_up(1)
        secret = opened(sitting, 1, kind="secret")
        expect(screens["terminal"].locator('[data-bind="secret-banner"]')).to_be_visible()
        check("secret ballot open")
        sitting.secretary.ok("post", f"/votes/{secret}/close")
        asking = sitting.hall.caller(sitting.tokens[me])
        asking.ok("post", f"/sittings/{sitting.id}/floor/requests", {"type": "speech"}, status=201)
        sitting.secretary.ok("post", f"/sittings/{sitting.id}/floor/grant", status=201)
        expect(screens["display"].locator('[data-bind="speaker-name"]')).to_be_visible()
        check("a speech")
    finally:
        plain_context.close()
    assert found == [], "\n".join(found)


# Every control a person can use on the screen now: shown (not inside a closed <details>,
# whose summary is the control then), enabled.
CONTROLS = """() => [...document.querySelectorAll(
    'button, a[href], input, select, textarea, summary, [tabindex]')]
  .filter(e => e.checkVisibility({ visibilityProperty: true }) && !e.disabled && e.tabIndex >= 0)
  .map(e => e.id || e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40) || e.name)"""


def test_the_control_screen_is_usable_from_the_keyboard_alone(
    browser: Browser, sitting: Sitting
) -> None:
    control = sitting.page(browser, "/control", 1600, 1000)
    sign_in_control(control)
    sitting.register_first(25)
    sitting.put_up(0)
    expect(control.locator('[data-bind="current-item"]')).to_contain_text("Про бюджет міста")
    # The key bindings are shown on the screen.
    shortcuts = control.locator(".shortcuts")
    expect(shortcuts).to_be_visible()
    for key in ("G", "I", "V", "C", "A", "N", "P", "E", "+", "L", "Esc"):
        expect(shortcuts.locator("kbd", has_text=key).first).to_be_visible()
    # Tab reaches every control there is, in turn, each showing where the focus is.
    wanted = set(control.evaluate(CONTROLS))
    reached: set[str] = set()
    order: list[str] = []
    unseen: list[str] = []
    control.locator("body").focus()
    for _ in range(len(wanted) * 2 + 20):
        control.keyboard.press("Tab")
        now = control.evaluate(
            """() => { const e = document.activeElement;
              const style = getComputedStyle(e);
              return [e.id || e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40)
                        || e.name,
                      style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2]; }"""
        )
        reached.add(now[0])
        order.append(now[0])
        if not now[1]:
            unseen.append(now[0])
        if wanted <= reached:
            break
    assert wanted - reached == set(), (sorted(wanted - reached), order)
    assert unseen == [], unseen  # a visible focus ring on each
    # And the vote runs from the keyboard: V opens it, C closes it (confirmed).
    control.on("dialog", lambda dialog: dialog.accept())
    control.locator("body").focus()
    control.keyboard.press("v")
    expect(control.locator("#vote-live")).to_be_visible()
    control.keyboard.press("c")
    expect(control.locator('[data-bind="verdict"]')).to_have_text("Не прийнято")
