"""The group committer alone (no database): every request is settled once with its own outcome,
batches form while a batch is being written, never hold one key twice, and a writer that fails
settles its batch without stopping the next."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest

from voting.services.group_commit import GroupCommitter, Request


class Job(Request):
    def __init__(self, key: Any, value: int) -> None:
        super().__init__(key)
        self.value = value


class Writer:
    """Records each batch; takes `pause` seconds per batch, so that others queue meanwhile."""

    def __init__(self, pause: float = 0.01, fail_on: int | None = None) -> None:
        self.pause = pause
        self.fail_on = fail_on
        self.batches: list[list[int]] = []
        self.inside = 0
        self.overlap = False
        self.lock = threading.Lock()

    def __call__(self, uow: object, batch: list[Job]) -> None:
        with self.lock:
            self.inside += 1
            self.overlap |= self.inside > 1
        try:
            time.sleep(self.pause)
            self.batches.append([job.value for job in batch])
            if self.fail_on is not None and any(job.value == self.fail_on for job in batch):
                raise RuntimeError("the writer broke")
            for job in batch:
                job.settle(result=job.value * 10)
        finally:
            with self.lock:
                self.inside -= 1


def submit_all(committer: GroupCommitter[Job], jobs: list[Job]) -> dict[int, Any]:
    outcomes: dict[int, Any] = {}
    barrier = threading.Barrier(len(jobs))

    def run(job: Job) -> None:
        barrier.wait()
        try:
            outcomes[job.value] = committer.submit(None, job)  # type: ignore[arg-type]
        except Exception as error:  # noqa: BLE001 - recorded for the assertions
            outcomes[job.value] = error

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a caller never got an answer"
    return outcomes


def test_callers_arriving_together_share_batches_and_each_gets_its_own_answer() -> None:
    writer = Writer()
    committer: GroupCommitter[Job] = GroupCommitter(writer, max_batch=16)
    outcomes = submit_all(committer, [Job(key=n, value=n) for n in range(200)])
    assert outcomes == {n: n * 10 for n in range(200)}
    assert sorted(v for batch in writer.batches for v in batch) == list(range(200))
    assert not writer.overlap, "two batches were written at the same time"
    assert max(len(batch) for batch in writer.batches) == 16  # the cap holds, and is reached
    assert len(writer.batches) < 50  # they were grouped, not written one by one
    assert committer.batches == len(writer.batches) and committer.largest == 16


def test_a_lone_caller_writes_its_own_batch_at_once() -> None:
    writer = Writer(pause=0)
    committer: GroupCommitter[Job] = GroupCommitter(writer)
    for n in range(3):
        assert committer.submit(None, Job(key=n, value=n)) == n * 10  # type: ignore[arg-type]
    assert writer.batches == [[0], [1], [2]]


def test_two_requests_with_one_key_never_share_a_batch_and_keep_their_order() -> None:
    writer = Writer()
    committer: GroupCommitter[Job] = GroupCommitter(writer)
    jobs = [Job(key=n % 5, value=n) for n in range(60)]
    outcomes = submit_all(committer, jobs)
    assert outcomes == {n: n * 10 for n in range(60)}
    for batch in writer.batches:
        assert len({value % 5 for value in batch}) == len(batch)


def test_a_failing_batch_settles_its_requests_with_the_error_and_the_next_batch_goes_on() -> None:
    writer = Writer(fail_on=7)
    committer: GroupCommitter[Job] = GroupCommitter(writer, max_batch=4)
    outcomes = submit_all(committer, [Job(key=n, value=n) for n in range(40)])
    failed = next(batch for batch in writer.batches if 7 in batch)
    for value, outcome in outcomes.items():
        if value in failed:
            assert isinstance(outcome, RuntimeError)
        else:
            assert outcome == value * 10
    assert Counter(v for batch in writer.batches for v in batch) == Counter(range(40))


def test_a_writer_that_forgets_a_request_refuses_it_instead_of_hanging() -> None:
    committer: GroupCommitter[Job] = GroupCommitter(lambda uow, batch: None)
    with pytest.raises(RuntimeError, match="unsettled"):
        committer.submit(None, Job(key=1, value=1))  # type: ignore[arg-type]
    # ...and the committer still works for the next caller.
    assert GroupCommitter(Writer(pause=0)).submit(None, Job(key=2, value=2)) == 20  # type: ignore[arg-type]
    assert not committer._writing


def test_the_committer_is_busy_while_a_batch_is_written_and_idle_after() -> None:
    writer = Writer(pause=0.2)
    committer: GroupCommitter[Job] = GroupCommitter(writer)
    assert not committer.busy
    done = threading.Thread(target=committer.submit, args=(None, Job(key=1, value=1)))
    done.start()
    time.sleep(0.05)
    assert committer.busy  # the casts' batch is being written: the live push gives way
    done.join(timeout=5)
    assert not committer.busy and writer.batches == [[1]]
