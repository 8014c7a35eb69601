"""Use cases for votes: open, cast a choice, close (by hand or on time), re-vote, annul, manual
entry.

A choice is acknowledged only after its transaction commits. The ballot's primary key (vote,
deputy) makes a double vote impossible; the vote row's lock makes a choice after close impossible.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    Engine,
    Exists,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from voting.adapters import orm
from voting.domain.agenda import ItemStatus
from voting.domain.errors import (
    AlreadyVoted,
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    QuorumNotMet,
    RevoteLimitReached,
    SecretCountersLost,
    VoteAlreadyOpen,
)
from voting.domain.rules import AdoptionRule, Base, Comparator, rule_from_spec
from voting.domain.votes import (
    Choice,
    Outcome,
    Stage,
    Tally,
    VoteKind,
    VoteState,
    ensure_can_cast,
    ensure_open,
    parse_enum,
    tally_ballots,
    tally_counts,
)

from . import validate
from .council import PROCEDURE, the_council
from .group_commit import GroupCommitter, Request
from .registration import Presence, presence
from .sittings import change_item_status, ensure_item_in_sitting, get_item, open_sitting_row
from .uow import SYSTEM, Actor, UnitOfWork, checked_vote_id

log = logging.getLogger(__name__)

MAX_TIME_LIMIT = validate.MAX_TIME_LIMIT
# The counters of a secret ballot are kept out of PostgreSQL's write-ahead log (see
# docs/secret-ballot.md), so a crash of the database server empties them.
LOST_COUNTERS = (
    "the counters of this secret ballot were lost when the database server crashed, "
    "so it cannot be counted; the secretary must annul it and hold it again"
)


def vote_rule(vote: orm.Vote) -> AdoptionRule:
    return AdoptionRule(
        Base(vote.rule_base),
        Comparator(vote.rule_comparator),
        vote.rule_numerator,
        vote.rule_denominator,
    )


def _vote_public(vote: orm.Vote) -> dict[str, object]:
    """What every screen may know about a vote."""
    return {
        "vote_id": vote.id,
        "sitting_id": vote.sitting_id,
        "item_id": vote.item_id,
        "title": vote.title,
        "stage": vote.stage,
        "kind": vote.kind,
        "state": vote.state,
        "rule": vote_rule(vote).to_dict(),
        "attempt": vote.attempt,
        "previous_vote_id": vote.previous_vote_id,
        "manual": vote.manual,
        "opened_at": vote.opened_at.isoformat(),
        "deadline": None if vote.deadline is None else vote.deadline.isoformat(),
        "total_composition": vote.total_composition,
    }


def open_vote(uow: UnitOfWork, actor: Actor, sitting_id: object, spec: Mapping[str, object]) -> int:
    """Start a vote on an agenda item or a procedural question.

    spec: item_id, title, stage, kind, rule (preset name or custom), time_limit_seconds,
    allow_change, override_quorum. Without quorum the vote opens only with override_quorum,
    which is journaled.
    """
    actor.require(*PROCEDURE)
    data = validate.only_fields(
        dict(spec),
        {
            "item_id",
            "title",
            "stage",
            "kind",
            "rule",
            "time_limit_seconds",
            "allow_change",
            "override_quorum",
        },
        "a vote",
    )
    with uow:
        sitting = open_sitting_row(uow, sitting_id)
        vote = _new_vote(uow, actor, sitting, data, attempt=1, previous=None)
        uow.commit()
        return vote.id


def _new_vote(
    uow: UnitOfWork,
    actor: Actor,
    sitting: orm.Sitting,
    data: Mapping[str, object],
    attempt: int,
    previous: orm.Vote | None,
    manual: bool = False,
) -> orm.Vote:
    council = the_council(uow)
    item = None
    if data.get("item_id") is not None:
        item = get_item(uow, data["item_id"])
        ensure_item_in_sitting(item, sitting)
        _ensure_item_can_be_voted(item, previous)
    title = validate.text(data.get("title"), "title", limit=validate.LONG, required=item is None)
    stage = parse_enum(
        Stage, data.get("stage", Stage.AS_A_WHOLE if item else Stage.PROCEDURAL), "stage"
    )
    kind = parse_enum(VoteKind, data.get("kind", VoteKind.ROLL_CALL), "kind")
    rule = rule_from_spec(data.get("rule", council.default_rule))
    limit = validate.integer(
        data.get("time_limit_seconds", council.default_time_limit_seconds),
        "time_limit_seconds",
        minimum=0,
        maximum=MAX_TIME_LIMIT,
    )
    allow_change = validate.boolean(
        data.get("allow_change"), "allow_change", default=council.allow_change_choice
    )
    override = validate.boolean(data.get("override_quorum"), "override_quorum", default=False)
    if kind is VoteKind.SECRET and allow_change:
        if "allow_change" in data:
            raise InvalidInput(
                "a secret ballot cannot allow changing a choice: nothing links a "
                "deputy to their choice, so it cannot be replaced",
                field="allow_change",
            )
        allow_change = False
    if uow.session.scalars(
        select(orm.Vote).where(orm.Vote.sitting_id == sitting.id, orm.Vote.state == VoteState.OPEN)
    ).first():
        raise VoteAlreadyOpen("another vote is open in this sitting; close it first")
    state = presence(uow, sitting)
    if not state.quorum and not override:
        raise QuorumNotMet(
            f"no quorum: {state.quorum_present} present, {state.quorum_required} needed; "
            "open with override_quorum to proceed anyway",
            **state.to_dict(),
        )
    now = uow.now()
    vote = orm.Vote(
        sitting_id=sitting.id,
        item_id=None if item is None else item.id,
        title=title or (item.title if item else ""),
        stage=stage,
        kind=kind,
        rule_base=rule.base,
        rule_comparator=rule.comparator,
        rule_numerator=rule.numerator,
        rule_denominator=rule.denominator,
        state=VoteState.OPEN,
        manual=manual,
        allow_change=allow_change,
        quorum_override=not state.quorum,
        attempt=attempt,
        previous_vote_id=None if previous is None else previous.id,
        opened_at=now,
        deadline=now + timedelta(seconds=limit) if limit else None,
        total_composition=state.total,
        head_takes_part=state.head_takes_part,
    )
    uow.session.add(vote)
    try:
        uow.session.flush()
    except IntegrityError:
        raise VoteAlreadyOpen("another vote is open in this sitting; close it first") from None
    if kind is VoteKind.SECRET:
        for choice in Choice:
            uow.session.add(orm.SecretTally(vote_id=vote.id, choice=choice, count=0))
    if not state.quorum:
        uow.journal(actor, "quorum_overridden", {"vote_id": vote.id, **state.to_dict()})
    if item is not None and item.status == ItemStatus.PENDING:
        change_item_status(uow, actor, item, ItemStatus.UNDER_CONSIDERATION)
    if not manual:  # a counting commission's result was never open electronically
        uow.journal(actor, "vote_opened", {**_vote_public(vote), **state.to_dict()})
    return vote


def _ensure_item_can_be_voted(item: orm.AgendaItem, previous: orm.Vote | None) -> None:
    """A withdrawn or postponed item is not voted; a decided one only through a re-vote."""
    if item.status in (ItemStatus.WITHDRAWN, ItemStatus.POSTPONED):
        raise InvalidTransition(
            f"agenda item {item.id} is {item.status}; set it back to under consideration first"
        )
    if item.status in (ItemStatus.ADOPTED, ItemStatus.NOT_ADOPTED) and previous is None:
        raise InvalidTransition(
            f"agenda item {item.id} is already decided ({item.status}); call a re-vote of its "
            "vote, or set the item back to under consideration first"
        )


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


_committers: WeakKeyDictionary[Engine, GroupCommitter[CastRequest]] = WeakKeyDictionary()
_committers_lock = threading.Lock()


def cast_committer(uow: UnitOfWork) -> GroupCommitter[CastRequest]:
    """The group committer of casts for this unit of work's database, one per process."""
    with _committers_lock:
        committer = _committers.get(uow.engine)
        if committer is None:
            committer = _committers[uow.engine] = GroupCommitter(_write_casts, MAX_BATCH)
        return committer


def casts_in_flight(engine: Engine) -> bool:
    """Whether this process is writing casts into the database now, or has casts waiting to be:
    the live push gives way to them (web/push.py)."""
    committer = _committers.get(engine)
    return committer is not None and committer.busy


def cast_choice(
    uow: UnitOfWork, actor: Actor, vote_id: object, choice: object, deputy_id: object = None
) -> dict[str, object]:
    """Record a deputy's own choice; returns only after it is committed.

    Casts arriving together are written together (group commit): one transaction locks the vote,
    reads once which of the batch's deputies may vote and who of them already has, writes every
    ballot (a secret ballot: participation, and each counter by its number of casts) and journal
    entry of the batch, and commits;
    each caster is answered after that commit, or refused with its own reason (a refused cast
    writes nothing). For a secret ballot the participation and the counter are written apart,
    with nothing linking them, and the journal says only that the deputy took part.
    """
    if actor.role != "deputy" or actor.deputy_id is None:
        raise PermissionDenied("only a deputy votes, and only for themselves")
    if deputy_id is not None and deputy_id != actor.deputy_id:
        raise PermissionDenied("a deputy can vote only for themselves")
    picked = Choice(parse_enum(Choice, choice, "choice"))
    answer = cast_committer(uow).submit(uow, CastRequest(actor, vote_id, picked))
    assert isinstance(answer, dict)
    return answer


def _write_casts(uow: UnitOfWork, batch: list[CastRequest]) -> None:
    """Write a batch in one transaction. If the transaction fails as a whole (a constraint, a
    busy database, lost counters), each cast is written again alone, so that a failure refuses
    exactly the casts it could not write."""
    try:
        _write_batch(uow, batch)
    except Exception as error:  # noqa: BLE001 - settled below, or split and retried one by one
        if len(batch) == 1:
            batch[0].settle(error=error)
            return
        log.warning(
            "a batch of %d casts failed (%s); writing them one by one",
            len(batch),
            error.__class__.__name__,
        )
        for request in batch:
            _write_casts(uow, [request])


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
            answers[id(request)] = _journal_cast(uow, request, vote, changed)
        uow.commit()
    for request in batch:
        if id(request) in refusals:
            request.settle(error=refusals[id(request)])
        else:
            request.settle(result=answers[id(request)])


_VOTE, _SITTING, _BODY, _COUNCIL = (
    orm.Vote.__table__,
    orm.Sitting.__table__,
    orm.Body.__table__,
    orm.Council.__table__,
)
_DEPUTY, _MEMBER = orm.Deputy.__table__, orm.CommitteeMember.__table__
_ROUND, _REGISTRATION = orm.RegistrationRound.__table__, orm.Registration.__table__
_BALLOT, _PARTICIPATION = orm.Ballot.__table__, orm.SecretParticipation.__table__
_TALLY = orm.SecretTally.__table__


def _casting_statement() -> Select[Any]:
    """The vote, share-locked (PostgreSQL; SQLite's writers are serialized anyway), with what the
    guards of a cast need from its sitting, body and council; joined to one row for each of the
    batch's deputies (`ids`) who takes part in the sitting's body, with whether that deputy is
    the head, is registered in the sitting's newest registration round (none before the first
    round) and has already voted in this vote. One statement: one round trip while casts wait.
    A vote with none of them comes back as one row whose deputy columns are empty."""
    newest_round = (
        select(_ROUND.c.id)
        .where(_ROUND.c.sitting_id == _VOTE.c.sitting_id)
        .order_by(_ROUND.c.number.desc())
        .limit(1)
        .correlate(_VOTE)
        .scalar_subquery()
    )  # the vote two levels up
    registered = exists().where(
        _REGISTRATION.c.round_id == newest_round,
        _REGISTRATION.c.deputy_id == _DEPUTY.c.id,
        _REGISTRATION.c.left_at.is_(None),
    )

    def voted_in(voters: Table) -> Exists:
        return exists().where(voters.c.vote_id == _VOTE.c.id, voters.c.deputy_id == _DEPUTY.c.id)

    secret = _VOTE.c.kind == VoteKind.SECRET.value
    voted = or_(and_(secret, voted_in(_PARTICIPATION)), and_(~secret, voted_in(_BALLOT)))
    plenary = _BODY.c.kind == "plenary"
    takes_part = or_(  # plenary: the council's deputies; a committee: its members
        and_(plenary, _DEPUTY.c.council_id == _COUNCIL.c.id),
        and_(
            ~plenary,
            exists().where(_MEMBER.c.body_id == _BODY.c.id, _MEMBER.c.deputy_id == _DEPUTY.c.id),
        ),
    )
    return (
        select(
            _VOTE.c.id,
            _VOTE.c.state,
            _VOTE.c.kind,
            _VOTE.c.deadline,
            _VOTE.c.allow_change,
            _VOTE.c.sitting_id,
            _BODY.c.id.label("body_id"),
            _BODY.c.kind.label("body_kind"),
            _COUNCIL.c.id.label("council_id"),
            _COUNCIL.c.head_votes,
            _COUNCIL.c.registration_required_to_vote,
            _DEPUTY.c.id.label("deputy_id"),
            _DEPUTY.c.is_head,
            registered.label("registered"),
            voted.label("voted"),
        )
        .join_from(_VOTE, _SITTING, _SITTING.c.id == _VOTE.c.sitting_id)
        .join(_BODY, _BODY.c.id == _SITTING.c.body_id)
        .join(_COUNCIL, _COUNCIL.c.id == _BODY.c.council_id)
        .outerjoin(
            _DEPUTY,
            and_(
                _DEPUTY.c.id.in_(bindparam("ids", expanding=True)),
                _DEPUTY.c.active.is_(True),
                takes_part,
            ),
        )
        .where(_VOTE.c.id == bindparam("vote_id"))
        .with_for_update(read=True, of=_VOTE)
    )


_LOCK_FOR_CASTING = _casting_statement()


def lock_for_casting(uow: UnitOfWork, vote_id: object, ids: set[int]) -> tuple[Row[Any], Standing]:
    """Lock the vote for casting by the deputies `ids`: the vote, and their standing in it.

    On PostgreSQL a close holds the vote locked for update: this statement then waits, and
    reads the vote again once the close has committed (so a cast after a close is refused).
    The standing is read as at the statement's start, before any such wait: a deputy who left
    during it still counts as registered, as if the cast had come a moment earlier. A double
    vote stays impossible whatever was read: the ballot's primary key refuses it, and the batch
    is written again one cast at a time."""
    checked = checked_vote_id(vote_id)
    rows = uow.session.execute(_LOCK_FOR_CASTING, {"vote_id": checked, "ids": sorted(ids)}).all()
    if not rows:
        raise NotFound(f"vote {checked} does not exist")
    return rows[0], standing(rows[0], [row for row in rows if row.deputy_id is not None])


@dataclass(frozen=True)
class Standing:
    """Of a batch's deputies: who takes part in the vote, who of them is registered, and who of
    the body's active deputies (the head too) has voted in it already."""

    participants: frozenset[int]
    registered: frozenset[int]
    voted: frozenset[int]


def standing(vote: Row[Any], rows: list[Row[Any]]) -> Standing:
    """The standing read by `_LOCK_FOR_CASTING` (its rows with a deputy). Participants and
    registered are `presence(...).participants` and `.registered` restricted to the batch's
    deputies, read for them only: a batch of casts need not load the whole roster. The head
    takes part in a plenary vote only when the head votes (art. 59)."""
    voted = frozenset(r.deputy_id for r in rows if r.voted)
    participants = frozenset(
        r.deputy_id for r in rows if vote.body_kind != "plenary" or not r.is_head or vote.head_votes
    )
    registered = frozenset(
        r.deputy_id for r in rows if r.registered and r.deputy_id in participants
    )
    return Standing(participants, registered, voted)


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
            )
        except DomainError as error:
            refusals[id(request)] = error
        else:
            admitted.append((request, who in found.voted))
    return admitted


def _write_ballots(
    uow: UnitOfWork, accepted: list[tuple[CastRequest, Row[Any], bool]], now: datetime
) -> None:
    """New ballots (or participations) in one statement, changed ballots one by one, and a
    secret ballot's counters by the number of each choice. The primary key refuses a second
    ballot of a deputy, whoever wrote the first."""
    new_ballots, new_secret = [], []
    secret_counts: dict[int, Counter[str]] = {}
    for request, vote, changed in accepted:
        who, picked = request.actor.deputy_id, request.choice.value
        if vote.kind == VoteKind.SECRET:
            new_secret.append({"vote_id": vote.id, "deputy_id": who})
            secret_counts.setdefault(vote.id, Counter())[picked] += 1
        elif changed:
            uow.session.execute(
                update(_BALLOT)
                .where(
                    _BALLOT.c.vote_id == vote.id,
                    _BALLOT.c.deputy_id == who,
                )
                .values(outcome=picked, cast_at=now)
            )
        else:
            new_ballots.append(
                {"vote_id": vote.id, "deputy_id": who, "outcome": picked, "cast_at": now}
            )
    try:
        if new_ballots:
            uow.session.execute(insert(_BALLOT), new_ballots)
        if new_secret:
            uow.session.execute(insert(_PARTICIPATION), new_secret)
    except IntegrityError:
        raise AlreadyVoted("your choice is already recorded") from None
    for vote_id, counts in secret_counts.items():
        for picked, number in sorted(counts.items()):
            counted = uow.session.execute(
                update(_TALLY)
                .where(
                    _TALLY.c.vote_id == vote_id,
                    _TALLY.c.choice == picked,
                )
                .values(count=_TALLY.c.count + number)
            )
            if counted.rowcount != 1:  # type: ignore[attr-defined]
                raise SecretCountersLost(LOST_COUNTERS)


def _journal_cast(
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


def close_vote(uow: UnitOfWork, actor: Actor, vote_id: object) -> dict[str, object]:
    """Close an open vote and count it; choices still in flight land first or are refused."""
    actor.require(*PROCEDURE, "system")
    with uow:
        vote = uow.lock_vote(vote_id)
        if vote.state != VoteState.OPEN:
            ensure_open(VoteState(vote.state), None, uow.now())
        tally = _count_and_close(uow, actor, vote)
        uow.commit()
    return tally.to_dict()


def _count_and_close(uow: UnitOfWork, actor: Actor, vote: orm.Vote) -> Tally:
    sitting = uow.session.get(orm.Sitting, vote.sitting_id)
    assert sitting is not None
    state = presence(uow, sitting)
    secret = vote.kind == VoteKind.SECRET
    voter_model = orm.SecretParticipation if secret else orm.Ballot
    voters = set(
        uow.session.scalars(select(voter_model.deputy_id).where(voter_model.vote_id == vote.id))
    )
    _settle_total_composition(vote, state, voters)
    # Who was present: registered at the close, and whoever voted (they were in the hall).
    registered = (set(state.registered) | voters) & _counted_participants(state, vote)
    rule = vote_rule(vote)
    if secret:
        counts = {
            row.choice: row.count
            for row in uow.session.scalars(
                select(orm.SecretTally).where(orm.SecretTally.vote_id == vote.id)
            )
        }
        if set(counts) != {c.value for c in Choice}:
            raise SecretCountersLost(LOST_COUNTERS)
        voting = counts["for"] + counts["against"] + counts["abstain"]
        # A counting commission's secret result has counts only: its voters were those present.
        registered_voters = (
            min(voting, len(registered)) if vote.manual else len(voters & registered)
        )
        tally = tally_counts(
            rule,
            vote.total_composition,
            len(registered),
            counts["for"],
            counts["against"],
            counts["abstain"],
            registered_voters=registered_voters,
        )
        # Rewrite the counters in this transaction so that no counter row keeps the trace of the
        # last cast; the old row versions are purged after commit.
        uow.session.execute(
            update(orm.SecretTally)
            .where(orm.SecretTally.vote_id == vote.id)
            .values(count=orm.SecretTally.count + 0)
        )
        uow.purge_secret_history_after_commit()
    else:
        ballots = {
            b.deputy_id: Choice(b.outcome)
            for b in uow.session.scalars(select(orm.Ballot).where(orm.Ballot.vote_id == vote.id))
        }
        tally, outcomes = tally_ballots(rule, vote.total_composition, registered, ballots)
        listed = _counted_participants(state, vote)
        for deputy_id in sorted(listed - set(outcomes)):
            outcomes[deputy_id] = Outcome.ABSENT
        for deputy_id, outcome in sorted(outcomes.items()):
            if deputy_id not in ballots:
                uow.session.add(
                    orm.Ballot(
                        vote_id=vote.id, deputy_id=deputy_id, outcome=outcome.value, cast_at=None
                    )
                )
    _store_tally(vote, tally)
    vote.state, vote.closed_at = VoteState.CLOSED, uow.now()
    uow.journal(
        actor,
        "vote_closed",
        {
            "vote_id": vote.id,
            "sitting_id": vote.sitting_id,
            "item_id": vote.item_id,
            "kind": vote.kind,
            "manual": vote.manual,
            **tally.to_dict(),
        },
    )
    _item_follows_result(uow, actor, vote)
    return tally


def _settle_total_composition(vote: orm.Vote, state: Presence, voters: set[int]) -> None:
    """The head counts in the total composition when taking part (art. 59): registered at the
    close or having voted, even if they arrived after the vote opened."""
    if state.head_id is None:
        return
    takes_part = state.head_id in state.registered or state.head_id in voters
    if takes_part != vote.head_takes_part:
        vote.head_takes_part = takes_part
        vote.total_composition += 1 if takes_part else -1


def _counted_participants(state: Presence, vote: orm.Vote) -> set[int]:
    """The participants counted in this vote's total composition (the head only if taking part)."""
    people = set(state.participants)
    if state.head_id is not None and not vote.head_takes_part:
        people.discard(state.head_id)
    return people


def _store_tally(vote: orm.Vote, tally: Tally) -> None:
    vote.registered = tally.registered
    vote.count_for, vote.count_against, vote.count_abstain = (
        tally.voted_for,
        tally.against,
        tally.abstain,
    )
    vote.count_not_voted, vote.count_absent = tally.not_voted, tally.absent
    vote.threshold, vote.result = tally.threshold, tally.result


def _item_follows_result(uow: UnitOfWork, actor: Actor, vote: orm.Vote) -> None:
    """A vote "в цілому" decides its item."""
    if vote.item_id is None or vote.stage != Stage.AS_A_WHOLE:
        return
    item = get_item(uow, vote.item_id)
    status = ItemStatus.ADOPTED if vote.result == "adopted" else ItemStatus.NOT_ADOPTED
    change_item_status(uow, actor, item, status)


def close_expired_votes(uow_factory, now=None) -> list[int]:  # type: ignore[no-untyped-def]
    """Close every open vote whose time limit has run out (run by the server's timer)."""
    probe = uow_factory()
    with probe:
        moment = now or probe.now()
        due = list(
            probe.session.scalars(
                select(orm.Vote.id).where(
                    orm.Vote.state == VoteState.OPEN,
                    orm.Vote.deadline.is_not(None),
                    orm.Vote.deadline <= moment,
                )
            )
        )
    closed = []
    for vote_id in due:
        uow = uow_factory()
        with uow:
            vote = uow.lock_vote(vote_id)
            if vote.state != VoteState.OPEN:
                continue  # another server process closed it first
            _count_and_close(uow, SYSTEM, vote)
            uow.commit()
            closed.append(vote_id)
    return closed


def revote(
    uow: UnitOfWork, actor: Actor, vote_id: object, spec: Mapping[str, object] | None = None
) -> int:
    """Open a new attempt on the same question, linked to the previous one (Regulation's limit)."""
    actor.require(*PROCEDURE)
    data = validate.only_fields(
        dict(spec or {}), {"time_limit_seconds", "override_quorum"}, "a re-vote"
    )
    with uow:
        previous = uow.lock_vote(vote_id)
        if previous.state == VoteState.OPEN:
            raise InvalidTransition("close the vote before calling a re-vote")
        if previous.manual:
            raise InvalidTransition("a manual result cannot be re-voted electronically")
        _ensure_can_follow(uow, previous)
        sitting = open_sitting_row(uow, previous.sitting_id)
        rule = vote_rule(previous)
        repeat = {
            "item_id": previous.item_id,
            "title": previous.title,
            "stage": previous.stage,
            "kind": previous.kind,
            "allow_change": previous.allow_change,
            "rule": {
                "base": rule.base.value,
                "comparator": rule.comparator.value,
                "numerator": rule.numerator,
                "denominator": rule.denominator,
            },
            **data,
        }
        vote = _new_vote(
            uow, actor, sitting, repeat, attempt=previous.attempt + 1, previous=previous
        )
        uow.journal(
            actor,
            "revote_called",
            {"vote_id": vote.id, "previous_vote_id": previous.id, "attempt": vote.attempt},
        )
        uow.commit()
        return vote.id


def _ensure_can_follow(uow: UnitOfWork, previous: orm.Vote) -> None:
    """A new attempt (re-vote or manual entry) follows a finished vote, once, within the limit."""
    if previous.state == VoteState.OPEN:
        raise InvalidTransition(f"vote {previous.id} is still open; close or annul it first")
    council = the_council(uow)
    if previous.attempt - 1 >= council.revote_limit:
        raise RevoteLimitReached(
            f"this question has been re-voted {previous.attempt - 1} times; "
            f"the limit is {council.revote_limit}"
        )
    later = uow.session.scalars(
        select(orm.Vote).where(orm.Vote.previous_vote_id == previous.id)
    ).first()
    if later is not None:
        raise InvalidTransition(f"vote {previous.id} already has a re-vote (vote {later.id})")


def _item_status_from_votes(uow: UnitOfWork, item_id: int) -> ItemStatus:
    """The item is decided by its latest counted (not annulled) vote "в цілому"."""
    deciding = uow.session.scalars(
        select(orm.Vote)
        .where(
            orm.Vote.item_id == item_id,
            orm.Vote.stage == Stage.AS_A_WHOLE,
            orm.Vote.state == VoteState.CLOSED,
        )
        .order_by(orm.Vote.id.desc())
    ).first()
    if deciding is None:
        return ItemStatus.UNDER_CONSIDERATION
    return ItemStatus.ADOPTED if deciding.result == "adopted" else ItemStatus.NOT_ADOPTED


def annul_vote(uow: UnitOfWork, actor: Actor, vote_id: object, reason: object) -> None:
    """Annul a vote with a reason; it is kept, marked annulled, and no longer decides its item."""
    actor.require(*PROCEDURE)
    why = validate.text(reason, "reason", limit=2000)
    with uow:
        vote = uow.lock_vote(vote_id)
        if vote.state == VoteState.ANNULLED:
            raise InvalidTransition("the vote is already annulled")
        open_sitting_row(uow, vote.sitting_id)  # a closed sitting's record is final
        was = vote.state
        vote.state, vote.annul_reason, vote.annulled_at = VoteState.ANNULLED, why, uow.now()
        if was == VoteState.OPEN:
            vote.closed_at = uow.now()
        uow.journal(actor, "vote_annulled", {"vote_id": vote.id, "reason": why, "was": was})
        if vote.item_id is not None and vote.stage == Stage.AS_A_WHOLE and was == VoteState.CLOSED:
            item = get_item(uow, vote.item_id)
            if item.status in (ItemStatus.ADOPTED, ItemStatus.NOT_ADOPTED):
                uow.session.flush()
                change_item_status(
                    uow,
                    actor,
                    item,
                    _item_status_from_votes(uow, item.id),
                    reason=f"vote {vote.id} annulled",
                )
        if vote.kind == VoteKind.SECRET and was == VoteState.OPEN:
            uow.session.execute(
                update(orm.SecretTally)
                .where(orm.SecretTally.vote_id == vote.id)
                .values(count=orm.SecretTally.count + 0)
            )
            uow.purge_secret_history_after_commit()
        uow.commit()


def announce_result(uow: UnitOfWork, actor: Actor, vote_id: object) -> None:
    """The chair announces a closed vote's result: the hall display puts it up in full and the
    protocol records when. Only a counted vote is announced, and only once."""
    actor.require(*PROCEDURE)
    with uow:
        vote = uow.lock_vote(vote_id)
        if vote.state != VoteState.CLOSED:
            raise InvalidTransition(
                f"only a closed vote's result is announced; this one is {vote.state}"
            )
        if vote.announced_at is not None:
            raise InvalidTransition("this result is already announced")
        open_sitting_row(uow, vote.sitting_id)  # a closed sitting's record is final
        vote.announced_at = uow.now()
        uow.journal(actor, "result_announced", {"vote_id": vote.id, "result": vote.result})
        uow.commit()


def enter_manual_result(
    uow: UnitOfWork, actor: Actor, sitting_id: object, spec: Mapping[str, object]
) -> dict[str, object]:
    """Record the counting commission's result when the electronic system fails.

    Roll-call and open votes: `choices` maps each deputy id who voted to for/against/abstain;
    the others are "not voted" if registered, else absent. Secret ballots: `counts` only.
    """
    actor.require(*PROCEDURE)
    data = validate.only_fields(
        dict(spec),
        {
            "item_id",
            "title",
            "stage",
            "kind",
            "rule",
            "choices",
            "counts",
            "previous_vote_id",
            "note",
        },
        "a manual result",
    )
    with uow:
        sitting = open_sitting_row(uow, sitting_id)
        kind = parse_enum(VoteKind, data.get("kind", VoteKind.ROLL_CALL), "kind")
        note = validate.text(data.get("note"), "note", limit=2000, required=False)
        previous = None
        if data.get("previous_vote_id") is not None:
            previous = uow.lock_vote(data["previous_vote_id"])
            _ensure_can_follow(uow, previous)
            if previous.sitting_id != sitting.id or previous.item_id != data.get("item_id"):
                raise InvalidInput(
                    f"vote {previous.id} is on another question; a manual result "
                    "follows a vote on the same item of this sitting",
                    field="previous_vote_id",
                )
        opening = {
            k: v for k, v in data.items() if k in {"item_id", "title", "stage", "kind", "rule"}
        }
        opening["override_quorum"] = True  # the commission's count stands on its own
        vote = _new_vote(
            uow,
            actor,
            sitting,
            opening,
            attempt=1 if previous is None else previous.attempt + 1,
            previous=previous,
            manual=True,
        )
        state = presence(uow, sitting)
        if kind is VoteKind.SECRET:
            if "choices" in data:
                raise InvalidInput("a secret ballot is entered as counts only", field="choices")
            counts = _manual_counts(data.get("counts"))
            for row in uow.session.scalars(
                select(orm.SecretTally).where(orm.SecretTally.vote_id == vote.id)
            ):
                row.count = counts[row.choice]
            journal_detail: dict[str, object] = {"counts": counts}
        else:
            if "counts" in data:
                raise InvalidInput(
                    "a roll-call or open vote is entered deputy by deputy (choices)", field="counts"
                )
            choices = _manual_choices(data.get("choices"), set(state.participants))
            for deputy_id, choice in choices.items():
                uow.session.add(
                    orm.Ballot(
                        vote_id=vote.id,
                        deputy_id=deputy_id,
                        outcome=choice.value,
                        cast_at=uow.now(),
                    )
                )
            journal_detail = {"choices": {str(k): v.value for k, v in sorted(choices.items())}}
        uow.session.flush()
        described = {**_vote_public(vote), "note": note}
        described.pop("state")  # it is closed by the counting just below
        uow.journal(
            actor, "manual_result_entered", {**described, **journal_detail}, public=described
        )
        tally = _count_and_close(uow, actor, vote)
        uow.commit()
        return {"vote_id": vote.id, **tally.to_dict()}


def _manual_counts(value: object) -> dict[str, int]:
    counts = validate.only_fields(
        value if value is not None else {}, {"for", "against", "abstain"}, "counts"
    )
    return {
        c.value: validate.integer(
            counts.get(c.value, 0), f"counts.{c.value}", minimum=0, maximum=10_000
        )
        for c in Choice
    }  # type: ignore[misc]


def _manual_choices(value: object, participants: set[int]) -> dict[int, Choice]:
    if not isinstance(value, dict):
        raise InvalidInput(
            "choices must map deputy ids to for, against or abstain", field="choices"
        )
    out: dict[int, Choice] = {}
    for key, choice in value.items():
        try:
            deputy_id = int(key)
        except (TypeError, ValueError):
            raise InvalidInput(f"choices: {key!r} is not a deputy id", field="choices") from None
        if deputy_id not in participants:
            raise InvalidInput(
                f"choices: deputy {deputy_id} does not take part in this vote", field="choices"
            )
        out[deputy_id] = Choice(parse_enum(Choice, choice, f"choices.{deputy_id}"))
    return out
