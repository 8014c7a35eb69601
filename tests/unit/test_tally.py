"""Counting a vote: the counts always add up to the total composition, and the threshold decides."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voting.domain.errors import InvalidInput
from voting.domain.rules import PRESET_RULES, AdoptionRule, Base, Comparator
from voting.domain.votes import Choice, Outcome, Result, tally_ballots, tally_counts

MAJORITY = PRESET_RULES["majority_of_total"]
TWO_THIRDS = PRESET_RULES["two_thirds_of_total"]
OF_VOTING = PRESET_RULES["majority_of_voting"]
OF_REGISTERED = PRESET_RULES["majority_of_registered"]

SEATS = 43  # 42 deputies and the mayor


@st.composite
def halls(draw: st.DrawFn) -> tuple[int, set[int], set[int], dict[int, Choice]]:
    """A total composition of 43 with some seats vacant, who registered and who chose what."""
    vacant = draw(st.sets(st.integers(1, SEATS), max_size=6))
    people = [pid for pid in range(1, SEATS + 1) if pid not in vacant]
    registered = draw(st.sets(st.sampled_from(people))) if people else set()
    # Usually only the registered vote; sometimes (no registration required) others too.
    pool = people if draw(st.booleans()) else sorted(registered)
    voters = draw(st.sets(st.sampled_from(pool))) if pool else set()
    choices = {pid: draw(st.sampled_from(list(Choice))) for pid in sorted(voters)}
    return len(people), registered, voters, choices


@given(halls(), st.sampled_from(list(PRESET_RULES.values())))
def test_ballot_counts_add_up_to_the_total_composition(
    hall: tuple[int, set[int], set[int], dict[int, Choice]], rule: AdoptionRule
) -> None:
    people, registered, voters, choices = hall
    tally, outcomes = tally_ballots(rule, SEATS, registered, choices)
    assert tally.voted_for + tally.against + tally.abstain + tally.not_voted + tally.absent == SEATS
    assert tally.registered == len(registered)
    assert tally.voted_for == sum(c is Choice.FOR for c in choices.values())
    assert tally.against == sum(c is Choice.AGAINST for c in choices.values())
    assert tally.abstain == sum(c is Choice.ABSTAIN for c in choices.values())
    # Registered but did not press: "Не голосував"; everyone else (and every vacant seat) absent.
    assert tally.not_voted == len(registered - voters)
    assert tally.absent == (SEATS - people) + (people - len(registered | voters))
    assert {pid for pid, o in outcomes.items() if o is Outcome.NOT_VOTED} == registered - voters
    assert {pid: outcomes[pid].value for pid in voters} == {p: c.value for p, c in choices.items()}
    assert set(outcomes) == registered | voters  # the absent are added by whoever lists people
    assert tally.threshold == rule.threshold(SEATS, len(registered), len(voters))
    assert (tally.result is Result.ADOPTED) == (tally.voted_for >= tally.threshold)


@pytest.mark.parametrize(
    ("rule", "total", "registered", "needed"),
    [
        (MAJORITY, 43, 30, 22),
        (MAJORITY, 42, 30, 22),
        (TWO_THIRDS, 43, 40, 29),
        (TWO_THIRDS, 42, 40, 28),
        (OF_REGISTERED, 43, 30, 16),
        (AdoptionRule(Base.REGISTERED, Comparator.MORE_THAN, 3, 5), 43, 30, 19),
    ],
)
def test_adopted_exactly_at_the_threshold_and_not_one_below(
    rule: AdoptionRule, total: int, registered: int, needed: int
) -> None:
    at = tally_counts(rule, total, registered, needed, 1, 1)
    assert (at.threshold, at.result) == (needed, Result.ADOPTED)
    assert at.to_dict()["result_uk"] == "Прийнято"
    below = tally_counts(rule, total, registered, needed - 1, 2, 1)
    assert (below.threshold, below.result) == (needed, Result.NOT_ADOPTED)
    assert below.to_dict()["result_uk"] == "Не прийнято"


def test_majority_of_voting_adopts_at_more_than_half_of_those_who_chose() -> None:
    assert tally_counts(OF_VOTING, 43, 30, 6, 3, 1).result is Result.ADOPTED  # 6 of 10
    assert tally_counts(OF_VOTING, 43, 30, 5, 4, 1).result is Result.NOT_ADOPTED  # 5 of 10


def test_majority_of_voting_with_nobody_voting_is_not_adopted() -> None:
    tally = tally_counts(OF_VOTING, 43, 30, 0, 0, 0)
    assert tally.result is Result.NOT_ADOPTED
    assert tally.threshold == 1
    assert (tally.not_voted, tally.absent) == (30, 13)


def test_unregistered_choosers_are_counted_but_not_as_registered() -> None:
    # 10 registered, 8 of them chose, 2 more chose without registering.
    tally = tally_counts(MAJORITY, 43, 10, 6, 3, 1, registered_voters=8)
    assert (tally.not_voted, tally.absent) == (2, 43 - 10 - 2)


def test_tally_to_dict_uses_the_published_names() -> None:
    assert tally_counts(MAJORITY, 43, 30, 22, 3, 2).to_dict() == {
        "total_composition": 43,
        "registered": 30,
        "for": 22,
        "against": 3,
        "abstain": 2,
        "not_voted": 3,
        "absent": 13,
        "threshold": 22,
        "result": "adopted",
        "result_uk": "Прийнято",
    }


@pytest.mark.parametrize(
    ("args", "kwargs", "words"),
    [
        ((43, 30, -1, 0, 0), {}, "for cannot be negative"),
        ((43, 30, 0, -2, 0), {}, "against cannot be negative"),
        ((43, 30, 0, 0, -3), {}, "abstain cannot be negative"),
        ((43, 44, 0, 0, 0), {}, "exceeds the total composition"),
        ((43, 30, 40, 4, 0), {}, "exceed the total composition"),
        ((10, 10, 5, 0, 0), {"registered_voters": 0}, "exceed the total composition"),
    ],
)
def test_impossible_counts_are_refused(
    args: tuple[int, ...], kwargs: dict[str, int], words: str
) -> None:
    with pytest.raises(InvalidInput, match=words):
        tally_counts(MAJORITY, *args, **kwargs)
