"""A crash in the middle of a roll-call vote, as the secretary lives it: `voting serve` is killed
(SIGKILL: no word to anyone) while a vote is open, a new `voting serve` starts on the same
database at once, and the control screen in real headless Chromium says the vote was interrupted
and when; deputies cannot vote until the secretary continues it; then it goes on and is counted
with every choice acknowledged before the crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
import test_screens
from chromium import ARTIFACTS
from halls import Clock, build_hall
from playwright.sync_api import Browser, expect
from serving import ServerProcess, write_config

from voting.adapters.schema import upgrade
from voting.bootstrap import build_runtime
from voting.config import database_config
from voting.domain.actors import SYSTEM
from voting.services import auth
from voting.services.commands import CreateToken

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"


# The screens' browser (module-scoped, real headless Chromium).
browser = test_screens.browser


class Api:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def call(self, token: str, method: str, path: str, json: Any = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return self.http.request(method, self.base + path, json=json, headers=headers, timeout=30)

    def ok(self, token: str, method: str, path: str, json: Any = None, status: int = 200) -> Any:
        response = self.call(token, method, path, json)
        assert response.status_code == status, (path, response.status_code, response.text[:300])
        return response.json()


def test_a_vote_cut_short_by_a_crash_is_continued_from_the_control_screen(
    browser: Browser, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'council.sqlite3'}"
    setup = build_runtime(database_config(url))
    upgrade(setup.engine)
    hall = build_hall(setup, Clock())  # 42 deputies and the mayor, a sitting open, 3 items
    auth.add_user(setup.uow(), SYSTEM, "secretary", PASSWORD, "secretary")

    def token(spec: dict[str, Any]) -> str:
        return auth.create_token(setup.uow(), SYSTEM, CreateToken.parse(spec))

    secretary = token({"role": "secretary"})
    deputies = hall.deputies[:24]  # a quorum of 42
    tokens = {d: token({"role": "deputy", "deputy_id": d}) for d in deputies}
    setup.stop()
    config = write_config(tmp_path / "config.toml", url)
    sitting = hall.sitting

    first = ServerProcess("first", config, tmp_path)
    api = Api(first.api)
    api.ok(secretary, "post", f"/sittings/{sitting}/registration/open")
    for d in deputies:
        api.ok(tokens[d], "post", f"/sittings/{sitting}/register")
    vote = api.ok(
        secretary,
        "post",
        f"/sittings/{sitting}/votes",
        {"item_id": hall.items[0], "kind": "roll_call", "time_limit_seconds": 300},
        status=201,
    )["vote_id"]
    before = {d: ("for" if n % 3 else "against") for n, d in enumerate(deputies[:6])}
    for d, choice in before.items():
        api.ok(tokens[d], "post", f"/votes/{vote}/choices", {"choice": choice})

    first.process.kill()  # the server dies in the middle of the vote
    first.process.wait(timeout=10)
    second = ServerProcess("second", config, tmp_path)  # and a new one starts at once
    try:
        api = Api(second.api)
        refused = api.call(tokens[deputies[6]], "post", f"/votes/{vote}/choices", {"choice": "for"})
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "interrupted"

        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(second.url + "/control")
        page.get_by_label("Логін").fill("secretary")
        page.get_by_label("Пароль").fill(PASSWORD)
        page.get_by_role("button", name="Увійти").click()
        banner = page.locator('[data-bind="vote-interrupted"]')
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Голосування перервано: сервер зупинився о")
        expect(banner).to_contain_text("Записані раніше голоси збережено")
        expect(page.locator('[data-bind="vote-time-left"]')).to_have_text("Час зупинено")
        expect(page.locator('[data-bind="votes-cast"]')).to_have_text("6")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "control-vote-interrupted.png"))
        phone = browser.new_page(viewport={"width": 390, "height": 844})
        phone.on("pageerror", lambda error: errors.append(str(error)))
        phone.goto(f"{second.url}/terminal#token={tokens[deputies[6]]}")
        expect(phone.locator('[data-bind="time-left"]')).to_have_text(
            "Голосування перервано через зупинку сервера: зачекайте, доки секретар його продовжить"
        )
        expect(phone.get_by_role("button", name="За", exact=True)).to_be_disabled()
        display = browser.new_page(viewport={"width": 1920, "height": 1080})
        display.on("pageerror", lambda error: errors.append(str(error)))
        display.goto(f"{second.url}/display")
        expect(display.locator(".time-left")).to_have_text("Час зупинено")

        page.get_by_role("button", name="Продовжити голосування").click()
        expect(banner).to_be_hidden()
        expect(
            phone.get_by_role("button", name="За", exact=True)
        ).to_be_enabled()  # the terminal may vote
        phone.get_by_role("button", name="Утримався").click()
        expect(page.locator('[data-bind="vote-time-left"]')).to_contain_text("Залишилось")
        for d in deputies[7:10]:
            api.ok(tokens[d], "post", f"/votes/{vote}/choices", {"choice": "abstain"})
        expect(page.locator('[data-bind="votes-cast"]')).to_have_text("10")
        page.get_by_role("button", name="Завершити голосування").click()  # 14 not voted: confirmed
        expect(page.locator('[data-bind="verdict"]')).to_be_visible()

        counted = api.ok(secretary, "get", f"/votes/{vote}")
        assert counted["result"]["for"] == 4 and counted["result"]["against"] == 2
        assert counted["result"]["abstain"] == 4
        sheet = {line["deputy_id"]: line["outcome"] for line in counted["roll_call"]}
        assert {d: sheet[d] for d in before} == before  # every acknowledged choice intact
        events = api.ok(secretary, "get", "/journal?after=0")["entries"]
        kinds = [e["kind"] for e in events]
        assert kinds.index("vote_interrupted") < kinds.index("vote_continued")
        assert errors == []
        for screen in (page, phone, display):
            screen.close()
    finally:
        second.stop()
