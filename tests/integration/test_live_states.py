"""All audiences' live states read at once (what a push reads) are each audience's own state:
no audience gets more than its own read gives, in every phase of a vote, secret ballots too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event

from voting.services import queries

if TYPE_CHECKING:
    from halls import Hall


def without_clock(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k != "now"}


def agree(hall: Hall) -> dict[str, dict[str, Any]]:
    head, together = queries.live_states(hall.rt.reader(), with_head=True)
    assert head == queries.journal_head(hall.rt.reader())
    assert set(together) == set(queries.AUDIENCES)
    for audience in queries.AUDIENCES:
        alone = queries.live_state(hall.rt.reader(), audience)
        assert without_clock(together[audience]) == without_clock(alone), audience
    return together


@pytest.mark.parametrize("kind", ["roll_call", "secret"])
def test_every_audience_read_together_gets_what_it_gets_alone(hall: Hall, kind: str) -> None:
    agree(hall)  # no registration yet
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    vote_id = hall.open_vote(item_id=hall.items[0], kind=kind)
    hall.cast_many(vote_id, hall.deputies[:12], "for")
    hall.cast_many(vote_id, hall.deputies[12:15], "against")
    during = agree(hall)
    assert during["public"]["vote"]["votes_cast"] == 15
    assert "choices" not in during["public"]["vote"] and "running" not in during["public"]["vote"]
    if kind == "roll_call":
        assert during["staff"]["vote"]["choices"][hall.deputies[0]] == "for"
    else:  # nobody, staff included, gets a per-deputy line of a secret ballot
        assert not {"choices", "running"} & set(during["staff"]["vote"])
    hall.close(vote_id)
    after = agree(hall)
    assert ("outcomes" in after["public"]["vote"]) == (kind == "roll_call")
    assert "registered_ids" not in after["terminal"]["sitting"]


def test_no_part_of_a_state_is_newer_than_the_number_it_is_sent_with(hall: Hall) -> None:
    """A push reads the states and the journal's head; a registration committed during that read
    must not show under an older number (the next push, with the same state and the newer
    number, would then look like nothing new, and an older snapshot with a higher number could
    replace it on a screen: the screen would keep a stale count)."""
    hall.open_registration()
    hall.register(*hall.deputies[:20])
    before = queries.journal_head(hall.rt.reader())
    late = hall.deputies[20]
    done: list[bool] = []

    def commit_in_between(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if not done and "FROM council" in statement:  # the state's first read
            done.append(True)  # once: the registration reads the council too
            hall.register(late)  # on another connection, committed at once

    event.listen(hall.rt.engine, "after_cursor_execute", commit_in_between)
    try:
        head, states = queries.live_states(hall.rt.reader(), with_head=True)
    finally:
        event.remove(hall.rt.engine, "after_cursor_execute", commit_in_between)
    assert done, "the registration was not committed during the read"
    assert queries.journal_head(hall.rt.reader()) == before + 1  # it did land
    assert head is not None
    shown = states["public"]["sitting"]["registered"]
    # SQLite reads one snapshot (20 under `before`); PostgreSQL each statement afresh (21 under
    # before + 1): never 21 under `before`.
    assert shown - 20 <= head - before, (shown, head - before)
