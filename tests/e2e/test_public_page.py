"""The public live page as a journalist or a resident reads it, on a phone and a desktop, in real
headless Chromium: with JavaScript, the current item and vote, the speaker and the list, and each
roll-call by faction; without JavaScript, the same sitting so far rendered by the server, which
reloads itself."""

from __future__ import annotations

import re

import pytest
import requests
import test_screens
from playwright.sync_api import Browser, expect
from test_screen_defects import held_vote, opened, overflow
from test_screens import Sitting, shot

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

browser = test_screens.browser
sitting = test_screens.sitting


def a_sitting_so_far(sitting: Sitting) -> None:
    """25 registered; item 1 adopted by a roll-call vote, item 2 by a secret ballot, a vote on
    item 3 annulled; a deputy speaks on item 3 and another waits."""
    sitting.register_first(25)
    held_vote(sitting, 0)
    held_vote(sitting, 1, kind="secret")
    sitting.put_up(2)
    annulled = opened(sitting, 2)
    sitting.secretary.ok("post", f"/votes/{annulled}/annul", {"reason": "Збій пульта № 7"})
    for deputy in sitting.deputies[:2]:
        asking = sitting.hall.caller(sitting.tokens[deputy])
        asking.ok("post", f"/sittings/{sitting.id}/floor/requests", {"type": "speech"}, status=201)
    sitting.secretary.ok("post", f"/sittings/{sitting.id}/floor/grant", status=201)


def test_without_javascript_the_public_page_shows_the_sitting_so_far_and_reloads(
    browser: Browser, sitting: Sitting
) -> None:
    a_sitting_so_far(sitting)
    for width, height in ((390, 844), (1280, 900)):
        context = browser.new_context(
            java_script_enabled=False, viewport={"width": width, "height": height}
        )
        page = context.new_page()
        try:
            page.goto(sitting.base + "/live")  # the live page sends it on (noscript)
            expect(page).to_have_url(re.compile(r"/live/plain$"))
            expect(page.locator("h1")).to_have_text("Тестова міська рада")
            expect(page.get_by_text("Зареєстровано: 25 / 42")).to_be_visible()
            expect(page.get_by_text("Пленарне засідання 25 листопада 2026 р.")).to_be_visible()
            expect(page.locator("main")).to_contain_text(
                "Питання 3 · № 753/1: Про затвердження програми «Питна вода»"
            )
            # The speaker and the one waiting.
            expect(page.locator("main")).to_contain_text(
                "Виступ в обговоренні: Депутатенко01 Іван Петрович"
            )
            expect(page.locator("main ol").first).to_contain_text("Депутатенко02 Іван Петрович")
            # Every vote so far, newest first: annulled with its reason, the secret ballot's
            # totals without names, the roll-call by faction.
            votes = page.locator(".plain-votes > li")
            expect(votes).to_have_count(3)
            expect(votes.nth(0)).to_contain_text("Скасовано: Збій пульта № 7")
            expect(votes.nth(1)).to_contain_text("Таємне голосування")
            expect(votes.nth(1)).to_contain_text("Прийнято")
            expect(votes.nth(1).locator("details")).to_have_count(0)
            roll_call = votes.nth(2)
            expect(roll_call).to_contain_text("Прийнято: За 25 · Проти 0")
            roll_call.locator("summary").click()  # <details>: opens without JavaScript
            lines = roll_call.locator("li[data-deputy]")
            expect(lines.first).to_be_visible()
            expect(lines).to_have_count(42)
            heads = roll_call.locator("h4")
            expect(heads).to_have_count(4)  # the four factions (the mayor took no part)
            expect(heads.first).to_contain_text(re.compile(r"^\S.* \(\d+\): За \d+ · Проти 0"))
            assert overflow(page) == [], (width, overflow(page))
            shot(page, f"public-no-javascript-{width}")
        finally:
            context.close()
    # It reloads by itself (the Refresh header): a new item taken up shows within its period;
    # a reader who needs more time turns that off.
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        answer = page.goto(sitting.base + "/live/plain")
        assert answer is not None and answer.headers["refresh"] == "10"
        added = sitting.secretary.ok(
            "post",
            f"/sittings/{sitting.id}/agenda",
            {"title": "Про перейменування вулиці", "draft_number": "760/1"},
            status=201,
        )["id"]
        sitting.secretary.ok(
            "put", f"/agenda-items/{added}/status", {"status": "under_consideration"}
        )
        expect(page.locator("main")).to_contain_text("Про перейменування вулиці", timeout=15_000)
        with page.expect_navigation():
            page.get_by_role("link", name="Не оновлювати").click()
        assert page.url.endswith("/live/plain?refresh=off")
        expect(page.get_by_role("link", name="Оновлювати кожні 10 с")).to_be_visible()
        shown_at = page.locator(".note").inner_text()
        page.wait_for_timeout(11_000)  # past the period: still the same page, not reloaded
        assert page.locator(".note").inner_text() == shown_at
    finally:
        context.close()
    refused = requests.get(sitting.base + "/live/plain?refresh=sometimes", timeout=10)
    assert refused.status_code == 400 and "refresh must be on or off" in refused.text


def test_the_live_page_shows_each_roll_call_by_faction_with_its_counts(
    browser: Browser, sitting: Sitting
) -> None:
    sitting.register_first(25)
    public = sitting.page(browser, "/live", 390, 844)
    held_vote(sitting, 0)
    groups = public.locator(".faction-group")
    expect(groups).to_have_count(4)
    expect(groups.first.locator("h3")).to_contain_text(re.compile(r"\(\d+\)"))
    expect(groups.first.locator(".faction-counts")).to_contain_text("За ")
    expect(public.locator(".roll-call li[data-deputy]")).to_have_count(42)
    total_for = sum(
        int(re.search(r"За (\d+)", text).group(1))  # type: ignore[union-attr]
        for text in groups.locator(".faction-counts").all_inner_texts()
    )
    assert total_for == 25
    assert overflow(public) == []
    shot(public, "public-roll-call-by-faction")


def test_the_live_page_lists_the_sittings_votes_so_far(browser: Browser, sitting: Sitting) -> None:
    public = sitting.page(browser, "/live", 390, 844)
    a_sitting_so_far(sitting)
    votes = public.locator(".earlier-votes > li")
    expect(votes).to_have_count(3)
    expect(votes.nth(0)).to_contain_text("Скасовано: Збій пульта № 7")
    expect(votes.nth(1)).to_contain_text("Таємне голосування · В цілому")
    expect(votes.nth(1).locator("details")).to_have_count(0)  # a secret ballot has no names
    expect(votes.nth(2)).to_contain_text("Прийнято: За 25 · Проти 0 · Утрималися 0")
    votes.nth(2).locator("summary").click()  # the names are read when asked for
    expect(votes.nth(2).locator(".faction-group")).to_have_count(4)
    expect(votes.nth(2).locator("li[data-deputy]")).to_have_count(42)
    # An earlier vote annulled later shows so by itself too.
    first = int(votes.nth(2).get_attribute("data-vote") or 0)
    sitting.secretary.ok("post", f"/votes/{first}/annul", {"reason": "Повторний підрахунок"})
    expect(votes.nth(2)).to_contain_text("Скасовано: Повторний підрахунок", timeout=10_000)
    # A new vote closing comes on top by itself.
    sitting.put_up(0)
    again = opened(sitting, 0)
    sitting.secretary.ok("post", f"/votes/{again}/close")
    expect(votes).to_have_count(4)
    expect(votes.nth(0)).to_contain_text("Не прийнято")
    assert overflow(public) == []
    shot(public, "public-votes-so-far")
