"""Task: plan a retry round from the requests that failed for a passing reason."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from interviews.diskfull import disk_full_is_clear_in_task
from interviews.ledger import ChunkRow
from interviews.pipeline import plan_retry_round
from tasks.context import RunContext


@task(cache_policy=NO_CACHE)
@disk_full_is_clear_in_task
def plan_retry(
    previous: list[ChunkRow], retry_ids: list[str], round_: int, context: RunContext
) -> list[ChunkRow]:
    """Write round `round_`'s chunks: the retryable requests of the previous round, sent again
    exactly as before (or the round's chunks from the ledger, when resuming).

    Args:
        previous: the previous round's chunks.
        retry_ids: custom ids that errored transiently, expired, were canceled or are missing.
        round_: the new round's number (the first round is 0).
        context: ledger and files.

    Returns:
        The new round's chunks (empty if there is nothing to retry).
    """
    chunks = plan_retry_round(
        previous, set(retry_ids), round_=round_, ledger=context.ledger(), dirs=context.dirs
    )
    get_run_logger().info(
        "Retry round %d: %d request(s) in %d chunk(s)",
        round_,
        sum(c.request_count for c in chunks),
        len(chunks),
    )
    return chunks
