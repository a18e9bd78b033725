"""The one wait loop for every provider batch.

Capped exponential backoff, server hints, a hard deadline, and injectable `sleep`/`clock` so
tests never sleep for real. Transient provider errors while polling do not end the wait (the
batch keeps running at the provider); permanent ones do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from interviews.batch_types import BatchJob
from interviews.errors import BatchWaitTimeoutError, TransientProviderError


@dataclass(frozen=True)
class Backoff:
    """Poll intervals: `initial`, growing by `factor`, never above `maximum` seconds."""

    initial: float = 30.0
    maximum: float = 600.0
    factor: float = 1.5

    def next(self, current: float) -> float:
        """The interval after `current`."""
        return min(max(current * self.factor, self.initial), self.maximum)


def server_wait(
    hint: float | None,
    *,
    fallback: float,
    cap: float,
    what: str,
    remaining: float | None = None,
    log: Callable[[str], None] | None = None,
) -> float:
    """Seconds to wait before trying `what` again: the server's hint, cut to `cap` (and to
    the time `remaining` before a deadline), else `fallback`; a cut hint is logged.

    A provider may answer `retry-after: 86400`; followed blindly that is a day of silence.
    """
    wait = fallback if hint is None else max(hint, 0.0)
    if hint is not None and hint > cap:
        wait = cap
        if log is not None:
            log(
                f"the provider asked to wait {hint:g} s before {what}; waiting {cap:g} s "
                "instead (INTERVIEWS_MAX_SERVER_WAIT_SECONDS)"
            )
    return wait if remaining is None else max(min(wait, remaining), 0.0)


def wait_for_batch(
    retrieve: Callable[[], BatchJob],
    *,
    deadline: float,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    on_poll: Callable[[BatchJob], None] | None = None,
    on_transient_error: Callable[[TransientProviderError], None] | None = None,
    max_hint: float = 300.0,
    log: Callable[[str], None] | None = None,
) -> BatchJob:
    """Poll `retrieve` until the batch reaches a terminal `BatchStatus`.

    Args:
        retrieve: one status read of the batch (never loops, never sleeps).
        deadline: `clock()` value after which waiting stops.
        backoff: the poll intervals.
        sleep: how to wait (injected in tests).
        clock: the time source, seconds since the epoch by default (injected in tests).
        on_poll: called with every job read, e.g. to update the ledger and progress.
        on_transient_error: called when a poll failed transiently and will be retried.
        max_hint: the longest server hint (poll-after, retry-after) followed, in seconds.
        log: where a cut server hint is reported.

    Returns:
        The batch in a terminal state.

    Raises:
        BatchWaitTimeoutError: the deadline passed first; the batch may still finish later.
        PermanentProviderError: a poll failed in a way retrying cannot fix.
    """
    interval = backoff.initial
    while True:
        try:
            job = retrieve()
        except TransientProviderError as exc:
            if on_transient_error is not None:
                on_transient_error(exc)
            job = None
        if job is not None:
            if on_poll is not None:
                on_poll(job)
            if job.status.is_terminal:
                return job
        remaining = deadline - clock()
        if remaining <= 0:
            where = f"batch {job.batch_id} is still {job.provider_status}" if job else "no poll"
            raise BatchWaitTimeoutError(
                f"stopped waiting at the deadline: {where}; it may still finish, so re-run "
                "with the same --run-id later to pick up its results without resubmitting"
            )
        hint = job.poll_after if job is not None else None
        wait = server_wait(
            hint, fallback=0.0, cap=max_hint, what="polling again", remaining=remaining, log=log
        )
        sleep(min(max(interval, wait), remaining))
        interval = backoff.next(interval)
