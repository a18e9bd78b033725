"""The `realtime_interviews` flow: the same interviews and records as a batch run, through
each provider's ordinary (real-time) API, for small runs, iteration and debugging."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.batch_body import report_run
from flows.run_identity import flow_run_name, holding_run, tag_flow_run, with_run_id
from interviews.preparation import new_run_id
from interviews.realtime import with_realtime_defaults
from interviews.spec import BatchRunParameters
from tasks.context import make_context
from tasks.prepare import prepare_batch
from tasks.realtime import interview_realtime


@flow(name="realtime-interviews", flow_run_name=flow_run_name, log_prints=True)
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
    params = with_run_id(with_realtime_defaults(params))
    if not params.run_id:
        params = params.model_copy(update={"run_id": new_run_id(params.provider)})
    tag_flow_run(f"provider:{params.provider}", f"model:{params.model_id}", f"run:{params.run_id}")
    context = make_context(params)
    # the lease: a second real-time run of this id would send every interview again
    with holding_run(context.ledger(), params.run_id):
        plan = prepare_batch(params, context, mode="realtime")
        params = params.model_copy(update={"records_subdir": plan.records_subdir})
        context = context.model_copy(
            update={"run_id": plan.run_id, "records_subdir": plan.records_subdir}
        )
        for chunk in plan.chunks:
            interview_realtime(chunk.id, plan.model.id, context, params.record_files)
        return report_run(plan, params, context, mode="realtime")
