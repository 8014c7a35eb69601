"""Quorum and adoption thresholds: the worked table of the brief, custom rules, and properties."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voting.domain.errors import InvalidInput
from voting.domain.rules import (
    PRESET_RULES,
    AdoptionRule,
    Base,
    Comparator,
    QuorumRule,
    minimum_count,
    rule_from_spec,
    total_composition,
)

# requirements.md, "Worked thresholds (integer arithmetic only)".
WORKED = [
    # statutory, mayor takes part, N, simple majority, two thirds, quorum
    (42, True, 43, 22, 29, 22),
    (42, False, 42, 22, 28, 22),
    (54, True, 55, 28, 37, 28),
    (120, True, 121, 61, 81, 61),
    (120, False, 120, 61, 80, 61),
]


@pytest.mark.parametrize(
    ("statutory", "mayor", "total", "majority", "two_thirds", "quorum"), WORKED
)
def test_worked_thresholds(
    statutory: int, mayor: bool, total: int, majority: int, two_thirds: int, quorum: int
) -> None:
    assert total_composition(statutory, mayor) == total
    # Only the total composition matters for these rules: the other bases are deliberately odd.
    assert (
        PRESET_RULES["majority_of_total"].threshold(total=total, registered=3, voting=1) == majority
    )
    assert (
        PRESET_RULES["two_thirds_of_total"].threshold(total=total, registered=3, voting=1)
        == two_thirds
    )
    assert QuorumRule().required(total) == quorum


def test_total_composition_needs_at_least_one_deputy() -> None:
    with pytest.raises(InvalidInput, match="at least 1"):
        total_composition(0, True)


def test_quorum_counts_the_mayor_only_when_the_council_says_so() -> None:
    deputies_only, with_head = QuorumRule(), QuorumRule(counts_head=True)
    # 21 deputies and the registered mayor: total 43, 22 needed.
    assert not deputies_only.is_met(43, 21, head_registered=True)
    assert with_head.is_met(43, 21, head_registered=True)
    assert deputies_only.is_met(43, 22, head_registered=True)
    assert not with_head.is_met(42, 21, head_registered=False)
    assert with_head.present(21, head_registered=False) == 21


def test_preset_rules_take_their_own_base() -> None:
    registered = PRESET_RULES["majority_of_registered"]
    voting = PRESET_RULES["majority_of_voting"]
    assert registered.threshold(total=43, registered=30, voting=7) == 16
    assert voting.threshold(total=43, registered=30, voting=7) == 4
    assert voting.threshold(total=43, registered=30, voting=0) == 1  # never zero


def test_preset_rules_read_as_in_a_protocol() -> None:
    assert (
        PRESET_RULES["majority_of_total"].describe_uk()
        == "більше половини від загального складу ради"
    )
    assert (
        PRESET_RULES["two_thirds_of_total"].describe_uk()
        == "не менше 2/3 від загального складу ради"
    )
    assert PRESET_RULES["majority_of_voting"].to_dict()["description"] == (
        "більше половини від тих, хто голосував"
    )


@pytest.mark.parametrize(
    ("spec", "counts", "threshold", "described"),
    [
        (
            {"base": "total", "comparator": "at_least", "numerator": 1, "denominator": 3},
            (43, 30, 20),
            15,
            "не менше 1/3 від загального складу ради",
        ),
        (
            {"base": "total", "comparator": "at_least", "numerator": 1, "denominator": 3},
            (42, 30, 20),
            14,
            "не менше 1/3 від загального складу ради",
        ),
        (
            {"base": "registered", "comparator": "more_than", "numerator": 3, "denominator": 5},
            (43, 30, 20),
            19,
            "більше 3/5 від зареєстрованих",
        ),  # 3/5 of 30 is exactly 18
        (
            {"base": "registered", "comparator": "more_than", "numerator": 3, "denominator": 5},
            (43, 31, 20),
            19,
            "більше 3/5 від зареєстрованих",
        ),  # 18.6
        (
            {"base": "registered", "comparator": "at_least", "numerator": 3, "denominator": 5},
            (43, 30, 20),
            18,
            "не менше 3/5 від зареєстрованих",
        ),
        (
            {"base": "voting", "comparator": "at_least", "numerator": 3, "denominator": 4},
            (43, 30, 10),
            8,
            "не менше 3/4 від тих, хто голосував",
        ),
        (
            {"base": "total", "comparator": "at_least", "numerator": 1, "denominator": 1},
            (43, 30, 10),
            43,
            "не менше 1/1 від загального складу ради",
        ),  # unanimity
    ],
)
def test_custom_rules(
    spec: dict[str, object], counts: tuple[int, int, int], threshold: int, described: str
) -> None:
    rule = rule_from_spec(spec)
    total, registered, voting = counts
    assert rule.threshold(total=total, registered=registered, voting=voting) == threshold
    assert rule.describe_uk() == described
    assert rule.name == "custom"
    assert rule.to_dict()["name"] == "custom"


def test_a_preset_given_by_name_or_by_its_fields_is_the_same_rule() -> None:
    assert rule_from_spec("two_thirds_of_total") == PRESET_RULES["two_thirds_of_total"]
    spelled_out = rule_from_spec(
        {
            "base": "total",
            "comparator": "more_than",
            "numerator": 1,
            "denominator": 2,
            "name": "anything",
        }
    )
    assert spelled_out.name == "majority_of_total"


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        ("majority", "rule", "unknown rule 'majority'"),
        (["majority_of_total"], "rule", "preset name or an object"),
        (None, "rule", "preset name or an object"),
        (
            {
                "base": "total",
                "comparator": "at_least",
                "numerator": 1,
                "denominator": 3,
                "quota": 1,
            },
            "rule",
            "quota",
        ),
        (
            {"base": "present", "comparator": "at_least", "numerator": 1, "denominator": 3},
            "rule.base",
            "total, registered or voting",
        ),
        (
            {"comparator": "at_least", "numerator": 1, "denominator": 3},
            "rule.base",
            "total, registered or voting",
        ),
        (
            {"base": "total", "comparator": "greater", "numerator": 1, "denominator": 3},
            "rule.comparator",
            "more_than or at_least",
        ),
        (
            {"base": "total", "comparator": "at_least", "numerator": "1", "denominator": 3},
            "rule.numerator",
            "whole number",
        ),
        (
            {"base": "total", "comparator": "at_least", "numerator": 0.5, "denominator": 3},
            "rule.numerator",
            "whole number",
        ),
        (
            {"base": "total", "comparator": "at_least", "numerator": 1, "denominator": True},
            "rule.denominator",
            "whole number",
        ),
        (
            {"base": "total", "comparator": "at_least", "numerator": 1},
            "rule.denominator",
            "whole number",
        ),
    ],
)
def test_bad_rule_specs_name_the_field(spec: object, field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        rule_from_spec(spec)
    assert caught.value.details["field"] == field
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("numerator", "denominator", "comparator", "words"),
    [
        (3, 2, "at_least", "between 0 and 1"),
        (0, 3, "at_least", "between 0 and 1"),
        (1, 0, "at_least", "between 0 and 1"),
        (-1, 2, "more_than", "between 0 and 1"),
        (2, 2, "more_than", "never be reached"),
    ],
)
def test_impossible_fractions_are_refused(
    numerator: int, denominator: int, comparator: str, words: str
) -> None:
    with pytest.raises(InvalidInput, match=words):
        rule_from_spec(
            {
                "base": "total",
                "comparator": comparator,
                "numerator": numerator,
                "denominator": denominator,
            }
        )


def test_impossible_fraction_errors_name_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        rule_from_spec(
            {"base": "total", "comparator": "at_least", "numerator": 3, "denominator": 2}
        )
    assert caught.value.details.get("field") in {"rule.numerator", "rule.denominator"}


# --- properties -----------------------------------------------------------------------------

fractions = st.integers(min_value=1, max_value=30).flatmap(
    lambda q: st.tuples(st.integers(min_value=1, max_value=q), st.just(q))
)
bases = st.integers(min_value=0, max_value=2000)


@st.composite
def rules(draw: st.DrawFn) -> AdoptionRule:
    p, q = draw(fractions)
    comparator = Comparator.AT_LEAST if p == q else draw(st.sampled_from(list(Comparator)))
    return AdoptionRule(draw(st.sampled_from(list(Base))), comparator, p, q)


@given(rules(), bases)
def test_thresholds_never_fall_as_the_base_grows(rule: AdoptionRule, base: int) -> None:
    def at(n: int) -> int:
        return rule.threshold(total=n, registered=n, voting=n)

    assert at(base) <= at(base + 1)
    assert minimum_count(rule.comparator, rule.numerator, rule.denominator, base) <= (
        minimum_count(rule.comparator, rule.numerator, rule.denominator, base + 1)
    )


@given(fractions.filter(lambda f: f[0] < f[1]), bases)
def test_at_least_never_needs_more_than_more_than(fraction: tuple[int, int], base: int) -> None:
    p, q = fraction
    at_least = AdoptionRule(Base.TOTAL, Comparator.AT_LEAST, p, q)
    more_than = AdoptionRule(Base.TOTAL, Comparator.MORE_THAN, p, q)
    assert at_least.threshold(base, 0, 0) <= more_than.threshold(base, 0, 0)


@given(fractions, bases, st.sampled_from(list(Comparator)))
def test_minimum_count_is_the_smallest_satisfying_count(
    fraction: tuple[int, int], base: int, comparator: Comparator
) -> None:
    p, q = fraction
    share = Fraction(p, q) * base

    def satisfies(c: int) -> bool:
        return c > share if comparator is Comparator.MORE_THAN else c >= share

    c = minimum_count(comparator, p, q, base)
    assert satisfies(c)
    assert c == 0 or not satisfies(c - 1)


@given(rules(), bases, bases, bases)
def test_a_threshold_is_never_below_one(
    rule: AdoptionRule, total: int, registered: int, voting: int
) -> None:
    threshold = rule.threshold(total=total, registered=registered, voting=voting)
    assert threshold >= 1
    base = rule.base_count(total, registered, voting)
    assert threshold == max(
        1, minimum_count(rule.comparator, rule.numerator, rule.denominator, base)
    )


@given(st.integers(min_value=1, max_value=2000))
def test_quorum_is_the_smallest_count_above_half(total: int) -> None:
    required = QuorumRule().required(total)
    assert 2 * required > total >= 2 * (required - 1)


def test_a_negative_base_is_refused() -> None:
    with pytest.raises(InvalidInput, match="negative"):
        minimum_count(Comparator.AT_LEAST, 1, 2, -1)
