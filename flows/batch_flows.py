"""Batch interview flows: one per provider, and the parent `batch_interviews`.

Deployments point here (`flows/batch_flows.py:batch_interviews`, ...). The flows only compose
tasks; their typed `BatchRunParameters` become the run form in the Prefect UI.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.batch_body import run_batch
from interviews.spec import BatchRunParameters


@flow(name="anthropic-batch", log_prints=True)
def anthropic_batch(params: BatchRunParameters) -> dict[str, Any]:
    """Interview personas through Anthropic's Message Batches API (50 % of real-time prices).

    Args:
        params: the run; `params.provider` must be "anthropic".

    Returns:
        The run summary (counts, tokens, cost at batch and real-time prices).
    """
    return run_batch(params.model_copy(update={"provider": "anthropic"}))


@flow(name="openai-batch", log_prints=True)
def openai_batch(params: BatchRunParameters) -> dict[str, Any]:
    """Interview personas through OpenAI's Batch API (50 % of real-time prices).

    Args:
        params: the run; `params.provider` must be "openai".

    Returns:
        The run summary (counts, tokens, cost at batch and real-time prices).
    """
    return run_batch(params.model_copy(update={"provider": "openai"}))


@flow(name="vertex-batch", log_prints=True)
def vertex_batch(params: BatchRunParameters) -> dict[str, Any]:
    """Interview personas through Vertex AI batch prediction (Gemini; GCS staging; 50 % off).

    Args:
        params: the run; `params.provider` must be "vertex".

    Returns:
        The run summary (counts, tokens, cost at batch and real-time prices).
    """
    return run_batch(params.model_copy(update={"provider": "vertex"}))


@flow(name="gemini-batch", log_prints=True)
def gemini_batch(params: BatchRunParameters) -> dict[str, Any]:
    """Interview personas through the Gemini Developer API's batch mode (50 % off).

    Args:
        params: the run; `params.provider` must be "gemini".

    Returns:
        The run summary (counts, tokens, cost at batch and real-time prices).
    """
    return run_batch(params.model_copy(update={"provider": "gemini"}))


PROVIDER_FLOWS = {
    "anthropic": anthropic_batch,
    "openai": openai_batch,
    "vertex": vertex_batch,
    "gemini": gemini_batch,
}


@flow(name="batch-interviews", log_prints=True)
def batch_interviews(params: BatchRunParameters) -> dict[str, Any]:
    """Interview personas through the batch API of `params.provider`.

    The parent flow: picks the provider's flow and runs it as a subflow, so each provider's
    runs are also visible on their own.

    Args:
        params: the run (provider, model, personas, count, start index, run id, ...).

    Returns:
        The run summary.
    """
    return PROVIDER_FLOWS[params.provider](params)
