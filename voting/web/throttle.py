"""Sign-in under attack: how many attempts each source address may make, and for each account
and each card from that address (the `limits` library's moving windows).

Every attempt counts, right or wrong, before the password or PIN is checked: a flood is refused
with 429 and "try again in N s" before it costs a password hash. The limits are per source, and
per account or card *at that source*, never per account or card alone: whoever knows a username
or a card's UID can then only shut out their own address, not the deputy at their terminal.
With a Redis server configured (several server processes: [server] message_queue) the counts
live there, shared by every process; otherwise in this process's memory.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from voting.domain.errors import DomainError

#: Attempts one source address may make a minute, whatever they name, and for one account or
#: one card (config.toml [sign_in]).
PER_SOURCE = 30
PER_NAME_AT_SOURCE = 10


class TooManyAttempts(DomainError):
    """Too many sign-in attempts from one address (for one account or card): try again later."""

    code = "too_many_attempts"
    status = 429


@dataclass(frozen=True, slots=True)
class Window:
    limit: RateLimitItem
    keys: tuple[str, ...]
    what: str  # for the message: whose attempts ran out


class SignInThrottle:
    """The sign-in doors' counts, in memory or in the council's Redis (`storage_uri`)."""

    def __init__(
        self,
        storage_uri: str = "memory://",
        prefix: str = "council-voting",
        per_source: int = PER_SOURCE,
        per_name: int = PER_NAME_AT_SOURCE,
    ) -> None:
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.prefix = prefix
        self.per_source = parse(f"{per_source}/minute")
        self.per_name = parse(f"{per_name}/minute")

    def attempt(self, door: str, source: str, name: str) -> None:
        """Count an attempt at `door` ("login", "card") from `source` naming `name` (an account
        or a normalised card UID), or refuse it (TooManyAttempts, nothing counted)."""
        windows = (
            Window(self.per_source, (self.prefix, "sign-in", source), "from this address"),
            Window(
                self.per_name,
                (self.prefix, door, source, name),
                "for this card from this address"
                if door == "card"
                else "for this account from this address",
            ),
        )
        for window in windows:
            if not self.limiter.test(window.limit, *window.keys):
                raise self._refusal(window)
        for window in windows:
            self.limiter.hit(window.limit, *window.keys)

    def _refusal(self, window: Window) -> TooManyAttempts:
        stats = self.limiter.get_window_stats(window.limit, *window.keys)
        seconds = max(1, math.ceil(stats.reset_time - time.time()))
        return TooManyAttempts(
            f"too many sign-in attempts {window.what}: try again in {seconds} s",
            retry_after=seconds,
        )
