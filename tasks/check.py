"""Task: read a batch's status once, without waiting (detached runs and `collect`)."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from interviews.batch_types import BatchJob
from interviews.diskfull import disk_full_is_clear_in_task
from tasks.context import RunContext
from tasks.events import emit_batch_ended


@task(cache_policy=NO_CACHE)
@disk_full_is_clear_in_task
def check_batch(job: BatchJob, context: RunContext) -> BatchJob:
    """One status read of the batch, recorded in the ledger.

    Args:
        job: the batch as last seen.
        context: ledger and credentials.

    Returns:
        The batch as the provider reports it now (terminal or not).
    """
    now = context.adapter().retrieve(job.batch_id)
    context.ledger().update_batch(now)
    get_run_logger().info("Batch %s: %s", now.batch_id, now.provider_status)
    if now.status.is_terminal:
        emit_batch_ended(now, context.run_id)
    return now
