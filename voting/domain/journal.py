"""The tamper-evident journal: a hash chain over every procedural event.

Each entry's hash covers its sequence number, time, actor, kind, payload and the previous entry's
hash, so editing, inserting or deleting any entry breaks the chain from that point on. Anyone can
recompute the chain, so whoever can write the database could also rewrite it whole; two things
stop that. Each entry, and the head, carries an authentication code (HMAC-SHA-256 of its hash)
made with a key the database does not hold: without the key no entry can be forged, inserted or
removed unseen. And the head's sequence number and hash are published at every vote and sitting
close (anchors): an entry up to a published head cannot be changed even by the key's holder.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
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


def entry_mac(key: bytes, digest: str) -> str:
    """An entry's authentication code: HMAC-SHA-256 of its hash (which covers all of it)."""
    return hmac.new(key, digest.encode("ascii"), hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, digest: str) -> str:
    """The head's authentication code: HMAC-SHA-256 of its number and hash."""
    return hmac.new(key, f"head\x1f{seq}\x1f{digest}".encode("ascii"), hashlib.sha256).hexdigest()


def same_code(held: str | None, expected: str) -> bool:
    """Whether a stored code is the expected one (in constant time); whatever else the column
    holds (nothing, other characters, another length) is simply not it."""
    if not held or len(held) != len(expected) or not held.isascii():
        return False
    return hmac.compare_digest(held, expected)


def first_unauthentic(
    records: Iterable[tuple[int, str, str | None]], key: bytes
) -> tuple[int, str] | None:
    """The first (seq, problem) of entries (seq, hash, mac) whose code is missing or wrong."""
    for seq, digest, mac in records:
        if not mac:
            return seq, "it carries no authentication code (written without the journal's key)"
        if not same_code(mac, entry_mac(key, digest)):
            return seq, (
                "its authentication code does not match (forged without the journal's key, or "
                "the key at hand is not the one the journal was written with)"
            )
    return None


@dataclass(frozen=True)
class Anchor:
    """A published head: entry `seq` had hash `hash`."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """'SEQ:HASH' as published (a positive number, a colon, 64 hex digits)."""
        found = re.fullmatch(r"\s*([0-9]{1,18}):([0-9a-fA-F]{64})\s*", text)
        if found is None or int(found[1]) < 1:
            raise ValueError(
                f"an anchor is the entry's number, a colon and its hash of 64 hex digits, "
                f"as published (e.g. 1234:{'0' * 8}...); got {text[:90]!r}"
            )
        return cls(int(found[1]), found[2].lower())


def first_unanchored(
    hashes: Mapping[int, str], anchors: Iterable[Anchor]
) -> tuple[int, str] | None:
    """The first anchor (by number) that the chain's hashes do not match, as (seq, problem)."""
    for anchor in sorted(anchors, key=lambda a: a.seq):
        held = hashes.get(anchor.seq)
        if held is None:
            return anchor.seq, f"the published anchor {anchor.seq} names an entry that is missing"
        if held != anchor.hash:
            return anchor.seq, (
                f"its hash {held[:16]}... differs from the published anchor "
                f"{anchor.hash[:16]}... (the journal was rewritten up to here)"
            )
    return None


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str | None = None
    #: When the chain holds but a fact table does not match it: the table and the row's key
    #: (the entry that recorded the row is `broken_seq`, None for a row never journaled).
    table: str | None = None
    row: tuple[object, ...] | None = None
    #: Whether the whole record was checked (services.journal), not only the chain; then
    #: whether the entries' authentication codes were (only with the journal's key), and
    #: how many published anchors.
    record: bool = False
    keyed: bool = False
    anchors: int = 0

    def describe(self) -> str:
        if self.ok and not self.record:
            return f"journal intact: {self.checked} entries verified"
        if self.ok:
            checks = [] if self.keyed else ["authentication codes not checked: no key"]
            if self.anchors:
                checks.append(f"{self.anchors} published anchor{'s' * (self.anchors > 1)} matched")
            extra = f" ({'; '.join(checks)})" if checks else ""
            return (
                f"journal intact: {self.checked} entries verified, and the record matches "
                f"them{extra}"
            )
        if self.table is not None:
            return f"the record does not match the journal: {self.problem}"
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
