"""Task: create one chunk's provider batch, exactly once."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from interviews.batch_types import BatchJob
from interviews.diskfull import disk_full_is_clear_in_task
from interviews.pipeline import submit_chunk
from interviews.settings import get_settings
from tasks.context import RunContext


@task(cache_policy=NO_CACHE)
@disk_full_is_clear_in_task
def submit_batch(chunk_id: int, context: RunContext) -> BatchJob:
    """Submit the chunk, or resume / adopt the batch the ledger knows for it.

    No Prefect retries here: the SDK retries single HTTP calls, and a create whose outcome is
    unknown is settled by the ledger's lookup on the next run, never by sending it again.

    Args:
        chunk_id: the chunk's ledger id.
        context: ledger, files and credentials.

    Returns:
        The batch as the provider reports it now.
    """
    ledger = context.ledger()
    chunk = ledger.get_chunk(chunk_id)
    logger = get_run_logger()
    job = submit_chunk(
        chunk,
        adapter=context.adapter(),
        ledger=ledger,
        dirs=context.dirs,
        max_hint=get_settings().max_server_wait_seconds,
        log=logger.warning,
    )
    logger.info(
        "Chunk %s → %s batch %s (%s)", chunk.key, job.provider, job.batch_id, job.provider_status
    )
    return job
