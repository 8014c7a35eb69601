"""The journal seals the record: `voting journal verify` finds a row of any fact table that was
edited, inserted, deleted, swapped with another or wiped out behind the services' back (as
someone with write access to the database could), and names the table and the row; the services
themselves never leave a difference, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from halls import CHAIR, SECRETARY
from sqlalchemy import Connection, delete, insert, select, update

from voting.adapters import orm
from voting.adapters.sealed_ballots import SEALED_SIZE
from voting.domain.journal import GENESIS_HASH, Anchor, canonical, entry_hash, entry_mac, head_mac
from voting.services import journal, queries, sittings, votes
from voting.services.commands import AnnounceResult, Revote
from voting.services.uow import UnitOfWork

if TYPE_CHECKING:
    from halls import Hall

T = orm.Base.metadata.tables


@dataclass
class Sitting:
    """Ids of what one sitting left in every fact table."""

    hall: Hall
    round_1: int  # closed, round 2 carried it over and is open
    round_2: int
    left: int  # a deputy who registered in round 2 and left
    roll_call: int  # adopted: 22 for, 3 against
    revote: int  # its re-vote
    open_kind: int  # an open (not roll-call) vote
    secret_closed: int  # rejected
    annulled_open: int  # annulled while open: only the ballots cast
    manual: int
    secret_open: int  # still open: 5 for, 2 against


def hold(hall: Hall) -> Sitting:
    d = hall.deputies
    hall.open_registration()
    hall.register(*d[:30])
    hall.close_registration()
    hall.open_registration(carry_over=True)
    hall.register(d[30])
    hall.unregister(d[29])
    with hall.rt.engine.connect() as c:
        rounds = dict(
            c.execute(select(T["registration_round"].c.number, T["registration_round"].c.id)).all()
        )
    roll_call = hall.open_vote(item_id=hall.items[0])
    hall.cast_many(roll_call, d[:22], "for")
    hall.cast_many(roll_call, d[22:25], "against")
    hall.close(roll_call)
    votes.announce_result(hall.rt.uow(), CHAIR, AnnounceResult.parse({}, vote_id=roll_call))
    first = hall.open_vote(item_id=hall.items[1])
    hall.cast_many(first, d[:5], "for")
    hall.close(first)
    again = votes.revote(hall.rt.uow(), SECRETARY, Revote.parse({}, vote_id=first))
    hall.cast_many(again, d[:23], "for")
    hall.close(again)
    open_kind = hall.open_vote(title="Про перерву", kind="open")
    hall.cast_many(open_kind, d[:10], "abstain")
    hall.close(open_kind)
    secret = hall.open_vote(title="Обрання секретаря", kind="secret")
    hall.cast_many(secret, d[:4], "for")
    hall.cast_many(secret, d[4:6], "against")
    hall.close(secret)
    annulled = hall.open_vote(title="Про зміну порядку денного")
    hall.cast_many(annulled, d[:3], "for")
    hall.annul(annulled)
    choices = {str(x): "for" for x in d[:22]} | {str(d[22]): "against"}
    manual = hall.enter_manual(
        title="Про регламент", choices=choices, note="Протокол лічильної комісії"
    )
    secret_open = hall.open_vote(title="Обрання заступника", kind="secret")
    hall.cast_many(secret_open, d[:5], "for")
    hall.cast_many(secret_open, d[5:7], "against")
    return Sitting(
        hall,
        rounds[1],
        rounds[2],
        d[29],
        roll_call,
        again,
        open_kind,
        secret,
        annulled,
        manual,
        secret_open,
    )


@pytest.fixture
def held(hall: Hall) -> Sitting:
    return hold(hall)


def report(s: Sitting, anchors: list[Anchor] | None = None) -> Any:
    return journal.verify_journal(s.hall.rt.reader(), anchors or [])


def test_the_services_leave_the_record_as_journaled(held: Sitting) -> None:
    """Every kind of fact the services write (rounds carried over, a deputy leaving, roll-call,
    open, secret, re-voted, annulled, manual and announced votes, an open secret ballot)."""
    got = report(held)
    assert got.ok, got.describe()
    assert got.describe().endswith("and the record matches them")


# --- tampering ---------------------------------------------------------------------------------


def row(c: Connection, table: str, **where: object) -> dict[str, Any]:
    t = T[table]
    found = c.execute(select(t).where(*(t.c[k] == v for k, v in where.items()))).mappings().all()
    assert len(found) == 1, (table, where, found)
    return dict(found[0])


def edit(c: Connection, table: str, where: dict[str, object], **values: object) -> None:
    t = T[table]
    done = c.execute(update(t).where(*(t.c[k] == v for k, v in where.items())).values(values))
    assert done.rowcount == 1


def copy(c: Connection, table: str, where: dict[str, object], **changes: object) -> None:
    c.execute(insert(T[table]).values({**row(c, table, **where), **changes}))


def drop(c: Connection, table: str, **where: object) -> None:
    t = T[table]
    c.execute(delete(t).where(*(t.c[k] == v for k, v in where.items())))


def swap(c: Connection, table: str, a: dict[str, object], b: dict[str, object], col: str) -> None:
    first, second = row(c, table, **a)[col], row(c, table, **b)[col]
    assert first != second, "a swap of equal values would change nothing"
    edit(c, table, a, **{col: second})
    edit(c, table, b, **{col: first})


def slip_sealed_ballot(c: Connection, vote_id: int) -> None:
    """Bytes of a sealed ballot's size added to an open ballot."""
    c.execute(insert(T["sealed_ballot"]).values(vote_id=vote_id, sealed=os.urandom(SEALED_SIZE)))


def wipe_votes(c: Connection) -> None:
    for table in ("ballot", "secret_participation", "sealed_ballot"):
        drop(c, table)
    c.execute(update(T["vote"]).values(previous_vote_id=None))
    drop(c, "vote")


NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

#: (table the report must name, how to tamper) for every table of facts and every kind of change.
TAMPERS: dict[str, tuple[str, Callable[[Connection, Sitting], None]]] = {
    "published anchor of a sitting forged": (
        "sitting",
        lambda c, s: edit(c, "sitting", {"id": s.hall.sitting}, anchor="7:" + "a" * 64),
    ),
    "item turned adopted": (
        "agenda_item",
        lambda c, s: edit(c, "agenda_item", {"id": s.hall.items[2]}, status="adopted"),
    ),
    "items' statuses swapped": (
        "agenda_item",
        lambda c, s: swap(
            c, "agenda_item", {"id": s.hall.items[0]}, {"id": s.hall.items[2]}, "status"
        ),
    ),
    "round reopened": (
        "registration_round",
        lambda c, s: edit(c, "registration_round", {"id": s.round_1}, closed_at=None),
    ),
    "round inserted": (
        "registration_round",
        lambda c, s: copy(c, "registration_round", {"id": s.round_1}, id=999, number=9),
    ),
    "round deleted": (
        "registration_round",
        lambda c, s: (
            drop(c, "registration", round_id=s.round_1),
            drop(c, "registration_round", id=s.round_1),
        ),
    ),
    "rounds swapped": (
        "registration_round",
        lambda c, s: swap(
            c, "registration_round", {"id": s.round_1}, {"id": s.round_2}, "closed_at"
        ),
    ),
    "rounds wiped": (
        "registration_round",
        lambda c, s: (drop(c, "registration"), drop(c, "registration_round")),
    ),
    "registration edited (marked as left)": (
        "registration",
        lambda c, s: edit(
            c,
            "registration",
            {"round_id": s.round_2, "deputy_id": s.hall.deputies[0]},
            left_at=NOW,
        ),
    ),
    "registration inserted": (
        "registration",
        lambda c, s: copy(
            c,
            "registration",
            {"round_id": s.round_2, "deputy_id": s.hall.deputies[0]},
            deputy_id=s.hall.deputies[40],
        ),
    ),
    "registration deleted": (
        "registration",
        lambda c, s: drop(c, "registration", round_id=s.round_2, deputy_id=s.hall.deputies[1]),
    ),
    "registrations swapped": (
        "registration",
        lambda c, s: swap(
            c,
            "registration",
            {"round_id": s.round_2, "deputy_id": s.hall.deputies[0]},
            {"round_id": s.round_2, "deputy_id": s.left},
            "left_at",
        ),
    ),
    "registrations wiped": ("registration", lambda c, s: drop(c, "registration")),
    "vote result edited": (
        "vote",
        lambda c, s: edit(c, "vote", {"id": s.roll_call}, result="rejected"),
    ),
    "vote count edited": (
        "vote",
        lambda c, s: edit(c, "vote", {"id": s.secret_closed}, count_for=30),
    ),
    "vote rule edited": (
        "vote",
        lambda c, s: edit(c, "vote", {"id": s.roll_call}, rule_numerator=1, rule_denominator=3),
    ),
    "annulment undone": (
        "vote",
        lambda c, s: edit(c, "vote", {"id": s.annulled_open}, state="closed", annul_reason=None),
    ),
    "manual mark removed": ("vote", lambda c, s: edit(c, "vote", {"id": s.manual}, manual=False)),
    "published anchor of a vote changed": (
        "vote",
        lambda c, s: edit(c, "vote", {"id": s.roll_call}, anchor="1:" + "0" * 64),
    ),
    "vote inserted": (
        "vote",
        lambda c, s: copy(c, "vote", {"id": s.roll_call}, id=999, title="Підкинуте рішення"),
    ),
    "vote deleted": (
        "vote",
        lambda c, s: (drop(c, "ballot", vote_id=s.open_kind), drop(c, "vote", id=s.open_kind)),
    ),
    "vote results swapped": (
        "vote",
        lambda c, s: swap(c, "vote", {"id": s.roll_call}, {"id": s.secret_closed}, "result"),
    ),
    "votes wiped": ("vote", lambda c, s: wipe_votes(c)),
    "ballot edited": (
        "ballot",
        lambda c, s: edit(
            c,
            "ballot",
            {"vote_id": s.roll_call, "deputy_id": s.hall.deputies[22]},
            outcome="for",
        ),
    ),
    "manual ballot edited": (
        "ballot",
        lambda c, s: edit(
            c, "ballot", {"vote_id": s.manual, "deputy_id": s.hall.deputies[22]}, outcome="for"
        ),
    ),
    "absent turned into a vote": (
        "ballot",
        lambda c, s: edit(
            c,
            "ballot",
            {"vote_id": s.roll_call, "deputy_id": s.hall.deputies[40]},
            outcome="for",
        ),
    ),
    "ballot inserted": (
        "ballot",
        lambda c, s: copy(
            c,
            "ballot",
            {"vote_id": s.annulled_open, "deputy_id": s.hall.deputies[0]},
            deputy_id=s.hall.deputies[10],
        ),
    ),
    "ballot deleted": (
        "ballot",
        lambda c, s: drop(c, "ballot", vote_id=s.open_kind, deputy_id=s.hall.deputies[3]),
    ),
    "ballots swapped": (
        "ballot",
        lambda c, s: swap(
            c,
            "ballot",
            {"vote_id": s.roll_call, "deputy_id": s.hall.deputies[0]},
            {"vote_id": s.roll_call, "deputy_id": s.hall.deputies[22]},
            "outcome",
        ),
    ),
    "ballots wiped": ("ballot", lambda c, s: drop(c, "ballot")),
    "participation moved to another deputy": (
        "secret_participation",
        lambda c, s: edit(
            c,
            "secret_participation",
            {"vote_id": s.secret_closed, "deputy_id": s.hall.deputies[0]},
            deputy_id=s.hall.deputies[20],
        ),
    ),
    "participation inserted": (
        "secret_participation",
        lambda c, s: copy(
            c,
            "secret_participation",
            {"vote_id": s.secret_open, "deputy_id": s.hall.deputies[0]},
            deputy_id=s.hall.deputies[20],
        ),
    ),
    "participation deleted": (
        "secret_participation",
        lambda c, s: drop(
            c, "secret_participation", vote_id=s.secret_closed, deputy_id=s.hall.deputies[1]
        ),
    ),
    "participation swapped between ballots": (
        "secret_participation",
        lambda c, s: edit(
            c,
            "secret_participation",
            {"vote_id": s.secret_open, "deputy_id": s.hall.deputies[6]},
            vote_id=s.secret_closed,
        ),
    ),
    "participation wiped": ("secret_participation", lambda c, s: drop(c, "secret_participation")),
    "sealed ballot slipped into an open ballot": (
        "sealed_ballot",
        lambda c, s: slip_sealed_ballot(c, s.secret_open),
    ),
    "sealed ballot deleted": (
        "sealed_ballot",
        lambda c, s: drop(
            c,
            "sealed_ballot",
            vote_id=s.secret_open,
            sealed=c.execute(
                select(T["sealed_ballot"].c.sealed).where(
                    T["sealed_ballot"].c.vote_id == s.secret_open
                )
            )
            .scalars()
            .first(),
        ),
    ),
    "sealed ballots wiped": ("sealed_ballot", lambda c, s: drop(c, "sealed_ballot")),
    "sealed ballot left in a closed ballot": (
        "sealed_ballot",
        lambda c, s: c.execute(
            insert(T["sealed_ballot"]).values(vote_id=s.secret_closed, sealed=bytes(SEALED_SIZE))
        ),
    ),
}


@pytest.mark.parametrize("tamper", TAMPERS)
def test_a_tampered_row_is_found_and_named(held: Sitting, tamper: str) -> None:
    table, change = TAMPERS[tamper]
    assert report(held).ok
    with held.hall.rt.engine.begin() as connection:
        change(connection, held)
    got = report(held)
    assert not got.ok, f"{tamper}: not detected"
    assert got.table == table, got.describe()
    assert got.describe().startswith(f"the record does not match the journal: table {table}, row (")


# --- the key and the anchors -------------------------------------------------------------------


def journal_rows(s: Sitting) -> list[dict[str, Any]]:
    t = T["journal_entry"]
    with s.hall.rt.engine.connect() as c:
        return [dict(r) for r in c.execute(select(t).order_by(t.c.seq)).mappings()]


def rewrite_from(s: Sitting, seq: int, key: bytes | None, **changes: object) -> None:
    """Change entry `seq` and recompute the chain from there on, the head, and the anchors
    copied into the record, as whoever can write the database can (with `key`: as the key's
    holder can, codes included)."""
    rows = journal_rows(s)
    previous = rows[seq - 2]["hash"] if seq > 1 else GENESIS_HASH
    t, head = T["journal_entry"], T["journal_head"]
    with s.hall.rt.engine.begin() as c:
        for entry in rows[seq - 1 :]:
            entry = {**entry, **(changes if entry["seq"] == seq else {}), "prev_hash": previous}
            fields = ("seq", "at", "actor", "kind", "payload", "prev_hash")
            entry["hash"] = entry_hash(*(entry[name] for name in fields))
            entry["mac"] = entry_mac(key, entry["hash"]) if key else entry["mac"]
            c.execute(update(t).where(t.c.seq == entry["seq"]).values(entry))
            previous = entry["hash"]
            closed = {"vote_closed": "vote", "sitting_closed": "sitting"}.get(entry["kind"])
            if closed:  # its published anchor, copied into the record, follows
                owner = json.loads(entry["payload"])[f"{closed}_id"]
                anchor = f"{entry['seq']}:{entry['hash']}"
                c.execute(update(T[closed]).where(T[closed].c.id == owner).values(anchor=anchor))
        last = rows[-1]["seq"]
        mac = head_mac(key, last, previous) if key else None
        c.execute(update(head).values(hash=previous, **({"mac": mac} if key else {})))


def edited_payload(entry: dict[str, Any]) -> str:
    payload = json.loads(entry["payload"])
    payload["reason"] = "Підправлено"
    return canonical(payload)


def annulment(s: Sitting) -> dict[str, Any]:
    return next(e for e in journal_rows(s) if e["kind"] == "vote_annulled")


def test_a_chain_recomputed_without_the_key_is_found(held: Sitting) -> None:
    """Whoever can write the database can recompute every hash and the head; without the key
    the codes give it away, at the first entry changed."""
    entry = annulment(held)
    rewrite_from(held, entry["seq"], None, payload=edited_payload(entry))
    got = report(held)
    assert (got.ok, got.broken_seq) == (False, entry["seq"])
    assert "authentication code does not match" in got.describe()


def test_an_entry_added_or_a_head_moved_back_without_the_key_is_found(held: Sitting) -> None:
    rows = journal_rows(held)
    last = rows[-1]
    forged = {**last, "seq": last["seq"] + 1, "prev_hash": last["hash"], "kind": "vote_annulled"}
    fields = ("seq", "at", "actor", "kind", "payload", "prev_hash")
    forged["hash"] = entry_hash(*(forged[name] for name in fields))
    forged["mac"] = "0" * 64
    with held.hall.rt.engine.begin() as c:
        c.execute(insert(T["journal_entry"]).values(forged))
        c.execute(update(T["journal_head"]).values(seq=forged["seq"], hash=forged["hash"]))
    got = report(held)
    assert (got.ok, got.broken_seq) == (False, forged["seq"])
    assert "authentication code does not match" in got.describe()

    with held.hall.rt.engine.begin() as c:  # take it out, and the last real entry with it
        drop(c, "journal_entry", seq=forged["seq"])
        drop(c, "journal_entry", seq=last["seq"])
        before = rows[-2]
        c.execute(update(T["journal_head"]).values(seq=before["seq"], hash=before["hash"]))
    got = report(held)
    assert (got.ok, got.broken_seq) == (False, before["seq"])
    assert "head's authentication code does not match" in got.describe()


def test_the_keys_holder_cannot_rewrite_past_a_published_anchor(held: Sitting) -> None:
    """The key's holder can recompute codes too: the anchors published at each close catch it."""
    closed = queries.vote(held.hall.rt.reader(), held.roll_call)["result"]["anchor"]
    assert isinstance(closed, str)
    anchor = Anchor.parse(closed)
    assert report(held, [anchor]).ok
    assert report(held, [anchor]).describe().endswith("(1 published anchor matched)")

    entry = annulment(held)  # after the roll-call's close: the anchor does not cover it
    key = held.hall.rt.journal_key
    rewrite_from(held, entry["seq"], key, payload=edited_payload(entry))
    with held.hall.rt.engine.begin() as c:  # and the vote row to match, as the holder would
        edit(c, "vote", {"id": held.annulled_open}, annul_reason="Підправлено")
    assert report(held, [anchor]).ok  # after the anchor: only a later anchor can tell

    first = journal_rows(held)[0]
    rewrite_from(held, 1, key, at=first["at"].replace(":00.", ":01."))
    got = report(held, [anchor])
    assert (got.ok, got.broken_seq) == (False, anchor.seq)
    assert "differs from the published anchor" in got.describe()
    assert report(held).ok  # without the anchor the rewrite holds: that is what anchors are for


def test_a_sittings_close_publishes_its_anchor(held: Sitting) -> None:
    held.hall.close(held.secret_open)
    sittings.close_sitting(held.hall.rt.uow(), SECRETARY, held.hall.sitting)
    published = queries.sitting(held.hall.rt.reader(), held.hall.sitting)["anchor"]
    assert isinstance(published, str)
    anchor = Anchor.parse(published)
    head = queries.journal_head(held.hall.rt.reader())
    assert anchor.seq == head  # the close is the journal's head when it is published
    assert report(held, [anchor]).ok
    wrong = Anchor(anchor.seq, "f" * 64)
    assert not report(held, [wrong]).ok


def test_a_vote_closed_before_the_journal_listed_its_fill_ins_still_verifies(
    held: Sitting,
) -> None:
    """Votes closed before vote_closed listed the ballots filled in at the close (`filled_in`):
    their absent and not-voted lines are taken as stored; any other difference still shows."""
    rows = journal_rows(held)
    key = held.hall.rt.journal_key
    for entry in rows:
        if entry["kind"] == "vote_closed":
            payload = json.loads(entry["payload"])
            if payload.pop("filled_in", None):
                rewrite_from(held, entry["seq"], key, payload=canonical(payload))
    got = report(held)
    assert got.ok, got.describe()
    with held.hall.rt.engine.begin() as c:
        edit(
            c,
            "ballot",
            {"vote_id": held.roll_call, "deputy_id": held.hall.deputies[40]},
            outcome="for",
        )
    assert report(held).row == (held.roll_call, held.hall.deputies[40])


def test_an_entry_rewritten_into_something_unreadable_is_named(held: Sitting) -> None:
    """Without the key (the codes unchecked) an entry can be rewritten with a recomputed chain:
    a payload that is not what its kind records is named, not a crash."""
    entry = annulment(held)
    rewrite_from(held, entry["seq"], None, payload='{"vote_id": "x"}')
    without_key = journal.verify_journal(
        UnitOfWork(held.hall.rt.engine, held.hall.rt.session_factory, held.hall.rt.bus).reader()
    )
    assert (without_key.ok, without_key.broken_seq) == (False, entry["seq"])
    assert "is not what a 'vote_annulled' entry records" in without_key.describe()


def test_a_code_that_is_not_even_hex_is_a_mismatch_not_a_crash(held: Sitting) -> None:
    with held.hall.rt.engine.begin() as c:
        edit(c, "journal_entry", {"seq": 3}, mac="я" * 64)
    got = report(held)
    assert (got.ok, got.broken_seq) == (False, 3)


def test_an_emptied_journal_of_a_council_is_found(held: Sitting) -> None:
    with held.hall.rt.engine.begin() as c:
        drop(c, "journal_entry")
        c.execute(update(T["journal_head"]).values(seq=0, hash=GENESIS_HASH, mac=None))
    got = report(held)
    assert not got.ok and "journal is empty" in got.describe()
