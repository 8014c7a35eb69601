"""The floor through the screens in real headless Chromium, against a live server whose council
speaks briefly (a debate speech of 5 s, amber 2 s before the end, the microphone off 2 s after
it): a deputy asks for the floor at the terminal, the secretary gives it with the key N, the hall
display, the overlay and the terminal count down to the server's deadline, and the server's own
speech timer switches the (simulated) microphone off; the speech is then in the archive. A
second test runs the speaker list from the control screen. Screenshots are saved as artifacts."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import test_screens
from playwright.sync_api import Page, expect
from test_screens import Sitting, shot, sign_in_control
from waiting import until

from voting.adapters.schema import upgrade
from voting.bootstrap import build_runtime
from voting.config import load_config
from voting.web import create_app
from voting.web.server import start_server

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

# The screens' fixtures: a browser, and a sitting open with its agenda and everyone's tokens.
browser = test_screens.browser
sitting = test_screens.sitting

#: The council's speaking times, short enough for a test.
SHORT_FLOOR = {
    "speech_types": {"speech": {"seconds": 5}},
    "floor": {"warning_seconds": 2, "grace_seconds": 2},
}
#: A countdown as the screens show it: m:ss, with a minus sign once overrun.
COUNTDOWN = re.compile(r"^\u2212?\d+:\d\d$")


@pytest.fixture
def live_server(db_url: str, tmp_path: Any) -> Iterator[Any]:
    """The live server of conftest.py with SHORT_FLOOR in its configuration, and its runtime
    started, as `voting serve` starts it: the speech timer runs in it."""
    empty = tmp_path / "config.toml"
    empty.write_text("", encoding="utf-8")
    config = load_config(
        empty,
        overrides={
            "database": {"url": db_url},
            "server": {"instance_path": str(tmp_path)},
            **SHORT_FLOOR,
        },
    )
    runtime = build_runtime(config)
    upgrade(runtime.engine)
    handle = start_server(create_app(runtime=runtime))
    try:
        yield SimpleNamespace(url=f"{handle.url}/api/v1", runtime=runtime)
    finally:
        handle.stop()


def seconds_shown(page: Page, where: str = "") -> int:
    """The countdown a screen shows, in whole seconds (negative once overrun)."""
    text = page.locator(f"{where} [data-countdown]".strip()).first.inner_text().strip()
    assert COUNTDOWN.match(text), text
    minutes, seconds = text.lstrip("\u2212").split(":")
    value = int(minutes) * 60 + int(seconds)
    return -value if text.startswith("\u2212") else value


def wait_for_signal(page: Page, signal: str, timeout: float = 15_000) -> None:
    """Until the countdown is `signal` (checked every 50 ms: the red lasts the grace time)."""
    page.wait_for_function(
        "signal => document.querySelector('[data-countdown]')?.dataset.signal === signal",
        arg=signal,
        polling=50,
        timeout=timeout,
    )


def microphones_on(sitting: Sitting) -> list[str]:
    on: list[str] = sitting.secretary.ok("get", "/microphones")["on"]
    return on


def test_a_deputy_asks_for_the_floor_speaks_and_the_timer_cuts_the_microphone(
    browser: Any, sitting: Sitting
) -> None:
    me = sitting.deputies[0]
    name = "Депутатенко01 Іван Петрович"
    sitting.register_first(3)
    sitting.put_up(0)
    display = sitting.page(browser, "/display", 1920, 1080)
    overlay = sitting.page(browser, "/display/overlay", 1920, 1080)
    public = sitting.page(browser, "/live", 1280, 900)
    phone = sitting.page(browser, f"/terminal#token={sitting.tokens[me]}", 390, 844)
    control = sitting.page(browser, "/control")
    sign_in_control(control)

    # The deputy asks for a debate speech at the terminal and sees their place.
    phone.get_by_role("button", name="Виступ", exact=True).click()
    mine = phone.locator('[data-bind="my-requests"] li')
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Ваше місце в черзі: 1")
    expect(mine).to_contain_text("Виступ в обговоренні")
    expect(phone.get_by_role("button", name="Виступ", exact=True)).to_be_disabled()  # waiting
    expect(display.locator('[data-bind="queue"]')).to_contain_text("Депутатенко01")
    expect(public.locator('[data-bind="queue"]')).to_contain_text(name)
    expect(control.locator('[data-bind="floor-queue"] li')).to_contain_text(name)
    microphone = f"deputy:{me}"
    assert microphone not in microphones_on(sitting)

    # N gives the floor to the next: the screens count down to the same deadline.
    control.keyboard.press("n")
    expect(display.locator('[data-bind="speaker-name"]')).to_have_text(name)
    expect(display.locator('[data-bind="speech-type"]')).to_have_text("Виступ в обговоренні")
    expect(phone.get_by_role("heading", name="Вам надано слово")).to_be_visible()
    expect(phone.locator('[data-bind="floor-me"] [data-countdown]')).to_have_text(COUNTDOWN)
    expect(mine).to_have_count(0)  # no longer waiting
    expect(overlay.locator('[data-bind="speaker-name"]')).to_have_text(name)
    expect(overlay.locator("[data-countdown]")).to_be_visible()
    expect(overlay.locator("[data-countdown]")).to_have_text(COUNTDOWN)
    expect(public.locator('[data-bind="speaker-name"]')).to_have_text(name)
    expect(control.locator('[data-bind="speech-name"]')).to_have_text(name)
    first = seconds_shown(display)
    assert 0 < first <= 5, first
    display.wait_for_function(
        "first => { const t = document.querySelector('[data-countdown]').textContent;"
        " const [m, s] = t.replace('\u2212', '-').split(':');"
        " return Number(m) * 60 + Number(s) < first; }",
        arg=first,
        polling=50,
        timeout=5_000,
    )  # it counts down
    assert microphone in until(lambda: microphone_listed(sitting, microphone))

    # Amber at the warning, red at zero; the grace time over, the server's timer mutes.
    wait_for_signal(display, "warning")
    wait_for_signal(display, "over")
    assert seconds_shown(display) <= 0
    assert microphone in microphones_on(sitting)  # still on during the grace time
    until(lambda: microphone not in microphones_on(sitting))
    expect(display.locator('[data-bind="speaker-now"]')).to_be_hidden()
    expect(phone.locator('[data-bind="floor-me"]')).to_be_hidden()
    expect(control.locator('[data-bind="floor-counts"]')).to_have_text("Виступили: 1 · У черзі: 0")

    # The archive: the speech, ended by the timer, in JSON and in CSV.
    speeches = sitting.secretary.ok("get", f"/sittings/{sitting.id}/speeches")["speeches"]
    assert [(s["speaker"], s["deputy_id"], s["type"], s["ended_by"]) for s in speeches] == [
        (name, me, "speech", "timer")
    ]
    assert 5 <= speeches[0]["duration_seconds"] <= 9
    answer = sitting.secretary.call("get", f"/sittings/{sitting.id}/speeches?format=csv")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["speaker"], r["type"]) for r in rows] == [(name, "speech")]
    assert rows[0]["item"] == "1. Про бюджет міста на 2027 рік"
    expect(control.locator('[data-bind="events"]')).to_contain_text("час виступу вичерпано")


def microphone_listed(sitting: Sitting, microphone: str) -> list[str] | None:
    on = microphones_on(sitting)
    return on if microphone in on else None


def queue_names(page: Page) -> list[str]:
    return [
        text.strip()
        for text in page.locator('[data-bind="floor-queue"] .queue-name').all_inner_texts()
    ]


def test_the_control_screen_runs_the_speaker_list(browser: Any, sitting: Sitting) -> None:
    sitting.register_first(6)
    sitting.put_up(0)
    kinds = ["question", "reply", "explanation_of_vote", "faction_statement", "question"]
    for deputy, kind in zip(sitting.deputies[1:6], kinds, strict=True):
        asking = sitting.hall.caller(sitting.tokens[deputy])  # closed with the hall
        asking.ok("post", f"/sittings/{sitting.id}/floor/requests", {"type": kind}, status=201)
    control = sitting.page(browser, "/control")
    sign_in_control(control)
    control.on("dialog", lambda dialog: dialog.accept())
    names = [f"Депутатенко{n:02d} Іван Петрович" for n in range(2, 7)]
    expect(control.locator('[data-bind="floor-queue"] li')).to_have_count(5)
    assert queue_names(control) == names

    # An invited speaker, added from the form, joins at the end.
    control.get_by_text("Записати промовця").click()
    form = control.locator("#speaker-form")
    form.get_by_label("Запрошений (не депутат)").check()
    form.get_by_label("Прізвище, ім'я, по батькові").fill("Гостенко Марія Іванівна")
    form.get_by_label("Посада").fill("директорка департаменту освіти")
    expect(form.get_by_label("Тип виступу")).to_have_value("invited")
    form.get_by_role("button", name="Записати").click()
    expect(control.locator('[data-bind="floor-queue"] li')).to_have_count(6)
    expect(control.locator('[data-bind="floor-queue"] li').last).to_contain_text(
        "директорка департаменту освіти · Запрошений"
    )

    control.get_by_text("Записати промовця").click()  # the form folds away
    shot(control, "control-floor-list")

    # ↑ moves one up; a drag moves the invited speaker to the top; ✕ removes one.
    control.get_by_role("button", name=f"Вище: {names[1]}").click()
    expect(control.locator('[data-bind="floor-queue"] .queue-name').first).to_have_text(names[1])
    queue = control.locator('[data-bind="floor-queue"] li')
    queue.last.drag_to(
        queue.first, source_position={"x": 12, "y": 12}, target_position={"x": 12, "y": 4}
    )
    expect(control.locator('[data-bind="floor-queue"] .queue-name').first).to_have_text(
        "Гостенко Марія Іванівна"
    )
    control.get_by_role("button", name=f"Вилучити з черги: {names[4]}").click()
    expect(queue).to_have_count(5)
    waiting = sitting.secretary.ok("get", f"/sittings/{sitting.id}/floor")["queue"]
    assert [e["name"] for e in waiting] == [
        "Гостенко Марія Іванівна",
        names[1],
        names[0],
        names[2],
        names[3],
    ]

    # The floor to the one chosen (a question: a minute), then pause, +1 min, resume, end.
    display = sitting.page(browser, "/display", 1920, 1080)
    overlay = sitting.page(browser, "/display/overlay", 1920, 1080)
    waiting_phone = sitting.page(
        browser, f"/terminal#token={sitting.tokens[sitting.deputies[2]]}", 390, 844
    )
    speaker_phone = sitting.page(
        browser, f"/terminal#token={sitting.tokens[sitting.deputies[1]]}", 390, 844
    )
    control.get_by_role("button", name=f"Надати слово: {names[0]}").click()
    expect(display.locator('[data-bind="speaker-name"]')).to_have_text(names[0])
    expect(display.locator('[data-bind="queue"] li')).to_have_count(3)  # the next three
    expect(display.locator('[data-bind="floor-counts"]')).to_have_text("Виступили: 0 · У черзі: 4")
    expect(waiting_phone.locator('[data-bind="my-requests"] li')).to_contain_text(
        "Ваше місце в черзі: 2"
    )
    control.keyboard.press("p")
    expect(display.locator('[data-bind="speech-paused"]')).to_be_visible()
    paused_at = seconds_shown(display)
    control.keyboard.press("Equal")  # "+": one more minute
    expect(control.locator('[data-bind="speech-about"]')).to_contain_text("регламент 2:00")
    # the display gets the push a moment after the control screen: the clock stood still
    # while paused, so it shows exactly one minute more
    until(lambda: seconds_shown(display) == paused_at + 60, 5)
    control.get_by_role("button", name="Продовжити", exact=True).click()
    expect(display.locator('[data-bind="speech-paused"]')).to_be_hidden()
    expect(overlay.locator("[data-countdown]")).to_have_text(COUNTDOWN)
    shot(display, "display-floor-speaker")
    shot(overlay, "overlay-floor-speaker")
    shot(waiting_phone, "terminal-floor-waiting")
    expect(speaker_phone.get_by_role("heading", name="Вам надано слово")).to_be_visible()
    shot(speaker_phone, "terminal-floor-speaking")
    shot(control, "control-floor")
    control.keyboard.press("e")
    expect(display.locator('[data-bind="speaker-now"]')).to_be_hidden()
    expect(display.locator('[data-bind="floor-counts"]')).to_have_text("Виступили: 1 · У черзі: 4")
    control.keyboard.press("l")
    expect(control.locator('[data-bind="list-state"]')).to_have_text("Запис закрито")
    expect(waiting_phone.get_by_role("button", name="Репліка", exact=True)).to_be_disabled()
    waiting_phone.get_by_role("button", name="Відмовитися від виступу: Репліка").click()
    expect(waiting_phone.locator('[data-bind="my-requests"] li')).to_have_count(0)
    expect(display.locator('[data-bind="floor-counts"]')).to_have_text("Виступили: 1 · У черзі: 3")


def test_the_hall_display_fits_a_speaker_a_queue_and_an_open_vote(
    browser: Any, sitting: Sitting
) -> None:
    secretary = sitting.secretary
    sitting.register_first(25)
    long_title = (
        "Про внесення змін до рішення міської ради «Про затвердження Програми розвитку "
        "житлово-комунального господарства та благоустрою міста на 2025–2027 роки»"
    )
    item = secretary.ok(
        "post",
        f"/sittings/{sitting.id}/agenda",
        {"title": long_title, "draft_number": "901/7"},
        status=201,
    )["id"]
    secretary.ok("put", f"/agenda-items/{item}/status", {"status": "under_consideration"})
    kinds = ["faction_statement", "speech", "question", "reply", "explanation_of_vote", "speech"]
    for deputy, kind in zip(sitting.deputies[:6], kinds, strict=True):
        asking = sitting.hall.caller(sitting.tokens[deputy])
        asking.ok("post", f"/sittings/{sitting.id}/floor/requests", {"type": kind}, status=201)
    display = sitting.page(browser, "/display", 1920, 1080)
    public = sitting.page(browser, "/live", 1280, 900)
    control = sitting.page(browser, "/control")
    sign_in_control(control)
    control.get_by_role("button", name="Надати слово наступному").click()
    expect(display.locator('[data-bind="speaker-name"]')).to_have_text(
        "Депутатенко01 Іван Петрович"
    )
    expect(display.locator('[data-bind="floor-counts"]')).to_have_text("Виступили: 0 · У черзі: 5")
    expect(display.locator('[data-bind="queue"] li')).to_have_count(3)
    expect(public.locator('[data-bind="queue"] li')).to_have_count(5)  # the web page: everyone
    expect(public.locator('[data-bind="queue"] li').first).to_contain_text("\u2248")
    assert_fits(display)
    shot(display, "display-floor-queue-of-five")
    shot(public, "public-floor")
    shot(control, "control-floor-speaking")

    # A vote opened meanwhile takes the main area; the speech goes on, small, beside it.
    secretary.ok("post", f"/sittings/{sitting.id}/votes", {"item_id": item}, status=201)
    expect(display.locator('[data-bind="vote-progress"]')).to_contain_text("Проголосували: 0")
    expect(display.locator('[data-bind="speaker"]')).to_have_attribute("data-place", "side")
    expect(display.locator('[data-bind="speaker"] [data-countdown]')).to_have_text(COUNTDOWN)
    expect(display.locator('[data-bind="queue"]')).to_be_hidden()
    assert_fits(display)
    shot(display, "display-floor-beside-a-vote")


def assert_fits(page: Page) -> None:
    """Nothing shown runs past the 1920×1080 canvas."""
    past = page.evaluate(
        """() => [...document.querySelectorAll('#display *')]
        .filter(e => e.offsetParent !== null || e.getClientRects().length)
        .filter(e => { const r = e.getBoundingClientRect();
            return r.width && r.height && (r.bottom > 1081 || r.right > 1921); })
        .filter(e => !e.closest('.hall-plan, .roll-call'))
        .map(e => e.outerHTML.slice(0, 80))"""
    )
    assert past == []


def test_a_display_whose_clock_is_an_hour_wrong_shows_the_same_second(
    browser: Any, sitting: Sitting
) -> None:
    """The countdown runs on the server's clock, which a screen asks for (`clock`), never on the
    device's: a display whose clock is an hour fast shows what a right one shows."""
    sitting.register_first(2)
    sitting.put_up(0)
    right = sitting.page(browser, "/display", 1920, 1080)
    wrong = sitting.page(
        browser,
        "/display",
        1920,
        1080,
        init_script="{ const real = Date.now; Date.now = () => real() + 3600 * 1000; }",
    )
    asking = sitting.hall.caller(sitting.tokens[sitting.deputies[0]])
    asking.ok("post", f"/sittings/{sitting.id}/floor/requests", {"type": "reply"}, status=201)
    sitting.secretary.ok("post", f"/sittings/{sitting.id}/floor/grant", status=201)
    for page in (right, wrong):
        expect(page.locator('[data-bind="speaker-name"]')).to_have_text(
            "Депутатенко01 Іван Петрович"
        )
    assert any('"clock"' in frame for frame in wrong.sent)  # type: ignore[attr-defined]  # it asked the server's time
    for _ in range(5):
        shown = {seconds_shown(right), seconds_shown(wrong)}
        assert max(shown) - min(shown) <= 1, shown  # the same second (or at its boundary)
        assert 0 < max(shown) <= 60
        time.sleep(0.3)
