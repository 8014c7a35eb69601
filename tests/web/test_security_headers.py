"""What a browser is told about every page and answer: load nothing from elsewhere, run no
inline script but the page's own import map, be framed by no other site, guess no content type;
the one cookie (the language) is out of scripts' reach and never crosses sites; a Socket.IO
connection opened by another site's page is refused. (That the screens still work under the
policy, with no violation reported by the browser, the browser tests of tests/e2e/test_screens.py
check on every page they open.)"""

from __future__ import annotations

import re

import pytest

PAGES = ["/", "/display", "/terminal", "/control", "/archive", "/api/v1/state"]


@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_policy(hall, client, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 200, path
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert re.fullmatch(r"'self' 'nonce-[\w-]{20,}'", directives["script-src"])
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_nonce_is_new_for_each_page_and_only_the_import_map_has_it(hall, client) -> None:  # type: ignore[no-untyped-def]
    nonces = []
    for _ in range(2):
        response = client.get("/display")
        nonce = re.search(r"'nonce-([\w-]+)'", response.headers["Content-Security-Policy"])
        assert nonce is not None
        nonces.append(nonce.group(1))
        text = response.get_data(as_text=True)
        assert text.count(f'nonce="{nonce.group(1)}"') == 1
        assert f'<script type="importmap" nonce="{nonce.group(1)}">' in text
    assert nonces[0] != nonces[1]


def test_the_language_cookie_is_http_only_and_same_site(hall, client) -> None:  # type: ignore[no-untyped-def]
    cookie = client.get("/display?lang=en").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over HTTPS it is Secure
    secure = client.get("/display?lang=uk", base_url="https://hall.example").headers["Set-Cookie"]
    assert "Secure" in secure and "HttpOnly" in secure


def test_a_socket_opened_by_another_sites_page_is_refused(hall, app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    handshake = "/socket.io/?EIO=4&transport=polling"
    elsewhere = client.get(handshake, headers={"Origin": "http://evil.example"})
    assert elsewhere.status_code == 400
    here = client.get(handshake, headers={"Origin": "http://localhost"})
    assert here.status_code == 200 and here.get_data(as_text=True).startswith("0{")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_sites_config_names_may_open_a_socket_and_no_other(
    hall, runtime, db_url, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from voting.web import create_app

    app = create_app(
        runtime=runtime,
        overrides={
            "database": {"url": db_url},
            "server": {
                "instance_path": str(tmp_path),
                "allowed_origins": "https://tv.example.ua http://10.0.0.5:8080",
            },
        },
    )
    client = app.test_client()
    handshake = "/socket.io/?EIO=4&transport=polling"

    def opens(origin: str, **extra: str) -> bool:
        answer = client.get(handshake, headers={"Origin": origin, **extra})
        assert answer.status_code in (200, 400), answer.status_code
        return answer.status_code == 200

    assert opens("https://tv.example.ua") and opens("http://10.0.0.5:8080")
    assert opens("http://localhost")  # this server's own pages still may
    assert opens(
        "https://voting.rada.example",
        **{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "voting.rada.example"},
    )
    for other in ("http://evil.example", "http://tv.example.ua", "https://tv.example.ua:444"):
        assert not opens(other), other
