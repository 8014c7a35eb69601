"""The screens: server-rendered pages whose small ES modules follow the live push.

/control (secretary and chair), /terminal (a deputy's tablet or phone), /display (the hall
display, 1920×1080), /display/overlay (the broadcast's lower third) and /live (the public web
page). Browser libraries come from node_modules (installed by `npm ci` from package-lock.json)
and are served from /vendor/: never from a CDN, as council halls run on closed networks.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, render_template, send_from_directory
from werkzeug.wrappers import Response

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
    return render_template("display.html", mode="hall")


@bp.get("/display/overlay")
def overlay() -> str:
    return render_template("display.html", mode="overlay")


@bp.get("/live")
def live() -> str:
    return render_template("display.html", mode="web")


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
