"""Secret ballot, what people see: the log records (at DEBUG level, SQL parameters hidden) name
no choice; the events announce who took part but no choice; the API shows the counts to all and
the participants to staff, never a choice; a secret choice can be neither changed nor watched
while the vote is open. On SQLite and on PostgreSQL (the scenes: forensics.py)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from forensics import CHOICES, PLAN, SECRETARY, Scene, read_json

from voting.bootstrap import Runtime
from voting.domain.actors import SYSTEM
from voting.domain.errors import AlreadyVoted, InvalidInput
from voting.domain.events import DomainEvent
from voting.services import auth, council
from voting.services.commands import ChangeSettings, CreateToken
from voting.web import create_app

# ---------------------------------------------------------------------------------------------
# logs and events


QUOTED_CHOICE = re.compile(
    r"""['"](for|against|abstain)['"]|\bchoice\W{1,4}(for|against|abstain)\b"""
)
HIDDEN = "[SQL parameters hidden due to hide_parameters=True]"


def test_logs_name_no_choice_and_hide_sql_parameters(scene: Scene) -> None:
    lines = [(record.name, record.getMessage()) for record in scene.records]
    engine = [message for name, message in lines if name.startswith("sqlalchemy.engine")]
    # The capture saw the casts' statements, each with its parameters hidden.
    assert sum("INSERT INTO sealed_ballot" in message for message in engine) == 22
    assert sum(HIDDEN in message for message in engine) >= 22 * 3
    assert not any(re.search(r"\[[^\]]*\] \(.*\)$", message) for message in engine), (
        "an SQL parameter tuple was logged"
    )
    if scene.postgres:  # the capture went on until the purge was done (on SQLite it logs nothing)
        assert any(message.startswith("CLUSTER (VERBOSE) sealed_ballot") for message in engine)

    # Not even the close's reading of the sealed ballots (SQLAlchemy's DEBUG row log shows their
    # bytes) names a choice.
    assert any(name.startswith("sqlalchemy.engine") and "Row (b" in m for name, m in lines)
    leaks = [(name, message) for name, message in lines if QUOTED_CHOICE.search(message)]
    assert leaks == []


def test_events_announce_who_took_part_but_no_choice(scene: Scene) -> None:
    def mentions(event: DomainEvent) -> tuple[set[int], set[str]]:
        deputies: set[int] = set()
        choices: set[str] = set()
        read_json(event.payload, None, deputies, set(), choices)
        return deputies, choices

    # The control: the roll-call vote's events do carry choices.
    control = scene.events[: scene.first_secret_event]
    assert any(mentions(e)[1] for e in control if e.kind == "choice_cast")

    assert Counter(e.kind for e in scene.secret_events) == {
        "vote_opened": 1,
        "secret_ballot_cast": 22,
        "vote_closed": 1,
    }
    assert [mentions(e) for e in scene.secret_events if mentions(e)[1]] == []
    naming = [e for e in scene.secret_events if mentions(e)[0]]
    assert {e.kind for e in naming} == {"secret_ballot_cast"}
    assert [e.payload for e in naming] == [
        {"vote_id": scene.vote, "deputy_id": deputy_id} for deputy_id in scene.order
    ]
    closed = next(e for e in scene.secret_events if e.kind == "vote_closed")
    assert {choice: closed.payload[choice] for choice in CHOICES} == PLAN


# ---------------------------------------------------------------------------------------------
# the HTTP door


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for value in node.values() for k in _keys(value)}
    if isinstance(node, list):
        return {k for value in node for k in _keys(value)}
    return set()


def test_the_api_shows_counts_to_all_and_participants_to_staff_never_a_choice(scene: Scene) -> None:
    app = create_app(runtime=scene.rt, overrides={"database": {"url": scene.url}})
    app.config["TESTING"] = True
    client = app.test_client()
    staff_headers = {"Authorization": f"Bearer {scene.staff_token}"}

    # The control: the roll-call vote shows its per-deputy lines to everyone.
    control = client.get(f"/api/v1/votes/{scene.roll_call}")
    assert control.status_code == 200
    lines = control.get_json()["roll_call"]
    assert {line["outcome"] for line in lines} >= set(CHOICES)
    assert {"deputy_id", "outcome"} <= _keys(lines)

    public = client.get(f"/api/v1/votes/{scene.vote}")
    assert public.status_code == 200
    body = public.get_json()
    assert body["state"] == "closed" and body["kind"] == "secret"
    assert {choice: body["result"][choice] for choice in CHOICES} == PLAN
    assert (
        _keys(body) & {"roll_call", "participants", "deputy_id", "choice", "outcome", "running"}
        == set()
    )

    # Staff see who took part (the protocol lists them), still no choice.
    staff = client.get(f"/api/v1/votes/{scene.vote}", headers=staff_headers)
    assert staff.status_code == 200
    seen = staff.get_json()
    assert seen["participants"] == sorted(scene.choice_of)
    assert {choice: seen["result"][choice] for choice in CHOICES} == PLAN
    assert _keys(seen) & {"roll_call", "deputy_id", "choice", "outcome", "running"} == set()


def test_a_secret_choice_cannot_be_changed_nor_watched_while_open(
    hall: Any, runtime: Runtime, db_url: str
) -> None:
    council.update_settings(
        runtime.uow(),
        SECRETARY,
        ChangeSettings.parse({"show_running_split": True, "allow_change_choice": True}),
    )
    hall.open_registration()
    hall.register(*hall.everyone)
    with pytest.raises(InvalidInput) as refused:
        hall.open_vote(title="Таємне", kind="secret", allow_change=True)
    assert refused.value.details.get("field") == "allow_change"

    app = create_app(runtime=runtime, overrides={"database": {"url": db_url}})
    app.config["TESTING"] = True
    client = app.test_client()
    staff = {
        "Authorization": "Bearer "
        + auth.create_token(runtime.uow(), SYSTEM, CreateToken.parse({"role": "secretary"}))
    }

    secret = hall.open_vote(title="Таємне", kind="secret")  # the council's allow_change ignored
    first, second = hall.deputies[:2]
    hall.cast(secret, first, "for")
    hall.cast(secret, second, "against")
    with pytest.raises(AlreadyVoted):
        hall.cast(secret, first, "against")
    # The council shows the running split of open votes, yet a secret one shows only a count.
    settings = client.get("/api/v1/council")
    assert settings.status_code == 200 and settings.get_json()["show_running_split"] is True
    for headers in ({}, staff):
        answer = client.get(f"/api/v1/votes/{secret}", headers=headers)
        assert answer.status_code == 200
        during = answer.get_json()
        assert during["votes_cast"] == 2
        assert _keys(during) & {"running", "roll_call", "choice", "outcome"} == set()
    result = hall.close(secret)
    assert (result["for"], result["against"], result["abstain"]) == (1, 1, 0)

    # The control: an open (non-secret) vote does show its running split.
    open_vote = hall.open_vote(title="Відкрите", kind="open")
    hall.cast(open_vote, first, "for")
    answer = client.get(f"/api/v1/votes/{open_vote}")
    assert answer.status_code == 200
    assert answer.get_json()["running"] == {"for": 1, "against": 0, "abstain": 0}
