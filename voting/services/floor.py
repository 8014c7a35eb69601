"""Use cases of the floor: requests to speak, the speaker list, the speaking clock, microphones
and the archive of speeches.

Each sitting has one speaker list per agenda item (and one for the time between items); the list
followed is that of the item under consideration. The order of the waiting requests is not
stored: it is computed from them by the council's rules (`voting.domain.floor.speaker_order`)
whenever it is read, so every screen and every server process shows the same order. The chair's
own order, once given, is stored as each request's `hand_position`.

Every change is journaled in the transaction that makes it. Microphones are switched by
journaling `microphone_switched`: whatever drives them (the simulated microphones of the demo and
tests, the seat consoles' gateway) follows those events on the bus, after commit.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select

from voting.adapters import orm
from voting.domain.actors import SYSTEM, Actor
from voting.domain.agenda import ItemStatus
from voting.domain.errors import (
    DomainError,
    DuplicateRequest,
    InvalidInput,
    NoOneWaiting,
    NoSpeakerYet,
    NotFound,
    NotRegistered,
    PermissionDenied,
    RequestNotWaiting,
    SpeakerListClosed,
    SpeechLimitReached,
    SpeechNotLive,
)
from voting.domain.floor import (
    CHAIR_MICROPHONE,
    TRIBUNE_MICROPHONE,
    ClockState,
    FloorRules,
    MicrophoneMode,
    SpeechClock,
    SpeechType,
    TimeSignal,
    Waiting,
    deputy_microphone,
    estimated_waits,
    microphones_to_close,
    speaker_order,
    time_signal,
)
from voting.domain.sittings import SittingState, ensure_sitting_open

from .commands import (
    AddSpeakingTime,
    ChairPriority,
    ChairPriorityMode,
    CloseSpeakerList,
    ExtendFactionBudgets,
    GrantFloor,
    MarkBroadcastStart,
    OrderSpeakers,
    ReaddLastSpeaker,
    RequestFloor,
    SpeechAction,
    SwitchMicrophone,
    WithdrawRequest,
)
from .group_commit import GroupCommitter, Request, one_by_one_on_failure
from .registration import registered_ids
from .sittings import current_item, get_sitting
from .uow import UnitOfWork, Units

LIVE = ("running", "paused")


# --- loading ----------------------------------------------------------------------------------


def _lock_open_sitting(uow: UnitOfWork, sitting_id: object) -> orm.Sitting:
    """An open sitting, locked: the floor's changes in one sitting happen one at a time."""
    sitting = uow.lock(orm.Sitting, sitting_id, "sitting")
    ensure_sitting_open(sitting.id, SittingState(sitting.state))
    return sitting


def current_list(uow: UnitOfWork, sitting_id: int, create: bool = False) -> orm.SpeakerList | None:
    """The speaker list followed now: the item under consideration's, else the sitting's own
    (one statement: the live screens read it at every push)."""
    considered = (
        select(orm.AgendaItem.id)
        .where(
            orm.AgendaItem.sitting_id == sitting_id,
            orm.AgendaItem.status == ItemStatus.UNDER_CONSIDERATION,
        )
        .order_by(orm.AgendaItem.position)
        .limit(1)
        .scalar_subquery()
    )
    found = uow.session.scalars(
        select(orm.SpeakerList).where(
            orm.SpeakerList.sitting_id == sitting_id,
            orm.SpeakerList.item_id.is_not_distinct_from(considered),
        )
    ).first()
    if found is None and create:
        item = current_item(uow, sitting_id)
        item_id = None if item is None else item.id
        found = orm.SpeakerList(sitting_id=sitting_id, item_id=item_id, faction_extra_seconds=0)
        uow.session.add(found)
        uow.session.flush()
    return found


def _factions(uow: UnitOfWork) -> dict[int, str]:
    return {f.id: f.name for f in uow.session.scalars(select(orm.Faction))}


def _deputy(uow: UnitOfWork, deputy_id: int) -> orm.Deputy:
    deputy = uow.get(orm.Deputy, deputy_id, "deputy")
    if not deputy.active:
        raise InvalidInput(f"deputy {deputy_id} has no mandate now (inactive)")
    return deputy


def live_speech(uow: UnitOfWork, sitting_id: int, lock: bool = False) -> orm.Speech | None:
    """The sitting's speech now running or paused (at most one: a partial unique index)."""
    query = select(orm.Speech).where(
        orm.Speech.sitting_id == sitting_id, orm.Speech.state.in_(LIVE)
    )
    if lock:
        query = query.with_for_update()
    return uow.session.scalars(query.execution_options(populate_existing=True)).first()


def _clock(speech: orm.Speech) -> SpeechClock:
    return SpeechClock(
        allotted=speech.allotted_seconds,
        used=speech.used_seconds,
        running_since=speech.running_since,
        state=ClockState(speech.state),
    )


def _store(speech: orm.Speech, clock: SpeechClock) -> None:
    speech.allotted_seconds = clock.allotted
    speech.used_seconds = clock.used
    speech.running_since = clock.running_since
    speech.state = clock.state.value


#: Speech types a deputy asks for only as the item's rapporteur; "invited" is never a deputy's.
RAPPORTEUR_TYPES = frozenset(
    {
        SpeechType.REPORT,
        SpeechType.CO_REPORT,
        SpeechType.ANSWER,
        SpeechType.CLOSING_WORD,
        SpeechType.INVITED,
    }
)


def _name_key(name: str | None) -> str:
    return " ".join(str(name or "").split()).casefold()


def _same_name(a: str | None, b: str | None) -> bool:
    return (
        bool(a and b) and " ".join(str(a).split()).casefold() == " ".join(str(b).split()).casefold()
    )


class _ListFacts:
    """What the order of one list rests on: its requests, its speakers so far, its item."""

    def __init__(self, uow: UnitOfWork, speakers: orm.SpeakerList) -> None:
        self.list = speakers
        self.item = (
            None if speakers.item_id is None else uow.session.get(orm.AgendaItem, speakers.item_id)
        )
        self.requests = list(
            uow.session.scalars(
                select(orm.SpeechRequest)
                .where(
                    orm.SpeechRequest.list_id == speakers.id,
                    orm.SpeechRequest.state.in_(("waiting", "granted")),
                )
                .order_by(orm.SpeechRequest.id)
            )
        )
        self.speeches = list(
            uow.session.scalars(
                select(orm.Speech).where(orm.Speech.list_id == speakers.id).order_by(orm.Speech.id)
            )
        )
        deputy_ids = {r.deputy_id for r in self.requests if r.deputy_id is not None}
        self.deputies = (
            {
                d.id: d
                for d in uow.session.scalars(
                    select(orm.Deputy).where(orm.Deputy.id.in_(deputy_ids))
                )
            }
            if deputy_ids
            else {}
        )
        self.faction_names = _factions(uow)

    def add(self, request: orm.SpeechRequest, deputy: orm.Deputy | None) -> None:
        """A request just written (flushed), with its deputy: no need to read the list again."""
        self.requests.append(request)
        if deputy is not None:
            self.deputies[deputy.id] = deputy

    @property
    def waiting(self) -> list[orm.SpeechRequest]:
        return [r for r in self.requests if r.state == "waiting"]

    def faction_of(self, request: orm.SpeechRequest) -> str | None:
        deputy = self.deputies.get(request.deputy_id or 0)
        if deputy is None or deputy.faction_id is None:
            return None
        return self.faction_names.get(deputy.faction_id)

    def name_of(self, request: orm.SpeechRequest) -> str:
        deputy = self.deputies.get(request.deputy_id or 0)
        return deputy.full_name if deputy is not None else str(request.invited_name)

    def is_rapporteur(self, request: orm.SpeechRequest) -> bool:
        if self.item is None or not self.item.rapporteur:
            return False
        deputy = self.deputies.get(request.deputy_id or 0)
        names = (
            (deputy.full_name, deputy.short_name) if deputy is not None else (request.invited_name,)
        )
        return any(_same_name(name, self.item.rapporteur) for name in names)

    def has_spoken(self, request: orm.SpeechRequest) -> bool:
        if request.deputy_id is not None:
            return any(s.deputy_id == request.deputy_id for s in self.speeches)
        return any(
            s.deputy_id is None and _same_name(s.speaker_name, request.invited_name)
            for s in self.speeches
        )

    def ordered(self, rules: FloorRules) -> list[orm.SpeechRequest]:
        by_id = {r.id: r for r in self.waiting}
        seen = [
            Waiting(
                id=r.id,
                type=SpeechType(r.type),
                requested=r.id,
                faction=self.faction_of(r),
                rapporteur=self.is_rapporteur(r),
                has_spoken=self.has_spoken(r),
                hand_position=r.hand_position,
            )
            for r in self.waiting
        ]
        last = self.speeches[-1].faction if self.speeches else None
        return [by_id[w.id] for w in speaker_order(seen, rules, last)]


def _speaker_dict(facts: _ListFacts, request: orm.SpeechRequest) -> dict[str, object]:
    deputy = facts.deputies.get(request.deputy_id or 0)
    return {
        "deputy_id": request.deputy_id,
        "name": facts.name_of(request),
        "short_name": deputy.short_name if deputy is not None else request.invited_name,
        "position": None if deputy is not None else request.invited_position,
        "faction": facts.faction_of(request),
    }


# --- requests ---------------------------------------------------------------------------------


class FloorRequest(Request):
    """One request for the floor on its way to the database (services.group_commit)."""

    def __init__(
        self, actor: Actor, command: RequestFloor, deputy_id: int | None, rules: FloorRules
    ) -> None:
        super().__init__(key=(command.sitting_id, deputy_id, command.invited_name))
        self.actor = actor
        self.command = command
        self.deputy_id = deputy_id
        self.rules = rules


#: The most requests one transaction writes.
MAX_REQUEST_BATCH = 64


def new_request_committer() -> GroupCommitter[FloorRequest]:
    """The group committer of requests for the floor: one per runtime. When a hall asks for
    the floor at once (120 deputies within a second), the requests that arrive while one
    transaction is written share the next one, as casts do."""
    return GroupCommitter(write_requests, MAX_REQUEST_BATCH)


def request_floor(
    uow: UnitOfWork, actor: Actor, command: RequestFloor, rules: FloorRules
) -> dict[str, object]:
    """A request joins the list; answers its place and estimated wait, after the commit.

    A deputy asks for themselves (registered in the current round when the council requires it);
    the chair or secretary may add any deputy or an invited speaker, also to a closed list.
    """
    command.authorize(actor)
    staff = actor.is_staff
    if not staff:
        if command.invited_name is not None:
            raise PermissionDenied("only the chair or the secretary adds an invited speaker")
        if command.deputy_id not in (None, actor.deputy_id):
            raise PermissionDenied("a deputy asks for the floor only for themselves")
    deputy_id = command.deputy_id if staff else actor.deputy_id
    if staff and deputy_id is None and command.invited_name is None:
        raise InvalidInput(
            "name the speaker: deputy_id, or invited_name for an invited speaker",
            field="deputy_id",
        )
    request = FloorRequest(actor, command, deputy_id, rules)
    if uow.floor_requests is None:
        write_requests(uow, [request])
        answer = request.outcome()
    else:
        answer = uow.floor_requests.submit(uow, request)
    assert isinstance(answer, dict)
    return answer


def _write_requests(uow: UnitOfWork, batch: list[FloorRequest]) -> None:
    by_sitting: dict[int, list[FloorRequest]] = {}
    for request in batch:
        by_sitting.setdefault(request.command.sitting_id, []).append(request)
    answers: list[tuple[FloorRequest, dict[str, object]]] = []
    with uow:
        for sitting_id, requests in by_sitting.items():
            try:
                sitting = _lock_open_sitting(uow, sitting_id)
            except DomainError as error:
                for request in requests:
                    request.settle(error=error)
                continue
            answers += _add_requests(uow, sitting, requests)
        uow.commit()
    for request, answer in answers:
        request.settle(answer)


def _add_requests(
    uow: UnitOfWork, sitting: orm.Sitting, requests: list[FloorRequest]
) -> list[tuple[FloorRequest, dict[str, object]]]:
    """One sitting's share of a batch: each request checked against the list as it stands with
    the batch's earlier requests in it; the refused ones settled with their reason."""
    rules = requests[0].rules
    registered = registered_ids(uow, sitting.id) if rules.registration_required else set()
    speakers = current_list(uow, sitting.id)  # created with the first request accepted
    facts = None if speakers is None else _ListFacts(uow, speakers)
    known = [] if facts is None else facts.requests
    waiting: set[tuple[int | None, str]] = {
        (r.deputy_id, r.type)
        if r.deputy_id is not None
        else (None, f"{r.type}:{_name_key(r.invited_name)}")
        for r in known
        if r.state == "waiting"
    }
    granted = Counter((r.deputy_id, r.type) for r in known if r.state == "granted")
    closed = speakers is not None and speakers.closed_at is not None
    item = current_item(uow, sitting.id) if facts is None else facts.item
    wanted = {r.deputy_id for r in requests if r.deputy_id is not None}
    deputies = (
        {d.id: d for d in uow.session.scalars(select(orm.Deputy).where(orm.Deputy.id.in_(wanted)))}
        if wanted
        else {}
    )
    added: list[tuple[FloorRequest, orm.SpeechRequest]] = []
    for request in requests:
        deputy = deputies.get(request.deputy_id or 0)
        rapporteur = (
            item is not None
            and deputy is not None
            and any(_same_name(n, item.rapporteur) for n in (deputy.full_name, deputy.short_name))
        )
        try:
            _check_request(request, closed, registered, waiting, granted, deputies, rapporteur)
        except DomainError as error:
            request.settle(error=error)
            continue
        if speakers is None:
            speakers = current_list(uow, sitting.id, create=True)
            assert speakers is not None
        kind = request.command.type
        row = orm.SpeechRequest(
            list_id=speakers.id,
            deputy_id=request.deputy_id,
            invited_name=request.command.invited_name if request.deputy_id is None else None,
            invited_position=(
                request.command.invited_position if request.deputy_id is None else None
            ),
            type=kind.value,
            state="waiting",
            requested_at=uow.now(),
        )
        uow.session.add(row)
        if request.deputy_id is not None:
            waiting.add((request.deputy_id, kind.value))
        else:
            waiting.add((None, f"{kind.value}:{_name_key(request.command.invited_name)}"))
        added.append((request, row))
    if not added or speakers is None:
        return []
    uow.session.flush()
    if facts is None or facts.list is not speakers:
        facts = _ListFacts(uow, speakers)  # the list was created by this batch
    else:
        for request, row in added:
            facts.add(row, deputies.get(request.deputy_id or 0))
    order = facts.ordered(rules)
    waits = _waits(uow, facts, order, rules)
    places = {
        r.id: (place, wait)
        for place, (r, wait) in enumerate(zip(order, waits, strict=True), start=1)
    }
    out = []
    for request, row in added:
        uow.journal(
            request.actor,
            "floor_requested",
            {
                "sitting_id": sitting.id,
                "item_id": speakers.item_id,
                "request_id": row.id,
                "type": row.type,
                **_speaker_dict(facts, row),
            },
        )
        place, wait = places[row.id]
        out.append(
            (
                request,
                {"request_id": row.id, "type": row.type, "place": place, "wait_seconds": wait},
            )
        )
    return out


def _check_request(
    request: FloorRequest,
    closed: bool,
    registered: set[int],
    waiting: set[tuple[int | None, str]],
    granted: Counter[tuple[int | None, str]],
    deputies: dict[int, orm.Deputy],
    rapporteur: bool = False,
) -> None:
    """Refuse a request (nothing written) with the reason a person can act on. A deputy asks
    for a report, a co-report, an answer or a closing word only as the item's rapporteur, and
    never as an invited speaker."""
    rules, staff, kind = request.rules, request.actor.is_staff, request.command.type
    deputy_id = request.deputy_id
    if deputy_id is not None:
        deputy = deputies.get(deputy_id)
        if deputy is None:
            raise NotFound(f"deputy {deputy_id} does not exist")
        if not deputy.active:
            raise InvalidInput(f"deputy {deputy_id} has no mandate now (inactive)")
        if not staff and rules.registration_required and deputy_id not in registered:
            raise NotRegistered(
                "only deputies registered in the current round may ask for the floor; "
                "register first"
            )
    if (
        not staff
        and closed
        and not (kind is SpeechType.POINT_OF_ORDER and rules.late_points_of_order)
    ):
        raise SpeakerListClosed(
            "the speaker list is closed: no more requests"
            + (", except on a point of order" if rules.late_points_of_order else "")
        )
    if not staff and kind in RAPPORTEUR_TYPES and not rapporteur:
        raise PermissionDenied(
            f"{kind.value} is the item's rapporteur's; the chair or the secretary adds it"
        )
    if deputy_id is None:
        if (None, f"{kind.value}:{_name_key(request.command.invited_name)}") in waiting:
            raise DuplicateRequest(
                f"{request.command.invited_name} is already waiting to speak ({kind.value})"
            )
        return
    if (deputy_id, kind.value) in waiting:
        raise DuplicateRequest(f"deputy {deputy_id} is already waiting to speak ({kind.value})")
    limit = rules.rule(kind).per_item_limit
    if limit and granted[(deputy_id, kind.value)] >= limit and not staff:
        raise SpeechLimitReached(
            f"{kind.value}: at most {limit} per deputy on this item, already used"
        )


def _waits(
    uow: UnitOfWork, facts: _ListFacts, order: Sequence[orm.SpeechRequest], rules: FloorRules
) -> list[int]:
    speech = live_speech(uow, facts.list.sitting_id)
    left = 0.0 if speech is None else max(0.0, _clock(speech).remaining(uow.now()))
    seen = [Waiting(id=r.id, type=SpeechType(r.type), requested=r.id) for r in order]
    return estimated_waits(seen, rules, left)


def _waiting_request(uow: UnitOfWork, request_id: int) -> orm.SpeechRequest:
    request = uow.get(orm.SpeechRequest, request_id, "request")
    if request.state != "waiting":
        raise RequestNotWaiting(
            f"request {request_id} is {request.state}, not waiting"
            + (": a speech given stays in the archive" if request.state == "granted" else "")
        )
    return request


def withdraw_request(uow: UnitOfWork, actor: Actor, command: WithdrawRequest) -> None:
    """A deputy withdraws their own waiting request; the chair or secretary removes any."""
    command.authorize(actor)
    with uow:
        request = uow.get(orm.SpeechRequest, command.request_id, "request")
        speakers = uow.session.get(orm.SpeakerList, request.list_id)
        assert speakers is not None
        _lock_open_sitting(uow, speakers.sitting_id)
        uow.session.refresh(request)  # as it is now that the sitting is locked
        if not actor.is_staff and request.deputy_id != actor.deputy_id:
            raise PermissionDenied("a deputy withdraws only their own request")
        request = _waiting_request(uow, command.request_id)
        request.state = "withdrawn" if not actor.is_staff else "removed"
        request.resolved_at = uow.now()
        uow.journal(
            actor,
            "floor_request_withdrawn" if request.state == "withdrawn" else "floor_request_removed",
            {
                "sitting_id": speakers.sitting_id,
                "item_id": speakers.item_id,
                "request_id": request.id,
                "deputy_id": request.deputy_id,
            },
        )
        uow.commit()


def order_speakers(
    uow: UnitOfWork, actor: Actor, command: OrderSpeakers, rules: FloorRules
) -> None:
    """The chair's order: every waiting request, first to last."""
    command.authorize(actor)
    with uow:
        sitting = _lock_open_sitting(uow, command.sitting_id)
        speakers = current_list(uow, sitting.id)
        waiting = [] if speakers is None else _ListFacts(uow, speakers).waiting
        ids = {r.id for r in waiting}
        if not ids or len(set(command.order)) != len(command.order) or set(command.order) != ids:
            raise InvalidInput(
                "order must list every waiting request once: "
                f"{sorted(ids) if ids else 'no one is waiting'}",
                field="order",
            )
        by_id = {r.id: r for r in waiting}
        for position, request_id in enumerate(command.order, start=1):
            by_id[request_id].hand_position = position
        assert speakers is not None
        uow.journal(
            actor,
            "speakers_reordered",
            {"sitting_id": sitting.id, "item_id": speakers.item_id, "order": list(command.order)},
        )
        uow.commit()


def close_speaker_list(uow: UnitOfWork, actor: Actor, command: CloseSpeakerList) -> None:
    """The list closes to deputies' requests (or opens again)."""
    command.authorize(actor)
    with uow:
        sitting = _lock_open_sitting(uow, command.sitting_id)
        speakers = current_list(uow, sitting.id, create=True)
        assert speakers is not None
        if (speakers.closed_at is not None) == command.closed:
            raise InvalidInput(
                f"the speaker list is already {'closed' if command.closed else 'open'}",
                field="closed",
            )
        speakers.closed_at = uow.now() if command.closed else None
        uow.journal(
            actor,
            "speaker_list_closed" if command.closed else "speaker_list_reopened",
            {"sitting_id": sitting.id, "item_id": speakers.item_id},
        )
        uow.commit()


def readd_last_speaker(uow: UnitOfWork, actor: Actor, command: ReaddLastSpeaker) -> int:
    """The last speaker of the list waits again, at its head (after any point of order)."""
    command.authorize(actor)
    with uow:
        sitting = _lock_open_sitting(uow, command.sitting_id)
        speakers = current_list(uow, sitting.id)
        facts = None if speakers is None else _ListFacts(uow, speakers)
        ended = [] if facts is None else [s for s in facts.speeches if s.state == "ended"]
        if facts is None or not ended:
            raise NoSpeakerYet("no one has finished speaking on this item yet")
        last = ended[-1]
        if last.deputy_id is not None and any(
            r.deputy_id == last.deputy_id and r.type == last.type for r in facts.waiting
        ):
            raise DuplicateRequest(f"{last.speaker_name} is already waiting to speak again")
        positions = [r.hand_position for r in facts.waiting if r.hand_position is not None]
        request = orm.SpeechRequest(
            list_id=facts.list.id,
            deputy_id=last.deputy_id,
            invited_name=last.speaker_name if last.deputy_id is None else None,
            invited_position=last.speaker_position if last.deputy_id is None else None,
            type=last.type,
            state="waiting",
            requested_at=uow.now(),
            hand_position=min(positions, default=1) - 1,
        )
        uow.session.add(request)
        uow.session.flush()
        uow.journal(
            actor,
            "floor_requested",
            {
                "sitting_id": sitting.id,
                "item_id": facts.list.item_id,
                "request_id": request.id,
                "type": last.type,
                "deputy_id": last.deputy_id,
                "name": last.speaker_name,
                "position": last.speaker_position,
                "faction": last.faction,
                "readded": True,
            },
        )
        uow.commit()
        return request.id


# --- speeches ---------------------------------------------------------------------------------


def grant_floor(uow: UnitOfWork, actor: Actor, command: GrantFloor, rules: FloorRules) -> int:
    """The floor to the next in the list (or to the request named). A speech still running is
    ended first; the speaker's microphone opens unless the operator switches them by hand."""
    command.authorize(actor)
    with uow:
        sitting = _lock_open_sitting(uow, command.sitting_id)
        speakers = current_list(uow, sitting.id)
        facts = None if speakers is None else _ListFacts(uow, speakers)
        order = [] if facts is None else facts.ordered(rules)
        if command.request_id is None:
            if not order:
                raise NoOneWaiting("no one is waiting for the floor")
            request = order[0]
        else:
            request = _waiting_request(uow, command.request_id)
            if facts is None or request.list_id != facts.list.id:
                raise InvalidInput(
                    f"request {request.id} is not in the list of the item under consideration",
                    field="request_id",
                )
        assert facts is not None
        previous = live_speech(uow, sitting.id, lock=True)
        if previous is not None:
            _end(uow, actor, previous, "next", rules)
        now = uow.now()
        kind = SpeechType(request.type)
        speaker = _speaker_dict(facts, request)
        microphone = (
            deputy_microphone(request.deputy_id)
            if request.deputy_id is not None
            else TRIBUNE_MICROPHONE
        )
        clock = SpeechClock.start(rules.rule(kind).seconds, now)
        speech = orm.Speech(
            sitting_id=sitting.id,
            item_id=facts.list.item_id,
            list_id=facts.list.id,
            request_id=request.id,
            deputy_id=request.deputy_id,
            speaker_name=str(speaker["name"]),
            speaker_position=request.invited_position,
            faction=facts.faction_of(request),
            type=kind.value,
            microphone=microphone,
            started_at=now,
            pauses="[]",
            used_seconds=0.0,
            allotted_seconds=clock.allotted,
            state="running",
        )
        _store(speech, clock)
        request.state = "granted"
        request.resolved_at = now
        uow.session.add(speech)
        uow.session.flush()
        uow.journal(
            actor,
            "speech_started",
            {
                "sitting_id": sitting.id,
                "item_id": facts.list.item_id,
                "speech_id": speech.id,
                "request_id": request.id,
                "type": kind.value,
                **speaker,
                "allotted_seconds": int(clock.allotted),
                "deadline": _iso(clock.deadline),
                "microphone": microphone,
            },
        )
        if rules.microphone_mode is not MicrophoneMode.OPERATOR:
            _switch(uow, actor, microphone, True, "grant", rules)
        uow.commit()
        return speech.id


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _live(uow: UnitOfWork, speech_id: int) -> orm.Speech:
    speech = uow.get(orm.Speech, speech_id, "speech")
    _lock_open_sitting(uow, speech.sitting_id)
    uow.session.refresh(speech)
    if speech.state not in LIVE:
        raise SpeechNotLive(f"speech {speech_id} has ended")
    return speech


def _pauses(speech: orm.Speech) -> list[list[str | None]]:
    loaded = json.loads(speech.pauses or "[]")
    assert isinstance(loaded, list)
    return loaded


def pause_speech(uow: UnitOfWork, actor: Actor, command: SpeechAction) -> None:
    command.authorize(actor)
    with uow:
        speech = _live(uow, command.speech_id)
        now = uow.now()
        clock = _clock(speech).pause(now)
        _store(speech, clock)
        speech.pauses = json.dumps([*_pauses(speech), [now.isoformat(), None]])
        uow.journal(
            actor,
            "speech_paused",
            {
                "speech_id": speech.id,
                "sitting_id": speech.sitting_id,
                "remaining_seconds": round(clock.remaining(now), 1),
            },
        )
        uow.commit()


def resume_speech(uow: UnitOfWork, actor: Actor, command: SpeechAction) -> None:
    command.authorize(actor)
    with uow:
        speech = _live(uow, command.speech_id)
        now = uow.now()
        clock = _clock(speech).resume(now)
        _store(speech, clock)
        speech.interrupted_at = None  # the chair has decided: the speech goes on
        pauses = _pauses(speech)
        if pauses and pauses[-1][1] is None:
            pauses[-1][1] = now.isoformat()
        speech.pauses = json.dumps(pauses)
        uow.journal(
            actor,
            "speech_resumed",
            {
                "speech_id": speech.id,
                "sitting_id": speech.sitting_id,
                "deadline": _iso(clock.deadline),
            },
        )
        uow.commit()


def add_speaking_time(uow: UnitOfWork, actor: Actor, command: AddSpeakingTime) -> None:
    """The chair's discretion, journaled with how much was added and by whom."""
    command.authorize(actor)
    with uow:
        speech = _live(uow, command.speech_id)
        clock = _clock(speech).add(command.seconds)
        _store(speech, clock)
        if clock.remaining(uow.now()) > 0:
            speech.time_up_at = None
        uow.journal(
            actor,
            "speech_time_added",
            {
                "speech_id": speech.id,
                "sitting_id": speech.sitting_id,
                "seconds": command.seconds,
                "allotted_seconds": int(clock.allotted),
                "deadline": _iso(clock.deadline),
            },
        )
        uow.commit()


def end_speech(uow: UnitOfWork, actor: Actor, command: SpeechAction, rules: FloorRules) -> None:
    command.authorize(actor)
    with uow:
        speech = _live(uow, command.speech_id)
        _end(uow, actor, speech, "chair", rules)
        uow.commit()


def _end(uow: UnitOfWork, actor: Actor, speech: orm.Speech, cause: str, rules: FloorRules) -> None:
    now = uow.now()
    clock = _clock(speech).end(now)
    _store(speech, clock)
    speech.ended_at = now
    speech.ended_by = cause
    pauses = _pauses(speech)
    if pauses and pauses[-1][1] is None:
        pauses[-1][1] = now.isoformat()
        speech.pauses = json.dumps(pauses)
    uow.session.flush()
    uow.journal(
        actor,
        "speech_ended",
        {
            "speech_id": speech.id,
            "sitting_id": speech.sitting_id,
            "item_id": speech.item_id,
            "deputy_id": speech.deputy_id,
            "name": speech.speaker_name,
            "type": speech.type,
            "duration_seconds": round(clock.used),
            "ended_by": cause,
        },
    )
    # Whose microphone closes: the timer's cut-off and the sitting's close in every mode; the
    # end of a speech unless
    # the operator switches by hand; granting the next closes the previous one only in the
    # automatic mode (in the request mode several stay open up to the maximum).
    mode = rules.microphone_mode
    if cause in ("timer", "sitting_closed"):
        _switch(uow, actor, speech.microphone, False, "timer" if cause == "timer" else "end", rules)
    elif mode is MicrophoneMode.AUTOMATIC:
        _switch(uow, actor, speech.microphone, False, "grant" if cause == "next" else "end", rules)
    elif mode is MicrophoneMode.REQUEST and cause != "next":
        _switch(uow, actor, speech.microphone, False, "end", rules)


def end_speech_at_close(uow: UnitOfWork, actor: Actor, sitting_id: int) -> None:
    """The sitting closes: a speech still going on ends, and its microphone goes off (in every
    microphone mode: nobody speaks after the close)."""
    speech = live_speech(uow, sitting_id, lock=True)
    if speech is not None:
        _end(uow, actor, speech, "sitting_closed", FloorRules())


def check_speech_clocks(units: Units, rules: FloorRules) -> list[int]:
    """The speech timer's tick: journal a speech's time running out, and with `at_zero = "mute"`
    end it and switch its microphone off once the grace time has passed too. Returns the ids of
    the speeches it changed."""
    with units.reader() as reader:
        now = reader.now()
        due = [
            s.id
            for s in reader.session.scalars(select(orm.Speech).where(orm.Speech.state == "running"))
            if _due(s, now, rules)
        ]
    changed = []
    for speech_id in due:
        uow = units.uow()
        with uow:
            speech = live_speech_by_id(uow, speech_id)
            if speech is None:
                continue
            now = uow.now()
            signal = time_signal(_clock(speech), now, rules)
            if signal in (TimeSignal.TIME_UP, TimeSignal.CUT_OFF) and speech.time_up_at is None:
                speech.time_up_at = now
                uow.journal(
                    SYSTEM,
                    "speech_time_up",
                    {"speech_id": speech.id, "sitting_id": speech.sitting_id},
                )
            if signal is TimeSignal.CUT_OFF:
                _end(uow, SYSTEM, speech, "timer", rules)
            uow.commit()
            changed.append(speech_id)
    return changed


def live_speech_by_id(uow: UnitOfWork, speech_id: int) -> orm.Speech | None:
    speech = uow.session.get(orm.Speech, speech_id)
    if speech is None:
        return None
    uow.lock(orm.Sitting, speech.sitting_id, "sitting")
    uow.session.refresh(speech)
    return speech if speech.state == "running" else None


def _due(speech: orm.Speech, now: datetime, rules: FloorRules) -> bool:
    signal = time_signal(_clock(speech), now, rules)
    if signal is TimeSignal.CUT_OFF:
        return True
    return signal is TimeSignal.TIME_UP and speech.time_up_at is None


# --- microphones ------------------------------------------------------------------------------


def _open_microphones(uow: UnitOfWork) -> dict[str, orm.Microphone]:
    return {
        m.name: m
        for m in uow.session.scalars(
            select(orm.Microphone)
            .where(orm.Microphone.is_on.is_(True))
            .execution_options(populate_existing=True)
        )
    }


def _switch(
    uow: UnitOfWork, actor: Actor, name: str, on: bool, cause: str, rules: FloorRules
) -> None:
    """Record a microphone's switch (and, opening one, the closing of the longest open ones
    beyond the maximum), each journaled with its cause."""
    uow.lock_journal()  # one change of the microphones at a time, whichever sitting
    row = uow.session.get(orm.Microphone, name, populate_existing=True)
    if on:
        open_now = _open_microphones(uow)
        for closing in microphones_to_close(
            {n: m.since for n, m in open_now.items()}, name, rules.max_open_microphones
        ):
            _switch(uow, actor, closing, False, "limit", rules)
    if row is not None and row.is_on == on:
        row.held_by_chair = False
        return
    if row is None:
        if not on:
            return
        row = orm.Microphone(name=name, is_on=True, since=uow.now(), cause=cause)
        uow.session.add(row)
    row.is_on, row.since, row.cause, row.held_by_chair = on, uow.now(), cause, False
    uow.session.flush()
    uow.journal(actor, "microphone_switched", {"microphone": name, "on": on, "cause": cause})


def switch_microphone(
    uow: UnitOfWork, actor: Actor, command: SwitchMicrophone, rules: FloorRules
) -> None:
    """The operator switches a microphone by hand (in every mode)."""
    command.authorize(actor)
    with uow:
        uow.lock_journal()
        if command.on and command.microphone.startswith("deputy:"):
            _deputy(uow, int(command.microphone.partition(":")[2]))
        _switch(uow, actor, command.microphone, command.on, "operator", rules)
        uow.commit()


def chair_priority(
    uow: UnitOfWork, actor: Actor, command: ChairPriority, rules: FloorRules
) -> None:
    """The chair's priority key: every other microphone off while held (back on when let go),
    or off for good."""
    command.authorize(actor)
    with uow:
        uow.lock_journal()
        if command.mode is ChairPriorityMode.RELEASE:
            held = uow.session.scalars(
                select(orm.Microphone).where(orm.Microphone.held_by_chair.is_(True))
            ).all()
            for row in sorted(held, key=lambda m: m.since):
                _switch(uow, actor, row.name, True, "chair", rules)
        else:
            _switch(uow, actor, CHAIR_MICROPHONE, True, "chair", rules)
            for name, row in sorted(_open_microphones(uow).items()):
                if name == CHAIR_MICROPHONE:
                    continue
                _switch(uow, actor, name, False, "chair", rules)
                row.held_by_chair = command.mode is ChairPriorityMode.HOLD
        uow.commit()


def microphones(uow: UnitOfWork) -> list[dict[str, object]]:
    with uow:
        return [
            _microphone_dict(m)
            for m in uow.session.scalars(select(orm.Microphone).order_by(orm.Microphone.name))
        ]


def _microphone_dict(m: orm.Microphone) -> dict[str, object]:
    return {"microphone": m.name, "on": m.is_on, "since": m.since.isoformat(), "cause": m.cause}


# --- the broadcast, faction time --------------------------------------------------------------


def mark_broadcast_start(uow: UnitOfWork, actor: Actor, command: MarkBroadcastStart) -> str:
    """When the sitting's broadcast started: the archive gives each speech's time in it."""
    command.authorize(actor)
    with uow:
        sitting = get_sitting(uow, command.sitting_id)
        started = command.started_at or uow.now()
        sitting.broadcast_started_at = started
        uow.journal(
            actor,
            "broadcast_started",
            {"sitting_id": sitting.id, "started_at": started.isoformat()},
        )
        uow.commit()
        return started.isoformat()


def _faction_time(
    uow: UnitOfWork, facts: _ListFacts, rules: FloorRules, now: datetime
) -> list[dict[str, object]]:
    """Each faction's time on the item: the budget, what its deputies spoke, what is left
    (negative once overrun)."""
    if not rules.faction_seconds_per_item:
        return []
    budget = rules.faction_seconds_per_item + facts.list.faction_extra_seconds
    spoken: dict[str, float] = {name: 0.0 for name in sorted(set(facts.faction_names.values()))}
    for speech in facts.speeches:
        if speech.faction is not None and speech.deputy_id is not None:
            spoken[speech.faction] = spoken.get(speech.faction, 0.0) + _clock(speech).spoken(now)
    return [
        {
            "faction": name,
            "budget_seconds": budget,
            "spoken_seconds": round(used),
            "remaining_seconds": round(budget - used),
        }
        for name, used in spoken.items()
    ]


def extend_faction_budgets(
    uow: UnitOfWork, actor: Actor, command: ExtendFactionBudgets, rules: FloorRules
) -> int:
    """Every faction's budget on the item raised by the largest overrun: returns the seconds."""
    command.authorize(actor)
    if not rules.faction_seconds_per_item:
        raise InvalidInput("this council sets no faction time (floor.faction_seconds_per_item)")
    with uow:
        sitting = _lock_open_sitting(uow, command.sitting_id)
        speakers = current_list(uow, sitting.id)
        if speakers is None:
            raise InvalidInput("no faction has spoken on this item")
        facts = _ListFacts(uow, speakers)
        overrun = -min(
            (int(str(f["remaining_seconds"])) for f in _faction_time(uow, facts, rules, uow.now())),
            default=0,
        )
        if overrun <= 0:
            raise InvalidInput("no faction has overrun its time on this item")
        speakers.faction_extra_seconds += overrun
        uow.journal(
            actor,
            "faction_time_extended",
            {"sitting_id": sitting.id, "item_id": speakers.item_id, "seconds": overrun},
        )
        uow.commit()
        return overrun


# --- what screens see -------------------------------------------------------------------------


def speech_view(speech: orm.Speech, now: datetime, rules: FloorRules) -> dict[str, object]:
    clock = _clock(speech)
    return {
        "id": speech.id,
        "deputy_id": speech.deputy_id,
        "name": speech.speaker_name,
        "position": speech.speaker_position,
        "faction": speech.faction,
        "type": speech.type,
        "state": speech.state,
        "microphone": speech.microphone,
        "started_at": speech.started_at.isoformat(),
        "allotted_seconds": round(clock.allotted),
        "spoken_seconds": round(clock.spoken(now), 1),
        "remaining_seconds": round(clock.remaining(now), 1),
        "deadline": _iso(clock.deadline),
        "signal": time_signal(clock, now, rules).value,
        "recording_error": speech.recording_error,
        # The servers stopped while it went on: its clock stopped then; the chair decides.
        "interrupted_at": _iso(speech.interrupted_at) if speech.state in LIVE else None,
    }


def floor_view(
    uow: UnitOfWork, sitting: orm.Sitting, rules: FloorRules, staff: bool = False
) -> dict[str, object]:
    """The floor of a sitting now: the speech, the list in order with each one's estimated wait,
    how many have spoken and wait on the item; for staff the microphones and faction time."""
    now = uow.now()
    speakers = current_list(uow, sitting.id)
    facts = None if speakers is None else _ListFacts(uow, speakers)
    speech = live_speech(uow, sitting.id)
    order = [] if facts is None else facts.ordered(rules)
    waits = [] if facts is None else _waits(uow, facts, order, rules)
    queue = []
    for place, (request, wait) in enumerate(zip(order, waits, strict=True), start=1):
        assert facts is not None
        queue.append(
            {
                "id": request.id,
                "place": place,
                "type": request.type,
                "interrupts": rules.rule(SpeechType(request.type)).interrupts,
                "wait_seconds": wait,
                **_speaker_dict(facts, request),
            }
        )
    out: dict[str, object] = {
        "item_id": None if speakers is None else speakers.item_id,
        "closed": speakers is not None and speakers.closed_at is not None,
        "speech": None if speech is None else speech_view(speech, now, rules),
        "queue": queue,
        "spoke": 0 if facts is None else sum(1 for s in facts.speeches if s.state == "ended"),
        "waiting": len(queue),
        "warning_seconds": rules.warning_seconds,
        "late_points_of_order": rules.late_points_of_order,
        "at_zero": rules.at_zero.value,
        "grace_seconds": rules.grace_seconds,
        "speech_types": {kind.value: rules.rule(kind).seconds for kind in SpeechType},
        "broadcast_started_at": _iso(sitting.broadcast_started_at),
    }
    out["microphone_mode"] = rules.microphone_mode.value
    shown = list(  # one statement: those on, and whether the chair holds priority
        uow.session.scalars(
            select(orm.Microphone)
            .where(or_(orm.Microphone.is_on.is_(True), orm.Microphone.held_by_chair.is_(True)))
            .order_by(orm.Microphone.name)
        )
    )
    out["microphones"] = [_microphone_dict(m) for m in shown if m.is_on]
    out["faction_time"] = [] if facts is None else _faction_time(uow, facts, rules, now)
    ended = [] if facts is None else [s for s in facts.speeches if s.state == "ended"]
    out["last_speaker"] = ended[-1].speaker_name if ended else None
    out["chair_priority_held"] = any(m.held_by_chair for m in shown)
    return out if staff else public_floor(out)


#: What only the secretary and the chair see of the floor.
STAFF_FLOOR = (
    "microphone_mode",
    "microphones",
    "faction_time",
    "last_speaker",
    "chair_priority_held",
)


def public_floor(view: dict[str, object]) -> dict[str, object]:
    """The floor as everyone may see it, from the staff's view (a recording's failure is the
    control screen's: it may name the server's paths)."""
    out = {key: value for key, value in view.items() if key not in STAFF_FLOOR}
    speech = out.get("speech")
    if isinstance(speech, dict):
        out["speech"] = {k: v for k, v in speech.items() if k != "recording_error"}
    return out


# --- the archive ------------------------------------------------------------------------------


def _speech_record(
    speech: orm.Speech, item: orm.AgendaItem | None, sitting: orm.Sitting, now: datetime
) -> dict[str, object]:
    clock = _clock(speech)
    broadcast = sitting.broadcast_started_at
    return {
        "id": speech.id,
        "sitting_id": speech.sitting_id,
        "item_id": speech.item_id,
        "item_position": None if item is None else item.position,
        "item_title": None if item is None else item.title,
        "deputy_id": speech.deputy_id,
        "speaker": speech.speaker_name,
        "position": speech.speaker_position,
        "faction": speech.faction,
        "type": speech.type,
        "state": speech.state,
        "started_at": speech.started_at.isoformat(),
        "ended_at": _iso(speech.ended_at),
        "duration_seconds": round(clock.spoken(now)),
        "pauses": _pauses(speech),
        "ended_by": speech.ended_by,
        "broadcast_offset_seconds": None
        if broadcast is None
        else round((speech.started_at - broadcast).total_seconds()),
        "recording_file": speech.recording_file,
        "recording_error": speech.recording_error,
    }


def speeches(
    uow: UnitOfWork,
    *,
    sitting_id: object = None,
    item_id: object = None,
    deputy_id: object = None,
    staff: bool = False,
) -> list[dict[str, object]]:
    """The archive: speeches of a sitting, an agenda item or a deputy, oldest first. Where a
    recording is kept on the server, and why one failed, only staff see."""
    with uow:
        query = select(orm.Speech).order_by(orm.Speech.id)
        if sitting_id is not None:
            query = query.where(orm.Speech.sitting_id == get_sitting(uow, sitting_id).id)
        if item_id is not None:
            query = query.where(
                orm.Speech.item_id == uow.get(orm.AgendaItem, item_id, "agenda item").id
            )
        if deputy_id is not None:
            query = query.where(orm.Speech.deputy_id == uow.get(orm.Deputy, deputy_id, "deputy").id)
        rows = list(uow.session.scalars(query))
        item_ids = sorted({r.item_id for r in rows if r.item_id is not None})
        items = {
            i.id: i
            for i in uow.session.scalars(
                select(orm.AgendaItem).where(orm.AgendaItem.id.in_(item_ids))
            )
        }
        sittings = {
            s.id: s
            for s in uow.session.scalars(
                select(orm.Sitting).where(orm.Sitting.id.in_({r.sitting_id for r in rows}))
            )
        }
        now = uow.now()
        records = [
            _speech_record(r, items.get(r.item_id or 0), sittings[r.sitting_id], now) for r in rows
        ]
        if not staff:
            for record in records:
                del record["recording_file"], record["recording_error"]
        return records


CSV_COLUMNS = ("speaker", "faction", "type", "start", "duration_seconds", "item")


def speeches_csv(records: Sequence[dict[str, object]]) -> str:
    """The archive as CSV: speaker, faction, type, start, duration in seconds, item."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        item = "" if r["item_position"] is None else f"{r['item_position']}. {r['item_title']}"
        writer.writerow(
            [
                _cell(r["speaker"]),
                _cell(r["faction"] or ""),
                r["type"],
                r["started_at"],
                r["duration_seconds"],
                _cell(item),
            ]
        )
    return out.getvalue()


def _cell(value: object) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def speaking_time(uow: UnitOfWork, deputy_id: object) -> dict[str, object]:
    """A deputy's speaking time: in all, and per sitting."""
    with uow:
        deputy = uow.get(orm.Deputy, deputy_id, "deputy")
        rows = uow.session.execute(
            select(
                orm.Speech.sitting_id,
                func.count(orm.Speech.id),
                func.sum(orm.Speech.used_seconds),
            )
            .where(orm.Speech.deputy_id == deputy.id, orm.Speech.state == "ended")
            .group_by(orm.Speech.sitting_id)
            .order_by(orm.Speech.sitting_id)
        ).all()
        per_sitting = [
            {"sitting_id": sid, "speeches": count, "seconds": round(total or 0)}
            for sid, count, total in rows
        ]
        return {
            "deputy_id": deputy.id,
            "speeches": sum(int(str(p["speeches"])) for p in per_sitting),
            "seconds": sum(int(str(p["seconds"])) for p in per_sitting),
            "sittings": per_sitting,
        }


def note_recording(
    uow: UnitOfWork, speech_id: int, *, file: str | None = None, error: str | None = None
) -> None:
    """What the recording hook did for a speech: its file, or why it failed (journaled; the
    control screen shows a failure)."""
    with uow:
        speech = uow.get(orm.Speech, speech_id, "speech")
        if file is not None:
            speech.recording_file = file
            uow.journal(SYSTEM, "speech_recorded", {"speech_id": speech.id, "file": file})
        if error is not None:
            speech.recording_error = error[:2000]
            uow.journal(
                SYSTEM,
                "recording_failed",
                {"speech_id": speech.id, "sitting_id": speech.sitting_id, "error": error[:500]},
            )
        uow.commit()


def speeches_one(uow: UnitOfWork, speech_id: int) -> dict[str, object]:
    """One speech as the archive gives it."""
    with uow:
        speech = uow.get(orm.Speech, speech_id, "speech")
        item = None if speech.item_id is None else uow.session.get(orm.AgendaItem, speech.item_id)
        sitting = get_sitting(uow, speech.sitting_id)
        return _speech_record(speech, item, sitting, uow.now())


#: A batch of requests in one transaction, every one settled; if the transaction fails as a
#: whole, each request is written again alone, so a failure refuses only its own.
write_requests = one_by_one_on_failure(_write_requests, "requests for the floor")
