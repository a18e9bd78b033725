"""Task: wait for one batch to end, in the one shared poll loop."""

from __future__ import annotations

from datetime import timedelta

from prefect import get_run_logger, task
from prefect.artifacts import update_progress_artifact
from prefect.cache_policies import NO_CACHE

from interviews import stopping
from interviews.batch_types import BatchJob
from interviews.diskfull import disk_full_is_clear_in_task
from interviews.errors import TransientProviderError
from interviews.pipeline import wait_chunk
from interviews.polling import Backoff
from interviews.progress import run_progress
from interviews.settings import Settings, get_settings
from tasks.context import RunContext
from tasks.events import emit_batch_ended


@task(cache_policy=NO_CACHE)
@disk_full_is_clear_in_task
def wait_batch(job: BatchJob, context: RunContext) -> BatchJob:
    """Poll the batch with capped backoff until it ends; keep the run's progress artifact in
    the Prefect UI up to date.

    Transient poll failures are logged and polled again (the loop owns that retry); the wait
    ends at the batch's own deadline (provider window plus a margin).

    Args:
        job: the batch as submitted.
        context: ledger and credentials.

    Returns:
        The batch in a terminal state.

    Raises:
        BatchWaitTimeoutError: the deadline passed; re-running the same run id resumes.
    """
    settings = get_settings()
    logger = get_run_logger()
    ledger = context.ledger()

    def on_poll(polled: BatchJob) -> None:
        if context.run_id is None:
            logger.info("Batch %s: %s", polled.batch_id, polled.provider_status)
            return
        progress = run_progress(ledger, context.run_id)  # every chunk's latest poll counts
        if context.progress_artifact_id is not None:
            update_progress_artifact(
                artifact_id=context.progress_artifact_id, progress=progress.percent
            )
        logger.info(
            "Batch %s: %s; run %s %s",
            polled.batch_id,
            polled.provider_status,
            context.run_id,
            progress.describe(),
        )

    def on_transient(exc: TransientProviderError) -> None:
        logger.warning("Poll of batch %s failed, will poll again: %s", job.batch_id, exc)

    ended = wait_chunk(
        job,
        adapter=context.adapter(),
        ledger=ledger,
        backoff=_backoff(settings, context),
        margin=timedelta(hours=settings.wait_margin_hours),
        on_poll=on_poll,
        on_transient_error=on_transient,
        max_hint=settings.max_server_wait_seconds,
        log=logger.warning,
        sleep=stopping.sleep,  # returns at once when the flow run is cancelled or stopped
    )
    emit_batch_ended(ended, context.run_id)
    return ended


# The emulator on this machine ends a batch in seconds: poll it every half second to two.
LOOPBACK_BACKOFF = Backoff(initial=0.5, maximum=2.0)


def _backoff(settings: Settings, context: RunContext) -> Backoff:
    """The poll intervals: the settings', or on loopback (unless the settings name their own)
    `LOOPBACK_BACKOFF`, so a run against the emulator does not wait 30 s per poll."""
    chosen = "poll_initial_seconds" in settings.model_fields_set  # set in the environment
    if not chosen and context.on_loopback():
        return LOOPBACK_BACKOFF
    return Backoff(settings.poll_initial_seconds, settings.poll_max_seconds, settings.poll_factor)
