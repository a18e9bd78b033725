"""Task: interview one chunk's personas through the provider's real-time API."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from blocks.credentials import resolve_credentials
from interviews.catalog import get_model
from interviews.diskfull import disk_full_is_clear_in_task
from interviews.realtime import interview_chunk
from interviews.settings import get_settings
from tasks.context import RunContext


@task(cache_policy=NO_CACHE)
@disk_full_is_clear_in_task
def interview_realtime(
    chunk_id: int, model: str, context: RunContext, record_files: bool = True
) -> int:
    """Send the chunk's unanswered requests (bounded concurrency) and record each answer as it
    arrives; a re-run sends only what has no answer yet.

    No Prefect retries: the SDK retries each call (429, 5xx), and a request that still fails is
    recorded as errored, to be sent again by the next run of the same run id.

    Args:
        chunk_id: the chunk's ledger id.
        model: the catalog model id.
        context: ledger, files and credentials.
        record_files: also write one JSON file per interview (the guide's layout).

    Returns:
        How many requests were sent.
    """
    ledger = context.ledger()
    chunk = ledger.get_chunk(chunk_id)
    credentials = resolve_credentials(context.provider, context.credentials_block)
    sent = interview_chunk(
        chunk,
        make_adapter=credentials.get_realtime_adapter,
        model=get_model(context.provider, model),
        ledger=ledger,
        dirs=context.dirs,
        records_dir=context.records_dir if record_files else None,
        concurrency=get_settings().realtime_concurrency,
    )
    get_run_logger().info("Chunk %s: %d request(s) sent", chunk.key, sent)
    return sent
