"""The official record from the control screen (real headless Chromium): once the sitting is
closed, the secretary finds it among the closed sittings with its protocol and archive links,
and produces the record again with a progress bar until the files are ready."""

from __future__ import annotations

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

    button = record.get_by_role("button", name="Сформувати документи знову")
    button.click()
    expect(record.locator("progress")).to_have_count(1)  # while the worker renders
    expect(record.get_by_role("status")).to_contain_text(
        "Документи готові (версія 1)", timeout=30000
    )
    expect(record.locator("progress")).to_have_count(0)
    expect(button).to_be_enabled()

    pdf = requests.get(f"{sitting.base}{href}", timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
