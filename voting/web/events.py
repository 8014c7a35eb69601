"""Input at both doors: strict JSON, and one answer for every Socket.IO event that asks for one.

JSON is read strictly at the HTTP door and in Socket.IO packets alike: a key given twice, NaN or
Infinity, or a number too long to read is refused with its reason (Python's json would take the
last of two keys silently, and a 5,000-digit integer raises a ValueError of its own).

A Socket.IO event sent with a callback always gets an answer, `{"ok": true, ...}` or
`{"ok": false, "error": {"code", "message"}}`: also when its packet's JSON cannot be read (the
packet becomes the event MALFORMED, answered by `unknown_event`), when it names no event of this
server, or when it carries more than the one object an event takes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from flask.json.provider import DefaultJSONProvider, JSONProvider

from voting.domain.errors import DomainError, InvalidInput

log = logging.getLogger(__name__)

#: The event a Socket.IO packet becomes when its JSON cannot be read (a client that sends an
#: event of this name gets the answer an unreadable packet gets).
MALFORMED = "\x00malformed"

SERVER_ERROR = "the server could not complete this; what is recorded shows on the screens"


class MalformedJSON(InvalidInput):
    code = "malformed_json"
    status = 400


class UnknownEvent(InvalidInput):
    code = "unknown_event"
    status = 404


def _one_of_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} is given twice")
        out[key] = value
    return out


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


def strict_loads(text: str | bytes) -> Any:
    """JSON as the standard says it, and no key twice in one object.

    Raises MalformedJSON naming the problem."""
    try:
        return json.loads(text, object_pairs_hook=_one_of_each, parse_constant=_no_constant)
    except RecursionError:
        raise MalformedJSON("the JSON is nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, a repeated key, too many digits, bad UTF-8
        raise MalformedJSON(f"not valid JSON: {error}") from None


class StrictJSONProvider(DefaultJSONProvider):
    """The application's JSON: written as Flask's, read by `strict_loads`."""

    sort_keys = False
    ensure_ascii = False

    def loads(self, s: str | bytes, **_kwargs: Any) -> Any:
        return strict_loads(s)


class PacketJSON:
    """The `json` of the Socket.IO server: a packet whose JSON cannot be read is not dropped
    unanswered; it becomes the event MALFORMED carrying the reason."""

    def __init__(self, provider: JSONProvider) -> None:
        self.provider = provider

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return self.provider.dumps(obj, **kwargs)

    def loads(self, text: str | bytes, **_kwargs: Any) -> Any:
        try:
            return strict_loads(text)
        except MalformedJSON as error:
            return [MALFORMED, error.message]


def failed(error: DomainError) -> dict[str, object]:
    return {"ok": False, "error": {"code": error.code, "message": error.message}}


def answer(
    run: Callable[[], dict[str, object]], what: str, failure: str = SERVER_ERROR
) -> dict[str, object]:
    """`run`'s result as an event's answer; a refusal or a failure as an error answer (a
    failure is logged, and its answer says only `failure`)."""
    try:
        return {"ok": True, **run()}
    except DomainError as error:
        return failed(error)
    except Exception:  # never leave a screen or a gateway waiting
        log.exception("socket event %s failed", what)
        return {"ok": False, "error": {"code": "server_error", "message": failure}}


def the_object(args: tuple[object, ...]) -> dict[str, Any]:
    """The one JSON object an event carries, or InvalidInput saying what came instead."""
    if len(args) > 1:
        raise InvalidInput(f"an event carries one object; this one carried {len(args)} arguments")
    data = args[0] if args else None
    if not isinstance(data, dict):
        raise InvalidInput("the event needs an object")
    return data


def unknown_event(event: object, *args: object) -> dict[str, object]:
    """The answer to a packet that could not be read, or to an event this server has not."""
    if event == MALFORMED:
        reason = args[0] if args and isinstance(args[0], str) else "not valid JSON"
        return failed(MalformedJSON(reason))
    return failed(UnknownEvent(f"there is no event {str(event)[:60]!r} here"))


class PacketsUnlogged(logging.Filter):
    """Keeps what a connection sends and receives out of Engine.IO's log at any level: at INFO
    it logs each packet's data, which holds a connection's bearer token (its sign-in) and every
    choice cast, a secret ballot's among them. The packet's type and size stay."""

    PACKET_MESSAGES = ("%s: Received packet %s data %s", "%s: Sending packet %s data %s")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in self.PACKET_MESSAGES and isinstance(record.args, tuple):
            sid, kind, data = record.args
            size = len(data) if isinstance(data, str | bytes) else 0
            record.args = (sid, kind, f"({size} characters, not logged)")
        return True


def keep_packets_out_of_logs() -> None:
    """Install PacketsUnlogged on Engine.IO's server logger, once."""
    engineio_log = logging.getLogger("engineio.server")
    if not any(isinstance(f, PacketsUnlogged) for f in engineio_log.filters):
        engineio_log.addFilter(PacketsUnlogged())
