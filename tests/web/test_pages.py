"""The public landing page shows the sitting in progress in Ukrainian and links to the open data."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_landing_page_shows_registration_and_quorum(hall, client) -> None:  # type: ignore[no-untyped-def]
    hall.open_registration()
    hall.register(*hall.deputies[:21])
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "Тестова міська рада" in text
    assert "Зареєстровано: <strong>21</strong> із 42" in text
    assert "немає" in text and "потрібно 22" in text  # 21 of 42 is no quorum
    hall.register(hall.deputies[21])
    assert "<strong class=\"yes\">є</strong>" in client.get("/").get_data(as_text=True)
    for link in ("/api/v1/state", "/api/v1/deputies", "/api/v1/openapi.json"):
        assert f'href="{link}"' in text
    with client.get("/static/base.css") as css:  # served locally: no CDN in a closed hall network
        assert css.status_code == 200 and css.mimetype == "text/css"
