"""Helpers shared by the adapter tests."""

from __future__ import annotations

from interviews.batch_types import BatchJob
from interviews.providers.base import BatchAdapter


def finish(adapter: BatchAdapter, control, batch_id: str, reads: int = 10) -> BatchJob:
    """Read the batch until it ends, moving the emulator's clock a second between reads."""
    job = adapter.retrieve(batch_id)
    for _ in range(reads):
        if job.status.is_terminal:
            return job
        control.advance(1)
        job = adapter.retrieve(batch_id)
    return job
