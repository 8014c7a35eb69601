"""Text checks shared by every door: names stay on one line, long texts keep their line breaks."""

import pytest

from voting.domain.errors import InvalidInput
from voting.services import validate


def test_a_reason_keeps_its_line_breaks_but_a_name_may_not_have_one() -> None:
    reason = "Технічний збій.\nПереголосування за рішенням головуючого."
    assert validate.text(reason, "reason", limit=2000) == reason
    with pytest.raises(InvalidInput, match="full_name contains the control character U\\+000A"):
        validate.text("Іваненко\nІван", "full_name")


def test_bidi_overrides_are_refused_even_in_long_texts() -> None:
    with pytest.raises(InvalidInput, match="U\\+202E"):
        validate.text("Про бюджет \u202eпідсумок", "title", limit=validate.LONG)
