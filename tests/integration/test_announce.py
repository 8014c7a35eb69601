"""The chair announces a closed vote's result: once, only when counted, journaled, and shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from voting.domain.actors import Actor
from voting.domain.errors import InvalidTransition, PermissionDenied
from voting.services import journal, queries, votes
from voting.services.commands import AnnounceResult, AnnulVote

if TYPE_CHECKING:
    from halls import Hall

CHAIR = Actor("chair", "chair:test")
SECRETARY = Actor("secretary", "secretary:test")


def test_a_closed_result_is_announced_once_and_journaled(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    vote = hall.open_vote(item_id=hall.items[0])
    with pytest.raises(InvalidTransition, match="only a closed vote"):
        votes.announce_result(
            hall.rt.uow(), CHAIR, AnnounceResult.parse({}, vote_id=vote)
        )  # still open: nothing to announce
    hall.cast_many(vote, hall.deputies[:25], "for")
    hall.close(vote)
    assert queries.vote(hall.rt.reader(), vote)["announced_at"] is None
    assert queries.live_state(hall.rt.reader())["vote"]["announced_at"] is None

    with pytest.raises(PermissionDenied):
        votes.announce_result(
            hall.rt.uow(),
            Actor("deputy", "deputy:1", hall.deputies[0]),
            AnnounceResult.parse({}, vote_id=vote),
        )
    before = len(journal.read_journal(hall.rt.reader(), limit=100_000))
    votes.announce_result(hall.rt.uow(), CHAIR, AnnounceResult.parse({}, vote_id=vote))
    entries = journal.read_journal(hall.rt.reader(), after=before)
    assert [(e["kind"], e["payload"]) for e in entries] == [
        ("result_announced", {"vote_id": vote, "result": "adopted"})
    ]
    assert queries.live_state(hall.rt.reader())["vote"]["announced_at"] is not None

    with pytest.raises(InvalidTransition, match="already announced"):
        votes.announce_result(hall.rt.uow(), SECRETARY, AnnounceResult.parse({}, vote_id=vote))
    assert len(journal.read_journal(hall.rt.reader(), limit=100_000)) == before + 1


def test_an_annulled_vote_is_not_announced(hall: Hall) -> None:
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    vote = hall.open_vote(item_id=hall.items[0])
    votes.annul_vote(
        hall.rt.uow(), SECRETARY, AnnulVote.parse({"reason": "the system failed"}, vote_id=vote)
    )
    with pytest.raises(InvalidTransition, match="annulled"):
        votes.announce_result(hall.rt.uow(), CHAIR, AnnounceResult.parse({}, vote_id=vote))
    assert queries.vote(hall.rt.reader(), vote)["announced_at"] is None
