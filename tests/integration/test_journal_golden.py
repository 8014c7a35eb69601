"""The journal of one scripted council day is byte-identical to the one recorded before the
runtime was redesigned (tests/integration/golden/council_day.jsonl), on SQLite and PostgreSQL.

Every procedural step a user can take through the services is in the script, with a clock that
moves only when the script moves it: the entries' times, actors, kinds, payloads and hashes must
come out exactly as recorded. A change that alters what the journal says, or how it is hashed,
fails here; if it is meant, record the file again (`VOTING_RECORD_GOLDEN=1`) and say why in the
change.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from roster_csv import deputies_csv
from sqlalchemy import select

from voting.adapters import orm
from voting.adapters.schema import upgrade
from voting.domain.errors import DomainError
from voting.services import auth, council, registration, sittings, votes
from voting.services.roster_import import parse_deputies_csv
from voting.services.runtime import Runtime, build_runtime
from voting.services.uow import SYSTEM, Actor

GOLDEN = Path(__file__).parent / "golden" / "council_day.jsonl"
RECORD_ENV = "VOTING_RECORD_GOLDEN"

SECRETARY = Actor("secretary", "secretary:golden")
CHAIR = Actor("chair", "chair:golden")


class FixedClock:
    """Starts at a fixed moment; moves only when told."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1.0) -> None:
        self.now += timedelta(seconds=seconds)


def deputy(deputy_id: int) -> Actor:
    return Actor("deputy", f"deputy:{deputy_id}", deputy_id)


def council_day(rt: Runtime, clock: FixedClock) -> None:
    """A council from its creation to a closed plenary sitting and a committee sitting."""
    uow = rt.uow

    def step(seconds: float = 1.0) -> None:
        clock.tick(seconds)

    council.create_council(
        uow(),
        SYSTEM,
        {
            "name": "Золотоверхівська міська рада",
            "edrpou": "87654321",
            "katottg": "UA80000000000000000",
            "statutory_deputies": 12,
            "head_votes": True,
            "revote_limit": 2,
        },
    )
    step()
    council.update_settings(uow(), SECRETARY, {"show_running_split": True, "revote_limit": 3})
    people = []
    for n in range(1, 9):
        step()
        people.append(
            council.add_deputy(
                uow(),
                SECRETARY,
                {
                    "full_name": f"Вербенко{n} Ірина Олегівна",
                    "faction": ("Вишня", "Ясен")[n % 2],
                    "seat_number": n,
                    "voting_identifier": f"v-{n}",
                    "card_uid": f"C{n:03d}",
                },
            )
        )
    step()
    head = council.add_deputy(
        uow(),
        SECRETARY,
        {"full_name": "Головань Петро Ігорович", "is_head": True, "voting_identifier": "mayor"},
    )
    step()
    imported = council.import_deputies(
        uow(),
        SECRETARY,
        parse_deputies_csv(
            deputies_csv(
                [
                    {
                        "id": f"D-{n}",
                        "votingIdentifier": f"imp-{n}",
                        "familyName": f"Ґудзь{n}",
                        "name": "Євген",
                        "additionalName": "Ярославович",
                        "birthDate": "1979-04-0" + str(n),
                        "factionName": "Ясен",
                        "CATUTTC": "UA80000000000000000",
                    }
                    for n in (1, 2)
                ]
            )
        ),
    )
    people.extend(imported)
    step()
    council.update_deputy(
        uow(), SECRETARY, people[7], {"short_name": "Вербенко8 І.", "seat_number": 18}
    )
    step()
    committee = council.add_committee(uow(), SECRETARY, "Бюджетна комісія", people[:3])
    step()
    auth.add_user(uow(), SYSTEM, "secretary", "golden-password", "secretary")
    step()
    auth.login(uow(), "secretary", "golden-password")
    step()
    token = auth.create_token(uow(), SYSTEM, "deputy", people[0], "seat 1")
    step()
    auth.logout(uow(), deputy(people[0]), token)
    step()
    other = auth.create_token(uow(), SECRETARY, "chair")
    step()
    auth.revoke_token(uow(), SECRETARY, 3)
    del other
    step()
    auth.set_deputy_pin(uow(), SECRETARY, people[1], "2468")
    for _ in range(5):
        step()
        try:
            auth.login_with_card(uow(), "C002", "1111")
        except DomainError:
            pass
    step(400)
    auth.login_with_card(uow(), "C002", "2468")

    step()
    convocation = sittings.create_convocation(uow(), SECRETARY, 8, "VIII скликання", "2020-12-01")
    step()
    session = sittings.create_session(uow(), SECRETARY, convocation, 21)
    step()
    sitting = sittings.create_sitting(uow(), SECRETARY, date="2026-12-01", session_id=session)
    items = []
    for n in range(1, 6):
        step()
        items.append(
            sittings.add_item(
                uow(),
                SECRETARY,
                sitting,
                {
                    "title": f"Про рішення {n}",
                    "draft_number": f"10{n}/1",
                    "rapporteur": "Вербенко1 І. О.",
                },
            )
        )
    step()
    sittings.add_item(uow(), SECRETARY, sitting, {"title": "Про порядок денний", "position": 1})
    step()
    sittings.update_item(uow(), SECRETARY, items[4], {"title": "Про рішення п'ять"})
    step()
    sittings.reorder_agenda(uow(), CHAIR, sitting, [items[1], items[0], *items[2:], items[0] + 5])
    step()
    sittings.open_sitting(uow(), CHAIR, sitting)

    step()
    registration.open_registration(uow(), SECRETARY, sitting)
    for who in people[:9]:
        step()
        registration.register(uow(), deputy(who), sitting)
    step()
    registration.register(uow(), SECRETARY, sitting, head)
    step()
    registration.unregister(uow(), deputy(people[5]), sitting)
    step()
    registration.close_registration(uow(), SECRETARY, sitting)

    # A roll-call vote, closed by hand, annulled and put again; the re-vote is adopted.
    step()
    first = votes.open_vote(uow(), SECRETARY, sitting, {"item_id": items[1], "stage": "as_a_whole"})
    for who, choice in zip(people[:5], ["for", "for", "against", "abstain", "for"], strict=True):
        step()
        votes.cast_choice(uow(), deputy(who), first, choice)
    step()
    votes.cast_choice(uow(), deputy(head), first, "for")
    step()
    votes.close_vote(uow(), SECRETARY, first)
    step()
    votes.annul_vote(uow(), CHAIR, first, "Збій пульта")
    step()
    again = votes.revote(uow(), SECRETARY, first, {"time_limit_seconds": 30})
    for who in people[:5]:
        step()
        votes.cast_choice(uow(), deputy(who), again, "for")
    step(40)  # the time runs out: the vote timer closes it
    votes.close_expired_votes(rt.uow)
    step()
    votes.announce_result(uow(), CHAIR, again)

    # An open vote that lets deputies change their choice, without a quorum.
    step()
    registration.open_registration(uow(), SECRETARY, sitting, carry_over=True)
    step()
    registration.unregister(uow(), SECRETARY, sitting, people[0])
    for who in (people[0], people[1], people[2]):
        step()
        try:
            registration.unregister(uow(), deputy(who), sitting)
        except DomainError:
            pass
    step()
    changing = votes.open_vote(
        uow(),
        SECRETARY,
        sitting,
        {
            "item_id": items[2],
            "kind": "open",
            "stage": "as_a_basis",
            "allow_change": True,
            "rule": "majority_of_voting",
            "override_quorum": True,
        },
    )
    step()
    votes.cast_choice(uow(), deputy(people[3]), changing, "against")
    step()
    votes.cast_choice(uow(), deputy(people[3]), changing, "for")
    step()
    votes.close_vote(uow(), CHAIR, changing)

    # A secret ballot, and a counting commission's results of both kinds.
    step()
    registration.register(uow(), deputy(people[0]), sitting)
    step()
    secret = votes.open_vote(
        uow(),
        SECRETARY,
        sitting,
        {
            "title": "Про обрання секретаря ради",
            "kind": "secret",
            "override_quorum": True,
            "rule": {"base": "total", "comparator": "at_least", "numerator": 2, "denominator": 3},
        },
    )
    for who, choice in ((people[0], "for"), (people[3], "against"), (head, "for")):
        step()
        votes.cast_choice(uow(), deputy(who), secret, choice)
    step()
    votes.close_vote(uow(), SECRETARY, secret)
    step()
    votes.enter_manual_result(
        uow(),
        SECRETARY,
        sitting,
        {
            "item_id": items[3],
            "kind": "roll_call",
            "note": "Лічильна комісія",
            "choices": {str(people[0]): "for", str(people[3]): "for", str(head): "abstain"},
        },
    )
    step()
    votes.enter_manual_result(
        uow(),
        SECRETARY,
        sitting,
        {
            "title": "Про голову лічильної комісії",
            "kind": "secret",
            "stage": "procedural",
            "counts": {"for": 2, "against": 1},
        },
    )
    step()
    sittings.set_item_status(uow(), CHAIR, items[4], "postponed")
    step()
    sittings.close_sitting(uow(), CHAIR, sitting)

    # A committee's sitting: its members, its own quorum and vote.
    step()
    meeting = sittings.create_sitting(uow(), SECRETARY, date="2026-12-02", body_id=committee)
    step()
    topic = sittings.add_item(uow(), SECRETARY, meeting, {"title": "Про бюджет"})
    step()
    sittings.open_sitting(uow(), SECRETARY, meeting)
    step()
    registration.open_registration(uow(), SECRETARY, meeting)
    for who in people[:2]:
        step()
        registration.register(uow(), deputy(who), meeting)
    step()
    in_committee = votes.open_vote(uow(), SECRETARY, meeting, {"item_id": topic})
    for who in people[:2]:
        step()
        votes.cast_choice(uow(), deputy(who), in_committee, "for")
    step()
    votes.close_vote(uow(), SECRETARY, in_committee)
    step()
    sittings.close_sitting(uow(), SECRETARY, meeting)


def recorded(rt: Runtime) -> list[dict[str, object]]:
    """Every journal entry as stored, and the head."""
    with rt.reader() as uow:
        rows = uow.session.scalars(select(orm.JournalEntry).order_by(orm.JournalEntry.seq))
        out: list[dict[str, object]] = [
            {
                "seq": r.seq,
                "at": r.at,
                "actor": r.actor,
                "kind": r.kind,
                "payload": r.payload,
                "prev_hash": r.prev_hash,
                "hash": r.hash,
            }
            for r in rows
        ]
        head = uow.session.get(orm.JournalHead, 1)
        assert head is not None
        out.append({"head": head.seq, "hash": head.hash})
        return out


def test_the_journal_of_a_council_day_is_as_recorded(db_url: str) -> None:
    clock = FixedClock()
    rt = build_runtime(db_url, clock=clock)
    try:
        upgrade(rt.engine)
        council_day(rt, clock)
        lines = [json.dumps(entry, ensure_ascii=False, sort_keys=True) for entry in recorded(rt)]
    finally:
        rt.dispose()
    text = "\n".join(lines) + "\n"
    if os.environ.get(RECORD_ENV):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
        pytest.skip(f"recorded {GOLDEN} ({len(lines)} lines)")
    expected = GOLDEN.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(expected)
    for got, want in zip(lines, expected, strict=True):
        assert got == want
