"""Waiting for what a person would see, without fixed sleeps: `until(check)` asks again every
50 ms and gives back the first true answer, or fails after `timeout` seconds. Import it by name
(`from waiting import until`), like halls.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def until(check: Callable[[], T], timeout: float = 15.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout:g} s")
