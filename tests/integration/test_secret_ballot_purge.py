"""Secret ballot, the purge and the loss of its key: the close does not wait for a reader that
holds the purge back, nor does the next ballot; a purge that cannot finish is reported as an
error saying what to run by hand; a ballot whose key went with its owner's memory cannot be
counted until it is annulled and held again. On SQLite and on PostgreSQL (the holders:
forensics.py)."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest
from forensics import (
    BOTH,
    PURGE_TIMEOUT,
    SECRETARY,
    council_on,
    history_left,
    observed_secret_vote,
    reader_busy_for_a_while,
)
from sqlalchemy import text

from voting.bootstrap import Runtime
from voting.domain.errors import SecretCountersLost
from voting.services import votes
from voting.services.commands import AnnulVote, Revote


@pytest.mark.parametrize("backend", BOTH)
def test_closing_a_secret_vote_does_not_wait_for_a_reader(backend: str, tmp_path: Path) -> None:
    """The close answers at once; the purge retries while the reader goes on, and the history is
    gone once it has finished."""
    with observed_secret_vote(backend, tmp_path, while_closing=reader_busy_for_a_while) as seen:
        assert (seen.closed["for"], seen.closed["against"], seen.closed["abstain"]) == (10, 7, 5)
        assert seen.close_seconds < 0.5, f"the close answered after {seen.close_seconds:.2f} s"
        assert seen.held is not None
        if seen.held.history is not None:
            # The history was still there while the reader read (the purge could not finish)...
            assert len(seen.held.history) >= 2 and min(seen.held.history) > 0, seen.held.history
        # ...and hold_secret_vote's wait for the purge returned: it is gone.
        assert history_left(seen) == 0


@pytest.mark.parametrize("backend", BOTH)
def test_the_next_secret_ballot_does_not_wait_for_a_purge_held_back(
    backend: str, tmp_path: Path
) -> None:
    """Elections often go round after round: while a reader holds the purge of the first round
    back, the secretary opens the second and the deputies cast in it without waiting."""
    with council_on(backend, tmp_path) as (hall, url):
        first = hall.open_vote(title="Перший тур", kind="secret")
        for deputy_id in hall.deputies[:5]:
            hall.cast(first, deputy_id, "for")
        with reader_busy_for_a_while(url, seconds=0):
            hall.close(first)
            time.sleep(0.2)  # the purge has started and waits for the reader
            waited = []
            started = time.perf_counter()
            second = hall.open_vote(title="Другий тур", kind="secret")
            waited.append(time.perf_counter() - started)
            for deputy_id in hall.deputies[:5]:
                started = time.perf_counter()
                hall.cast(second, deputy_id, "against")
                waited.append(time.perf_counter() - started)
        assert hall.rt.purger.wait_idle(PURGE_TIMEOUT)
        assert hall.close(second)["against"] == 5
        assert max(waited) < 0.5, [round(each, 2) for each in waited]


def test_a_purge_that_cannot_finish_is_reported_as_an_error(
    hall: Any, runtime: Runtime, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The purge gives up after `give_up_after` seconds (10 minutes in production) and says so at
    ERROR level, telling the operator what to run; the history is then still there."""
    assert runtime.purger is not None
    runtime.purger.give_up_after = 0.3
    hall.open_registration()
    hall.register(*hall.everyone)
    vote = hall.open_vote(title="Таємне", kind="secret")
    for deputy_id in hall.deputies[:3]:
        hall.cast(vote, deputy_id, "for")
    with (
        caplog.at_level(logging.INFO, logger="voting.adapters.secret_purge"),
        reader_busy_for_a_while(db_url, seconds=0) as held,
    ):
        hall.close(vote)
        assert runtime.purger.wait_idle(PURGE_TIMEOUT)
        errors = [
            r.getMessage()
            for r in caplog.records
            if r.name == "voting.adapters.secret_purge" and r.levelno >= logging.ERROR
        ]
    # ...and says what to run by hand on this database.
    by_hand = "CLUSTER sealed_ballot" if runtime.engine.dialect.name == "postgresql" else "VACUUM"
    assert len(errors) == 1 and "could not be purged" in errors[0] and by_hand in errors[0]
    assert held.history is None or min(held.history) > 0


def _stored_state(runtime: Runtime, vote: int) -> dict[str, object]:
    with runtime.engine.connect() as connection:
        return {
            "journal": connection.execute(
                text("SELECT seq, kind FROM journal_entry ORDER BY seq")
            ).all(),
            "vote": connection.execute(
                text(
                    "SELECT state, count_for, count_against, count_abstain, closed_at FROM vote "
                    "WHERE id = :v"
                ),
                {"v": vote},
            ).one(),
            "participants": connection.execute(
                text("SELECT deputy_id FROM secret_participation WHERE vote_id = :v ORDER BY 1"),
                {"v": vote},
            )
            .scalars()
            .all(),
            "sealed": connection.execute(
                text("SELECT count(*) FROM sealed_ballot WHERE vote_id = :v"), {"v": vote}
            ).scalar_one(),
        }


def test_a_ballot_whose_key_is_lost_cannot_be_counted_until_annulled_and_held_again(
    hall: Any, runtime: Runtime
) -> None:
    """The key that opens a secret ballot's sealed ballots lives only in its owner's memory: when
    that process goes (here: its memory of the key is dropped), the close refuses with a message
    telling the secretary what to do, and changes nothing; annulling works and leaves nothing of
    the sealed ballots, and the ballot is held again."""
    hall.open_registration()
    hall.register(*hall.everyone)
    vote = hall.open_vote(item_id=hall.items[0], title="Обрання секретаря ради", kind="secret")
    early, late = hall.deputies[:2], hall.deputies[2]
    hall.cast(vote, early[0], "for")
    hall.cast(vote, early[1], "against")
    assert runtime.ballot_keys.holds(vote)
    runtime.ballot_keys.forget(vote)
    before = _stored_state(runtime, vote)
    assert before["sealed"] == 2 and before["vote"][0] == "open"

    with pytest.raises(SecretCountersLost) as close_refused:
        hall.close(vote)
    refused = close_refused.value
    assert refused.code == "secret_ballot_lost" and refused.status == 409
    assert re.search(r"\bkey\b.*\bannul\b.*\bhold it again\b", refused.message), refused.message
    assert _stored_state(runtime, vote) == before  # nothing counted or closed

    votes.annul_vote(
        runtime.uow(),
        SECRETARY,
        AnnulVote.parse({"reason": "ключ утрачено під час збою сервера"}, vote_id=vote),
    )
    after = _stored_state(runtime, vote)
    assert after["vote"][0] == "annulled" and after["sealed"] == 0
    assert after["vote"][1:4] == (None, None, None)  # nothing partial survives
    assert [kind for _seq, kind in after["journal"][len(before["journal"]) :]] == ["vote_annulled"]
    assert runtime.purger is not None and runtime.purger.wait_idle(PURGE_TIMEOUT)

    # Held again: those who had voted vote anew, and the counting is right.
    again = votes.revote(runtime.uow(), SECRETARY, Revote.parse({}, vote_id=vote))
    for deputy_id, choice in ((early[0], "for"), (early[1], "against"), (late, "for")):
        hall.cast(again, deputy_id, choice)
    result = hall.close(again)
    assert (result["for"], result["against"], result["abstain"]) == (2, 1, 0)
