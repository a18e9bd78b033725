"""The one wait loop: backoff, hints, deadline, transient and permanent poll failures."""

from __future__ import annotations

import pytest

from interviews.batch_types import BatchJob, BatchStatus
from interviews.errors import (
    BatchWaitTimeoutError,
    PermanentProviderError,
    TransientProviderError,
)
from interviews.polling import Backoff, wait_for_batch


class FakeTime:
    """A clock that moves only when the loop sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def job(status: BatchStatus, poll_after: float | None = None) -> BatchJob:
    return BatchJob("anthropic", "b1", status, str(status), poll_after=poll_after)


def test_backoff_grows_and_caps() -> None:
    fake = FakeTime()
    states = [BatchStatus.RUNNING] * 6 + [BatchStatus.SUCCEEDED]
    result = wait_for_batch(
        lambda: job(states.pop(0)),
        deadline=fake.now + 10_000,
        backoff=Backoff(initial=10, maximum=40, factor=2),
        sleep=fake.sleep,
        clock=fake.clock,
    )
    assert result.status is BatchStatus.SUCCEEDED
    assert fake.sleeps == [10, 20, 40, 40, 40, 40]


def test_server_hint_lengthens_the_wait() -> None:
    fake = FakeTime()
    states = [job(BatchStatus.RUNNING, poll_after=90), job(BatchStatus.EXPIRED)]
    result = wait_for_batch(
        lambda: states.pop(0),
        deadline=fake.now + 1000,
        backoff=Backoff(5, 60, 2),
        sleep=fake.sleep,
        clock=fake.clock,
    )
    assert result.status is BatchStatus.EXPIRED
    assert fake.sleeps == [90]


def test_deadline_stops_the_wait_without_oversleeping() -> None:
    fake = FakeTime()
    with pytest.raises(BatchWaitTimeoutError, match="still running"):
        wait_for_batch(
            lambda: job(BatchStatus.RUNNING),
            deadline=fake.now + 100,
            backoff=Backoff(30, 60, 2),
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert sum(fake.sleeps) == 100


def test_transient_poll_errors_keep_waiting() -> None:
    fake = FakeTime()
    seen: list[Exception] = []
    calls = iter(
        [
            TransientProviderError("503", provider="anthropic", status_code=503),
            job(BatchStatus.RUNNING),
            TransientProviderError("429", provider="anthropic", status_code=429),
            job(BatchStatus.PARTIALLY_SUCCEEDED),
        ]
    )

    def retrieve() -> BatchJob:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    polled: list[BatchJob] = []
    result = wait_for_batch(
        retrieve,
        deadline=fake.now + 1000,
        backoff=Backoff(1, 1, 1),
        sleep=fake.sleep,
        clock=fake.clock,
        on_poll=polled.append,
        on_transient_error=seen.append,
    )
    assert result.status is BatchStatus.PARTIALLY_SUCCEEDED
    assert len(seen) == 2 and len(polled) == 2


def test_permanent_poll_error_ends_the_wait() -> None:
    def retrieve() -> BatchJob:
        raise PermanentProviderError("401", provider="anthropic", status_code=401)

    with pytest.raises(PermanentProviderError):
        wait_for_batch(retrieve, deadline=1e12, sleep=lambda s: None)


@pytest.mark.parametrize("status", list(BatchStatus))
def test_terminal_set(status: BatchStatus) -> None:
    terminal = {"succeeded", "partially_succeeded", "failed", "canceled", "expired"}
    assert status.is_terminal == (status.value in terminal)
