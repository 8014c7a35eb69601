"""Which owners of open secret ballots are gone, as a serving process's heartbeat tells
(services/interruptions.py, OwnerWatch): at once when the owner said it stopped, its row is gone,
or its process id on this host is gone; when it is only silent, after its heartbeat stood still
for the whole wait while this process's own heartbeats got through. So a database outage, or two
hosts' clocks that disagree, never make a live owner look dead (it would cost the ballot)."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

from voting.services.interruptions import BallotOwner, OwnerWatch

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HERE = f"{socket.gethostname()}:{os.getpid()}"  # this very process: alive
ELSEWHERE = "another-host:1234"  # only its silence tells


def owner(name: str | None = ELSEWHERE, seen: float = 0, stopped: bool = False) -> BallotOwner:
    seen_at = T0 + timedelta(seconds=seen)
    return BallotOwner(7, 3, name, seen_at, seen_at if stopped else None)


def test_an_owner_that_said_it_stopped_or_whose_row_is_gone_is_gone_at_once() -> None:
    watch = OwnerWatch(silent_after=10)
    assert watch.gone([owner(stopped=True)], healthy_since=0, now=0) == {7: T0}
    assert watch.gone([owner(name=None)], healthy_since=0, now=0) == {7: T0}
    assert watch.gone([owner(name=HERE)], healthy_since=0, now=0) == {}


def test_an_owner_whose_process_id_is_gone_on_this_host_is_gone_at_once() -> None:
    gone_pid = max(2, os.getpid() + 1_000_000)  # no such process
    lost = owner(name=f"{socket.gethostname()}:{gone_pid}")
    assert OwnerWatch(silent_after=10).gone([lost], healthy_since=0, now=0) == {7: T0}


def test_a_silent_owner_is_gone_only_after_the_whole_wait() -> None:
    watch = OwnerWatch(silent_after=10)
    assert watch.gone([owner(seen=0)], healthy_since=0, now=100) == {}  # first seen now
    assert watch.gone([owner(seen=0)], healthy_since=0, now=109) == {}
    assert watch.gone([owner(seen=0)], healthy_since=0, now=110) == {7: T0}


def test_an_owner_whose_heartbeat_moves_is_alive_whatever_its_clock_says() -> None:
    watch = OwnerWatch(silent_after=10)
    for n in range(20):  # its clock an hour behind ours: only whether it moves counts
        beat = owner(seen=-3600 + 2 * n)
        assert watch.gone([beat], healthy_since=0, now=100 + 2 * n) == {}


def test_an_outage_of_our_own_does_not_make_the_owner_look_dead() -> None:
    """The database was away for a minute: nobody's heartbeat got through. Once it is back, the
    owner's silence is counted from then on, not from before the outage."""
    watch = OwnerWatch(silent_after=10)
    assert watch.gone([owner(seen=0)], healthy_since=0, now=100) == {}
    # our heartbeats failed from 102 to 160; the first that got through again is at 162
    assert watch.gone([owner(seen=0)], healthy_since=162, now=162) == {}
    assert watch.gone([owner(seen=64)], healthy_since=162, now=164) == {}  # it beats again
    assert watch.gone([owner(seen=64)], healthy_since=162, now=173) == {}
    assert watch.gone([owner(seen=64)], healthy_since=162, now=174) == {
        7: T0 + timedelta(seconds=64)
    }


def test_an_owner_that_died_during_our_outage_is_found_once_we_are_back_long_enough() -> None:
    watch = OwnerWatch(silent_after=10)
    assert watch.gone([owner(seen=0)], healthy_since=0, now=100) == {}
    assert watch.gone([owner(seen=0)], healthy_since=162, now=171) == {}
    assert watch.gone([owner(seen=0)], healthy_since=162, now=172) == {7: T0}
