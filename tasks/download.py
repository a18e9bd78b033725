"""Task: download one batch's raw results, kept exactly as returned."""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from interviews.batch_types import BatchJob
from interviews.diskfull import disk_full_is_clear_in_task
from interviews.errors import is_transient
from interviews.pipeline import download_chunk
from tasks.context import RunContext


def _retry_if_transient(task, task_run, state) -> bool:
    """Retry the whole download only for transient failures (e.g. a cut-off body)."""
    try:
        state.result()
    except Exception as exc:
        return is_transient(exc)
    return False


@task(
    cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5, retry_condition_fn=_retry_if_transient
)
@disk_full_is_clear_in_task
def download_results(
    chunk_id: int, job: BatchJob, context: RunContext, refetch: bool = False
) -> Path:
    """Stream the batch's results into `batch_results/` and check that no line is missing.

    Retried (twice) as a whole step only on transient failures; the SDK owns per-call retries.

    Args:
        chunk_id: the chunk's ledger id.
        job: the ended batch.
        context: ledger, files and credentials.
        refetch: download again even if the results were saved before (the earlier file is
            kept, renamed `….replaced-N.jsonl`).

    Returns:
        Path of the raw results file.
    """
    ledger = context.ledger()
    chunk = ledger.get_chunk(chunk_id)
    if refetch and chunk.results_path is not None and context.dirs.fetch(chunk.results_path):
        get_run_logger().warning(
            "Fetching the results of batch %s again; the earlier file is kept as %s",
            job.batch_id,
            chunk.results_path.with_name(f"{chunk.results_path.stem}.replaced-N.jsonl").name,
        )
    return download_chunk(
        chunk, job, adapter=context.adapter(), ledger=ledger, dirs=context.dirs, refetch=refetch
    )
