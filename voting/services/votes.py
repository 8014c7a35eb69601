"""Use cases for a vote's life: open it, close it (by hand or when its time runs out), put the
question again (re-vote), annul it, announce its result, or record a counting commission's result.

Casting a choice is the cast pipeline's (services/casting.py). Every move is a domain transition
(`voting.domain.votes`) checked before anything is written; a close locks the vote row, so casts
in flight land first or are refused.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError

from voting.adapters import orm
from voting.adapters.sealed_ballots import Unopenable
from voting.domain import votes as rules
from voting.domain.actors import PROCEDURE, SYSTEM, Actor, Role
from voting.domain.agenda import DECIDED, ItemStatus, decided_by, ensure_can_be_voted
from voting.domain.errors import DomainError, InvalidInput, OwnerSilent, SecretCountersLost
from voting.domain.presence import Composition, composition_at_close, counted_participants
from voting.domain.rules import AdoptionRule, Base, Comparator, rule_from_spec
from voting.domain.votes import (
    Choice,
    Outcome,
    Result,
    Stage,
    Tally,
    VoteKind,
    VoteState,
    tally_ballots,
    tally_counts,
)

from . import interruptions
from .commands import AnnounceResult, AnnulVote, ManualResult, OpenVote, Revote
from .council import the_council
from .registration import presence_of
from .sittings import (
    change_item_status,
    ensure_item_in_sitting,
    get_item,
    open_sitting_row,
    open_vote_id,
)
from .uow import UnitOfWork

log = logging.getLogger(__name__)


def vote_rule(vote: orm.Vote) -> AdoptionRule:
    """The adoption rule a vote was opened with."""
    return AdoptionRule(
        Base(vote.rule_base),
        Comparator(vote.rule_comparator),
        vote.rule_numerator,
        vote.rule_denominator,
    )


def vote_public(vote: orm.Vote) -> dict[str, object]:
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


def open_vote(uow: UnitOfWork, actor: Actor, command: OpenVote) -> int:
    """Start a vote on an agenda item or a procedural question.

    Without quorum the vote opens only with override_quorum, which is journaled.
    """
    command.authorize(actor)
    with uow:
        sitting = open_sitting_row(uow, command.sitting_id)
        vote = _new_vote(uow, actor, sitting, command, attempt=1, previous=None)
        uow.commit()
        return vote.id


def _new_vote(
    uow: UnitOfWork,
    actor: Actor,
    sitting: orm.Sitting,
    opening: OpenVote,
    attempt: int,
    previous: orm.Vote | None,
    manual: bool = False,
) -> orm.Vote:
    council = the_council(uow)
    item = None
    if opening.item_id is not None:
        item = get_item(uow, opening.item_id)
        ensure_item_in_sitting(item, sitting)
        ensure_can_be_voted(item.id, ItemStatus(item.status), following=previous is not None)
    if item is None and opening.title is None:
        raise InvalidInput("title is required", field="title")
    stage = opening.stage or (Stage.AS_A_WHOLE if item else Stage.PROCEDURAL)
    rule = opening.rule or rule_from_spec(council.default_rule)
    limit = (
        council.default_time_limit_seconds
        if opening.time_limit_seconds is None
        else opening.time_limit_seconds
    )
    allow_change = (
        council.allow_change_choice if opening.allow_change is None else opening.allow_change
    )
    if opening.kind is VoteKind.SECRET and allow_change:
        if opening.allow_change_sent:
            raise InvalidInput(
                "a secret ballot cannot allow changing a choice: nothing links a "
                "deputy to their choice, so it cannot be replaced",
                field="allow_change",
            )
        allow_change = False  # the council's default does not apply to a secret ballot
    rules.ensure_none_open(open_vote_id(uow, sitting.id) is not None)
    state = presence_of(uow, sitting)
    rules.ensure_quorum(state, opening.override_quorum)
    now = uow.now()
    vote = orm.Vote(
        sitting_id=sitting.id,
        item_id=None if item is None else item.id,
        title=opening.title or (item.title if item else ""),
        stage=stage,
        kind=opening.kind,
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
    except IntegrityError:  # another vote opened meanwhile (the partial unique index)
        rules.ensure_none_open(True)
    if opening.kind is VoteKind.SECRET and not manual:
        # Its choices are sealed to a key whose private half only this process holds, in
        # memory: this process alone counts it (adapters/sealed_ballots.py).
        private, vote.tally_key = uow.ballot_keys.make(vote.id, uow.record_key())
        vote.tally_owner = uow.process_id
        keys, opened = uow.ballot_keys, vote.id
        uow.after_commit(lambda: keys.keep(opened, private))  # not before: it may roll back
    if not state.quorum:
        uow.journal(actor, "quorum_overridden", {"vote_id": vote.id, **state.to_dict()})
    if item is not None and item.status == ItemStatus.PENDING:
        change_item_status(uow, actor, item, ItemStatus.UNDER_CONSIDERATION)
    if not manual:  # a counting commission's result was never open electronically
        uow.journal(actor, "vote_opened", {**vote_public(vote), **state.to_dict()})
    return vote


def close_vote(uow: UnitOfWork, actor: Actor, vote_id: object) -> dict[str, object]:
    """Close an open vote and count it; choices still in flight land first or are refused.

    A secret ballot is counted by the server process that holds its key: asked of another
    process, the close is handed to that one (through the vote's row), and answered once done.
    """
    actor.require(*PROCEDURE, Role.SYSTEM)
    with uow:
        vote = uow.lock_vote(vote_id)
        rules.ensure_can_close(VoteState(vote.state))
        rules.ensure_can_close_interrupted(VoteKind(vote.kind), vote.interrupted_at is not None)
        if not _counted_here(uow, vote):
            vote.close_requested_by = json.dumps(
                {"role": actor.role.value, "label": actor.label, "deputy_id": actor.deputy_id}
            )
            handed_to, vote_key = vote.tally_owner, vote.id
            uow.commit()
        else:
            tally = _count_and_close(uow, actor, vote)
            uow.commit()
            return tally.to_dict()
    return _wait_for_owner(uow, vote_key, handed_to)


#: How long a close handed to the ballot's owner may take before the caller is told.
HANDED_CLOSE_SECONDS = 5.0


def _counted_here(uow: UnitOfWork, vote: orm.Vote) -> bool:
    """Whether this process counts the vote: any vote but an electronic secret ballot whose key
    another live server process holds. A secret ballot whose key nobody holds any more cannot
    be counted at all (`SecretCountersLost`)."""
    if vote.kind != VoteKind.SECRET or vote.manual or uow.ballot_keys.holds(vote.id):
        return True
    if vote.tally_owner is not None and vote.tally_owner != uow.process_id:
        if interruptions.may_serve(uow, vote.tally_owner):
            return False
    raise SecretCountersLost()


def _wait_for_owner(uow: UnitOfWork, vote_id: int, owner: int | None) -> dict[str, object]:
    """The close handed to the owner of a secret ballot's key, once it has counted it (or
    refused to: then its reason)."""
    deadline = time.monotonic() + HANDED_CLOSE_SECONDS
    while True:
        reader = uow.reader()
        with reader:
            vote = reader.get(orm.Vote, vote_id, "vote")
            if vote.state != VoteState.OPEN:
                if vote.result is None:  # annulled meanwhile
                    rules.ensure_can_close(VoteState(vote.state))
                return _tally_of(vote).to_dict()
            refused = _refusal(vote.close_requested_by)
        if refused is not None:
            raise SecretCountersLost(refused)
        if time.monotonic() > deadline:
            raise OwnerSilent(vote_id, owner)
        time.sleep(0.1)


def _refusal(requested: str | None) -> str | None:
    """Why the owner refused a close handed to it, if it did."""
    if requested is None:
        return None
    refused = json.loads(requested).get("refused")
    return None if refused is None else str(refused)


def _tally_of(vote: orm.Vote) -> Tally:
    """The stored result of a counted vote."""
    assert vote.result is not None and vote.registered is not None
    return Tally(
        vote.total_composition,
        vote.registered,
        vote.count_for or 0,
        vote.count_against or 0,
        vote.count_abstain or 0,
        vote.count_not_voted or 0,
        vote.count_absent or 0,
        vote.threshold or 0,
        Result(vote.result),
    )


def close_expired_votes(uow_factory: Callable[[], UnitOfWork]) -> list[int]:
    """Close every open vote whose time limit has run out, and every secret ballot whose close
    another process handed to this one (run by the runtime's vote timer; safe to run from
    several processes at once: the close locks the vote). A secret ballot is closed only by the
    process that holds its key; the keys of ballots no longer open are forgotten. A vote that
    cannot be closed is logged and left for the next round; a handed close that the rules refuse
    is answered with the reason."""
    probe = uow_factory()
    keys = probe.ballot_keys
    with probe:
        now = probe.now()
        due = probe.session.execute(
            select(orm.Vote.id, orm.Vote.kind, orm.Vote.manual, orm.Vote.close_requested_by)
            .where(
                orm.Vote.state == VoteState.OPEN,
                or_(
                    and_(orm.Vote.deadline.is_not(None), orm.Vote.deadline <= now),
                    orm.Vote.close_requested_by.is_not(None),
                ),
                orm.Vote.interrupted_at.is_(None),  # it waits for the secretary
            )
            .order_by(orm.Vote.id)
        ).all()
        held = keys.held()
        done = set(
            probe.session.scalars(
                select(orm.Vote.id).where(orm.Vote.id.in_(held), orm.Vote.state != VoteState.OPEN)
            )
        )
    for vote_id in done:  # closed or annulled (a key of a ballot still opening is kept)
        keys.forget(vote_id)
    closed = []
    for vote_id, kind, manual, requested in due:
        if kind == VoteKind.SECRET and not manual and not keys.holds(vote_id):
            continue  # its owner closes it (or, gone, leaves it to be flagged as interrupted)
        if _refusal(requested) is not None:
            continue  # refused already: the one who asked has been told
        try:
            if _close_due(uow_factory(), vote_id):
                closed.append(vote_id)
        except DomainError as error:
            if requested is not None:
                _refuse_handed_close(uow_factory(), vote_id, error)
            log.warning("vote %s could not be closed: %s", vote_id, error.message)
        except Exception:  # the others are still closed; this one is tried again
            log.exception("vote %s could not be closed; it will be tried again", vote_id)
    return closed


def _close_due(uow: UnitOfWork, vote_id: int) -> bool:
    with uow:
        vote = uow.lock_vote(vote_id)
        if vote.state != VoteState.OPEN or vote.interrupted_at is not None:
            return False  # another server process closed it first (or found it interrupted)
        actor = SYSTEM
        asked = json.loads(vote.close_requested_by or "{}")
        if "role" in asked:  # a close handed over by another process: as the one who asked
            actor = Actor(asked["role"], asked["label"], asked["deputy_id"])
        elif vote.deadline is None or vote.deadline > uow.now():
            return False
        _count_and_close(uow, actor, vote)
        uow.commit()
        return True


def _refuse_handed_close(uow: UnitOfWork, vote_id: int, error: DomainError) -> None:
    """The reason a handed close was refused, for the process that asked (it is waiting)."""
    with uow:
        vote = uow.lock_vote(vote_id)
        if vote.state == VoteState.OPEN and vote.close_requested_by is not None:
            vote.close_requested_by = json.dumps({"refused": error.message})
            uow.commit()


def _count_and_close(
    uow: UnitOfWork, actor: Actor, vote: orm.Vote, counts: Mapping[str, int] | None = None
) -> Tally:
    """Count the vote and close it. `counts`: a counting commission's secret result; an
    electronic secret ballot is counted from its sealed ballots, by the key this process holds."""
    sitting = uow.session.get(orm.Sitting, vote.sitting_id)
    assert sitting is not None
    state = presence_of(uow, sitting)
    secret = vote.kind == VoteKind.SECRET
    voter_model = orm.SecretParticipation if secret else orm.Ballot
    voters = set(
        uow.session.scalars(select(voter_model.deputy_id).where(voter_model.vote_id == vote.id))
    )
    composition = composition_at_close(
        Composition(vote.total_composition, vote.head_takes_part), state, voters
    )
    vote.total_composition, vote.head_takes_part = composition.total, composition.head_takes_part
    counted = counted_participants(state, composition)
    # Who was present: registered at the close, and whoever voted (they were in the hall).
    registered = (set(state.registered) | voters) & counted
    rule = vote_rule(vote)
    filled_in: dict[str, list[int]] = {}  # outcome -> the deputies given it at the close
    if secret:
        counts = _open_sealed_ballots(uow, vote, len(voters)) if counts is None else counts
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
    else:
        ballots = {
            b.deputy_id: Choice(b.outcome)
            for b in uow.session.scalars(select(orm.Ballot).where(orm.Ballot.vote_id == vote.id))
        }
        tally, outcomes = tally_ballots(rule, vote.total_composition, registered, ballots)
        for deputy_id in sorted(counted - set(outcomes)):
            outcomes[deputy_id] = Outcome.ABSENT
        for deputy_id, outcome in sorted(outcomes.items()):
            if deputy_id not in ballots:
                uow.session.add(
                    orm.Ballot(
                        vote_id=vote.id, deputy_id=deputy_id, outcome=outcome.value, cast_at=None
                    )
                )
                filled_in.setdefault(outcome.value, []).append(deputy_id)
    _store_tally(vote, tally)
    vote.state, vote.closed_at = VoteState.CLOSED, uow.now()
    closed = {
        "vote_id": vote.id,
        "sitting_id": vote.sitting_id,
        "item_id": vote.item_id,
        "kind": vote.kind,
        "manual": vote.manual,
        **tally.to_dict(),
    }
    # The journal seals every ballot row (services/facts.py), these too; the screens get the
    # counts only (an open vote's per-deputy lines are for the protocol).
    uow.journal(actor, "vote_closed", {**closed, "filled_in": filled_in}, public=closed)
    vote.anchor = uow.anchor()  # published with the result (domain/journal.py)
    if vote.item_id is not None and vote.stage == Stage.AS_A_WHOLE:  # it decides its item
        item = get_item(uow, vote.item_id)
        change_item_status(uow, actor, item, decided_by(tally.result is Result.ADOPTED))
    return tally


def _open_sealed_ballots(uow: UnitOfWork, vote: orm.Vote, cast: int) -> Mapping[str, int]:
    """Count an electronic secret ballot at its close: open its sealed ballots with the key this
    process holds, then delete them and, once the close has committed, forget the key (and purge
    what is left of them: docs/secret-ballot.md). Each participant must have exactly one."""
    sealed = list(
        uow.session.scalars(
            select(orm.SealedBallot.sealed).where(orm.SealedBallot.vote_id == vote.id)
        )
    )
    if len(sealed) != cast:
        raise SecretCountersLost(
            f"secret ballot {vote.id} holds {len(sealed)} sealed ballots for {cast} deputies "
            "who took part: its record was changed outside the application"
        )
    try:
        counts = uow.ballot_keys.count(vote.id, sealed, uow.record_key())
    except KeyError:
        raise SecretCountersLost() from None
    except Unopenable as error:
        raise SecretCountersLost(str(error)) from None
    _drop_sealed_ballots(uow, vote)
    return counts


def _drop_sealed_ballots(uow: UnitOfWork, vote: orm.Vote) -> None:
    """A secret ballot closed or annulled: its sealed ballots go, and its key after the commit."""
    uow.session.execute(delete(orm.SealedBallot).where(orm.SealedBallot.vote_id == vote.id))
    vote.tally_key = vote.tally_owner = vote.close_requested_by = None
    vote_id, keys = vote.id, uow.ballot_keys
    uow.after_commit(lambda: keys.forget(vote_id))
    uow.purge_secret_history_after_commit()


def _store_tally(vote: orm.Vote, tally: Tally) -> None:
    vote.registered = tally.registered
    vote.count_for, vote.count_against, vote.count_abstain = (
        tally.voted_for,
        tally.against,
        tally.abstain,
    )
    vote.count_not_voted, vote.count_absent = tally.not_voted, tally.absent
    vote.threshold, vote.result = tally.threshold, tally.result


def _followed_by(uow: UnitOfWork, vote: orm.Vote) -> int | None:
    """The vote's re-vote (or the counting commission's result that followed it), if any."""
    return uow.session.scalars(
        select(orm.Vote.id).where(orm.Vote.previous_vote_id == vote.id)
    ).first()


def revote(uow: UnitOfWork, actor: Actor, command: Revote) -> int:
    """Open a new attempt on the same question, linked to the previous one (Regulation's limit)."""
    command.authorize(actor)
    with uow:
        previous = uow.lock_vote(command.vote_id)
        attempt = rules.revote(
            previous.id,
            VoteState(previous.state),
            previous.manual,
            previous.attempt,
            the_council(uow).revote_limit,
            _followed_by(uow, previous),
        )
        sitting = open_sitting_row(uow, previous.sitting_id)
        repeat = OpenVote(
            sitting_id=sitting.id,
            item_id=previous.item_id,
            title=previous.title,
            stage=Stage(previous.stage),
            kind=VoteKind(previous.kind),
            rule=vote_rule(previous),
            time_limit_seconds=_time_limit_of(previous)
            if command.time_limit_seconds is None
            else command.time_limit_seconds,
            allow_change=previous.allow_change,
            override_quorum=command.override_quorum,
        )
        vote = _new_vote(uow, actor, sitting, repeat, attempt=attempt, previous=previous)
        uow.journal(
            actor,
            "revote_called",
            {"vote_id": vote.id, "previous_vote_id": previous.id, "attempt": vote.attempt},
        )
        uow.commit()
        return vote.id


def _time_limit_of(vote: orm.Vote) -> int:
    """The time limit a vote was opened with (0: none): a re-vote keeps it unless given one."""
    if vote.deadline is None:
        return 0
    return max(1, round((vote.deadline - vote.opened_at).total_seconds()))


def _item_status_from_votes(uow: UnitOfWork, item: orm.AgendaItem) -> ItemStatus:
    """The item is decided by its latest counted (not annulled) vote "в цілому". Undecided, it is
    under consideration again, unless the hall has meanwhile taken up another item: then it is
    set aside as postponed, to be taken up again."""
    deciding = uow.session.scalars(
        select(orm.Vote.result)
        .where(
            orm.Vote.item_id == item.id,
            orm.Vote.stage == Stage.AS_A_WHOLE,
            orm.Vote.state == VoteState.CLOSED,
        )
        .order_by(orm.Vote.id.desc())
    ).first()
    status = decided_by(None if deciding is None else deciding == Result.ADOPTED)
    if status is ItemStatus.UNDER_CONSIDERATION:
        another = uow.session.scalar(
            select(orm.AgendaItem.id).where(
                orm.AgendaItem.sitting_id == item.sitting_id,
                orm.AgendaItem.id != item.id,
                orm.AgendaItem.status == ItemStatus.UNDER_CONSIDERATION,
            )
        )
        if another is not None:
            return ItemStatus.POSTPONED
    return status


def annul_vote(uow: UnitOfWork, actor: Actor, command: AnnulVote) -> None:
    """Annul a vote with a reason; it is kept, marked annulled, and no longer decides its item."""
    command.authorize(actor)
    with uow:
        vote = uow.lock_vote(command.vote_id)
        was = VoteState(vote.state)
        annulled = rules.annul(was)
        open_sitting_row(uow, vote.sitting_id)  # a closed sitting's record is final
        vote.state, vote.annul_reason, vote.annulled_at = annulled, command.reason, uow.now()
        if was is VoteState.OPEN:
            vote.closed_at = uow.now()
        uow.journal(
            actor, "vote_annulled", {"vote_id": vote.id, "reason": command.reason, "was": was}
        )
        if vote.item_id is not None and vote.stage == Stage.AS_A_WHOLE and was is VoteState.CLOSED:
            item = get_item(uow, vote.item_id)
            if item.status in DECIDED:
                uow.session.flush()
                change_item_status(
                    uow,
                    actor,
                    item,
                    _item_status_from_votes(uow, item),
                    reason=f"vote {vote.id} annulled",
                )
        if vote.kind == VoteKind.SECRET and was is VoteState.OPEN:
            _drop_sealed_ballots(uow, vote)
        uow.commit()


def announce_result(uow: UnitOfWork, actor: Actor, command: AnnounceResult) -> None:
    """The chair announces a closed vote's result: the hall display puts it up in full and the
    protocol records when. Only a counted vote is announced, and only once."""
    command.authorize(actor)
    with uow:
        vote = uow.lock_vote(command.vote_id)
        rules.ensure_can_announce(VoteState(vote.state), vote.announced_at is not None)
        open_sitting_row(uow, vote.sitting_id)  # a closed sitting's record is final
        vote.announced_at = uow.now()
        uow.journal(actor, "result_announced", {"vote_id": vote.id, "result": vote.result})
        uow.commit()


def enter_manual_result(uow: UnitOfWork, actor: Actor, command: ManualResult) -> dict[str, object]:
    """Record the counting commission's result when the electronic system fails.

    A new attempt of the question, marked manual, with the commission's note: declared manual
    from the start, or after a vote that was annulled (`previous_vote_id`), never beside or over
    a counted electronic vote. Roll-call and open votes: `choices` maps each registered deputy
    who voted to for/against/abstain (nobody else); the other registered deputies are "not
    voted", the rest absent. Secret ballots: `counts` only.
    """
    command.authorize(actor)
    with uow:
        sitting = open_sitting_row(uow, command.sitting_id)
        previous = None
        attempt = 1
        if command.previous_vote_id is not None:
            previous = uow.lock_vote(command.previous_vote_id)
            attempt = rules.ensure_can_follow(
                previous.id,
                VoteState(previous.state),
                previous.attempt,
                the_council(uow).revote_limit,
                _followed_by(uow, previous),
            )
            if previous.sitting_id != sitting.id or previous.item_id != command.item_id:
                raise InvalidInput(
                    f"vote {previous.id} is on another question; a manual result "
                    "follows a vote on the same item of this sitting",
                    field="previous_vote_id",
                )
            rules.ensure_manual_may_follow(previous.id, VoteState(previous.state))
        opening = OpenVote(
            sitting_id=sitting.id,
            item_id=command.item_id,
            title=command.title,
            stage=command.stage,
            kind=command.kind,
            rule=command.rule,
            override_quorum=True,  # the commission's count stands on its own
        )
        vote = _new_vote(
            uow, actor, sitting, opening, attempt=attempt, previous=previous, manual=True
        )
        journal_detail: dict[str, object]
        counts = None
        if command.kind is VoteKind.SECRET:
            counts = command.counts or {c.value: 0 for c in Choice}
            journal_detail = {"counts": counts}
        else:
            if command.choices is None:
                raise InvalidInput(
                    "choices must map deputy ids to for, against or abstain", field="choices"
                )
            # Only those present: the commission counts hands in the hall, and a deputy who
            # is not registered is not there to raise one.
            present = presence_of(uow, sitting).registered
            for deputy_id in command.choices:
                if deputy_id not in present:
                    raise InvalidInput(
                        f"choices: deputy {deputy_id} is not registered at this sitting "
                        "(register them first if they are in the hall)",
                        field="choices",
                    )
            for deputy_id, choice in command.choices.items():
                uow.session.add(
                    orm.Ballot(
                        vote_id=vote.id,
                        deputy_id=deputy_id,
                        outcome=choice.value,
                        cast_at=uow.now(),
                    )
                )
            journal_detail = {
                "choices": {str(k): v.value for k, v in sorted(command.choices.items())}
            }
        uow.session.flush()
        described = {**vote_public(vote), "note": command.note}
        described.pop("state")  # it is closed by the counting just below
        uow.journal(
            actor, "manual_result_entered", {**described, **journal_detail}, public=described
        )
        tally = _count_and_close(uow, actor, vote, counts)
        uow.commit()
        return {"vote_id": vote.id, **tally.to_dict()}
