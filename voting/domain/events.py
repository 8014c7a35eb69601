"""Domain events, published after the transaction that caused them commits."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DomainEvent:
    """A procedural event: its journal sequence number, kind and public payload."""

    seq: int
    kind: str
    payload: dict[str, object] = field(default_factory=dict)
