"""The cast pipeline: a deputy's choice, written in a shared transaction with the casts that
arrive with it (group commit), acknowledged only after that transaction commits.

`cast_choice` hands the cast to the runtime's group committer (`UnitOfWork.casts`); the
committer's writer, `write_casts`, writes a whole batch in one transaction: it locks each vote of
the batch and reads the standing of the batch's deputies in one statement
(`adapters.casting_sql`), admits each cast by the domain's guards, writes the ballots (a secret
ballot: the participation, and the choice sealed to a key only the ballot's owner holds, with
nothing linking the two that anyone can read)
and one journal entry per cast, and commits. Each caster is then answered, or refused for its own
reason; a refused cast writes nothing. The ballot's primary key (vote, deputy) makes a double
vote impossible; the vote's lock makes a choice after its close impossible.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from voting.adapters import casting_sql, sealed_ballots
from voting.domain.actors import Actor
from voting.domain.errors import (
    AlreadyVoted,
    DomainError,
    NotFound,
    PermissionDenied,
    SecretCountersLost,
)
from voting.domain.presence import Standing
from voting.domain.votes import Choice, VoteKind, VoteState, ensure_can_cast

from .commands import CastChoice
from .group_commit import GroupCommitter, Request, one_by_one_on_failure
from .uow import UnitOfWork, checked_vote_id

#: The most casts written in one transaction. A batch of 64 takes a few tens of milliseconds; more
#: would only make its first caster wait longer.
MAX_BATCH = 64


class CastRequest(Request):
    """One deputy's choice waiting for the transaction it will be written in."""

    def __init__(self, actor: Actor, vote_id: object, choice: Choice) -> None:
        super().__init__(key=(_vote_key(vote_id), actor.deputy_id))
        self.actor, self.vote_id, self.choice = actor, vote_id, choice


def _vote_key(vote_id: object) -> Hashable:
    """Groups the casts of one vote (True, 1 and 1.0 are different requests, never the same)."""
    return (type(vote_id).__name__, repr(vote_id))


def new_committer() -> GroupCommitter[CastRequest]:
    """The group committer of casts: one per runtime (per process and database)."""
    return GroupCommitter(write_casts, MAX_BATCH)


def cast_choice(uow: UnitOfWork, actor: Actor, command: CastChoice) -> dict[str, object]:
    """Record a deputy's own choice; returns only after it is committed.

    Only a deputy votes, and only for themselves (`deputy_id`, when given, must be their own).
    """
    command.authorize(actor)
    if command.deputy_id is not None and command.deputy_id != actor.deputy_id:
        raise PermissionDenied("a deputy can vote only for themselves")
    if uow.casts is None:
        raise RuntimeError("this unit of work has no group committer: build it with a runtime")
    answer = uow.casts.submit(uow, CastRequest(actor, command.vote_id, command.choice))
    assert isinstance(answer, dict)
    return answer


def _write_batch(uow: UnitOfWork, batch: list[CastRequest]) -> None:
    """Check every cast, write the accepted ones with their journal entries, commit, settle.

    Raises only when the whole transaction fails (nothing is then written); a cast refused by a
    guard is settled with its error and leaves no trace. A batch on one vote makes four
    statements on PostgreSQL (lock and read the vote with what its guards need and the standing
    of the batch's deputies; the ballots; the journal's head; the entries and new head), whatever
    its size: each is a round trip while the vote is locked, and one server process writes every
    batch.
    """
    answers: dict[int, dict[str, object]] = {}
    refusals: dict[int, BaseException] = {}
    accepted: list[tuple[CastRequest, Row[Any], bool]] = []  # request, vote, changed
    with uow:
        groups: dict[Hashable, list[CastRequest]] = {}
        for request in batch:
            groups.setdefault(_vote_key(request.vote_id), []).append(request)
        locked = []
        for requests in groups.values():
            ids = {r.actor.deputy_id for r in requests if r.actor.deputy_id is not None}
            try:
                locked.append((*lock_for_casting(uow, requests[0].vote_id, ids), requests))
            except DomainError as error:
                refusals.update((id(r), error) for r in requests)
        now = uow.now()  # once the votes are locked: a close cannot slip in after this moment
        for vote, found, requests in locked:
            for request, changed in _admit(vote, found, requests, now, refusals):
                accepted.append((request, vote, changed))
        _write_ballots(uow, accepted, now)
        for request, vote, changed in sorted(accepted, key=lambda a: batch.index(a[0])):
            answers[id(request)] = journal_cast(uow, request, vote, changed)
        uow.commit()
    for request in batch:
        if id(request) in refusals:
            request.settle(error=refusals[id(request)])
        else:
            request.settle(result=answers[id(request)])


def lock_for_casting(uow: UnitOfWork, vote_id: object, ids: set[int]) -> tuple[Row[Any], Standing]:
    """Lock the vote for casting by the deputies `ids`: the vote, and their standing in it."""
    checked = checked_vote_id(vote_id)
    found = casting_sql.lock_for_casting(uow.session, checked, ids)
    if found is None:
        raise NotFound(f"vote {checked} does not exist")
    return found


def _admit(
    vote: Row[Any],
    found: Standing,
    requests: list[CastRequest],
    now: datetime,
    refusals: dict[int, BaseException],
) -> list[tuple[CastRequest, bool]]:
    """The casts on one vote that its guards let through, each with whether it changes a choice
    recorded before; the others go into `refusals`."""
    admitted = []
    for request in requests:
        who = request.actor.deputy_id
        try:
            if who not in found.participants:
                raise PermissionDenied("you do not take part in this sitting's body")
            ensure_can_cast(
                VoteState(vote.state),
                vote.deadline,
                now,
                who in found.registered,
                vote.registration_required_to_vote,
                who in found.voted,
                vote.allow_change,
                vote.interrupted_at is not None,
            )
        except DomainError as error:
            refusals[id(request)] = error
        else:
            admitted.append((request, who in found.voted))
    return admitted


def _write_ballots(
    uow: UnitOfWork, accepted: list[tuple[CastRequest, Row[Any], bool]], now: datetime
) -> None:
    """New ballots in one statement, changed ballots one by one; for a secret ballot the
    participations, and the choices each sealed to the ballot's key, apart. The primary key
    refuses a second ballot of a deputy, whoever wrote the first."""
    writes = casting_sql.BallotWrites()
    for request, vote, changed in accepted:
        who, picked = request.actor.deputy_id, request.choice.value
        assert who is not None
        if vote.kind == VoteKind.SECRET:
            if vote.tally_key is None:  # never while it is open; a row changed by hand
                raise SecretCountersLost(f"secret ballot {vote.id} has no key to seal to")
            writes.participations.append({"vote_id": vote.id, "deputy_id": who})
            try:
                sealed = sealed_ballots.seal(vote.tally_key, vote.id, picked, uow.record_key())
            except sealed_ballots.NotSealable as error:
                raise SecretCountersLost(str(error)) from None
            writes.sealed.append((vote.id, sealed))
        elif changed:
            writes.changed.append({"vote_id": vote.id, "deputy_id": who, "outcome": picked})
        else:
            writes.ballots.append({"vote_id": vote.id, "deputy_id": who, "outcome": picked})
    try:
        casting_sql.write_ballots(uow.session, writes, now)
    except IntegrityError:
        raise AlreadyVoted("your choice is already recorded") from None


def journal_cast(
    uow: UnitOfWork, request: CastRequest, vote: Row[Any], changed: bool
) -> dict[str, object]:
    """The cast's journal entry (its event follows the commit) and the caster's answer."""
    who, picked = request.actor.deputy_id, request.choice.value
    if vote.kind == VoteKind.SECRET:
        uow.journal(request.actor, "secret_ballot_cast", {"vote_id": vote.id, "deputy_id": who})
        # The same answer whatever the choice, to the byte: its size must not tell the choice.
        return {"vote_id": vote.id, "deputy_id": who, "recorded": True, "secret": True}
    # Open votes publish counts only; the per-deputy list goes into the protocol, so the
    # screens do not even learn who pressed (with a running split that would tell).
    public: dict[str, object] = {"vote_id": vote.id}
    if vote.kind == VoteKind.ROLL_CALL:
        public.update(deputy_id=who, choice=picked, changed=changed)
    uow.journal(
        request.actor,
        "choice_cast",
        {"vote_id": vote.id, "deputy_id": who, "choice": picked, "changed": changed},
        public=public,
    )
    return {"vote_id": vote.id, "deputy_id": who, "choice": picked, "recorded": True}


#: A batch of casts in one transaction, every request settled; if the transaction fails as a
#: whole, each cast is written again alone.
write_casts = one_by_one_on_failure(_write_batch, "casts")
