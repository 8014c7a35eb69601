"""Quorum and adoption thresholds: integer arithmetic over the Law No. 280/97-ВР rules.

Art. 46: a plenary sitting is competent when more than half of the total composition take part.
Art. 59 part 2: a decision needs a majority of the total composition unless the law says otherwise;
the head of the council (the mayor) counts in the total composition when taking part, and votes.
Vacant seats do not reduce the total composition: it is the statutory number of deputies.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from .errors import InvalidInput

E = TypeVar("E", bound=StrEnum)

#: The largest numerator or denominator of a custom rule's fraction.
MAX_FRACTION_TERM = 1000


class Base(StrEnum):
    """What a threshold fraction is taken of."""

    TOTAL = "total"  # загальний склад ради
    REGISTERED = "registered"  # зареєстровані на момент закриття голосування
    VOTING = "voting"  # ті, хто проголосував (За + Проти + Утримався)


class Comparator(StrEnum):
    MORE_THAN = "more_than"  # "більше ніж" p/q
    AT_LEAST = "at_least"  # "не менше" p/q


def total_composition(statutory_deputies: int, head_takes_part: bool) -> int:
    """The total composition: statutory deputies plus the head when taking part (art. 59)."""
    if statutory_deputies < 1:
        raise InvalidInput("the statutory number of deputies must be at least 1")
    return statutory_deputies + (1 if head_takes_part else 0)


def minimum_count(comparator: Comparator, numerator: int, denominator: int, base: int) -> int:
    """The smallest whole count that satisfies "more than / at least numerator/denominator of
    base"."""
    if base < 0:
        raise InvalidInput("the base of a threshold cannot be negative")
    product = numerator * base
    if comparator is Comparator.MORE_THAN:
        return product // denominator + 1
    return -(-product // denominator)  # ceiling without floats


@dataclass(frozen=True)
class AdoptionRule:
    """A rule such as "більше половини від загального складу" or "не менше 2/3 від присутніх"."""

    base: Base
    comparator: Comparator
    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if not isinstance(self.numerator, int) or not isinstance(self.denominator, int):
            raise InvalidInput("a rule's fraction must be whole numbers")
        if self.denominator < 1 or self.numerator < 1 or self.numerator > self.denominator:
            raise InvalidInput(
                "a rule's fraction must be between 0 and 1, "
                f"got {self.numerator}/{self.denominator}"
            )
        if self.comparator is Comparator.MORE_THAN and self.numerator == self.denominator:
            raise InvalidInput('"more than" the whole can never be reached')

    @property
    def name(self) -> str:
        """The preset name of this rule, or "custom"."""
        for key, rule in PRESET_RULES.items():
            if rule == self:
                return key
        return "custom"

    def base_count(self, total: int, registered: int, voting: int) -> int:
        """The number the fraction is taken of, for this rule's base."""
        return {Base.TOTAL: total, Base.REGISTERED: registered, Base.VOTING: voting}[self.base]

    def threshold(self, total: int, registered: int, voting: int) -> int:
        """Votes "for" needed to adopt; never less than one."""
        base = self.base_count(total, registered, voting)
        return max(1, minimum_count(self.comparator, self.numerator, self.denominator, base))

    def describe_uk(self) -> str:
        """The rule in the words of a Ukrainian protocol."""
        words = {Comparator.MORE_THAN: "більше", Comparator.AT_LEAST: "не менше"}[self.comparator]
        fraction = (
            "половини"
            if (self.numerator, self.denominator) == (1, 2)
            else (f"{self.numerator}/{self.denominator}")
        )
        of = {
            Base.TOTAL: "від загального складу ради",
            Base.REGISTERED: "від зареєстрованих",
            Base.VOTING: "від тих, хто голосував",
        }[self.base]
        return f"{words} {fraction} {of}"

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "base": self.base.value,
            "comparator": self.comparator.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "description": self.describe_uk(),
        }


PRESET_RULES: dict[str, AdoptionRule] = {
    "majority_of_total": AdoptionRule(Base.TOTAL, Comparator.MORE_THAN, 1, 2),
    "two_thirds_of_total": AdoptionRule(Base.TOTAL, Comparator.AT_LEAST, 2, 3),
    "majority_of_registered": AdoptionRule(Base.REGISTERED, Comparator.MORE_THAN, 1, 2),
    "majority_of_voting": AdoptionRule(Base.VOTING, Comparator.MORE_THAN, 1, 2),
}


def _member(enum: type[E], value: object) -> E | None:
    """The member of `enum` whose value is `value`, or None."""
    for member in enum:
        if member.value == value:
            return member
    return None


def _fraction_term(value: object, field: str) -> int:
    """A numerator or denominator of a custom rule: a whole number of at most
    MAX_FRACTION_TERM."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"rule.{field} must be a whole number", field=f"rule.{field}")
    if value > MAX_FRACTION_TERM:
        raise InvalidInput(
            f"rule.{field} must be at most {MAX_FRACTION_TERM}", field=f"rule.{field}"
        )
    return value


def rule_from_spec(spec: object) -> AdoptionRule:
    """Build a rule from a preset name or a mapping {base, comparator, numerator, denominator}."""
    if isinstance(spec, str):
        try:
            return PRESET_RULES[spec]
        except KeyError:
            raise InvalidInput(
                f"unknown rule {spec!r}; use one of {', '.join(PRESET_RULES)} or a custom rule",
                field="rule",
            ) from None
    if isinstance(spec, dict):
        unknown = set(spec) - {"base", "comparator", "numerator", "denominator", "name"}
        if unknown:
            raise InvalidInput(f"unknown rule fields: {', '.join(sorted(unknown))}", field="rule")
        base = _member(Base, spec.get("base"))
        if base is None:
            raise InvalidInput("rule.base must be total, registered or voting", field="rule.base")
        comparator = _member(Comparator, spec.get("comparator"))
        if comparator is None:
            raise InvalidInput(
                "rule.comparator must be more_than or at_least", field="rule.comparator"
            )
        numerator = _fraction_term(spec.get("numerator"), "numerator")
        denominator = _fraction_term(spec.get("denominator"), "denominator")
        try:
            return AdoptionRule(base, comparator, numerator, denominator)
        except InvalidInput as error:
            field = "rule.denominator" if denominator < 1 else "rule.numerator"
            raise InvalidInput(error.message, field=field) from None
    raise InvalidInput("rule must be a preset name or an object", field="rule")


@dataclass(frozen=True)
class QuorumRule:
    """Quorum: more than numerator/denominator of the total composition (art. 46: more than
    half)."""

    numerator: int = 1
    denominator: int = 2
    counts_head: bool = False

    def required(self, total: int) -> int:
        """How many present participants make the sitting competent."""
        return minimum_count(Comparator.MORE_THAN, self.numerator, self.denominator, total)

    def present(self, registered_deputies: int, head_registered: bool) -> int:
        """How many of those registered count toward the quorum under this council's Regulation."""
        return registered_deputies + (1 if head_registered and self.counts_head else 0)

    def is_met(self, total: int, registered_deputies: int, head_registered: bool) -> bool:
        return self.present(registered_deputies, head_registered) >= self.required(total)
