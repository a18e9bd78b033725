"""How far a run has come, read from the ledger: the one source for the Prefect progress
artifact and the terminal's progress bar."""

from __future__ import annotations

from dataclasses import dataclass

from interviews.batch_types import BatchStatus
from interviews.ledger import Ledger


@dataclass(frozen=True)
class RunProgress:
    """Requests finished at the provider, over the run's current round."""

    run_id: str
    round: int
    requests: int
    finished: int
    batches: int
    batches_ended: int

    @property
    def percent(self) -> float:
        """Finished requests in percent (100 for an empty round)."""
        return 100.0 * self.finished / self.requests if self.requests else 100.0

    def describe(self) -> str:
        """One line such as `round 0: 1,200 of 5,000 requests, 1 of 3 batches ended`."""
        return (
            f"round {self.round}: {self.finished:,} of {self.requests:,} requests finished, "
            f"{self.batches_ended} of {self.batches} batch(es) ended"
        )


def run_progress(ledger: Ledger, run_id: str) -> RunProgress:
    """The progress of the run's latest round, as the last polls recorded it.

    A batch whose provider keeps its tallies at zero until the end (Anthropic) counts all its
    requests once it has ended, and none before.
    """
    rows = ledger.chunk_batches(run_id)
    latest = max((chunk.round for chunk, _, _ in rows), default=0)
    requests = finished = batches = ended = 0
    for chunk, batch, counts in rows:
        if chunk.round != latest:
            continue
        requests += chunk.request_count
        if batch is None or batch.batch_id is None:
            continue
        batches += 1
        terminal = BatchStatus(batch.status).is_terminal
        ended += terminal
        total = sum(counts.values())
        if terminal:
            finished += chunk.request_count
        elif total:
            finished += min(chunk.request_count, total - counts.get("processing", 0))
    return RunProgress(run_id, latest, requests, finished, batches, ended)
