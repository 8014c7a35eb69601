"""The public archive: pages without JavaScript, its JSON under /api/v1/archive, and the
official record's files at stable URLs. No token is needed to read any of it.

Files (produced on first request, or beforehand by the record job, voting/record_jobs.py; the
latest version, or `?version=N`):

    /archive/sittings/<id>/protocol.pdf      /archive/sittings/<id>/attendance.pdf
    /archive/votes/<id>/rollcall.pdf         /archive/sittings/<id>/opendata/<resource>.csv|.json

A sitting still open (or planned) has no protocol or attendance yet, and a vote still open no
sheet: 404 with the code `not_in_archive` and a message that says why. A sitting's open data is
public while it is still open (its closed votes), as the law wants a vote published the day it
is held; a vote's roll-call sheet waits for its sitting's close (its roll call is public at once
in /api/v1/votes/<id> and in the open data).

Pages: /archive (closed sittings, deputies), /archive/sittings/<id>, /archive/deputies/<id>
(?from=YYYY-MM-DD&to=YYYY-MM-DD&q=words: a date range and words of the item's title).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from voting.bootstrap import Runtime
from voting.config import Config
from voting.domain.errors import InvalidInput, NotFound, PermissionDenied
from voting.domain.votes import VoteKind, VoteState
from voting.opendata import RESOURCES
from voting.record_jobs import (
    OPENDATA_FORMATS,
    Document,
    Production,
    Productions,
    RecordJob,
    RecordProducer,
    RecordStore,
    Version,
    attendance,
    opendata,
    protocol,
    roll_call,
)
from voting.services import archive

from .auth import current_actor, is_staff, require_actor
from .i18n import STRINGS

bp = Blueprint("archive", __name__)

MEDIA_TYPES = {"pdf": "application/pdf", "csv": "text/csv", "json": "application/json"}

#: How the pages name a vote's stage (the protocol's Ukrainian is in services/records.py).
STAGES = {
    "as_a_basis": _l("as a basis"),
    "as_a_whole": _l("as a whole"),
    "amendment": _l("amendment"),
    "procedural": _l("procedural question"),
    "other": _l("other question"),
}


@bp.app_context_processor
def names() -> dict[str, object]:
    """The pages' names of stages, kinds, item statuses and a deputy's outcomes (the archive's
    pages and the live page without JavaScript)."""
    return {
        "stage_names": STAGES,
        "kind_names": {
            "roll_call": STRINGS["roll_call"],
            "open": STRINGS["open_vote"],
            "secret": STRINGS["secret_ballot"],
        },
        "status_names": {
            key[len("status_") :]: value
            for key, value in STRINGS.items()
            if key.startswith("status_")
        },
        "speech_names": {
            key[len("speech_type_") :]: value
            for key, value in STRINGS.items()
            if key.startswith("speech_type_")
        },
        "outcome_names": {
            o: STRINGS[o] for o in ("for", "against", "abstain", "not_voted", "absent")
        },
    }


def install(app: Flask, runtime: Runtime, config: Config) -> RecordProducer:
    """The archive's blueprint, its producer over the instance folder, and the record job on
    the runtime (it runs once the runtime starts)."""
    root = Path(config.server.instance_path).expanduser().absolute() / "records"
    producer = RecordProducer(runtime, RecordStore(root))
    job = RecordJob(producer)
    runtime.bus.subscribe(job.follow)
    runtime.add_job(job)
    app.extensions["voting.records"] = producer
    productions = Productions(producer)
    runtime.on_stop(productions.stop)
    app.extensions["voting.record_productions"] = productions
    app.extensions["voting.record_job"] = job
    app.register_blueprint(bp)
    return producer


def producer() -> RecordProducer:
    made: RecordProducer = current_app.extensions["voting.records"]
    return made


def productions() -> Productions:
    made: Productions = current_app.extensions["voting.record_productions"]
    return made


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["voting.runtime"]
    return rt


# --- links ----------------------------------------------------------------------------------


def _versions(document: Document, endpoint: str, **ids: Any) -> list[dict[str, object]]:
    return [
        {**v.to_dict(), "url": url_for(endpoint, version=v.number, **ids)}
        for v in producer().store.versions(document)
    ]


def _file(document: Document, endpoint: str, **ids: Any) -> dict[str, object]:
    return {"url": url_for(endpoint, **ids), "versions": _versions(document, endpoint, **ids)}


def _opendata_links(sitting_id: int) -> dict[str, dict[str, object]]:
    return {
        resource: {
            fmt: _file(
                opendata(sitting_id, resource, fmt),
                "archive.opendata_file",
                sitting_id=sitting_id,
                resource=resource,
                fmt=fmt,
            )
            for fmt in OPENDATA_FORMATS
        }
        for resource in RESOURCES
    }


def _vote_links(vote: dict[str, Any], sitting_id: int) -> dict[str, object]:
    links: dict[str, object] = {
        "api": url_for("api.vote", vote_id=vote["vote_id"]),
        "vote_events": url_for(
            "archive.opendata_file", sitting_id=sitting_id, resource="voteEvents", fmt="csv"
        ),
    }
    if vote["state"] == VoteState.CLOSED and vote["result"] is not None:
        links["rollcall"] = _file(
            roll_call(vote["vote_id"]), "archive.rollcall_pdf", vote_id=vote["vote_id"]
        )
        if vote["kind"] == VoteKind.ROLL_CALL:
            links["vote"] = url_for(
                "archive.opendata_file", sitting_id=sitting_id, resource="vote", fmt="csv"
            )
    return links


def _sitting_links(sitting_id: int) -> dict[str, object]:
    return {
        "self": url_for("archive.api_sitting", sitting_id=sitting_id),
        "page": url_for("archive.sitting_page", sitting_id=sitting_id),
        "protocol": _file(protocol(sitting_id), "archive.protocol_pdf", sitting_id=sitting_id),
        "attendance": _file(
            attendance(sitting_id), "archive.attendance_pdf", sitting_id=sitting_id
        ),
    }


def sitting_with_links(sitting_id: int) -> dict[str, Any]:
    data: dict[str, Any] = archive.sitting(runtime().reader(), sitting_id)
    for vote in [v for i in data["items"] for v in i["votes"]] + data["other_votes"]:
        vote["links"] = _vote_links(vote, sitting_id)
    data["links"] = {**_sitting_links(sitting_id), "opendata": _opendata_links(sitting_id)}
    return data


def _day(name: str) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a date, YYYY-MM-DD", field=name) from None


def deputy_filter() -> archive.DeputyFilter:
    text = request.args.get("q", "").strip()
    if len(text) > 200:
        raise InvalidInput("q must be at most 200 characters", field="q")
    return archive.DeputyFilter(_day("from"), _day("to"), text)


def deputy_with_links(deputy_id: int) -> dict[str, Any]:
    data: dict[str, Any] = archive.deputy(runtime().reader(), deputy_id, deputy_filter())
    for choice in data["choices"]:
        choice["links"] = {
            "sitting": url_for("archive.sitting_page", sitting_id=choice["sitting_id"]),
            "rollcall": url_for("archive.rollcall_pdf", vote_id=choice["vote_id"]),
        }
    return data


# --- JSON ------------------------------------------------------------------------------------


@bp.get("/api/v1/archive/sittings")
def api_sittings() -> ResponseReturnValue:
    found = archive.sittings(runtime().reader())
    for s in found:
        s["links"] = _sitting_links(int(s["id"]))  # type: ignore[call-overload]  # an int id
    return {"sittings": found}


@bp.get("/api/v1/archive/sittings/<int:sitting_id>")
def api_sitting(sitting_id: int) -> ResponseReturnValue:
    return sitting_with_links(sitting_id)


@bp.get("/api/v1/archive/deputies/<int:deputy_id>")
def api_deputy(deputy_id: int) -> ResponseReturnValue:
    return deputy_with_links(deputy_id)


def _staff_only() -> None:
    if not is_staff(current_actor()):
        raise PermissionDenied("producing the record is for the secretary and the chair")


def _production_dict(production: Production) -> dict[str, object]:
    return {
        **production.to_dict(),
        "status_url": url_for("archive.production_status", production_id=production.id),
    }


@bp.post("/api/v1/archive/sittings/<int:sitting_id>/records")
@require_actor
def produce_records(sitting_id: int) -> ResponseReturnValue:
    """Staff: produce the sitting's record again (a new version of each file that changed, e.g.
    after a deputy's name was corrected). The renders run in worker processes; the answer (202)
    names the production, whose progress its status URL gives."""
    _staff_only()
    with runtime().reader() as uow:
        archive.closed_sitting(uow, sitting_id)
    return _production_dict(productions().start(sitting_id)), 202


@bp.get("/api/v1/archive/record-jobs/<production_id>")
@require_actor
def production_status(production_id: str) -> ResponseReturnValue:
    """Staff: how far a production has got (done of total, percent), then its files."""
    _staff_only()
    production = productions().get(production_id)
    if production is None:
        raise NotFound(f"no production of the record {production_id!r} is known here")
    return _production_dict(production)


# --- files -----------------------------------------------------------------------------------


def _serve(document: Document) -> ResponseReturnValue:
    asked = request.args.get("version")
    chosen: Version | None
    if asked is None:
        chosen = producer().ensure(document)
    else:
        if not (asked.isascii() and asked.isdigit() and len(asked) < 6):
            raise InvalidInput("version must be a whole number", field="version")
        chosen = next(
            (v for v in producer().store.versions(document) if v.number == int(asked)), None
        )
        if chosen is None:
            raise NotFound(f"{document.name} has no version {asked}")
    name = document.name.split("/")[-1]
    stem, suffix = name.rsplit(".", 1)
    return send_file(
        chosen.path,
        mimetype=MEDIA_TYPES[suffix],
        download_name=f"{document.scope[:-1]}-{document.owner}-{stem}.v{chosen.number}.{suffix}",
        max_age=60,
    )


def _closed(sitting_id: int) -> None:
    with runtime().reader() as uow:
        archive.closed_sitting(uow, sitting_id)


@bp.get("/archive/sittings/<int:sitting_id>/protocol.pdf")
def protocol_pdf(sitting_id: int) -> ResponseReturnValue:
    _closed(sitting_id)
    return _serve(protocol(sitting_id))


@bp.get("/archive/sittings/<int:sitting_id>/attendance.pdf")
def attendance_pdf(sitting_id: int) -> ResponseReturnValue:
    _closed(sitting_id)
    return _serve(attendance(sitting_id))


@bp.get("/archive/votes/<int:vote_id>/rollcall.pdf")
def rollcall_pdf(vote_id: int) -> ResponseReturnValue:
    with runtime().reader() as uow:
        archive.public_vote(uow, vote_id)  # a vote still open: not in the archive yet
    return _serve(roll_call(vote_id))


@bp.get("/archive/sittings/<int:sitting_id>/opendata/<resource>.<fmt>")
def opendata_file(sitting_id: int, resource: str, fmt: str) -> ResponseReturnValue:
    if resource not in RESOURCES or fmt not in OPENDATA_FORMATS:
        raise NotFound(
            f"no open-data file {resource}.{fmt}: the resources are {', '.join(RESOURCES)}, "
            "each as .csv and .json"
        )
    if archive.sitting_state(runtime().reader(), sitting_id) == "planned":
        raise archive.NotInArchive(f"sitting {sitting_id} has not been held yet")
    return _serve(opendata(sitting_id, resource, fmt))


# --- pages -----------------------------------------------------------------------------------


@bp.get("/archive")
def index_page() -> str:
    return render_template(
        "archive.html",
        sittings=archive.sittings(runtime().reader()),
        deputies=archive.deputies(runtime().reader()),
    )


def missing(error: NotFound) -> ResponseReturnValue:
    """A page asked for what the archive does not hold (yet): a page that says why."""
    return render_template("archive_missing.html", code=error.code, message=error.message), 404


@bp.get("/archive/sittings/<int:sitting_id>")
def sitting_page(sitting_id: int) -> ResponseReturnValue:
    try:
        return render_template("archive_sitting.html", sitting=sitting_with_links(sitting_id))
    except NotFound as error:
        return missing(error)


@bp.get("/archive/deputies/<int:deputy_id>")
def deputy_page(deputy_id: int) -> ResponseReturnValue:
    try:
        return render_template("archive_deputy.html", deputy=deputy_with_links(deputy_id))
    except NotFound as error:
        return missing(error)
