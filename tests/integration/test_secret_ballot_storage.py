"""Secret ballot, what is stored once it is closed: no row of any table joins a voter to a choice;
what was chosen is kept only as the totals; the sealed ballots are gone, and the secret tables'
pages keep nothing but their live rows. On SQLite and on PostgreSQL (the scenes and the readers:
forensics.py; the ballot while it is open: test_secret_ballot_open.py)."""

from __future__ import annotations

import json
from collections import Counter

from forensics import (
    CHOICES,
    PLAN,
    Scene,
    StoredRow,
    dump_database,
    history_left,
    leftover_bytes,
)


def test_no_stored_row_joins_a_voter_to_a_choice(scene: Scene) -> None:
    rows = dump_database(scene.rt.engine)
    assert {row.table for row in rows} >= {
        "ballot",
        "journal_entry",
        "vote",
        "secret_participation",
        "deputy",
    }

    joining = [row for row in rows if row.deputies and row.choices]
    # The control: the roll-call vote's lines are found, in the ballot and in the journal.
    assert {row.table for row in joining} == {"ballot", "journal_entry"}
    assert len([row for row in joining if row.table == "ballot"]) == 6
    # Every row that names a deputy together with a choice belongs to the roll-call vote.
    assert [(row.table, row.values) for row in joining if row.votes != {scene.roll_call}] == []

    # No row about the secret vote holds a choice (its totals are numbers in its own row).
    mentioning = [row for row in rows if scene.vote in row.votes and row.choices]
    assert mentioning == []
    assert [row for row in rows if row.table == "sealed_ballot"] == []
    unattributed = [(row.table, row.values) for row in rows if row.choices and not row.votes]
    assert unattributed == []


def test_what_was_chosen_is_kept_only_as_the_totals(scene: Scene) -> None:
    rows = dump_database(scene.rt.engine)
    of_vote = [row for row in rows if scene.vote in row.votes]
    by_table: dict[str, list[StoredRow]] = {}
    for row in of_vote:
        by_table.setdefault(row.table, []).append(row)
    assert set(by_table) == {"vote", "journal_entry", "secret_participation"}

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
    """After the purge the secret tables' pages hold the live rows and zeros: no sealed ballot
    deleted at the close is left in the free space (a plain VACUUM, or SQLite without
    secure_delete, would leave them)."""
    for table in ("sealed_ballot", "secret_participation"):
        found = leftover_bytes(scene, table)
        assert all(count == 0 for _page, count in found), (table, found)
        if table == "secret_participation":
            assert found, "the detector read no page"
    if scene.postgres:
        assert history_left(scene) == 0
