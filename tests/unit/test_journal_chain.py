"""The journal's hash chain: any edit, insertion or deletion is found and the entry is named."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from voting.domain.journal import GENESIS_HASH, canonical, entry_hash, verify_chain

Row = tuple[int, str, str, str, str, str, str]  # seq, at, actor, kind, payload, prev_hash, hash
KINDS = ("registration_opened", "deputy_registered", "vote_opened", "choice_cast", "vote_closed")


def link(seq: int, at: str, actor: str, kind: str, payload: str, prev: str) -> Row:
    return (seq, at, actor, kind, payload, prev, entry_hash(seq, at, actor, kind, payload, prev))


def build_chain(length: int) -> list[Row]:
    rows: list[Row] = []
    prev = GENESIS_HASH
    for seq in range(1, length + 1):
        row = link(
            seq,
            f"2026-11-25T08:{seq // 60:02d}:{seq % 60:02d}.000000+00:00",
            f"deputy:{seq % 43}",
            KINDS[seq % len(KINDS)],
            canonical({"deputy_id": seq % 43, "choice": "за", "seq": seq}),
            prev,
        )
        rows.append(row)
        prev = row[6]
    return rows


@dataclass
class Chain:
    rows: list[Row]

    @property
    def head(self) -> tuple[int, str]:
        return self.rows[-1][0], self.rows[-1][6]


def verify(rows: list[Row], head: tuple[int, str] | None = None):  # type: ignore[no-untyped-def]
    return verify_chain(rows, *(head or (None, None)))


@st.composite
def chain_and_position(draw: st.DrawFn, min_length: int = 1) -> tuple[Chain, int]:
    length = draw(st.integers(min_value=min_length, max_value=25))
    return Chain(build_chain(length)), draw(st.integers(min_value=0, max_value=length - 1))


@given(st.integers(min_value=0, max_value=30))
def test_an_intact_chain_verifies(length: int) -> None:
    chain = Chain(build_chain(length))
    report = verify(chain.rows, chain.head if length else (0, GENESIS_HASH))
    assert report.ok and report.checked == length
    assert report.describe() == f"journal intact: {length} entries verified"


FIELDS = {1: "at", 2: "actor", 3: "kind", 4: "payload", 5: "prev_hash", 6: "hash"}


@given(chain_and_position(), st.sampled_from(sorted(FIELDS)))
def test_editing_any_field_of_any_entry_names_that_entry(
    chain_pos: tuple[Chain, int], column: int
) -> None:
    chain, index = chain_pos
    head = chain.head
    row = list(chain.rows[index])
    original = row[column]
    assert isinstance(original, str)
    row[column] = original[:-1] + ("0" if original[-1] != "0" else "1")
    rows = [*chain.rows[:index], tuple(row), *chain.rows[index + 1 :]]
    report = verify(rows, head)  # type: ignore[arg-type]
    seq = index + 1
    assert not report.ok
    assert report.broken_seq == seq
    assert report.checked == index
    assert report.describe().startswith(f"journal broken at entry {seq}:")


@given(chain_and_position(), st.integers(min_value=1, max_value=5))
def test_renumbering_an_entry_names_it(chain_pos: tuple[Chain, int], shift: int) -> None:
    chain, index = chain_pos
    seq, *rest = chain.rows[index]
    rows = [*chain.rows[:index], (seq + shift, *rest), *chain.rows[index + 1 :]]
    report = verify(rows, chain.head)  # type: ignore[arg-type]
    assert not report.ok and report.broken_seq == seq


@given(chain_and_position(min_length=2))
def test_inserting_an_entry_breaks_the_chain_at_the_entry_after_it(
    chain_pos: tuple[Chain, int],
) -> None:
    chain, index = chain_pos
    if index == len(chain.rows) - 1:
        index -= 1  # insertions at the end have their own test below
    before = chain.rows[index]
    # A forger writes a well-formed entry after `before` and renumbers the rest by one.
    forged = link(
        before[0] + 1,
        before[1],
        "secretary:forger",
        "choice_cast",
        canonical({"deputy_id": 7, "choice": "for"}),
        before[6],
    )
    renumbered = [(seq + 1, *rest) for seq, *rest in chain.rows[index + 1 :]]
    rows = [*chain.rows[: index + 1], forged, *renumbered]
    report = verify(rows, (chain.head[0] + 1, chain.head[1]))  # type: ignore[arg-type]
    assert not report.ok
    # The forged entry is self-consistent; the first genuine entry after it no longer links.
    assert report.broken_seq == before[0] + 2
    assert "link to the previous entry" in (report.problem or "")


@given(chain_and_position(min_length=3))
def test_deleting_an_entry_names_the_missing_entry(chain_pos: tuple[Chain, int]) -> None:
    chain, index = chain_pos
    index = min(index, len(chain.rows) - 2)  # not the last one (see below)
    rows = chain.rows[:index] + chain.rows[index + 1 :]
    report = verify(rows, chain.head)
    assert not report.ok
    assert report.broken_seq == index + 1
    assert report.problem == f"entry {index + 1} is missing (next present is {index + 2})"


@given(chain_and_position(min_length=3))
def test_deleting_an_entry_and_renumbering_the_rest_names_the_gap(
    chain_pos: tuple[Chain, int],
) -> None:
    chain, index = chain_pos
    index = min(index, len(chain.rows) - 2)
    rows = chain.rows[:index] + [(seq - 1, *rest) for seq, *rest in chain.rows[index + 1 :]]
    report = verify(rows, (chain.head[0] - 1, chain.head[1]))  # type: ignore[arg-type]
    assert not report.ok and report.broken_seq == index + 1


@given(chain_and_position(min_length=2), st.integers(min_value=1, max_value=5))
def test_deleting_the_last_entries_is_caught_by_the_head(
    chain_pos: tuple[Chain, int], count: int
) -> None:
    chain, _ = chain_pos
    count = min(count, len(chain.rows))
    kept = chain.rows[:-count]
    report = verify(kept, chain.head)
    assert not report.ok
    first_missing = len(kept) + 1
    assert report.broken_seq == first_missing
    assert report.problem == f"entries after {len(kept)} up to {len(chain.rows)} are missing"
    # Without the recorded head the shortened chain would look whole: the head is what catches it.
    assert verify(kept).ok


@given(chain_and_position())
def test_a_head_that_differs_from_the_last_entry_is_named(chain_pos: tuple[Chain, int]) -> None:
    chain, _ = chain_pos
    seq, digest = chain.head
    report = verify(chain.rows, (seq, "f" * 64 if digest != "f" * 64 else "e" * 64))
    assert not report.ok and report.broken_seq == seq
    assert "recorded head" in (report.problem or "")


def test_an_entry_appended_after_the_head_is_named() -> None:
    chain = Chain(build_chain(5))
    head = chain.head
    forged = link(
        6, chain.rows[-1][1], "secretary:forger", "vote_closed", canonical({}), chain.rows[-1][6]
    )
    report = verify([*chain.rows, forged], head)
    assert not report.ok
    assert report.broken_seq == 6
    assert "missing" not in (report.problem or "")
