"""Task: wait for one batch to end, in the one shared poll loop."""

from __future__ import annotations

from datetime import timedelta

from prefect import get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from interviews.batch_types import BatchJob
from interviews.errors import TransientProviderError
from interviews.pipeline import wait_chunk
from interviews.polling import Backoff
from interviews.settings import get_settings
from tasks.context import RunContext


@task(cache_policy=NO_CACHE)
def wait_batch(job: BatchJob, request_count: int, context: RunContext) -> BatchJob:
    """Poll the batch with capped backoff until it ends; show progress in the Prefect UI.

    Transient poll failures are logged and polled again (the loop owns that retry); the wait
    ends at the batch's own deadline (provider window plus a margin).

    Args:
        job: the batch as submitted.
        request_count: requests in the batch (providers' own tallies may stay zero until the
            end, so progress is measured against this).
        context: ledger and credentials.

    Returns:
        The batch in a terminal state.

    Raises:
        BatchWaitTimeoutError: the deadline passed; re-running the same run id resumes.
    """
    settings = get_settings()
    logger = get_run_logger()
    progress_id = create_progress_artifact(
        progress=0.0, description=f"{job.provider} batch {job.batch_id}: requests finished"
    )

    def on_poll(polled: BatchJob) -> None:
        total = polled.counts.total
        done = (
            100.0
            if polled.status.is_terminal or not total
            else (100.0 * (total - polled.counts.processing) / total)
        )
        update_progress_artifact(artifact_id=progress_id, progress=done)
        logger.info("Batch %s: %s (%.0f%% done)", polled.batch_id, polled.provider_status, done)

    def on_transient(exc: TransientProviderError) -> None:
        logger.warning("Poll of batch %s failed, will poll again: %s", job.batch_id, exc)

    return wait_chunk(
        job,
        adapter=context.adapter(),
        ledger=context.ledger(),
        backoff=Backoff(
            settings.poll_initial_seconds, settings.poll_max_seconds, settings.poll_factor
        ),
        margin=timedelta(hours=settings.wait_margin_hours),
        on_poll=on_poll,
        on_transient_error=on_transient,
    )
