"""Security headers on every response of the web door.

The pages load only their own scripts, styles and the vendored Socket.IO client, from this
server: the Content-Security-Policy says so, and allows no inline script but the import map of
the page being served (it carries a nonce drawn anew for each response). Pages may not be framed
by another site (clickjacking of the control screen), and browsers do not guess content types.

No cookie carries authority (the API and the sockets take a bearer token, which a form on another
site cannot send: there is nothing for cross-site request forgery to ride on); the one cookie,
the chosen language, is HttpOnly, SameSite=Lax, and Secure when served over HTTPS (i18n.py).
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g

POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def csp_nonce() -> str:
    """This response's nonce (drawn on first use)."""
    nonce: str | None = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def install(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def secure(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = POLICY.format(nonce=csp_nonce())
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
