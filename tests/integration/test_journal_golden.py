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
from voting.bootstrap import Runtime, build_runtime
from voting.config import database_config
from voting.domain.actors import SYSTEM, Actor
from voting.domain.errors import DomainError
from voting.services import auth, casting, council, registration, sittings, votes
from voting.services.commands import (
    AddCommittee,
    AddDeputy,
    AddItem,
    AnnounceResult,
    AnnulVote,
    CastChoice,
    ChangeDeputy,
    ChangeItem,
    ChangeSettings,
    CreateConvocation,
    CreateSession,
    CreateSitting,
    CreateToken,
    Leave,
    ManualResult,
    OpenRegistration,
    OpenVote,
    Register,
    ReorderAgenda,
    Revote,
    SetItemStatus,
    SignIn,
    SignInWithCard,
)
from voting.services.roster_import import parse_deputies_csv

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
    council.update_settings(
        uow(), SECRETARY, ChangeSettings.parse({"show_running_split": True, "revote_limit": 3})
    )
    people = []
    for n in range(1, 9):
        step()
        people.append(
            council.add_deputy(
                uow(),
                SECRETARY,
                AddDeputy.parse(
                    {
                        "full_name": f"Вербенко{n} Ірина Олегівна",
                        "faction": ("Вишня", "Ясен")[n % 2],
                        "seat_number": n,
                        "voting_identifier": f"v-{n}",
                        "card_uid": f"C{n:03d}",
                    }
                ),
            )
        )
    step()
    head = council.add_deputy(
        uow(),
        SECRETARY,
        AddDeputy.parse(
            {"full_name": "Головань Петро Ігорович", "is_head": True, "voting_identifier": "mayor"}
        ),
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
        uow(),
        SECRETARY,
        ChangeDeputy.parse({"short_name": "Вербенко8 І.", "seat_number": 18}, deputy_id=people[7]),
    )
    step()
    committee = council.add_committee(
        uow(), SECRETARY, AddCommittee.parse({"name": "Бюджетна комісія", "members": people[:3]})
    )
    step()
    auth.add_user(uow(), SYSTEM, "secretary", "golden-password", "secretary")
    step()
    auth.login(uow(), SignIn.parse({"username": "secretary", "password": "golden-password"}))
    step()
    token = auth.create_token(
        uow(),
        SYSTEM,
        CreateToken.parse({"role": "deputy", "deputy_id": people[0], "label": "seat 1"}),
    )
    step()
    auth.logout(uow(), deputy(people[0]), token)
    step()
    other = auth.create_token(uow(), SECRETARY, CreateToken.parse({"role": "chair"}))
    step()
    auth.revoke_token(uow(), SECRETARY, 3)
    del other
    step()
    auth.set_deputy_pin(uow(), SECRETARY, people[1], "2468")
    for _ in range(5):
        step()
        try:
            auth.login_with_card(uow(), SignInWithCard.parse({"card_uid": "C002", "pin": "1111"}))
        except DomainError:
            pass
    step(400)
    auth.login_with_card(uow(), SignInWithCard.parse({"card_uid": "C002", "pin": "2468"}))

    step()
    convocation = sittings.create_convocation(
        uow(),
        SECRETARY,
        CreateConvocation.parse(
            {"number": 8, "label": "VIII скликання", "date_from": "2020-12-01"}
        ),
    )
    step()
    session = sittings.create_session(
        uow(), SECRETARY, CreateSession.parse({"convocation_id": convocation, "number": 21})
    )
    step()
    sitting = sittings.create_sitting(
        uow(), SECRETARY, CreateSitting.parse({"date": "2026-12-01", "session_id": session})
    )
    items = []
    for n in range(1, 6):
        step()
        items.append(
            sittings.add_item(
                uow(),
                SECRETARY,
                AddItem.parse(
                    {
                        "title": f"Про рішення {n}",
                        "draft_number": f"10{n}/1",
                        "rapporteur": "Вербенко1 І. О.",
                    },
                    sitting_id=sitting,
                ),
            )
        )
    step()
    sittings.add_item(
        uow(),
        SECRETARY,
        AddItem.parse({"title": "Про порядок денний", "position": 1}, sitting_id=sitting),
    )
    step()
    sittings.update_item(
        uow(), SECRETARY, ChangeItem.parse({"title": "Про рішення п'ять"}, item_id=items[4])
    )
    step()
    sittings.reorder_agenda(
        uow(),
        CHAIR,
        ReorderAgenda.parse(
            {"order": [items[1], items[0], *items[2:], items[0] + 5]}, sitting_id=sitting
        ),
    )
    step()
    sittings.open_sitting(uow(), CHAIR, sitting)

    step()
    registration.open_registration(uow(), SECRETARY, OpenRegistration.parse({}, sitting_id=sitting))
    for who in people[:9]:
        step()
        registration.register(uow(), deputy(who), Register.parse({}, sitting_id=sitting))
    step()
    registration.register(uow(), SECRETARY, Register.parse({"deputy_id": head}, sitting_id=sitting))
    step()
    registration.unregister(uow(), deputy(people[5]), Leave.parse({}, sitting_id=sitting))
    step()
    registration.close_registration(uow(), SECRETARY, sitting)

    # A roll-call vote, closed by hand, annulled and put again; the re-vote is adopted.
    step()
    first = votes.open_vote(
        uow(),
        SECRETARY,
        OpenVote.parse({"item_id": items[1], "stage": "as_a_whole"}, sitting_id=sitting),
    )
    for who, choice in zip(people[:5], ["for", "for", "against", "abstain", "for"], strict=True):
        step()
        casting.cast_choice(uow(), deputy(who), CastChoice.parse({"choice": choice}, vote_id=first))
    step()
    casting.cast_choice(uow(), deputy(head), CastChoice.parse({"choice": "for"}, vote_id=first))
    step()
    votes.close_vote(uow(), SECRETARY, first)
    step()
    votes.annul_vote(uow(), CHAIR, AnnulVote.parse({"reason": "Збій пульта"}, vote_id=first))
    step()
    again = votes.revote(uow(), SECRETARY, Revote.parse({"time_limit_seconds": 30}, vote_id=first))
    for who in people[:5]:
        step()
        casting.cast_choice(uow(), deputy(who), CastChoice.parse({"choice": "for"}, vote_id=again))
    step(40)  # the time runs out: the vote timer closes it
    votes.close_expired_votes(rt.uow)
    step()
    votes.announce_result(uow(), CHAIR, AnnounceResult.parse({}, vote_id=again))

    # An open vote that lets deputies change their choice, without a quorum.
    step()
    registration.open_registration(
        uow(), SECRETARY, OpenRegistration.parse({"carry_over": True}, sitting_id=sitting)
    )
    step()
    registration.unregister(
        uow(), SECRETARY, Leave.parse({"deputy_id": people[0]}, sitting_id=sitting)
    )
    for who in (people[0], people[1], people[2]):
        step()
        try:
            registration.unregister(uow(), deputy(who), Leave.parse({}, sitting_id=sitting))
        except DomainError:
            pass
    step()
    changing = votes.open_vote(
        uow(),
        SECRETARY,
        OpenVote.parse(
            {
                "item_id": items[2],
                "kind": "open",
                "stage": "as_a_basis",
                "allow_change": True,
                "rule": "majority_of_voting",
                "override_quorum": True,
            },
            sitting_id=sitting,
        ),
    )
    step()
    casting.cast_choice(
        uow(), deputy(people[3]), CastChoice.parse({"choice": "against"}, vote_id=changing)
    )
    step()
    casting.cast_choice(
        uow(), deputy(people[3]), CastChoice.parse({"choice": "for"}, vote_id=changing)
    )
    step()
    votes.close_vote(uow(), CHAIR, changing)

    # A secret ballot, and a counting commission's results of both kinds.
    step()
    registration.register(uow(), deputy(people[0]), Register.parse({}, sitting_id=sitting))
    step()
    secret = votes.open_vote(
        uow(),
        SECRETARY,
        OpenVote.parse(
            {
                "title": "Про обрання секретаря ради",
                "kind": "secret",
                "override_quorum": True,
                "rule": {
                    "base": "total",
                    "comparator": "at_least",
                    "numerator": 2,
                    "denominator": 3,
                },
            },
            sitting_id=sitting,
        ),
    )
    for who, choice in ((people[0], "for"), (people[3], "against"), (head, "for")):
        step()
        casting.cast_choice(
            uow(), deputy(who), CastChoice.parse({"choice": choice}, vote_id=secret)
        )
    step()
    votes.close_vote(uow(), SECRETARY, secret)
    step()
    votes.enter_manual_result(
        uow(),
        SECRETARY,
        ManualResult.parse(
            {
                "item_id": items[3],
                "kind": "roll_call",
                "note": "Лічильна комісія",
                "choices": {str(people[0]): "for", str(people[3]): "for", str(head): "abstain"},
            },
            sitting_id=sitting,
        ),
    )
    step()
    votes.enter_manual_result(
        uow(),
        SECRETARY,
        ManualResult.parse(
            {
                "title": "Про голову лічильної комісії",
                "kind": "secret",
                "stage": "procedural",
                "counts": {"for": 2, "against": 1},
            },
            sitting_id=sitting,
        ),
    )
    step()
    sittings.set_item_status(
        uow(), CHAIR, SetItemStatus.parse({"status": "postponed"}, item_id=items[4])
    )
    step()
    sittings.close_sitting(uow(), CHAIR, sitting)

    # A committee's sitting: its members, its own quorum and vote.
    step()
    meeting = sittings.create_sitting(
        uow(), SECRETARY, CreateSitting.parse({"date": "2026-12-02", "body_id": committee})
    )
    step()
    topic = sittings.add_item(
        uow(), SECRETARY, AddItem.parse({"title": "Про бюджет"}, sitting_id=meeting)
    )
    step()
    sittings.open_sitting(uow(), SECRETARY, meeting)
    step()
    registration.open_registration(uow(), SECRETARY, OpenRegistration.parse({}, sitting_id=meeting))
    for who in people[:2]:
        step()
        registration.register(uow(), deputy(who), Register.parse({}, sitting_id=meeting))
    step()
    in_committee = votes.open_vote(
        uow(), SECRETARY, OpenVote.parse({"item_id": topic}, sitting_id=meeting)
    )
    for who in people[:2]:
        step()
        casting.cast_choice(
            uow(), deputy(who), CastChoice.parse({"choice": "for"}, vote_id=in_committee)
        )
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
    rt = build_runtime(database_config(db_url), clock=clock)
    try:
        upgrade(rt.engine)
        council_day(rt, clock)
        lines = [json.dumps(entry, ensure_ascii=False, sort_keys=True) for entry in recorded(rt)]
    finally:
        rt.stop()
    text = "\n".join(lines) + "\n"
    if os.environ.get(RECORD_ENV):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
        pytest.skip(f"recorded {GOLDEN} ({len(lines)} lines)")
    expected = GOLDEN.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(expected)
    for got, want in zip(lines, expected, strict=True):
        assert got == want
