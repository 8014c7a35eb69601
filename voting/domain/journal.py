"""The tamper-evident journal: a hash chain over every procedural event.

Each entry's hash covers its sequence number, time, actor, kind, payload and the previous entry's
hash, so editing, inserting or deleting any entry breaks the chain from that point on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class JournalRecord:
    seq: int
    at: str  # ISO 8601 in UTC, as stored
    actor: str
    kind: str
    payload: Mapping[str, object]
    prev_hash: str
    hash: str


def canonical(payload: Mapping[str, object]) -> str:
    """The payload as canonical JSON (sorted keys, no spaces, UTF-8 kept)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(seq: int, at: str, actor: str, kind: str, payload_json: str, prev_hash: str) -> str:
    """SHA-256 over the entry's fields and the previous hash."""
    material = "\x1f".join([str(seq), at, actor, kind, payload_json, prev_hash])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str | None = None

    def describe(self) -> str:
        if self.ok:
            return f"journal intact: {self.checked} entries verified"
        return f"journal broken at entry {self.broken_seq}: {self.problem}"


def verify_chain(
    records: Iterable[tuple[int, str, str, str, str, str, str]],
    head_seq: int | None = None,
    head_hash: str | None = None,
) -> VerifyReport:
    """Check rows (seq, at, actor, kind, payload_json, prev_hash, hash) in seq order.

    `head_seq`/`head_hash` are the last entry as recorded separately, which catches a deletion of
    the newest entries.
    """
    expected_seq, prev, checked = 1, GENESIS_HASH, 0
    for seq, at, actor, kind, payload_json, prev_hash, stored in records:
        if head_seq is not None and seq > head_seq and seq == expected_seq:
            return VerifyReport(
                False, checked, seq, f"it was added after the last recorded entry {head_seq}"
            )
        if seq != expected_seq:
            problem = (
                f"entry {expected_seq} is missing (next present is {seq})"
                if seq > expected_seq
                else f"sequence number {seq} is out of order"
            )
            return VerifyReport(False, checked, expected_seq, problem)
        if prev_hash != prev:
            return VerifyReport(
                False, checked, seq, "its link to the previous entry does not match"
            )
        if entry_hash(seq, at, actor, kind, payload_json, prev_hash) != stored:
            return VerifyReport(False, checked, seq, "its content does not match its hash (edited)")
        prev, expected_seq, checked = stored, seq + 1, checked + 1
    if head_seq is not None and head_seq != expected_seq - 1:
        return VerifyReport(
            False,
            checked,
            expected_seq,
            f"entries after {expected_seq - 1} up to {head_seq} are missing",
        )
    if head_hash is not None and head_seq is not None and head_hash != prev:
        return VerifyReport(
            False, checked, head_seq, "the last entry differs from the recorded head"
        )
    return VerifyReport(True, checked)
