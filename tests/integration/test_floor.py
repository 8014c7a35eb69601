"""The floor on SQLite and PostgreSQL: requests, the list in order, the speaking clock,
microphones and the archive, driven as the secretary and deputies drive them (the clock moved by
hand, the speech timer ticked by hand)."""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from halls import CHAIR, SECRETARY, Hall, deputy_actor

from voting.domain.errors import (
    DomainError,
    DuplicateRequest,
    InvalidInput,
    NoOneWaiting,
    NoSpeakerYet,
    NotRegistered,
    PermissionDenied,
    RequestNotWaiting,
    SpeakerListClosed,
    SpeechLimitReached,
    SpeechNotLive,
)
from voting.domain.floor import AtZero, FloorRules, MicrophoneMode
from voting.services import floor, journal, queries, sittings
from voting.services.commands import (
    AddSpeakingTime,
    ChairPriority,
    ChangeItem,
    CloseSpeakerList,
    ExtendFactionBudgets,
    GrantFloor,
    MarkBroadcastStart,
    OrderSpeakers,
    ReaddLastSpeaker,
    RequestFloor,
    SetItemStatus,
    SpeechAction,
    SwitchMicrophone,
    WithdrawRequest,
)

RULES = FloorRules()


class Floor:
    """The floor of a hall's sitting, with the item under consideration."""

    def __init__(self, hall: Hall, rules: FloorRules = RULES) -> None:
        self.hall, self.rt, self.rules = hall, hall.rt, rules

    def consider(self, item_index: int = 0) -> None:
        sittings.set_item_status(
            self.rt.uow(),
            SECRETARY,
            SetItemStatus.parse(
                {"status": "under_consideration"}, item_id=self.hall.items[item_index]
            ),
        )

    def ask(self, who: int, kind: str = "speech", **extra: Any) -> dict[str, object]:
        return floor.request_floor(
            self.rt.uow(),
            deputy_actor(who),
            RequestFloor.parse({"type": kind, **extra}, sitting_id=self.hall.sitting),
            self.rules,
        )

    def add(self, **spec: Any) -> dict[str, object]:
        return floor.request_floor(
            self.rt.uow(),
            SECRETARY,
            RequestFloor.parse(spec, sitting_id=self.hall.sitting),
            self.rules,
        )

    def grant(self, request_id: int | None = None) -> int:
        spec = {} if request_id is None else {"request_id": request_id}
        return floor.grant_floor(
            self.rt.uow(), CHAIR, GrantFloor.parse(spec, sitting_id=self.hall.sitting), self.rules
        )

    def end(self, speech_id: int) -> None:
        floor.end_speech(
            self.rt.uow(), CHAIR, SpeechAction.parse({}, speech_id=speech_id), self.rules
        )

    def view(self, staff: bool = True) -> dict[str, Any]:
        with self.rt.reader() as uow:
            sitting = sittings.get_sitting(uow, self.hall.sitting)
            return floor.floor_view(uow, sitting, self.rules, staff=staff)

    def queue_names(self) -> list[Any]:
        return [(e["deputy_id"] or e["name"], e["type"]) for e in self.view()["queue"]]

    def tick(self) -> list[int]:
        return floor.check_speech_clocks(self.rt, self.rules)

    def journal_kinds(self) -> list[str]:
        return [e["kind"] for e in journal.read_journal(self.rt.reader(), 0)]


@pytest.fixture
def fl(hall: Hall) -> Floor:
    hall.open_registration()
    hall.register(*hall.deputies[:30])
    f = Floor(hall)
    f.consider()
    return f


def test_a_deputy_asks_sees_the_place_and_wait_and_may_withdraw(fl: Floor) -> None:
    d = fl.hall.deputies
    first = fl.ask(d[0])
    second = fl.ask(d[1], "question")
    assert (first["place"], first["wait_seconds"]) == (1, 0)
    assert (second["place"], second["wait_seconds"]) == (2, 180)  # behind a 3-minute speech
    floor.withdraw_request(
        fl.rt.uow(), deputy_actor(d[0]), WithdrawRequest.parse({}, request_id=first["request_id"])
    )
    assert fl.queue_names() == [(d[1], "question")]
    assert fl.view()["waiting"] == 1
    with pytest.raises(PermissionDenied):  # not their own
        floor.withdraw_request(
            fl.rt.uow(),
            deputy_actor(d[2]),
            WithdrawRequest.parse({}, request_id=second["request_id"]),
        )
    assert "floor_requested" in fl.journal_kinds()
    assert "floor_request_withdrawn" in fl.journal_kinds()


def test_requests_refused_with_a_reason_change_nothing(fl: Floor) -> None:
    d = fl.hall.deputies
    unregistered = d[35]
    with pytest.raises(NotRegistered, match="register"):
        fl.ask(unregistered)
    fl.ask(d[0])
    with pytest.raises(DuplicateRequest, match="already waiting"):
        fl.ask(d[0])
    speech = fl.grant()
    fl.end(speech)
    with pytest.raises(SpeechLimitReached, match="at most 1"):
        fl.ask(d[0])  # one debate speech per item
    fl.ask(d[0], "question")  # questions are unlimited
    floor.close_speaker_list(
        fl.rt.uow(), CHAIR, CloseSpeakerList.parse({}, sitting_id=fl.hall.sitting)
    )
    with pytest.raises(SpeakerListClosed, match="except on a point of order"):
        fl.ask(d[1])
    fl.ask(d[1], "point_of_order")  # the council lets points of order in late
    with pytest.raises(PermissionDenied):
        fl.ask(d[2], invited_name="Гість")
    with pytest.raises(PermissionDenied):
        fl.ask(d[2], deputy_id=d[3])
    before = fl.view()
    with pytest.raises(InvalidInput):
        fl.add()  # no speaker named
    with pytest.raises(DomainError):
        RequestFloor.parse({"type": "song"}, sitting_id=fl.hall.sitting)
    assert fl.view()["queue"] == before["queue"]


def test_the_chair_adds_anyone_orders_by_hand_and_readds_the_last(fl: Floor) -> None:
    d = fl.hall.deputies
    a = fl.ask(d[0])["request_id"]
    b = fl.ask(d[1])["request_id"]
    guest = fl.add(invited_name="Петренко Олена", invited_position="директорка школи № 5")
    assert fl.view()["queue"][2]["position"] == "директорка школи № 5"
    floor.order_speakers(
        fl.rt.uow(),
        CHAIR,
        OrderSpeakers.parse({"order": [guest["request_id"], b, a]}, sitting_id=fl.hall.sitting),
        fl.rules,
    )
    assert fl.queue_names() == [("Петренко Олена", "speech"), (d[1], "speech"), (d[0], "speech")]
    late = fl.ask(d[2])["request_id"]
    point = fl.ask(d[3], "point_of_order")["request_id"]
    order = [e["id"] for e in fl.view()["queue"]]
    assert order == [point, guest["request_id"], b, a, late]  # points of order still first
    with pytest.raises(InvalidInput, match="every waiting request"):
        floor.order_speakers(
            fl.rt.uow(),
            CHAIR,
            OrderSpeakers.parse({"order": [a]}, sitting_id=fl.hall.sitting),
            fl.rules,
        )
    readd = ReaddLastSpeaker.parse({}, sitting_id=fl.hall.sitting)
    with pytest.raises(NoSpeakerYet, match="no one has finished speaking"):
        floor.readd_last_speaker(fl.rt.uow(), CHAIR, readd)
    speech = fl.grant()
    with pytest.raises(NoSpeakerYet):  # the one speaking now is not "the last speaker"
        floor.readd_last_speaker(fl.rt.uow(), CHAIR, readd)
    fl.end(speech)
    assert fl.view()["last_speaker"] is not None
    floor.readd_last_speaker(fl.rt.uow(), CHAIR, readd)
    assert fl.queue_names()[0] == (d[3], "point_of_order")
    with pytest.raises(RequestNotWaiting, match="stays in the archive"):
        floor.withdraw_request(fl.rt.uow(), CHAIR, WithdrawRequest.parse({}, request_id=point))


def test_points_of_order_rapporteurs_and_time_order(fl: Floor) -> None:
    d = fl.hall.deputies
    fl.ask(d[0])
    fl.ask(d[1], "question")
    fl.add(invited_name="Доповідач", type="report")  # the item's rapporteur (tests/halls.py)
    fl.ask(d[2], "point_of_order")
    fl.add(deputy_id=d[3], type="closing_word")  # the chair gives the closing word
    assert [t for _, t in fl.queue_names()] == [
        "point_of_order",
        "report",
        "speech",
        "question",
        "closing_word",
    ]


def test_grant_runs_the_clock_from_the_servers_deadline(fl: Floor) -> None:
    d = fl.hall.deputies
    fl.ask(d[0])
    fl.ask(d[1])
    speech_id = fl.grant()
    shown = fl.view(staff=False)["speech"]
    assert shown["deputy_id"] == d[0] and shown["state"] == "running"
    assert shown["deadline"] == (fl.hall.clock.now.replace(microsecond=0)).isoformat().replace(
        "08:00:00", "08:03:00"
    )
    fl.hall.clock.advance(50)
    floor.pause_speech(fl.rt.uow(), CHAIR, SpeechAction.parse({}, speech_id=speech_id))
    fl.hall.clock.advance(600)  # paused: no time passes for the speaker
    paused = fl.view()["speech"]
    assert paused["deadline"] is None and paused["remaining_seconds"] == 130
    floor.resume_speech(fl.rt.uow(), CHAIR, SpeechAction.parse({}, speech_id=speech_id))
    floor.add_speaking_time(fl.rt.uow(), CHAIR, AddSpeakingTime.parse({}, speech_id=speech_id))
    assert fl.view()["speech"]["remaining_seconds"] == 190
    for bad in (0, -5, 10**9):
        with pytest.raises(InvalidInput, match="time added"):
            AddSpeakingTime.parse({"seconds": bad}, speech_id=speech_id)
    # granting the next ends the running speech first; both are journaled
    second = fl.grant()
    archive = floor.speeches(fl.rt.reader(), sitting_id=fl.hall.sitting)
    assert [s["state"] for s in archive] == ["ended", "running"]
    assert archive[0]["ended_by"] == "next" and archive[0]["duration_seconds"] == 50
    assert len(archive[0]["pauses"]) == 1
    kinds = fl.journal_kinds()
    assert kinds.count("speech_started") == 2 and kinds.count("speech_ended") == 1
    assert "speech_time_added" in kinds
    fl.end(second)
    with pytest.raises(SpeechNotLive):
        fl.end(second)
    with pytest.raises(NoOneWaiting):
        fl.grant()


def test_at_zero_the_microphone_goes_off_after_the_grace_time(fl: Floor) -> None:
    d = fl.hall.deputies
    fl.ask(d[0], "reply")  # one minute
    speech_id = fl.grant()
    assert fl.rt.microphones.which_on() == {f"deputy:{d[0]}"}
    fl.hall.clock.advance(59)
    assert fl.tick() == [] and fl.view()["speech"]["signal"] == "warning"
    fl.hall.clock.advance(1)
    assert fl.tick() == [speech_id]  # time up: journaled, the microphone stays on
    assert fl.view()["speech"]["signal"] == "time_up"
    assert fl.rt.microphones.which_on() == {f"deputy:{d[0]}"}
    assert fl.tick() == []  # once
    fl.hall.clock.advance(10)
    assert fl.tick() == [speech_id]
    assert fl.rt.microphones.which_on() == set()
    assert fl.view()["speech"] is None
    record = floor.speeches(fl.rt.reader(), item_id=fl.hall.items[0])[0]
    assert record["ended_by"] == "timer" and record["duration_seconds"] == 70
    switched = [
        e["payload"]
        for e in journal.read_journal(fl.rt.reader(), 0)
        if e["kind"] == "microphone_switched"
    ]
    assert [(p["on"], p["cause"]) for p in switched] == [(True, "grant"), (False, "timer")]


def test_warn_only_keeps_the_microphone_on(fl: Floor) -> None:
    fl.rules = replace(RULES, at_zero=AtZero.WARN)
    fl.ask(fl.hall.deputies[0], "reply")
    fl.grant()
    fl.hall.clock.advance(600)
    fl.tick()
    assert fl.view()["speech"]["signal"] == "time_up"
    assert fl.rt.microphones.which_on() == {f"deputy:{fl.hall.deputies[0]}"}


def test_microphones_by_mode_maximum_and_chair_priority(fl: Floor) -> None:
    d = fl.hall.deputies
    mics = fl.rt.microphones
    fl.rules = replace(RULES, microphone_mode=MicrophoneMode.REQUEST, max_open_microphones=2)
    for deputy_id in d[:3]:
        fl.ask(deputy_id)
    fl.grant()
    fl.grant()
    assert mics.which_on() == {f"deputy:{d[0]}", f"deputy:{d[1]}"}  # request mode keeps both
    fl.hall.clock.advance(1)
    fl.grant()  # at the maximum the longest open closes first
    assert mics.which_on() == {f"deputy:{d[1]}", f"deputy:{d[2]}"}
    assert fl.view()["chair_priority_held"] is False
    floor.chair_priority(fl.rt.uow(), CHAIR, ChairPriority.parse({"mode": "hold"}), fl.rules)
    assert mics.which_on() == {"chair"}
    assert fl.view()["chair_priority_held"] is True
    floor.chair_priority(fl.rt.uow(), CHAIR, ChairPriority.parse({"mode": "release"}), fl.rules)
    assert mics.which_on() == {"chair", f"deputy:{d[1]}", f"deputy:{d[2]}"}
    assert fl.view()["chair_priority_held"] is False
    floor.chair_priority(fl.rt.uow(), CHAIR, ChairPriority.parse({"mode": "mute_all"}), fl.rules)
    floor.chair_priority(fl.rt.uow(), CHAIR, ChairPriority.parse({"mode": "release"}), fl.rules)
    assert mics.which_on() == {"chair"}
    operator = replace(RULES, microphone_mode=MicrophoneMode.OPERATOR)
    floor.switch_microphone(
        fl.rt.uow(), SECRETARY, SwitchMicrophone.parse({"on": True}, microphone="tribune"), operator
    )
    assert mics.which_on() == {"chair", "tribune"}
    with pytest.raises(InvalidInput, match="microphone"):
        SwitchMicrophone.parse({"on": True}, microphone="seat 5")
    with pytest.raises(PermissionDenied):
        floor.switch_microphone(
            fl.rt.uow(),
            deputy_actor(d[0]),
            SwitchMicrophone.parse({"on": True}, microphone=f"deputy:{d[0]}"),
            operator,
        )
    causes = {
        e["payload"]["cause"]
        for e in journal.read_journal(fl.rt.reader(), 0)
        if e["kind"] == "microphone_switched"
    }
    assert causes == {"grant", "limit", "chair", "operator"}


def test_the_archive_with_broadcast_offsets_csv_and_totals(fl: Floor) -> None:
    d = fl.hall.deputies
    floor.mark_broadcast_start(
        fl.rt.uow(), SECRETARY, MarkBroadcastStart.parse({}, sitting_id=fl.hall.sitting)
    )
    fl.hall.clock.advance(120)
    fl.ask(d[0])
    fl.add(invited_name="=Гість", invited_position="експерт")
    first = fl.grant()
    fl.hall.clock.advance(95)
    second = fl.grant()
    fl.hall.clock.advance(30)
    fl.end(second)
    records = floor.speeches(fl.rt.reader(), sitting_id=fl.hall.sitting)
    assert [r["id"] for r in records] == [first, second]
    assert records[0]["broadcast_offset_seconds"] == 120
    assert records[1]["broadcast_offset_seconds"] == 215
    assert records[0]["faction"] and records[1]["faction"] is None
    rows = list(csv.reader(io.StringIO(floor.speeches_csv(records))))
    assert rows[0] == ["speaker", "faction", "type", "start", "duration_seconds", "item"]
    assert rows[1][2:5] == ["speech", records[0]["started_at"], "95"]
    assert rows[1][5] == "1. Про питання 1"
    assert rows[2][0] == "'=Гість"  # never a spreadsheet formula
    total = floor.speaking_time(fl.rt.reader(), d[0])
    assert (total["speeches"], total["seconds"]) == (1, 95)
    assert floor.speeches(fl.rt.reader(), deputy_id=d[0])[0]["id"] == first


def test_the_live_state_carries_the_floor(fl: Floor) -> None:
    d = fl.hall.deputies
    fl.ask(d[0])
    fl.ask(d[1])
    fl.grant()
    _, states = queries.live_states(fl.rt.reader(), with_head=True, floor_rules=fl.rules)
    public, staff = states["public"]["floor"], states["staff"]["floor"]
    assert public["speech"]["deputy_id"] == d[0]
    assert [e["deputy_id"] for e in public["queue"]] == [d[1]]
    assert (public["spoke"], public["waiting"]) == (0, 1)
    assert "microphones" not in public
    assert staff["microphones"][0]["microphone"] == f"deputy:{d[0]}"


def test_faction_time_goes_negative_and_the_overrun_is_given_to_every_faction(
    fl: Floor,
) -> None:
    fl.rules = replace(RULES, faction_seconds_per_item=300)
    d = fl.hall.deputies
    fl.ask(d[0])
    speech = fl.grant()
    fl.hall.clock.advance(360)  # a minute over the faction's five
    fl.end(speech)
    times = {f["faction"]: f for f in fl.view()["faction_time"]}
    spoken = fl.view()["faction_time"]
    faction = next(f for f in spoken if f["spoken_seconds"])
    assert (faction["spoken_seconds"], faction["remaining_seconds"]) == (360, -60)
    assert all(f["remaining_seconds"] == 300 for f in spoken if f is not faction)
    added = floor.extend_faction_budgets(
        fl.rt.uow(), CHAIR, ExtendFactionBudgets.parse({}, sitting_id=fl.hall.sitting), fl.rules
    )
    assert added == 60
    after = {f["faction"]: f["remaining_seconds"] for f in fl.view()["faction_time"]}
    assert after[faction["faction"]] == 0
    assert all(after[name] == 360 for name in times if name != faction["faction"])
    with pytest.raises(InvalidInput, match="no faction has overrun"):
        floor.extend_faction_budgets(
            fl.rt.uow(),
            CHAIR,
            ExtendFactionBudgets.parse({}, sitting_id=fl.hall.sitting),
            fl.rules,
        )
    assert "faction_time_extended" in fl.journal_kinds()
    assert fl.view(staff=False).get("faction_time") is None  # the control screen's


def test_requests_arriving_together_share_transactions_and_each_gets_its_place(
    fl: Floor,
) -> None:
    d = fl.hall.deputies[:30]
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda deputy_id: fl.ask(deputy_id, "question"), d))
        twice = list(pool.map(lambda _: _try(lambda: fl.ask(d[0], "question")), range(3)))
    assert sorted(a["place"] for a in answers) == list(range(1, 31))
    assert all(isinstance(t, DuplicateRequest) for t in twice)
    shown = fl.view()["queue"]
    assert [e["id"] for e in shown] == sorted(a["request_id"] for a in answers)
    assert {a["request_id"]: a["place"] for a in answers} == {e["id"]: e["place"] for e in shown}
    assert fl.journal_kinds().count("floor_requested") == 30


def _try(action: Any) -> object:
    try:
        return action()
    except DomainError as error:
        return error


def test_closing_the_sitting_ends_the_speech_and_its_microphone(fl: Floor) -> None:
    fl.ask(fl.hall.deputies[0])
    speech = fl.grant()
    fl.hall.clock.advance(42)
    sittings.close_sitting(fl.rt.uow(), SECRETARY, fl.hall.sitting)
    record = floor.speeches_one(fl.rt.reader(), speech)
    assert (record["state"], record["ended_by"], record["duration_seconds"]) == (
        "ended",
        "sitting_closed",
        42,
    )
    assert fl.rt.microphones.which_on() == set()
    with pytest.raises(DomainError, match="not open"):
        fl.ask(fl.hall.deputies[1])


def test_only_the_items_rapporteur_asks_for_a_report_and_an_invited_speaker_waits_once(
    fl: Floor,
) -> None:
    d = fl.hall.deputies
    with pytest.raises(PermissionDenied, match="rapporteur"):
        fl.ask(d[0], "report")  # not the rapporteur: no jumping the queue
    for kind in ("invited", "closing_word"):
        with pytest.raises(PermissionDenied):
            fl.ask(d[0], kind)
    sittings.update_item(
        fl.rt.uow(),
        SECRETARY,
        ChangeItem.parse({"rapporteur": "Депутатенко02 Іван Петрович"}, item_id=fl.hall.items[0]),
    )
    fl.ask(d[0], "question")
    fl.ask(d[1], "report")  # the rapporteur named by the item
    assert [e["deputy_id"] for e in fl.view()["queue"]] == [d[1], d[0]]
    fl.add(invited_name="Петренко Олена", type="invited")
    with pytest.raises(DuplicateRequest, match="already waiting"):
        fl.add(invited_name="  петренко   олена ", type="invited")
    fl.add(invited_name="Петренко Олена", type="answer")  # another kind of speech is another
