"""Every error leaves as JSON that names the problem, with a 4xx status for bad requests."""

from __future__ import annotations

import logging

from flask import Flask
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from voting.domain.errors import DomainError

log = logging.getLogger(__name__)


def error_body(
    code: str, message: str, details: dict[str, object] | None = None
) -> dict[str, object]:
    body: dict[str, object] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> ResponseReturnValue:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
        if "retry_after" in error.details:  # 429: when to try again (RFC 9110)
            headers["Retry-After"] = str(error.details["retry_after"])
        return error_body(error.code, error.message, error.details), error.status, headers

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        code = (error.name or "error").lower().replace(" ", "_")
        message = error.description or error.name
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if isinstance(error, RequestEntityTooLarge) and limit:
            message = f"the body is too large: at most {limit:,} bytes are allowed"
        # the error's own headers stay (a 405's Allow, RFC 9110), but not its HTML content type
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return error_body(code, message), error.code or 500, headers

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> ResponseReturnValue:
        log.exception("unexpected error")
        return error_body(
            "internal_error", "an unexpected error occurred; nothing was changed"
        ), 500
