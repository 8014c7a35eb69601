"""The floor's pure rules: the order of the speaker list (hypothesis over random request streams),
the speaking clock against a hand-moved clock (no sleeps), and the microphones' maximum."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting.domain.errors import InvalidInput
from voting.domain.floor import (
    CHAIR_MICROPHONE,
    POINTS_OF_ORDER,
    AtZero,
    FloorRules,
    SpeechClock,
    SpeechType,
    TimeSignal,
    Waiting,
    checked_microphone,
    estimated_waits,
    microphones_to_close,
    speaker_order,
    tier,
    time_signal,
)

FACTIONS = [None, "А", "Б", "В"]
T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


@st.composite
def request_streams(draw: st.DrawFn) -> list[Waiting]:
    """Requests in the order they came: random types, factions, rapporteurs, earlier speakers."""
    size = draw(st.integers(0, 25))
    return [
        Waiting(
            id=n,
            type=draw(st.sampled_from(list(SpeechType))),
            requested=n,
            faction=draw(st.sampled_from(FACTIONS)),
            rapporteur=draw(st.booleans()),
            has_spoken=draw(st.booleans()),
        )
        for n in range(1, size + 1)
    ]


rules_strategy = st.builds(
    lambda first, alternate: FloorRules(first_timers_first=first, alternate_factions=alternate),
    st.booleans(),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(request_streams(), rules_strategy, st.sampled_from(FACTIONS))
def test_the_order_keeps_the_councils_rules(
    stream: list[Waiting], rules: FloorRules, last: str | None
) -> None:
    order = speaker_order(stream, rules, last)
    # everyone waiting is in the list, once
    assert sorted(e.id for e in order) == [e.id for e in stream]
    is_point = [rules.rule(e.type).priority == POINTS_OF_ORDER for e in order]
    # points of order first, in request order
    points = [e for e, p in zip(order, is_point, strict=True) if p]
    assert order[: len(points)] == points
    assert [e.requested for e in points] == sorted(e.requested for e in points)
    rest = order[len(points) :]
    tiers = [tier(e, rules) for e in rest]
    # then rapporteurs before the debate before the closing word; with first_timers_first,
    # within a class those who have not spoken come first
    assert tiers == sorted(tiers)
    for position, entry in enumerate(rest):
        same = [e for e in rest[position:] if tier(e, rules) == tier(entry, rules)]
        if not rules.alternate_factions:
            # by request time within a tier
            assert entry.requested == min(e.requested for e in same)
        else:
            # the earliest of its faction still waiting in its tier
            assert entry.requested == min(e.requested for e in same if e.faction == entry.faction)
            previous = (
                rest[position - 1].faction if position else (points[-1].faction if points else last)
            )
            if previous is not None and entry.faction == previous:
                # no faction twice in a row while another one waits in the tier
                assert all(e.faction == previous for e in same)


@given(request_streams(), rules_strategy)
def test_the_chairs_order_stands_and_later_requests_follow_it(
    stream: list[Waiting], rules: FloorRules
) -> None:
    by_hand = [replace(e, hand_position=len(stream) - n) for n, e in enumerate(stream[:5])]
    later = stream[5:]
    order = speaker_order([*by_hand, *later], rules)
    late_points = [e for e in later if rules.rule(e.type).priority == POINTS_OF_ORDER]
    assert order[: len(late_points)] == late_points
    assert order[len(late_points) : len(late_points) + len(by_hand)] == sorted(
        by_hand, key=lambda e: e.hand_position or 0
    )


def test_a_rapporteurs_question_still_comes_with_the_rapporteurs() -> None:
    rules = FloorRules()
    stream = [
        Waiting(1, SpeechType.SPEECH, 1),
        Waiting(2, SpeechType.ANSWER, 2, rapporteur=True),
        Waiting(3, SpeechType.CLOSING_WORD, 3, rapporteur=True),
    ]
    assert [e.id for e in speaker_order(stream, rules)] == [2, 1, 3]


def test_alternation_example() -> None:
    rules = FloorRules(alternate_factions=True)
    stream = [Waiting(n, SpeechType.SPEECH, n, faction=f) for n, f in enumerate("ААББА", 1)]
    assert [e.faction for e in speaker_order(stream, rules, last_faction="А")] == list("БАБАА")


def test_estimated_waits_count_the_current_speech_and_everyone_before() -> None:
    rules = FloorRules()
    order = [Waiting(1, SpeechType.REPORT, 1), Waiting(2, SpeechType.REPLY, 2)]
    assert estimated_waits(order, rules, current_left=42.4) == [42, 942]


def test_the_clock_runs_pauses_resumes_and_takes_more_time() -> None:
    clock = SpeechClock.start(180, T0)
    assert clock.deadline == T0 + timedelta(seconds=180)
    later = T0 + timedelta(seconds=100)
    paused = clock.pause(later)
    assert paused.deadline is None and paused.remaining(later + timedelta(hours=1)) == 80
    resumed = paused.resume(later + timedelta(seconds=30))
    assert resumed.deadline == T0 + timedelta(seconds=210)
    more = resumed.add(60)
    assert more.deadline == T0 + timedelta(seconds=270)
    ended = more.end(T0 + timedelta(seconds=250))
    assert ended.used == 220 and ended.deadline is None
    for wrong in (lambda: ended.end(T0), lambda: ended.add(60), lambda: clock.resume(T0)):
        with pytest.raises(InvalidInput):
            wrong()
    for seconds in (0, -1, 3601):
        with pytest.raises(InvalidInput, match="time added"):
            clock.add(seconds)


def test_signals_warning_time_up_and_cut_off() -> None:
    rules = FloorRules(warning_seconds=30, grace_seconds=10)
    clock = SpeechClock.start(60, T0)

    def at(seconds: float) -> TimeSignal:
        return time_signal(clock, T0 + timedelta(seconds=seconds), rules)

    assert [at(29), at(30.5), at(60), at(69.9), at(70)] == [
        TimeSignal.ON_TIME,
        TimeSignal.WARNING,
        TimeSignal.TIME_UP,
        TimeSignal.TIME_UP,
        TimeSignal.CUT_OFF,
    ]
    warn_only = replace(rules, at_zero=AtZero.WARN)
    assert time_signal(clock, T0 + timedelta(hours=1), warn_only) is TimeSignal.TIME_UP


def test_the_longest_open_microphone_makes_room_and_the_chairs_is_never_counted() -> None:
    open_since = {
        CHAIR_MICROPHONE: T0,
        "deputy:1": T0 + timedelta(seconds=1),
        "deputy:2": T0 + timedelta(seconds=2),
    }
    assert microphones_to_close(open_since, "deputy:3", 2) == ["deputy:1"]
    assert microphones_to_close(open_since, "deputy:3", 1) == ["deputy:1", "deputy:2"]
    assert microphones_to_close(open_since, "deputy:2", 2) == []
    assert microphones_to_close(open_since, CHAIR_MICROPHONE, 1) == []


def test_a_microphone_has_one_name() -> None:
    assert checked_microphone("deputy:07") == "deputy:7"
    assert checked_microphone("chair") == "chair"
    for wrong in ("deputy:0", "deputy:99999999999", "deputy:-1", "seat 5", "Chair", "deputy:٣"):
        with pytest.raises(InvalidInput):
            checked_microphone(wrong)
