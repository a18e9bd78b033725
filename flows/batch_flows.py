"""Batch interview flows: one per provider, and the parent `batch_interviews`.

Deployments point here (`flows/batch_flows.py:batch_interviews`, ...). The flows only compose
tasks; their typed `BatchRunParameters` become the run form in the Prefect UI.
"""

from __future__ import annotations

import contextlib
import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from flows.batch_body import run_batch
from flows.run_identity import (
    cancel_batches_of_cancelled_flow_run,
    flow_run_name,
    holding_run,
    with_run_id,
)
from interviews.errors import ConfigurationError, RunFailedError
from interviews.fanout import compare_run_id, target_runs
from interviews.pipeline import prepare_runs
from interviews.spec import BatchRunParameters
from tasks.context import make_context
from tasks.report import publish_comparison

# Chunks of one run in flight at once (uploads, waits, downloads, conversions). The steps
# mostly wait on the network; the bound keeps thread count and provider load predictable.
CHUNK_WORKERS = 8


def _for_provider(params: BatchRunParameters, provider: str) -> BatchRunParameters:
    """The parameters of a provider's own flow, which refuses another provider's run (the
    UI form lets one pick any provider; silently running this one instead would mislead)."""
    if params.provider != provider or params.targets:
        raise ConfigurationError(
            f"the {provider}-batch flow runs {provider} only, not "
            f"{', '.join(params.targets) or params.provider}; use the batch-interviews "
            "deployment (or `interviews run`) for other providers and compare runs"
        )
    return with_run_id(params)


@flow(
    name="anthropic-batch",
    flow_run_name=flow_run_name,
    log_prints=True,
    task_runner=ThreadPoolTaskRunner(CHUNK_WORKERS),
    on_cancellation=[cancel_batches_of_cancelled_flow_run],
)
def anthropic_batch(params: BatchRunParameters) -> dict[str, Any]:
    """Interview personas through Anthropic's Message Batches API (50 % of real-time prices).

    Args:
        params: the run; `params.provider` must be "anthropic".

    Returns:
        The run summary (counts, tokens, cost at batch and real-time prices).
    """
    return run_batch(_for_provider(params, "anthropic"))


@flow(
    name="openai-batch",
    flow_run_name=flow_run_name,
    log_prints=True,
    task_runner=ThreadPoolTaskRunner(CHUNK_WORKERS),
    on_cancellation=[cancel_batches_of_cancelled_flow_run],
)
def openai_batch(params: BatchRunParameters) -> dict[str, Any]:
    """Interview personas through OpenAI's Batch API (50 % of real-time prices).

    Args:
        params: the run; `params.provider` must be "openai".

    Returns:
        The run summary (counts, tokens, cost at batch and real-time prices).
    """
    return run_batch(_for_provider(params, "openai"))


@flow(
    name="vertex-batch",
    flow_run_name=flow_run_name,
    log_prints=True,
    task_runner=ThreadPoolTaskRunner(CHUNK_WORKERS),
    on_cancellation=[cancel_batches_of_cancelled_flow_run],
)
def vertex_batch(params: BatchRunParameters) -> dict[str, Any]:
    """Interview personas through Vertex AI batch prediction (Gemini; GCS staging; 50 % off).

    Args:
        params: the run; `params.provider` must be "vertex".

    Returns:
        The run summary (counts, tokens, cost at batch and real-time prices).
    """
    return run_batch(_for_provider(params, "vertex"))


@flow(
    name="gemini-batch",
    flow_run_name=flow_run_name,
    log_prints=True,
    task_runner=ThreadPoolTaskRunner(CHUNK_WORKERS),
    on_cancellation=[cancel_batches_of_cancelled_flow_run],
)
def gemini_batch(params: BatchRunParameters) -> dict[str, Any]:
    """Interview personas through the Gemini Developer API's batch mode (50 % off).

    Args:
        params: the run; `params.provider` must be "gemini".

    Returns:
        The run summary (counts, tokens, cost at batch and real-time prices).
    """
    return run_batch(_for_provider(params, "gemini"))


def _prepare_within_budget(runs: list[BatchRunParameters]) -> None:
    """Prepare every target first when --max-cost is set: it caps the whole compare run, not
    each target (each target's flow then resumes its prepared run).

    Raises:
        BudgetError: the targets together are estimated above --max-cost (nothing was sent).
    """
    if runs[0].max_cost_usd is None:
        return
    context = make_context(runs[0])
    ledger = context.ledger()
    with contextlib.ExitStack() as held:
        for run in runs:
            held.enter_context(holding_run(ledger, run.run_id))
        prepare_runs(runs, ledger=ledger, dirs=context.dirs)


PROVIDER_FLOWS = {
    "anthropic": anthropic_batch,
    "openai": openai_batch,
    "vertex": vertex_batch,
    "gemini": gemini_batch,
}


@flow(
    name="batch-interviews",
    flow_run_name=flow_run_name,
    log_prints=True,
    on_cancellation=[cancel_batches_of_cancelled_flow_run],
)
def batch_interviews(params: BatchRunParameters) -> dict[str, Any]:
    """Interview personas through the batch API of `params.provider`, or compare several
    providers and models on the same personas (`params.targets`).

    The parent flow: each provider's flow runs as a subflow, so its runs are also visible on
    their own. Targets run side by side, each as its own run in the ledger; one failing target
    does not stop the others.

    Args:
        params: the run (provider, model or targets, personas, count, run id, ...).

    Returns:
        The run summary; for targets, `{"run_id", "ok", "targets": [summary, ...]}`.

    Raises:
        RunFailedError: a compare run where some target failed (after all have finished).
    """
    params = with_run_id(params)  # a Retry in the UI resumes this very run
    if not params.targets:
        return PROVIDER_FLOWS[params.provider](params)
    params = params.model_copy(update={"run_id": compare_run_id(params.run_id)})
    runs = target_runs(params)
    _prepare_within_budget(runs)
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        # each thread gets a copy of this flow's context, so the subflows are its children
        futures = [
            pool.submit(contextvars.copy_context().run, PROVIDER_FLOWS[run.provider], run)
            for run in runs
        ]
        outcomes = [future.exception() or future.result() for future in futures]
    summaries, failed = [], []
    for run, outcome in zip(runs, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            get_run_logger().error("Target %s failed: %s", run.run_id, outcome)
            summaries.append(
                {
                    "run_id": run.run_id,
                    "provider": run.provider,
                    "model": run.model,
                    "ok": False,
                    "error": str(outcome),
                }
            )
            failed.append(run.run_id)
        else:
            summaries.append(outcome)
    result = publish_comparison(params.run_id, summaries, params.data_dir)
    if failed:
        raise RunFailedError(
            f"compare run {params.run_id}: {len(failed)} of {len(runs)} target(s) failed "
            f"({', '.join(failed)}); the others finished. Re-run with --run-id {params.run_id} "
            "to resume the failed ones."
        )
    return result
