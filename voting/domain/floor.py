"""The floor: speech types, the order of the speaker list, the speaking clock and the microphones.

Pure rules (standard library only). The use cases (voting/services/floor.py) load the list,
ask these functions what follows, and record it.

- A speech type (доповідь, виступ в обговоренні, репліка, ...) has a time, a priority class,
  whether it may interrupt the current speech, and how often one deputy may use it on one item.
- `speaker_order` puts the waiting requests in the council's order: points of order first (in
  request order), the item's rapporteurs next, then everyone else by request time; optionally
  those who have not yet spoken on the item before those who have, and factions alternating.
  Once the chair has ordered the list by hand, that order stands; later requests join after it
  by the same rules, points of order still at the top.
- `SpeechClock` is the speaking time as the server keeps it: a deadline while the speech runs,
  the seconds left while it is paused. Every screen counts down to the same deadline.
- `microphones_to_close` says which open microphones make room for one more under the maximum.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import InvalidInput


class SpeechType(StrEnum):
    """The kinds of speech a council's Regulations know (names from docs/glossary.md)."""

    REPORT = "report"  # доповідь
    CO_REPORT = "co_report"  # співдоповідь
    CLOSING_WORD = "closing_word"  # заключне слово
    SPEECH = "speech"  # виступ в обговоренні
    QUESTION = "question"  # запитання доповідачу
    ANSWER = "answer"  # відповідь доповідача
    REPLY = "reply"  # репліка
    POINT_OF_ORDER = "point_of_order"  # з процедурного питання
    EXPLANATION_OF_VOTE = "explanation_of_vote"  # з мотивів голосування
    FACTION_STATEMENT = "faction_statement"  # виступ від фракції
    INVITED = "invited"  # запрошений


#: Priority classes: the lower is heard first.
POINTS_OF_ORDER, RAPPORTEURS, DEBATE, CLOSING = 0, 1, 2, 3


@dataclass(frozen=True)
class SpeechTypeRule:
    """How long a speech of this type may last, where it stands in the list, whether it may
    interrupt the current speech (the chair decides when), and how many times one deputy may use
    it on one agenda item (0: no limit)."""

    seconds: int
    priority: int = DEBATE
    interrupts: bool = False
    per_item_limit: int = 0


#: The defaults of issue 12 (minutes: report 15, co-report 10, closing word 5, debate 3,
#: question 1, answer 2, reply 1, point of order 2, explanation of vote 2, faction statement 3,
#: invited 3; debate speeches and replies once per deputy and item).
DEFAULT_SPEECH_TYPES: Mapping[SpeechType, SpeechTypeRule] = {
    SpeechType.REPORT: SpeechTypeRule(15 * 60, RAPPORTEURS),
    SpeechType.CO_REPORT: SpeechTypeRule(10 * 60, RAPPORTEURS),
    SpeechType.CLOSING_WORD: SpeechTypeRule(5 * 60, CLOSING),
    SpeechType.SPEECH: SpeechTypeRule(3 * 60, DEBATE, per_item_limit=1),
    SpeechType.QUESTION: SpeechTypeRule(60, DEBATE),
    SpeechType.ANSWER: SpeechTypeRule(2 * 60, DEBATE),
    SpeechType.REPLY: SpeechTypeRule(60, DEBATE, per_item_limit=1),
    SpeechType.POINT_OF_ORDER: SpeechTypeRule(2 * 60, POINTS_OF_ORDER, interrupts=True),
    SpeechType.EXPLANATION_OF_VOTE: SpeechTypeRule(2 * 60, DEBATE),
    SpeechType.FACTION_STATEMENT: SpeechTypeRule(3 * 60, DEBATE),
    SpeechType.INVITED: SpeechTypeRule(3 * 60, DEBATE),
}


class AtZero(StrEnum):
    """What happens when a speaker's time runs out."""

    WARN = "warn"  # the screens show it; the microphone stays on
    MUTE = "mute"  # after the grace time the microphone goes off and the speech ends


class MicrophoneMode(StrEnum):
    """Who switches the microphones (per council)."""

    OPERATOR = "operator"  # the secretary, by hand
    AUTOMATIC = "automatic"  # granting the floor opens the speaker's and closes the previous one
    REQUEST = "request"  # N opens the next one's; at the maximum the longest open closes first


#: The most microphones a council may allow open at once (besides the chair's).
MAX_OPEN_MICROPHONES = 25


@dataclass(frozen=True)
class FloorRules:
    """A council's floor settings (config.toml, section [floor] and [speech_types.*])."""

    types: Mapping[SpeechType, SpeechTypeRule] = field(
        default_factory=lambda: dict(DEFAULT_SPEECH_TYPES)
    )
    registration_required: bool = True
    late_points_of_order: bool = True
    first_timers_first: bool = False
    alternate_factions: bool = False
    warning_seconds: int = 30
    at_zero: AtZero = AtZero.MUTE
    grace_seconds: int = 10
    microphone_mode: MicrophoneMode = MicrophoneMode.AUTOMATIC
    max_open_microphones: int = 1
    faction_seconds_per_item: int = 0

    def rule(self, kind: SpeechType) -> SpeechTypeRule:
        return self.types.get(kind, DEFAULT_SPEECH_TYPES[kind])


# --- the speaker list --------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """A request waiting for the floor, as the ordering sees it.

    `requested` orders requests by when they came (the request's id does); `faction` is None
    for someone in no faction (an invited speaker); `rapporteur` is set for the item's
    rapporteur; `has_spoken` for a deputy who has already spoken on the item; `hand_position` is
    the place the chair gave it when ordering the list by hand.
    """

    id: int
    type: SpeechType
    requested: int
    faction: str | None = None
    rapporteur: bool = False
    has_spoken: bool = False
    hand_position: int | None = None


def tier(entry: Waiting, rules: FloorRules) -> tuple[int, bool]:
    """Where an automatically ordered request stands: its class (a rapporteur's request of the
    debate's class is in the rapporteurs' class; the closing word stays last), then, with
    first_timers_first, whether its speaker has spoken."""
    priority = rules.rule(entry.type).priority
    if entry.rapporteur and priority == DEBATE:
        priority = RAPPORTEURS
    return priority, rules.first_timers_first and entry.has_spoken


def speaker_order(
    waiting: Iterable[Waiting], rules: FloorRules, last_faction: str | None = None
) -> list[Waiting]:
    """The waiting requests in the order they will be heard (see the module's docstring).

    `last_faction` is the faction of the speaker who spoke last, for the alternation.
    """
    entries = list(waiting)
    by_hand = sorted(
        (e for e in entries if e.hand_position is not None),
        key=lambda e: (e.hand_position, e.requested),
    )
    automatic = [e for e in entries if e.hand_position is None]
    points = sorted(
        (e for e in automatic if rules.rule(e.type).priority == POINTS_OF_ORDER),
        key=lambda e: e.requested,
    )
    rest = sorted(
        (e for e in automatic if rules.rule(e.type).priority != POINTS_OF_ORDER),
        key=lambda e: (tier(e, rules), e.requested),
    )
    previous = by_hand[-1].faction if by_hand else (points[-1].faction if points else last_faction)
    if rules.alternate_factions:
        rest = _alternated(rest, rules, previous)
    return [*points, *by_hand, *rest]


def _alternated(ordered: list[Waiting], rules: FloorRules, previous: str | None) -> list[Waiting]:
    """Within each tier, take the earliest request whose faction differs from the last speaker's
    when there is one (no faction twice in a row while another waits)."""
    out: list[Waiting] = []
    left = list(ordered)
    while left:
        current = tier(left[0], rules)
        same_tier = [e for e in left if tier(e, rules) == current]
        pick = next(
            (e for e in same_tier if previous is None or e.faction != previous), same_tier[0]
        )
        out.append(pick)
        left.remove(pick)
        previous = pick.faction
    return out


def estimated_waits(
    order: Sequence[Waiting], rules: FloorRules, current_left: float = 0.0
) -> list[int]:
    """For each request in `order`, the seconds until its turn: what is left of the current
    speech and the full time of every request before it."""
    waits, ahead = [], max(0.0, current_left)
    for entry in order:
        waits.append(int(round(ahead)))
        ahead += rules.rule(entry.type).seconds
    return waits


# --- the speaking clock ------------------------------------------------------------------------


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


#: The longest a chair may add in one go, and the longest a speech may be given in all.
MAX_ADDED_SECONDS = 60 * 60
MAX_SPEECH_SECONDS = 4 * 60 * 60


@dataclass(frozen=True)
class SpeechClock:
    """A speech's time as the server keeps it.

    `allotted` is the whole time given (the type's, plus what the chair added); `used` the
    seconds spoken before `running_since` (set while the speech runs, None while it is paused or
    ended). Screens are given the deadline, never a count: every one shows the same second.
    """

    allotted: float
    used: float = 0.0
    running_since: datetime | None = None
    state: ClockState = ClockState.RUNNING

    @classmethod
    def start(cls, seconds: int, now: datetime) -> SpeechClock:
        return cls(allotted=float(seconds), used=0.0, running_since=now)

    def spoken(self, now: datetime) -> float:
        """Seconds spoken so far (pauses left out)."""
        if self.running_since is None:
            return self.used
        return self.used + max(0.0, (now - self.running_since).total_seconds())

    def remaining(self, now: datetime) -> float:
        """Seconds left; negative once the time has run out."""
        return self.allotted - self.spoken(now)

    @property
    def deadline(self) -> datetime | None:
        """When the time runs out, while the speech runs."""
        if self.running_since is None:
            return None
        return self.running_since + timedelta(seconds=self.allotted - self.used)

    def pause(self, now: datetime) -> SpeechClock:
        if self.state is not ClockState.RUNNING:
            raise InvalidInput(f"the speech is {self.state.value}, not running: it cannot pause")
        return replace(self, used=self.spoken(now), running_since=None, state=ClockState.PAUSED)

    def resume(self, now: datetime) -> SpeechClock:
        if self.state is not ClockState.PAUSED:
            raise InvalidInput(f"the speech is {self.state.value}, not paused: it cannot resume")
        return replace(self, running_since=now, state=ClockState.RUNNING)

    def add(self, seconds: int) -> SpeechClock:
        """More time (the chair's discretion); refused when the speech has ended."""
        if self.state is ClockState.ENDED:
            raise InvalidInput("the speech has ended: no time can be added to it")
        checked_added_seconds(seconds)
        if self.allotted + seconds > MAX_SPEECH_SECONDS:
            raise InvalidInput(
                f"a speech may be given at most {MAX_SPEECH_SECONDS // 60} minutes in all"
            )
        return replace(self, allotted=self.allotted + seconds)

    def end(self, now: datetime) -> SpeechClock:
        if self.state is ClockState.ENDED:
            raise InvalidInput("the speech has already ended")
        return replace(self, used=self.spoken(now), running_since=None, state=ClockState.ENDED)


def checked_added_seconds(seconds: int) -> int:
    """Time added to a speech: 1 second to an hour (a negative, zero or absurd time is refused)."""
    if not 1 <= seconds <= MAX_ADDED_SECONDS:
        raise InvalidInput(
            f"time added must be 1 to {MAX_ADDED_SECONDS} seconds, got {seconds}", field="seconds"
        )
    return seconds


class TimeSignal(StrEnum):
    """What the clock says about a running speech now."""

    ON_TIME = "on_time"
    WARNING = "warning"  # within warning_seconds of the end
    TIME_UP = "time_up"  # at or past zero
    CUT_OFF = "cut_off"  # past zero and the grace time: the microphone goes off (AtZero.MUTE)


def time_signal(clock: SpeechClock, now: datetime, rules: FloorRules) -> TimeSignal:
    left = clock.remaining(now)
    if left > rules.warning_seconds:
        return TimeSignal.ON_TIME
    if left > 0:
        return TimeSignal.WARNING
    if rules.at_zero is AtZero.MUTE and left <= -rules.grace_seconds:
        return TimeSignal.CUT_OFF
    return TimeSignal.TIME_UP


# --- microphones -------------------------------------------------------------------------------

#: The chair's microphone: never counted against the maximum, never closed to make room.
CHAIR_MICROPHONE = "chair"
#: The speaker's stand, for invited speakers.
TRIBUNE_MICROPHONE = "tribune"


def deputy_microphone(deputy_id: int) -> str:
    """The microphone at a deputy's seat."""
    return f"deputy:{deputy_id}"


def checked_microphone(name: str) -> str:
    """A microphone's name: "chair", "tribune" or "deputy:<id>" (written "deputy:7", never
    "deputy:07": one microphone has one name)."""
    if name in (CHAIR_MICROPHONE, TRIBUNE_MICROPHONE):
        return name
    prefix, _, number = name.partition(":")
    if prefix == "deputy" and number.isascii() and number.isdigit() and len(number) <= 10:
        if 1 <= int(number) <= 2**31 - 1:
            return deputy_microphone(int(number))
    raise InvalidInput(
        f'a microphone is "chair", "tribune" or "deputy:<id>", got {name[:40]!r}',
        field="microphone",
    )


def microphones_to_close(
    open_since: Mapping[str, datetime], opening: str, maximum: int
) -> list[str]:
    """Which open microphones close so that `opening` may open within `maximum` (the chair's
    not counted): the longest open first."""
    if opening == CHAIR_MICROPHONE:
        return []
    counted = sorted(
        (
            (since, name)
            for name, since in open_since.items()
            if name not in (CHAIR_MICROPHONE, opening)
        ),
    )
    excess = len(counted) + 1 - maximum
    return [name for _, name in counted[: max(0, excess)]]
