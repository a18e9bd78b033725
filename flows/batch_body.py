"""The one body shared by every provider's batch flow: prepare → submit → wait → download →
convert → report. Composition only; each step is a task in `tasks/`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from interviews.errors import RunFailedError
from interviews.pipeline import consolidate_records, settle_status
from interviews.records import ConvertSummary
from interviews.report import RunReport
from interviews.spec import BatchRunParameters
from tasks.check import check_batch
from tasks.cleanup import cleanup_batch
from tasks.context import make_context
from tasks.convert import convert_results
from tasks.download import download_results
from tasks.prepare import prepare_batch
from tasks.report import publish_report
from tasks.retry import plan_retry
from tasks.submit import submit_batch
from tasks.wait import wait_batch


def run_batch(params: BatchRunParameters) -> dict[str, Any]:
    """Run (or resume) one batch interview run and return its summary.

    Raises:
        RunFailedError: the run ended with no interview answered.
    """
    context = make_context(params.provider, params.data_dir, params.credentials_block)
    plan = prepare_batch(params, context)
    summary = ConvertSummary()
    ended, results = [], []
    chunks, round_ = plan.chunks, 0
    while True:
        # submit every chunk before waiting on any, so all batches queue at the provider together
        submitted = [(chunk, submit_batch(chunk.id, context)) for chunk in chunks]
        this_round = ConvertSummary()
        pending = []
        for chunk, job in submitted:
            if params.detach:  # look once; `collect` comes back for batches still running
                job = check_batch(job, context)
                if not job.status.is_terminal:
                    pending.append(job)
                    continue
            else:
                job = wait_batch(job, chunk.request_count, context)
            path = download_results(chunk.id, job, context)
            converted = convert_results(
                chunk.id, path, job, plan.model.id, context, params.record_files
            )
            this_round.add(converted)
            if params.cleanup:
                cleanup_batch(job, context)
            ended.append(settle_status(job, converted))
            results.append(str(path))
        summary.add(this_round)
        if pending:
            return _detached(plan.run_id, pending, context)
        if not this_round.retryable or round_ >= params.max_rounds:
            break
        round_ += 1
        retry_ids = summary.retryable
        summary.supersede_retryable()  # their records are replaced by the next round's
        chunks = plan_retry(chunks, retry_ids, round_, context)
    consolidated = consolidate_records(plan.run_id, context.dirs)
    report = RunReport(
        run_id=plan.run_id,
        provider=plan.provider,
        model=plan.model.id,
        requests=sum(chunk.request_count for chunk in plan.chunks),
        requests_path=str(plan.requests_path),
        estimate_batch=Decimal(plan.estimate_usd or 0),
        summary=summary,
        batches=ended,
        results_paths=results,
        interviews_dir=str(context.dirs.interviews) if params.record_files else "",
        records_jsonl=str(consolidated),
    )
    result = publish_report(report, context)
    if not report.ok:
        raise RunFailedError(
            f"run {plan.run_id} ended with no interview answered "
            f"({', '.join(f'{k} {v}' for k, v in summary.statuses.items())}); "
            f"see {context.dirs.run(plan.run_id) / 'summary.json'}"
        )
    return result


def _detached(run_id: str, pending: list, context) -> dict[str, Any]:
    """Leave a detached run waiting: its batches run on at the provider."""
    context.ledger().update_run(run_id, status="waiting")
    return {
        "run_id": run_id,
        "ok": True,
        "detached": True,
        "waiting_batches": [job.batch_id for job in pending],
        "next": f"run `interviews collect` (or re-run --run-id {run_id}) once they end",
    }
