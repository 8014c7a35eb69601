"""The pages: the landing page and the five screens render in Ukrainian by default and in
English on request; everything they load is served by the application (no CDN)."""

from __future__ import annotations

import json
import re

import pytest

from voting.web.pages import NODE_MODULES

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

SCREENS = {
    "/control": ("Пульт секретаря", "Control screen"),
    "/terminal": ("Термінал депутата", "Deputy terminal"),
    "/display": ("Табло в залі", "Hall display"),
    "/display/overlay": ("Титри для трансляції", "Broadcast overlay"),
    "/live": ("Результати наживо", "Live results"),
    "/live/plain": ("Результати наживо", "Live results"),  # without JavaScript
}


def test_landing_page_shows_registration_and_quorum(hall, client) -> None:  # type: ignore[no-untyped-def]
    hall.open_registration()
    hall.register(*hall.deputies[:21])
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "Тестова міська рада" in text and '<html lang="uk">' in text
    assert "Зареєстровано: <strong>21</strong> / 42" in text
    assert "Кворуму немає" in text and "потрібні 22 депутати" in text  # 21 of 42: no quorum
    hall.register(hall.deputies[21])
    assert '<strong class="yes">Кворум є</strong>' in client.get("/").get_data(as_text=True)
    for link in (
        "/api/v1/state",
        "/api/v1/deputies",
        "/api/v1/openapi.json",
        "/control",
        "/terminal",
        "/display",
        "/live",
    ):
        assert f'href="{link}"' in text
    with client.get("/static/base.css") as css:  # served locally: no CDN in a closed hall network
        assert css.status_code == 200 and css.mimetype == "text/css"


def test_english_is_chosen_with_lang_and_remembered(hall, client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/?lang=en")
    text = page.get_data(as_text=True)
    assert '<html lang="en">' in text and "Electronic voting system." in text
    assert "lang=en" in page.headers["Set-Cookie"]
    assert "Electronic voting system." in client.get("/").get_data(as_text=True)  # the cookie
    back = client.get("/?lang=uk").get_data(as_text=True)
    assert "Система електронного голосування." in back
    assert "Система електронного голосування." in client.get("/?lang=xx").get_data(as_text=True)


@pytest.mark.parametrize("path", sorted(SCREENS))
def test_each_screen_renders_in_both_languages(hall, client, path) -> None:  # type: ignore[no-untyped-def]
    uk, en = SCREENS[path]
    text = client.get(f"{path}?lang=uk").get_data(as_text=True)
    assert f"<title>{uk}</title>" in text
    data = json.loads(
        re.search(
            r'<script type="application/json" id="page-data">(.*?)</script>', text, re.S
        ).group(1)
    )
    assert data["lang"] == "uk" and data["timezone"] == "Europe/Kyiv"
    assert data["strings"]["text"]["adopted"] == "Прийнято"
    assert data["strings"]["plural"]["deputies"] == {
        "one": "{n} депутат",
        "few": "{n} депутати",
        "many": "{n} депутатів",
    }
    english = client.get(f"{path}?lang=en").get_data(as_text=True)
    assert f"<title>{en}</title>" in english
    data = json.loads(re.search(r'id="page-data">(.*?)</script>', english, re.S).group(1))
    assert data["strings"]["text"]["adopted"] == "Adopted"
    assert data["strings"]["plural"]["deputies"] == {"one": "{n} deputy", "other": "{n} deputies"}
    # Every script and style the page loads comes from this server.
    for url in re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', text):
        assert url.startswith("/"), url
        with client.get(url) as response:
            assert response.status_code == 200, url


def test_the_socket_io_client_comes_from_node_modules_not_a_cdn(hall, client) -> None:  # type: ignore[no-untyped-def]
    text = client.get("/display").get_data(as_text=True)
    imports = json.loads(
        re.search(r'<script type="importmap" nonce="[^"]+">(.*?)</script>', text, re.S).group(1)
    )["imports"]
    assert imports == {"socket.io-client": "/vendor/socket.io.esm.min.js"}
    if not (NODE_MODULES / "socket.io-client").is_dir():
        pytest.fail("node_modules is missing: the set-up command runs `npm ci` first")
    with client.get("/vendor/socket.io.esm.min.js") as script:
        assert script.status_code == 200 and script.mimetype == "text/javascript"
        assert b"export{" in script.get_data()
    assert client.get("/vendor/anything-else.js").status_code == 404
