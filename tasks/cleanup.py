"""Task: delete what a provider keeps of an ended batch."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from interviews.batch_types import BatchJob
from interviews.diskfull import disk_full_is_clear_in_task
from tasks.context import RunContext


@task(cache_policy=NO_CACHE)
@disk_full_is_clear_in_task
def cleanup_batch(job: BatchJob, context: RunContext) -> int:
    """Delete the batch's uploaded inputs, result files, staged objects and, where the
    provider keeps answers in it, the batch itself. Runs only after the results are safely
    downloaded and converted; the local copies stay.

    Args:
        job: the ended, downloaded batch.
        context: credentials.

    Returns:
        How many provider-side objects were deleted.
    """
    deleted = context.adapter().cleanup(job.batch_id)
    get_run_logger().info("Batch %s: %d provider-side object(s) deleted", job.batch_id, deleted)
    return deleted
