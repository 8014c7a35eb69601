"""Simulated microphones: the port of the demo and the tests, with the history of its switches."""

from __future__ import annotations

import threading
from datetime import UTC, datetime


class SimulatedMicrophones:
    """Microphones that exist only in memory; `history` lists (time, name, on) per switch."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._on: set[str] = set()
        self.history: list[tuple[datetime, str, bool]] = []

    def switch(self, name: str, on: bool) -> None:
        with self._lock:
            if on:
                self._on.add(name)
            else:
                self._on.discard(name)
            self.history.append((datetime.now(UTC), name, on))

    def which_on(self) -> set[str]:
        with self._lock:
            return set(self._on)
