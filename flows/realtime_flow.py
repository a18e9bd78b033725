"""The `realtime_interviews` flow: the same interviews and records as a batch run, through
each provider's ordinary (real-time) API, for small runs, iteration and debugging."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from prefect import flow

from interviews.errors import RunFailedError
from interviews.pipeline import consolidate_records
from interviews.realtime import summarize_records, with_realtime_defaults
from interviews.report import RunReport
from interviews.spec import BatchRunParameters
from tasks.context import make_context
from tasks.prepare import prepare_batch
from tasks.realtime import interview_realtime
from tasks.report import publish_report


@flow(name="realtime-interviews", log_prints=True)
def realtime_interviews(params: BatchRunParameters) -> dict[str, Any]:
    """Interview personas through the provider's real-time API (full prices, answers in
    seconds). Re-running the same run id sends only the interviews without an answer.

    Args:
        params: the run (provider, model, personas, count, run id, ...); batch-only fields
            (rounds, detach, cleanup) are ignored.

    Returns:
        The run summary (counts, tokens, cost at real-time prices).

    Raises:
        RunFailedError: no interview was answered.
    """
    params = with_realtime_defaults(params)
    context = make_context(params)
    plan = prepare_batch(params, context, mode="realtime")
    context = context.model_copy(update={"run_id": plan.run_id})
    for chunk in plan.chunks:
        interview_realtime(chunk.id, plan.model.id, context, params.record_files)
    consolidated = consolidate_records(plan.run_id, context.dirs)
    report = RunReport(
        run_id=plan.run_id,
        provider=plan.provider,
        model=plan.model.id,
        requests=sum(chunk.request_count for chunk in plan.chunks),
        requests_path=str(plan.requests_path),
        estimate_batch=Decimal(plan.estimate_usd or 0),
        summary=summarize_records(consolidated),
        interviews_dir=str(context.records_dir) if params.record_files else "",
        records_jsonl=str(consolidated),
        mode="realtime",
    )
    result = publish_report(report, context)
    if not report.ok:
        raise RunFailedError(
            f"run {plan.run_id} ended with no interview answered; see "
            f"{context.dirs.run(plan.run_id) / 'summary.json'}"
        )
    return result
