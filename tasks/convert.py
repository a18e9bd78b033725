"""Task: turn one chunk's raw results into interview records."""

from __future__ import annotations

import threading
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from interviews.batch_types import BatchJob
from interviews.catalog import get_model
from interviews.diskfull import disk_full_is_clear_in_task
from interviews.pipeline import convert_chunk
from interviews.quality import RETRY_FLAGS
from interviews.records import ConvertSummary
from tasks.context import RunContext

# Converting is CPU-bound Python: under the GIL, chunks converted side by side end no sooner
# than one after another, yet each holds its request index (about 30 MB per 100,000 requests)
# until it ends. Two at a time keep a million-interview run's memory bounded (bench_scale.py).
CONVERT_AT_ONCE = 2
_converting = threading.BoundedSemaphore(CONVERT_AT_ONCE)


@task(cache_policy=NO_CACHE)
@disk_full_is_clear_in_task
def convert_results(
    chunk_id: int,
    results_path: Path,
    job: BatchJob,
    model: str,
    context: RunContext,
    record_files: bool = True,
) -> ConvertSummary:
    """Write a record for every request of the chunk: into the run's JSONL part and, with
    `record_files`, as `{custom_id}.json` in the run's records folder.

    Every request gets a record (answered, errored, canceled, expired or missing); results are
    joined on `custom_id`, never on position.

    Args:
        chunk_id: the chunk's ledger id.
        results_path: the raw results file.
        job: the ended batch.
        model: the catalog model id.
        context: ledger and files.
        record_files: also write one JSON file per interview (the guide's layout).

    Returns:
        Tallies, tokens and cost of the chunk.
    """
    ledger = context.ledger()
    with _converting:
        summary = convert_chunk(
            ledger.get_chunk(chunk_id),
            results_path,
            job,
            model=get_model(job.provider, model),
            ledger=ledger,
            dirs=context.dirs,
            records_dir=context.records_dir if record_files else None,
            retry_flags=RETRY_FLAGS if context.retry_flagged else frozenset(),
        )
    logger = get_run_logger()
    logger.info(
        "Batch %s: %s", job.batch_id, ", ".join(f"{k} {v}" for k, v in summary.statuses.items())
    )
    for message in summary.problems.lines():  # bad result lines: skipped, or usage unknown
        logger.warning("%s", message)
    return summary
