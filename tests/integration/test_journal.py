"""The journal of procedural events, on SQLite and PostgreSQL: complete, chained, tamper-evident,
and untouched by refused actions."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from voting.domain.actors import SYSTEM, Actor
from voting.domain.errors import (
    AlreadyRegistered,
    AlreadyVoted,
    DomainError,
    NotRegistered,
    PermissionDenied,
    VoteAlreadyClosed,
    VoteAlreadyOpen,
)
from voting.domain.events import DomainEvent
from voting.services import casting, council, journal, queries, sittings, votes
from voting.services.commands import (
    AddDeputy,
    AnnulVote,
    CastChoice,
    ChangeSettings,
    ManualResult,
    ReorderAgenda,
    Revote,
)

if TYPE_CHECKING:
    from halls import Hall

    from voting.bootstrap import Runtime


SECRETARY = Actor("secretary", "secretary:test")


def as_deputy(deputy_id: int) -> Actor:
    return Actor("deputy", f"deputy:{deputy_id}", deputy_id)


def entries(hall: Hall) -> list[dict[str, object]]:
    return journal.read_journal(hall.rt.reader(), limit=100_000)


PROCEDURAL_KINDS = {
    "council_created",
    "deputy_added",
    "convocation_created",
    "session_created",
    "sitting_created",
    "item_added",
    "sitting_opened",
    "settings_changed",
    "registration_opened",
    "deputy_registered",
    "deputy_left",
    "registration_closed",
    "quorum_overridden",
    "vote_opened",
    "choice_cast",
    "secret_ballot_cast",
    "vote_closed",
    "item_status_changed",
    "vote_annulled",
    "revote_called",
    "manual_result_entered",
    "agenda_reordered",
    "sitting_closed",
}


def test_a_short_sitting_leaves_every_event_in_order(hall: Hall) -> None:
    uow, d = hall.rt.uow, hall.deputies
    published: list[DomainEvent] = []
    hall.rt.bus.subscribe(published.append)
    start = len(entries(hall))

    council.update_settings(uow(), SECRETARY, ChangeSettings.parse({"revote_limit": 1}))
    sittings.reorder_agenda(
        uow(),
        SECRETARY,
        ReorderAgenda.parse({"order": list(reversed(hall.items))}, sitting_id=hall.sitting),
    )
    hall.open_registration()
    hall.register(hall.head, *d[:22])
    hall.clock.advance(60)
    hall.unregister(d[0])  # 21 deputies: no quorum under the default Regulation
    hall.close_registration()
    first = hall.open_vote(item_id=hall.items[0], override_quorum=True)
    hall.cast_many(first, d[1:22], "for")
    hall.cast(first, hall.head, "for")
    hall.close(first)  # 22 of 43: adopted
    votes.annul_vote(uow(), SECRETARY, AnnulVote.parse({"reason": "Збій табло"}, vote_id=first))
    again = votes.revote(uow(), SECRETARY, Revote.parse({"override_quorum": True}, vote_id=first))
    hall.close(again)
    secret = hall.open_vote(title="Про обрання секретаря ради", kind="secret", override_quorum=True)
    hall.cast(secret, d[1], "against")
    hall.close(secret)
    votes.enter_manual_result(
        uow(),
        SECRETARY,
        ManualResult.parse(
            {"item_id": hall.items[1], "choices": {str(d[1]): "for", str(d[2]): "abstain"}},
            sitting_id=hall.sitting,
        ),
    )
    sittings.close_sitting(uow(), SECRETARY, hall.sitting)

    written = entries(hall)
    assert [e["seq"] for e in written] == list(range(1, len(written) + 1))
    assert PROCEDURAL_KINDS <= {e["kind"] for e in written}
    # Screens learn of each event under the journal's own number, in the same order.
    assert [(e.seq, e.kind) for e in published] == [(e["seq"], e["kind"]) for e in written[start:]]
    by_kind = {e["kind"]: e for e in written}
    assert by_kind["deputy_left"]["actor"] == f"deputy:{d[0]}"
    assert by_kind["deputy_left"]["at"] == "2026-11-25T08:01:00.000000+00:00"
    assert by_kind["vote_annulled"]["payload"] == {
        "vote_id": first,
        "reason": "Збій табло",
        "was": "closed",
    }
    assert by_kind["revote_called"]["payload"] == {
        "vote_id": again,
        "previous_vote_id": first,
        "attempt": 2,
    }
    assert "choice" not in by_kind["secret_ballot_cast"]["payload"]  # type: ignore[operator]

    report = journal.verify_journal(hall.rt.reader())
    assert report.ok and report.checked == len(written)


def tamper(hall: Hall, sql: str, **params: object) -> None:
    """Change the journal behind the services' back, as someone with database access could."""
    with hall.rt.engine.begin() as connection:
        connection.execute(text(sql), params)


def test_raw_edits_to_the_journal_are_found_and_named(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:3])
    written = entries(hall)
    last = len(written)
    assert written[-1]["payload"] == {
        "sitting_id": hall.sitting,
        "round": 1,
        "deputy_id": hall.deputies[2],
        "total_composition": 42,
        "registered": 3,
        "quorum_required": 22,
        "quorum_present": 3,
        "quorum": False,
        "head_takes_part": False,
    }
    assert journal.verify_journal(hall.rt.reader()).ok

    # Someone turns a registration into another deputy's.
    target = next(e for e in written if e["kind"] == "deputy_registered")
    seq, original = (
        target["seq"],
        json.dumps(target["payload"], sort_keys=True, separators=(",", ":"), ensure_ascii=False),
    )
    forged = original.replace(f'"deputy_id":{hall.deputies[0]}', f'"deputy_id":{hall.deputies[9]}')
    assert forged != original
    tamper(hall, "UPDATE journal_entry SET payload = :p WHERE seq = :s", p=forged, s=seq)
    report = journal.verify_journal(hall.rt.reader())
    assert (report.ok, report.broken_seq) == (False, seq)
    assert report.describe() == (
        f"journal broken at entry {seq}: its content does not match its hash (edited)"
    )
    tamper(hall, "UPDATE journal_entry SET payload = :p WHERE seq = :s", p=original, s=seq)
    assert journal.verify_journal(hall.rt.reader()).ok

    tamper(hall, "UPDATE journal_entry SET actor = 'secretary:test' WHERE seq = :s", s=last)
    assert journal.verify_journal(hall.rt.reader()).broken_seq == last

    tamper(hall, "DELETE FROM journal_entry WHERE seq = :s", s=last)
    report = journal.verify_journal(hall.rt.reader())
    assert (report.ok, report.broken_seq) == (False, last)
    assert f"up to {last} are missing" in report.describe()

    tamper(hall, "DELETE FROM journal_entry WHERE seq = :s", s=5)
    report = journal.verify_journal(hall.rt.reader())
    assert (report.broken_seq, report.checked) == (5, 4)
    assert report.describe() == "journal broken at entry 5: entry 5 is missing (next present is 6)"


def test_a_refused_action_writes_nothing_and_changes_nothing(hall: Hall) -> None:
    uow, d = hall.rt.uow, hall.deputies
    hall.open_registration()
    hall.register(*d[:22])
    vote = hall.open_vote(item_id=hall.items[0])
    hall.cast(vote, d[0], "for")
    published: list[DomainEvent] = []
    hall.rt.bus.subscribe(published.append)

    def unchanged(action, error: type[DomainError]) -> None:  # type: ignore[no-untyped-def]
        published.clear()
        before = (
            entries(hall),
            queries.vote(hall.rt.reader(), vote, staff=True),
            queries.sitting(hall.rt.reader(), hall.sitting),
        )
        with pytest.raises(error):
            action()
        after = (
            entries(hall),
            queries.vote(hall.rt.reader(), vote, staff=True),
            queries.sitting(hall.rt.reader(), hall.sitting),
        )
        assert after == before
        assert published == []

    unchanged(lambda: hall.cast(vote, d[0], "against"), AlreadyVoted)
    unchanged(lambda: hall.cast(vote, d[30], "for"), NotRegistered)
    unchanged(
        lambda: casting.cast_choice(
            uow(),
            as_deputy(d[1]),
            CastChoice.parse({"choice": "for", "deputy_id": d[2]}, vote_id=vote),
        ),
        PermissionDenied,
    )
    unchanged(lambda: hall.register(d[1]), AlreadyRegistered)
    unchanged(lambda: hall.open_vote(title="Друге голосування"), VoteAlreadyOpen)
    hall.close(vote)
    unchanged(lambda: hall.cast(vote, d[1], "for"), VoteAlreadyClosed)
    unchanged(lambda: hall.close(vote), VoteAlreadyClosed)

    secret_id = hall.open_vote(title="Таємне", kind="secret")
    hall.cast(secret_id, d[0], "for")
    published.clear()
    seen = entries(hall)
    with pytest.raises(AlreadyVoted):
        hall.cast(secret_id, d[0], "against")
    assert entries(hall) == seen and published == []
    result = hall.close(secret_id)
    assert (result["for"], result["against"]) == (1, 0)  # the refused choice left no count
    assert journal.verify_journal(hall.rt.reader()).ok


def test_the_services_run_without_deprecation_warnings(runtime: Runtime) -> None:
    council.create_council(
        runtime.uow(),
        SYSTEM,
        {
            "name": "Мала рада",
            "edrpou": "87654321",
            "katottg": "UA12345678901234567",
            "statutory_deputies": 3,
        },
    )
    council.add_deputy(
        runtime.uow(), SECRETARY, AddDeputy.parse({"full_name": "Депутат Малий", "faction": "Ф"})
    )
    assert journal.verify_journal(runtime.reader()).ok
    assert [d["faction"] for d in queries.deputies(runtime.reader())] == ["Ф"]


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_journal_value_too_long_for_its_column_is_refused_never_cut(runtime: Runtime) -> None:
    """On PostgreSQL a transaction's entries are written as arrays in one statement: a value
    longer than its column must fail the transaction (nothing written), as a plain insert
    would, never be cut short, which would leave an entry whose hash no longer matches it."""
    from sqlalchemy.exc import DBAPIError

    with runtime.uow() as uow:
        uow.journal(SYSTEM, "note", {"n": 1})
        uow.commit()
    with pytest.raises(DBAPIError, match="too long"), runtime.uow() as uow:
        uow.journal(Actor("secretary", "secretary:" + "x" * 250), "note", {"n": 2})
        uow.commit()
    report = journal.verify_journal(runtime.uow())
    assert (report.ok, report.checked) == (True, 1)
