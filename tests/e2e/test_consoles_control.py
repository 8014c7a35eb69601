"""The secretary sees the seat consoles on the control screen (real headless Chromium): how many
answer, which seats do not (within moments of the cable being pulled), one card in two seats as
an alarm they settle with one click, and frames refused on the bus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import test_screens
from console_hall import SEATS, HallWithConsoles, card, hall_with_consoles
from playwright.sync_api import Browser, expect
from waiting import until

from hardware import protocol
from voting.domain.actors import SYSTEM
from voting.services import auth
from voting.services.commands import CreateToken

pytestmark = pytest.mark.e2e


# The browser: the screens' tests' fixture (headless Chromium, once per module).
browser = test_screens.browser


@pytest.fixture
def consoles_hall(db_url: str, tmp_path: Path) -> Iterator[HallWithConsoles]:
    with hall_with_consoles(db_url, tmp_path) as hall:
        yield hall


def test_the_control_screen_shows_offline_seats_alarms_and_refused_frames(
    browser: Browser, consoles_hall: HallWithConsoles
) -> None:
    h, sim = consoles_hall, consoles_hall.simulator
    until(lambda: all(h.seat(s)["online"] for s in range(1, SEATS + 1)))
    token = auth.create_token(h.hall.rt.uow(), SYSTEM, CreateToken.parse({"role": "secretary"}))
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    refused: list[str] = []  # what the Content-Security-Policy blocked, as Chromium reports it
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    try:
        page.goto(f"{h.base}/control#token={token}")
        panel = page.locator("#consoles-panel")
        expect(panel).to_contain_text(f"{SEATS} / {SEATS} пультів відповідають на шині")

        sim.stop_answering(5)
        expect(panel).to_contain_text("Не відповідають: місця 5", timeout=5000)
        sim.resume(5)
        expect(panel).not_to_contain_text("Не відповідають", timeout=5000)

        sim.insert_card(1, card(1))
        sim.insert_card(6, card(1))  # a copy of the same card in seat 6
        alarm = panel.locator(".console-alarm")
        expect(alarm).to_contain_text("Одна картка у двох місцях")
        expect(alarm).to_contain_text("(1, 6)")
        alarm.get_by_role("button", name="Залишити картку в місці 1").click()
        expect(alarm).to_have_count(0)
        assert h.seat(1)["deputy_id"] == h.hall.deputies[0] and h.seat(6)["deputy_id"] is None

        sim.forge_event(3, protocol.EventKind.KEY_DOWN, bytes([protocol.Key.FOR]))
        expect(panel).to_contain_text("Відхилено на шині: forged", timeout=5000)
        assert refused == []
    finally:
        page.close()
