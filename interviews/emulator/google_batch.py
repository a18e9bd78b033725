"""The clock-driven run shared by Vertex batch prediction jobs and Gemini API batches.

Pure domain logic on emulated time; `vertex_jobs` and `gemini_batches` turn a run into their
resources and outputs. Every step happens when the batch is read, so tests never sleep:

- created `PENDING`; the first read fails a run whose input could not be used (`FAILED`) or
  starts it (`RUNNING`, `started_at` = that read);
- request k (in a shuffled rank order) finishes at started + processing_seconds·(k+1)/n; the
  first read after the last one ends the run `SUCCEEDED`, or `PARTIALLY_SUCCEEDED` when some
  requests failed;
- at the expiry deadline whatever is unfinished stays unfinished (`EXPIRED`);
- `cancel` → `CANCELLING`, and the next read ends it `CANCELLED` (or at once, `immediate`);
  requests finished before the cancel keep their results.

Line faults (by key) force outcomes: `errored`/`canceled` a failed request, `expired` a request
that never finishes (so the run can only expire).
"""

import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from interviews.emulator.faults import LineFault
from interviews.emulator.google_requests import Rejection, check, generate
from interviews.emulator.ids import stable_shuffle
from interviews.emulator.prompt_cache import PromptCache

PENDING, RUNNING, CANCELLING = "PENDING", "RUNNING", "CANCELLING"
SUCCEEDED, PARTIALLY_SUCCEEDED, FAILED = "SUCCEEDED", "PARTIALLY_SUCCEEDED", "FAILED"
CANCELLED, EXPIRED = "CANCELLED", "EXPIRED"
ENDED = frozenset({SUCCEEDED, PARTIALLY_SUCCEEDED, FAILED, CANCELLED, EXPIRED})
# gRPC codes used in per-request errors.
CODE_CANCELLED, CODE_DEADLINE_EXCEEDED, CODE_RESOURCE_EXHAUSTED, CODE_INTERNAL = 1, 4, 8, 13


@dataclass(frozen=True)
class Item:
    """One request of a batch, with the key that identifies it (custom id, metadata key)."""

    key: str
    request: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """What became of one request: a response, an error, or neither (never finished)."""

    finished_at: float | None = None
    response: dict[str, Any] | None = None
    error: Rejection | None = None

    @property
    def finished(self) -> bool:
        """Whether the request ran (successfully or not) before the run ended."""
        return self.response is not None or self.error is not None


def fault_rejection(fault: LineFault) -> Rejection:
    """The per-request error an `errored` or `canceled` line fault forces."""
    if fault.type == "canceled":
        return Rejection(fault.message, CODE_CANCELLED)
    code = CODE_RESOURCE_EXHAUSTED if fault.error_type == "rate_limit_error" else CODE_INTERNAL
    return Rejection(fault.message, code)


@dataclass
class BatchRun:
    """The progress of one batch; `refresh` advances it to a given emulated time."""

    id: str
    model: str
    items: list[Item]
    created_at: float
    processing_seconds: float
    expiry_seconds: float
    expire_from_start: bool
    """Vertex counts 24 h from the start (queueing is free); Gemini 48 h from creation."""
    input_error: str | None = None
    phase: str = PENDING
    updated_at: float = 0.0
    started_at: float | None = None
    ended_at: float | None = None
    cancel_cutoff: float | None = None
    """Requests finished by this time keep their results when a cancel ends the run."""
    ranks: list[int] = field(default_factory=list)
    done_times: list[float] = field(default_factory=list)
    rejected_before: list[int] = field(default_factory=list)
    """`rejected_before[k]`: requests of rank < k the endpoint rejects."""
    positions: dict[str, list[int]] = field(default_factory=dict)
    outcomes: list[Outcome] | None = None
    """One per item, in input order, once the run has ended (None before, and if FAILED)."""
    cache: PromptCache | None = None
    """The emulator's prompt cache, read and written as each request is done (None: off)."""
    service: str = "gemini"
    """`gemini` or `vertex`: each service caches apart."""

    def __post_init__(self) -> None:
        self.updated_at = self.created_at
        for index, item in enumerate(self.items):
            self.positions.setdefault(item.key, []).append(index)

    @property
    def expires_at(self) -> float | None:
        """When unfinished work expires (None while a start-anchored run is pending)."""
        anchor = self.started_at if self.expire_from_start else self.created_at
        return None if anchor is None else anchor + self.expiry_seconds

    def refresh(self, now: float, faults: Mapping[str, LineFault]) -> bool:
        """Advance to `now`; True when the run ended during this call (write its output)."""
        if self.phase in ENDED:
            return False
        expires = self.expires_at
        if self.phase == PENDING:
            if expires is not None and now >= expires:
                self._end(EXPIRED, expires, -math.inf, faults)
            elif self.input_error is not None:
                self._set(FAILED, now)
                self.ended_at = now
            else:
                self._start(now)
                return False  # this read shows RUNNING, as the service does once it starts
            return True
        if self.phase == CANCELLING:
            self._end(CANCELLED, now, self._cutoff(), faults)
            return True
        expires = self.expires_at
        assert expires is not None  # a running run has started
        if now >= expires and not self._all_done_by(expires, faults):
            self._end(EXPIRED, expires, expires, faults)
            return True
        if self._all_done_by(now, faults):
            self._end(SUCCEEDED, now, math.inf, faults)
            return True
        return False

    def cancel(self, now: float, faults: Mapping[str, LineFault], immediate: bool) -> None:
        """Stop the run: `CANCELLING` until the next refresh, or `CANCELLED` now if immediate.

        Raises ValueError if it has already ended.
        """
        if self.phase in ENDED:
            raise ValueError(f"the batch is already {self.phase}")
        if self.phase != CANCELLING:
            self.cancel_cutoff = now if self.started_at is not None else -math.inf
            self._set(CANCELLING, now)
        if immediate:
            self._end(CANCELLED, now, self._cutoff(), faults)

    def fail(self, now: float, message: str) -> None:
        """End the run as FAILED (e.g. its output could not be written)."""
        self.input_error = message
        self._set(FAILED, now)
        self.ended_at = now

    def counts(self, now: float, faults: Mapping[str, LineFault]) -> tuple[int, int, int]:
        """(succeeded, failed, not finished) requests as of `now`."""
        total = len(self.items)
        if self.outcomes is not None:
            succeeded = sum(1 for o in self.outcomes if o.response is not None)
            failed = sum(1 for o in self.outcomes if o.error is not None)
            return succeeded, failed, total - succeeded - failed
        if self.started_at is None:
            return 0, 0, total
        until = now if self.cancel_cutoff is None else min(now, self.cancel_cutoff)
        finished = bisect_right(self.done_times, until)
        failed = self.rejected_before[finished]
        # Faults are few and requests many, so look the faulted ones up by position.
        for key, fault in faults.items():
            for index in self.positions.get(key, ()):
                rank = self.ranks[index]
                if rank >= finished:
                    continue
                rejected = self.rejected_before[rank + 1] > self.rejected_before[rank]
                if fault.type == "expired":
                    finished -= 1
                    failed -= int(rejected)
                elif not rejected:
                    failed += 1
        return finished - failed, failed, total - finished

    def _cutoff(self) -> float:
        return self.cancel_cutoff if self.cancel_cutoff is not None else -math.inf

    def _set(self, phase: str, at: float) -> None:
        self.phase, self.updated_at = phase, at

    def _start(self, now: float) -> None:
        self._set(RUNNING, now)
        self.started_at = now
        count = len(self.items)
        self.ranks = stable_shuffle(range(count), self.id, "ranks")
        self.done_times = [now + self.processing_seconds * (k + 1) / count for k in range(count)]
        rejected = [0] * count
        for index, item in enumerate(self.items):
            rejected[self.ranks[index]] = int(check(item.request) is not None)
        self.rejected_before = [0, *accumulate(rejected)]

    def _all_done_by(self, at: float, faults: Mapping[str, LineFault]) -> bool:
        if any(f.type == "expired" and key in self.positions for key, f in faults.items()):
            return False
        return not self.done_times or self.done_times[-1] <= at

    def _end(self, phase: str, at: float, cutoff: float, faults: Mapping[str, LineFault]) -> None:
        """Fix every request's outcome and end the run in `phase` at time `at`."""
        outcomes = []
        for index, item in enumerate(self.items):
            done = self.done_times[self.ranks[index]] if self.done_times else math.inf
            fault = faults.get(item.key)
            if done > cutoff or (fault is not None and fault.type == "expired"):
                outcomes.append(Outcome())
            elif fault is not None:
                outcomes.append(Outcome(done, error=fault_rejection(fault)))
            elif (rejection := check(item.request)) is not None:
                outcomes.append(Outcome(done, error=rejection))
            else:
                seed = f"{self.id}\x1f{item.key}\x1f{index}"
                response = generate(
                    item.request, item.key, self.model, seed, self.cache, done, self.service
                )
                outcomes.append(Outcome(done, response=response))
        if phase == SUCCEEDED and any(o.error is not None for o in outcomes):
            phase = PARTIALLY_SUCCEEDED
        self.outcomes = outcomes
        self._set(phase, at)
        self.ended_at = at
