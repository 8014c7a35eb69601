"""Secret ballot, what is stored: no row of any table joins a voter to a choice; what was chosen
is kept only as three counters (and the totals); the secret tables' pages keep nothing but their
live rows; the stored counters are the same whatever the order the choices were cast in, in the
first ballot of a database and in later ones. On SQLite and on PostgreSQL (the scenes and the
readers: forensics.py)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from forensics import (
    BOTH,
    CHOICES,
    PLAN,
    PURGE_TIMEOUT,
    Scene,
    StoredRow,
    council_on,
    dump_database,
    history_left,
    leftover_bytes,
    observed_secret_vote,
    stored_counters,
    stored_order,
)


def test_no_stored_row_joins_a_voter_to_a_choice(scene: Scene) -> None:
    rows = dump_database(scene.rt.engine)
    assert {row.table for row in rows} >= {
        "ballot",
        "journal_entry",
        "vote",
        "secret_tally",
        "secret_participation",
        "deputy",
    }

    joining = [row for row in rows if row.deputies and row.choices]
    # The control: the roll-call vote's lines are found, in the ballot and in the journal.
    assert {row.table for row in joining} == {"ballot", "journal_entry"}
    assert len([row for row in joining if row.table == "ballot"]) == 6
    # Every row that names a deputy together with a choice belongs to the roll-call vote.
    assert [(row.table, row.values) for row in joining if row.votes != {scene.roll_call}] == []

    # Choices of the secret vote are mentioned in secret_tally only, and never beside a deputy.
    mentioning = [row for row in rows if scene.vote in row.votes and row.choices]
    assert sorted(row.table for row in mentioning) == ["secret_tally"] * 3
    assert all(not row.deputies for row in mentioning)
    unattributed = [(row.table, row.values) for row in rows if row.choices and not row.votes]
    assert unattributed == []


def test_what_was_chosen_is_kept_only_as_three_counters(scene: Scene) -> None:
    rows = dump_database(scene.rt.engine)
    of_vote = [row for row in rows if scene.vote in row.votes]
    by_table: dict[str, list[StoredRow]] = {}
    for row in of_vote:
        by_table.setdefault(row.table, []).append(row)
    assert set(by_table) == {"vote", "journal_entry", "secret_tally", "secret_participation"}

    tally = by_table["secret_tally"]
    assert {tuple(row.columns) for row in tally} == {("choice", "count", "vote_id")}
    assert {row.values["choice"]: row.values["count"] for row in tally} == PLAN

    # Who took part: the pair (vote, deputy) and nothing else — no time, no choice, no own id.
    took_part = by_table["secret_participation"]
    assert {tuple(row.columns) for row in took_part} == {("deputy_id", "vote_id")}
    assert sorted(row.values["deputy_id"] for row in took_part) == sorted(scene.choice_of)

    # The vote row and the closing journal entry repeat the totals, nothing finer.
    (vote,) = by_table["vote"]
    assert (
        vote.values["count_for"],
        vote.values["count_against"],
        vote.values["count_abstain"],
    ) == (10, 7, 5)
    journal = by_table["journal_entry"]
    assert Counter(row.values["kind"] for row in journal) == {
        "vote_opened": 1,
        "secret_ballot_cast": 22,
        "vote_closed": 1,
    }
    closing = next(
        json.loads(row.values["payload"]) for row in journal if row.values["kind"] == "vote_closed"
    )
    assert {choice: closing[choice] for choice in CHOICES} == PLAN
    cast = sorted(
        (row for row in journal if row.values["kind"] == "secret_ballot_cast"),
        key=lambda row: row.values["seq"],
    )
    assert [json.loads(row.values["payload"]) for row in cast] == [
        {"vote_id": scene.vote, "deputy_id": deputy_id} for deputy_id in scene.order
    ]
    assert [row.values["actor"] for row in cast] == [f"deputy:{d}" for d in scene.order]
    assert scene.closed["for"] == 10 and scene.closed["against"] == 7
    assert scene.closed["abstain"] == 5


def test_the_secret_tables_pages_keep_nothing_but_their_live_rows(scene: Scene) -> None:
    """After the purge the counters' pages hold the live rows and zeros: no old counter version
    in the free space (a plain VACUUM, or SQLite without secure_delete, would leave them)."""
    for table in ("secret_tally", "secret_participation"):
        found = leftover_bytes(scene, table)
        assert found and all(count == 0 for _page, count in found), (table, found)
    if scene.postgres:
        assert history_left(scene) == 0


def _abstain_first(choice_of: dict[int, str]) -> list[int]:
    return sorted(choice_of, key=lambda deputy: (-CHOICES.index(choice_of[deputy]), deputy))


@pytest.mark.parametrize("backend", BOTH)
def test_stored_counters_are_the_same_whatever_the_casting_order(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The same choices cast in another order (first all who abstain, then those against, then
    those for): an intruder comparing the stored counters with the journal's casting order must
    learn nothing from them."""
    first: Scene = request.getfixturevalue(f"{backend}_scene")
    with observed_secret_vote(backend, tmp_path, order=_abstain_first) as second:
        assert first.choice_of == second.choice_of and first.order != second.order
        assert first.closed == second.closed
        assert stored_counters(first) == stored_counters(second)


@pytest.mark.parametrize("backend", BOTH)
def test_counters_of_a_later_ballot_lie_the_same_whatever_the_casting_order(
    backend: str, tmp_path: Path
) -> None:
    """A council holds many secret ballots. After a first one, the same six choices (3 for,
    2 against, 1 abstain) are cast in two orders: those for last, then those abstaining last.
    Stored, the counters of both ballots must lie alike: otherwise the one changed last is the
    choice of the last caster, whom the journal names."""
    with council_on(backend, tmp_path) as (hall, url):
        voters = hall.deputies[:6]
        choice_of = dict(zip(voters, ["for"] * 3 + ["against"] * 2 + ["abstain"], strict=True))

        def grouped(*choices: str) -> list[int]:
            return [d for choice in choices for d in voters if choice_of[d] == choice]

        stored = []
        orders = (
            voters,
            grouped("abstain", "against", "for"),
            grouped("for", "against", "abstain"),
        )
        for n, order in enumerate(orders):
            vote = hall.open_vote(title=f"Таємне {n + 1}", kind="secret")
            for deputy_id in order:
                hall.cast(vote, deputy_id, choice_of[deputy_id])
            result = hall.close(vote)
            assert (result["for"], result["against"], result["abstain"]) == (3, 2, 1)
            assert hall.rt.purger.wait_idle(PURGE_TIMEOUT)
            stored.append(stored_order(hall, url, vote))
        assert sorted(stored[1]) == sorted(CHOICES)
        assert stored[1] == stored[2], (
            f"counters stored as {stored[1]} when the last caster chose for, as {stored[2]} when "
            "the last caster abstained"
        )
