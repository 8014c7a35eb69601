"""The facts a result rests on, as the journal recorded them and as the tables hold them.

The hash chain proves the journal was not rewritten; this proves the tables were not rewritten
behind it. Replaying the journal gives, for every row of the fact tables (sittings' published
anchors, agenda items' statuses, registration rounds, registrations, votes with their rule,
counts, threshold, outcome and anchor, ballots, secret-ballot participation and sealed ballots), the
values its last entry set; `first_difference` compares them
with the rows stored and names the first row that differs, is missing, or was never journaled.

Tables are compared in FACT_TABLES order, rows by key, so the same tampering is always reported
the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from voting.adapters import orm
from voting.domain.votes import VoteKind, VoteState

from .uow import UnitOfWork

#: The tables whose rows a result rests on, in the order they are compared.
FACT_TABLES = (
    "sitting",
    "agenda_item",
    "registration_round",
    "registration",
    "vote",
    "ballot",
    "secret_participation",
    "sealed_ballot",
)

Key = tuple[Any, ...]
Rows = dict[str, dict[Key, dict[str, Any]]]

#: Columns of a vote that its opening fixes (payload of vote_opened: see votes.vote_public).
_OPENED = ("sitting_id", "item_id", "title", "stage", "kind", "attempt", "previous_vote_id")
#: Columns of a vote that its count fixes (payload of vote_closed: see Tally.to_dict).
_COUNTED = {
    "total_composition": "total_composition",
    "registered": "registered",
    "count_for": "for",
    "count_against": "against",
    "count_abstain": "abstain",
    "count_not_voted": "not_voted",
    "count_absent": "absent",
    "threshold": "threshold",
    "result": "result",
}


@dataclass(frozen=True)
class Difference:
    """The first row of a fact table that does not match the journal."""

    table: str
    key: Key
    problem: str
    seq: int | None  # the journal entry that last recorded the row, if any

    def describe(self) -> str:
        where = ", ".join(
            f"{name} {value}" for name, value in zip(_KEYS[self.table], self.key, strict=True)
        )
        entry = "" if self.seq is None else f" (journal entry {self.seq})"
        return f"table {self.table}, row ({where}): {self.problem}{entry}"


_KEYS = {
    "sitting": ("sitting",),
    "agenda_item": ("item",),
    "registration_round": ("sitting", "round"),
    "registration": ("sitting", "round", "deputy"),
    "vote": ("vote",),
    "ballot": ("vote", "deputy"),
    "secret_participation": ("vote", "deputy"),
    "sealed_ballot": ("vote",),
    "journal_entry": ("seq",),
}


class _Replay:
    """The fact rows as the journal's entries, applied in order, leave them."""

    def __init__(self) -> None:
        self.rows: Rows = {table: {} for table in FACT_TABLES}
        self.seqs: dict[tuple[str, Key], int] = {}
        self.secret_votes: set[int] = set()
        self.digest = ""  # the hash of the entry being applied
        #: Votes closed before the journal listed the ballots filled in at the close.
        self.legacy_closes: set[int] = set()
        self.unreadable: tuple[int, str] | None = None  # the first entry that could not be read

    def put(self, seq: int, table: str, key: Key, **values: object) -> None:
        row = self.rows[table].setdefault(key, {})
        row.update(values)
        self.seqs[(table, key)] = seq

    def apply(self, seq: int, kind: str, p: Mapping[str, Any], digest: str) -> None:
        handler = getattr(self, f"on_{kind}", None)
        if handler is not None:
            self.digest = digest  # the entry's hash: a close's anchor is "SEQ:HASH"
            handler(seq, p)

    # sittings and their agenda
    def on_sitting_created(self, seq: int, p: Mapping[str, Any]) -> None:
        self.put(seq, "sitting", (p["sitting_id"],), anchor=None)

    def on_sitting_closed(self, seq: int, p: Mapping[str, Any]) -> None:
        self.put(seq, "sitting", (p["sitting_id"],), anchor=f"{seq}:{self.digest}")

    def on_item_added(self, seq: int, p: Mapping[str, Any]) -> None:
        self.put(seq, "agenda_item", (p["item_id"],), status="pending")

    def on_item_status_changed(self, seq: int, p: Mapping[str, Any]) -> None:
        self.put(seq, "agenda_item", (p["item_id"],), status=p["after"])

    # registration
    def on_registration_opened(self, seq: int, p: Mapping[str, Any]) -> None:
        sitting, number = p["sitting_id"], p["round"]
        self.put(seq, "registration_round", (sitting, number), open=True, interrupted=False)
        for deputy_id in p.get("carried_over", []):
            self.put(seq, "registration", (sitting, number, deputy_id), present=True)

    def on_registration_closed(self, seq: int, p: Mapping[str, Any]) -> None:
        self.put(seq, "registration_round", (p["sitting_id"], p["round"]), open=False)

    def on_registration_interrupted(self, seq: int, p: Mapping[str, Any]) -> None:
        key = (p["sitting_id"], p["round"])
        self.put(seq, "registration_round", key, interrupted=True)

    def on_registration_continued(self, seq: int, p: Mapping[str, Any]) -> None:
        key = (p["sitting_id"], p["round"])
        self.put(seq, "registration_round", key, interrupted=False)

    def on_deputy_registered(self, seq: int, p: Mapping[str, Any]) -> None:
        key = (p["sitting_id"], p["round"], p["deputy_id"])
        self.put(seq, "registration", key, present=True)

    def on_deputy_left(self, seq: int, p: Mapping[str, Any]) -> None:
        key = (p["sitting_id"], p["round"], p["deputy_id"])
        self.put(seq, "registration", key, present=False)

    # votes
    def on_vote_opened(self, seq: int, p: Mapping[str, Any]) -> None:
        rule = p["rule"]
        self.put(
            seq,
            "vote",
            (p["vote_id"],),
            **{name: p[name] for name in _OPENED},
            rule=(rule["base"], rule["comparator"], rule["numerator"], rule["denominator"]),
            manual=p["manual"],
            state=VoteState.OPEN.value,
            announced=False,
            annul_reason=None,
            anchor=None,
            interrupted=False,
        )
        if p["kind"] == VoteKind.SECRET:
            self.secret_votes.add(p["vote_id"])

    def on_vote_interrupted(self, seq: int, p: Mapping[str, Any]) -> None:
        self.put(seq, "vote", (p["vote_id"],), interrupted=True)

    def on_vote_continued(self, seq: int, p: Mapping[str, Any]) -> None:
        self.put(seq, "vote", (p["vote_id"],), interrupted=False)

    def on_choice_cast(self, seq: int, p: Mapping[str, Any]) -> None:
        self.put(seq, "ballot", (p["vote_id"], p["deputy_id"]), outcome=p["choice"])

    def on_secret_ballot_cast(self, seq: int, p: Mapping[str, Any]) -> None:
        self.put(seq, "secret_participation", (p["vote_id"], p["deputy_id"]))

    def on_manual_result_entered(self, seq: int, p: Mapping[str, Any]) -> None:
        """A counting commission's result: a vote of its own, never open electronically (so no
        vote_opened), closed by the vote_closed that follows."""
        self.on_vote_opened(seq, p)
        for deputy_id, choice in p.get("choices", {}).items():
            self.put(seq, "ballot", (p["vote_id"], int(deputy_id)), outcome=choice)

    def on_vote_closed(self, seq: int, p: Mapping[str, Any]) -> None:
        vote_id = p["vote_id"]
        counted = {column: p[name] for column, name in _COUNTED.items()}
        anchor = f"{seq}:{self.digest}"
        self.put(seq, "vote", (vote_id,), state=VoteState.CLOSED.value, anchor=anchor, **counted)
        if "filled_in" not in p and vote_id not in self.secret_votes:
            self.legacy_closes.add(vote_id)  # see accept_legacy_fill_ins
        for outcome, deputy_ids in p.get("filled_in", {}).items():
            for deputy_id in deputy_ids:
                self.put(seq, "ballot", (vote_id, deputy_id), outcome=outcome)

    def on_vote_annulled(self, seq: int, p: Mapping[str, Any]) -> None:
        values = {"state": VoteState.ANNULLED.value, "annul_reason": p["reason"]}
        self.put(seq, "vote", (p["vote_id"],), **values)

    def on_result_announced(self, seq: int, p: Mapping[str, Any]) -> None:
        self.put(seq, "vote", (p["vote_id"],), announced=True)

    def open_secret_counts(self) -> None:
        """The sealed ballots of the secret ballots open now: one for each participant
        journaled (which choice each holds, nobody can tell before the close: that would link
        the deputy to it). A closed or annulled ballot keeps none: they are counted, then
        deleted, in the closing transaction."""
        for (vote_id,), row in sorted(self.rows["vote"].items()):
            if vote_id not in self.secret_votes or row["state"] != VoteState.OPEN.value:
                continue
            cast = sum(1 for v, _deputy in self.rows["secret_participation"] if v == vote_id)
            if cast:
                self.put(self.seqs[("vote", (vote_id,))], "sealed_ballot", (vote_id,), count=cast)

    def accept_legacy_fill_ins(self, stored: Rows) -> None:
        """A vote closed before vote_closed listed the ballots it filled in (`filled_in`): its
        stored "absent" and "not voted" lines of deputies with no journaled ballot are taken
        as they are (their number is still held to the journaled counts by the vote's row)."""
        for key, row in stored["ballot"].items():
            if (
                key[0] in self.legacy_closes
                and key not in self.rows["ballot"]
                and row.get("outcome") in ("absent", "not_voted")
            ):
                self.put(self.seqs[("vote", (key[0],))], "ballot", key, outcome=row["outcome"])


def journaled(entries: Iterable[tuple[int, str, str, str]]) -> _Replay:
    """Replay (seq, kind, payload as JSON, hash) in order; an entry whose payload is not what
    its kind records (rewritten along with a recomputed chain) stops the replay and is named
    in `unreadable`."""
    replay = _Replay()
    for seq, kind, payload, digest in entries:
        try:
            replay.apply(seq, kind, json.loads(payload), digest)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
            replay.unreadable = (seq, f"its payload is not what a {kind!r} entry records ({error})")
            break
    return replay


def stored(uow: UnitOfWork) -> Rows:
    """The fact tables' rows as the database holds them, keyed as the replay keys them."""
    s = uow.session
    rows: Rows = {table: {} for table in FACT_TABLES}
    for held in s.scalars(select(orm.Sitting)):
        rows["sitting"][(held.id,)] = {"anchor": held.anchor}
    for item in s.scalars(select(orm.AgendaItem)):
        rows["agenda_item"][(item.id,)] = {"status": item.status}
    rounds: dict[int, tuple[int, int]] = {}
    for r in s.scalars(select(orm.RegistrationRound)):
        rounds[r.id] = (r.sitting_id, r.number)
        rows["registration_round"][(r.sitting_id, r.number)] = {
            "open": r.closed_at is None,
            "interrupted": r.interrupted_at is not None,
        }
    for g in s.scalars(select(orm.Registration)):
        sitting, number = rounds.get(g.round_id, (None, g.round_id))
        rows["registration"][(sitting, number, g.deputy_id)] = {"present": g.left_at is None}
    for v in s.scalars(select(orm.Vote)):
        rows["vote"][(v.id,)] = {
            **{name: getattr(v, name) for name in _OPENED},
            "rule": (v.rule_base, v.rule_comparator, v.rule_numerator, v.rule_denominator),
            "manual": v.manual,
            "state": v.state,
            "announced": v.announced_at is not None,
            "annul_reason": v.annul_reason,
            "anchor": v.anchor,
            "interrupted": v.interrupted_at is not None,
            **{column: getattr(v, column) for column in _COUNTED},
        }
    for b in s.scalars(select(orm.Ballot)):
        rows["ballot"][(b.vote_id, b.deputy_id)] = {"outcome": b.outcome}
    for p in s.scalars(select(orm.SecretParticipation)):
        rows["secret_participation"][(p.vote_id, p.deputy_id)] = {}
    sealed = select(orm.SealedBallot.vote_id, func.count()).group_by(orm.SealedBallot.vote_id)
    for vote_id, count in s.execute(sealed):
        rows["sealed_ballot"][(vote_id,)] = {"count": count}
    return rows


def first_difference(replay: _Replay, rows: Rows) -> Difference | None:
    """The first stored row that is not what the journal recorded (or is missing, or extra)."""
    if replay.unreadable is not None:
        unreadable, problem = replay.unreadable
        return Difference("journal_entry", (unreadable,), problem, unreadable)
    replay.accept_legacy_fill_ins(rows)
    replay.open_secret_counts()
    for table in FACT_TABLES:
        expected, actual = replay.rows[table], rows[table]
        for key in sorted(set(expected) | set(actual), key=_sortable):
            seq = replay.seqs.get((table, key))
            if key not in actual:
                return Difference(table, key, "the row is missing", seq)
            if key not in expected:
                return Difference(table, key, "the row is not in the journal (added)", None)
            for column, value in expected[key].items():
                if actual[key].get(column) != value:
                    problem = (
                        f"{column} is {_shown(actual[key].get(column))}, "
                        f"the journal says {_shown(value)}"
                    )
                    return Difference(table, key, problem, seq)
    return None


def _sortable(key: Key) -> tuple[tuple[int, str], ...]:
    return tuple((0, f"{part:020d}") if isinstance(part, int) else (1, str(part)) for part in key)


def _shown(value: object) -> str:
    return "empty" if value is None else repr(value)
