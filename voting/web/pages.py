"""The screens: server-rendered pages whose small ES modules follow the live push.

/control (secretary and chair), /terminal (a deputy's tablet or phone), /display (the hall
display, 1920×1080), /display/overlay (the broadcast's lower third) and /live (the public web
page). Browser libraries come from node_modules (installed by `npm ci` from package-lock.json)
and are served from /vendor/: never from a CDN, as council halls run on closed networks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, make_response, render_template, request, send_from_directory
from flask_babel import format_date, format_time
from werkzeug.wrappers import Response

from voting.domain.names import uk_sort_key
from voting.services import queries

from .api import config, floor_rules, reader
from .i18n import STRINGS

ROOT = Path(__file__).resolve().parent.parent.parent
NODE_MODULES = ROOT / "node_modules"

#: What /vendor/ serves: a public name → the file inside node_modules.
VENDOR = {
    "socket.io.esm.min.js": "socket.io-client/dist/socket.io.esm.min.js",
}

bp = Blueprint("pages", __name__)


@bp.get("/control")
def control() -> str:
    return render_template("control.html")


@bp.get("/terminal")
def terminal() -> str:
    return render_template("terminal.html")


@bp.get("/display")
def display() -> str:
    """The hall display; its seat map follows the hall's rows (config.toml [hall_plan])."""
    return render_template("display.html", mode="hall", hall_plan=config().hall_plan.as_lists())


@bp.get("/display/overlay")
def overlay() -> str:
    return render_template("display.html", mode="overlay")


@bp.get("/live")
def live() -> str:
    return render_template("display.html", mode="web")


#: How often the live page without JavaScript reloads itself, in seconds.
PLAIN_REFRESH_SECONDS = 10


@bp.get("/live/plain")
def live_plain() -> Response:
    """The public live page rendered by the server, for a browser without JavaScript (the live
    page sends such a browser here). It reloads itself every few seconds (the Refresh header),
    unless the reader turns that off (?refresh=off): a page must not move on under a reader
    who needs more time (WCAG 2.2.1), so the page offers both."""
    asked = request.args.get("refresh", "on")
    if asked not in ("on", "off"):
        abort(400, description="refresh must be on or off")
    refreshing = asked == "on"
    shown: dict[str, Any] = queries.live_page(reader(), floor_rules())
    for vote in shown["votes"]:
        vote["groups"] = by_faction(vote.get("roll_call") or [])
    sitting: Any = shown["sitting"]
    page = make_response(
        render_template(
            "live_plain.html",
            mode="plain",
            state=shown,
            refreshing=refreshing,
            period=PLAIN_REFRESH_SECONDS,
            heading=None if sitting is None else heading(sitting["title"], sitting["date"]),
            shown_at=format_time(datetime.now(UTC), "HH:mm:ss"),
        )
    )
    if refreshing:
        page.headers["Refresh"] = str(PLAIN_REFRESH_SECONDS)
    return page


def heading(title: str, iso_date: str) -> str:
    """A sitting's title with its date once, in words (the default title carries it as ISO)."""
    day = format_date(date.fromisoformat(iso_date), "long")
    return title.replace(iso_date, day) if iso_date in title else f"{title} · {day}"


def by_faction(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Roll-call lines grouped: the head first, the factions by name, then those in none; each
    group with its counts per outcome."""
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for line in lines:
        rank = 0 if line.get("is_head") else 1 if line.get("faction") else 2
        name = (
            str(STRINGS["head"])
            if rank == 0
            else line["faction"]
            if rank == 1
            else str(STRINGS["no_faction"])
        )
        groups.setdefault((rank, name), []).append(line)
    return [
        {
            "name": name,
            "members": members,
            "counts": {
                o: sum(1 for m in members if m["outcome"] == o)
                for o in ("for", "against", "abstain", "not_voted", "absent")
            },
        }
        for (rank, name), members in sorted(
            groups.items(), key=lambda g: (g[0][0], uk_sort_key(g[0][1]))
        )
    ]


@bp.get("/vendor/<name>")
def vendor(name: str) -> Response:
    relative = VENDOR.get(name)
    if relative is None:
        abort(404)
    path = NODE_MODULES / relative
    if not path.is_file():
        abort(503, description=f"{relative} is missing: run `npm ci` in {ROOT}")
    return send_from_directory(path.parent, path.name, mimetype="text/javascript", max_age=3600)


@bp.get("/favicon.ico")
def favicon() -> tuple[str, int]:
    return "", 204  # no icon; browsers ask anyway
