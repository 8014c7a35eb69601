"""The page of the simulated consoles (hardware/sim_page.py) in real headless Chromium, with a bus
master driving the consoles over a real pseudo-terminal: a click inserts the deputy's card, a held
mouse button holds the За key (and Enter holds a key from the keyboard), each reaching the bus
master as its events; the lights the master sets show on the tile."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
import test_screens
from playwright.sync_api import Browser, expect
from waiting import until

from hardware import protocol as p
from hardware.bus import BusMaster, PortSettings
from hardware.sim_page import serve_page
from hardware.simulator import ConsoleSimulator, demo_fleet

pytestmark = pytest.mark.e2e

UID = "04a1b2c3d4e5f6"
CARDS = {1: ("Олена Петренко", UID), 2: ("Іван Коваль", "0a0b0c0d")}


class Quiet:
    """A BusListener that hears nothing: the test asks the simulator what was acknowledged."""

    def console_event(self, port: str, address: int, kind: p.EventKind, data: bytes) -> None:
        pass

    def console_online(self, port: str, address: int, online: bool) -> None:
        pass

    def console_hello(self, port: str, address: int, hello: p.Hello) -> None:
        pass

    def console_status(self, port: str, address: int, inputs: p.Inputs, faults: p.Faults) -> None:
        pass

    def port_state(self, port: str, connected: bool, error: str | None) -> None:
        pass

    def refused(self, port: str, address: int | None, reason: str) -> None:
        pass


# The browser: the screens' tests' fixture (headless Chromium, once per module).
browser = test_screens.browser


@pytest.fixture
def hall() -> Iterator[tuple[ConsoleSimulator, BusMaster, str]]:
    fleet = demo_fleet(2)
    with ConsoleSimulator(fleet) as simulator:
        master = BusMaster(
            PortSettings(simulator.open_pty(), reply_timeout=0.03, addresses=(1, 2)),
            {spec.serial: spec.key for spec in fleet},
            Quiet(),
        )
        master.start()
        server, thread = serve_page(simulator, "127.0.0.1", 0, CARDS)
        try:
            until(lambda: simulator.has_session(1) and simulator.has_session(2), 5)
            yield simulator, master, f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            master.stop()


def kinds(simulator: ConsoleSimulator, address: int) -> list[p.EventKind]:
    return [kind for kind, _ in simulator.acknowledged(address)]


def test_a_card_and_a_held_key_reach_the_bus_and_the_lights_come_back(
    browser: Browser, hall: tuple[ConsoleSimulator, BusMaster, str]
) -> None:
    simulator, master, url = hall
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # a style or script the page's policy refuses is reported on the console
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    try:
        page.goto(url)
        tile = page.locator('.tile[data-address="1"]')
        expect(tile.locator(".name")).to_have_text("Олена Петренко")
        expect(tile.locator(".lamps")).to_have_css("display", "flex")  # its own stylesheet

        tile.locator("button.card").click()
        until(
            lambda: simulator.acknowledged(1) == [(p.EventKind.CARD_INSERTED, bytes.fromhex(UID))]
        )
        expect(tile.locator("button.card")).to_have_class(re.compile(r"\bin\b"))

        vote_for = tile.locator("button.key.for")
        vote_for.hover()
        page.mouse.down()
        until(lambda: kinds(simulator, 1)[1:] == [p.EventKind.KEY_DOWN])
        expect(vote_for).to_have_attribute("aria-pressed", "true")
        time.sleep(0.4)  # held, as a deputy holds the key
        assert kinds(simulator, 1)[1:] == [p.EventKind.KEY_DOWN]  # no release while held
        page.mouse.up()
        until(lambda: kinds(simulator, 1)[1:] == [p.EventKind.KEY_DOWN, p.EventKind.KEY_UP])
        down, up = simulator.acknowledged(1)[1:]
        assert down[1] == bytes([p.Key.FOR]) and up[1][0] == p.Key.FOR
        assert int.from_bytes(up[1][1:3], "big") >= 400  # held milliseconds
        expect(vote_for).to_have_attribute("aria-pressed", "false")

        # not lit by the press: only once the server (here the test) commits it
        expect(vote_for).not_to_have_class(re.compile(r"\blit\b"))
        master.set_lights(1, p.Lights.FOR | p.Lights.VOTE_OPEN)
        expect(vote_for).to_have_class(re.compile(r"\blit\b"))
        expect(vote_for).to_have_attribute("aria-label", "За — світиться")
        expect(tile.locator('[data-light="VOTE_OPEN"]')).to_have_class(re.compile(r"\bon\b"))
        expect(tile).to_have_class(re.compile(r"\bvote-open\b"))
        other = page.locator('.tile[data-address="2"] button.key.for')
        expect(other).not_to_have_class(re.compile(r"\blit\b"))

        # the keyboard holds a key too: Enter down … Enter up
        against = page.locator('.tile[data-address="2"] button.key.against')
        against.focus()
        page.keyboard.down("Enter")
        until(lambda: kinds(simulator, 2) == [p.EventKind.KEY_DOWN])
        page.keyboard.up("Enter")
        until(lambda: kinds(simulator, 2) == [p.EventKind.KEY_DOWN, p.EventKind.KEY_UP])
        assert simulator.acknowledged(2)[0][1] == bytes([p.Key.AGAINST])
        assert errors == []
    finally:
        page.close()
