"""The official record from the control screen (real headless Chromium): once the sitting is
closed, the secretary finds it among the closed sittings with its protocol and archive links,
and produces the record again, following a percentage until the files are ready."""

from __future__ import annotations

import re

import pytest
import requests
import test_screens
from playwright.sync_api import Browser, expect
from test_screens import PASSWORD, Sitting

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

# The screens' fixtures: a browser, and a sitting open with its agenda and everyone's tokens.
browser = test_screens.browser
sitting = test_screens.sitting


def test_the_secretary_produces_a_closed_sittings_record(
    browser: Browser, sitting: Sitting
) -> None:
    sitting.secretary.ok("post", f"/sittings/{sitting.id}/close")
    control = sitting.page(browser, "/control")
    control.get_by_label("Логін").fill("secretary")
    control.get_by_label("Пароль").fill(PASSWORD)
    control.get_by_role("button", name="Увійти").click()
    record = control.locator(f'[data-bind="records-list"] li[data-sitting="{sitting.id}"]')
    expect(record).to_be_visible()
    protocol = record.get_by_role("link", name="Протокол (PDF)")
    href = protocol.get_attribute("href")
    assert href == f"/archive/sittings/{sitting.id}/protocol.pdf"

    # Every percentage the page shows while the record is produced, as it shows it.
    control.evaluate(
        """(sitting) => {
          window.percentsSeen = [];
          const list = document.querySelector('[data-bind="records-list"]');
          const item = list.querySelector(`li[data-sitting="${sitting}"]`);
          new MutationObserver(() => {
            const shown = item.querySelector(".record-percent")?.textContent.trim();
            if (shown && shown !== window.percentsSeen.at(-1)) window.percentsSeen.push(shown);
          }).observe(item, { subtree: true, childList: true, characterData: true });
        }""",
        sitting.id,
    )
    button = record.get_by_role("button", name="Сформувати документи знову")
    button.click()
    expect(record.locator("progress")).to_have_count(1)  # while the worker renders
    expect(record.locator(".record-percent")).to_have_text(re.compile(r"^\s*\d{1,3}%$"))
    expect(button).to_be_disabled()
    expect(record.locator('.record-done[role="status"]')).to_contain_text(
        "Документи готові (версія 1)", timeout=30000
    )
    expect(record.locator("progress")).to_have_count(0)
    expect(record.locator(".record-percent")).to_have_count(0)
    expect(button).to_be_enabled()
    seen = [int(p.rstrip("%")) for p in control.evaluate("window.percentsSeen")]
    # The percentage moved: it went up through values between the start and the end.
    assert len(seen) >= 2 and seen == sorted(seen), seen
    assert any(0 < p < 100 for p in seen), seen

    pdf = requests.get(f"{sitting.base}{href}", timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # The sitting's place, chair and secretary, set afterwards as a correction of its record.
    details = record.locator("details.sitting-details")
    details.locator("summary").click()
    details.get_by_label("Місце проведення").fill("Сесійна зала міської ради")
    details.get_by_label("Головуючий").select_option(label="Головенко Мер Мерович")
    details.get_by_label("Секретар").select_option(label="Депутатенко02 Іван Петрович")
    details.get_by_role("button", name="Зберегти").click()
    expect(details.get_by_role("status")).to_have_text("Збережено")
    shown = sitting.secretary.ok("get", f"/sittings/{sitting.id}")
    assert (shown["place"], shown["chair_id"], shown["secretary_id"]) == (
        "Сесійна зала міської ради",
        sitting.head,
        sitting.deputies[1],
    )
    assert control.errors == []  # type: ignore[attr-defined]
