"""Run ids and the run's lease, as seen from inside a flow run.

A flow run started without a run id (a deployment's form left blank, a schedule) takes one
derived from the flow run itself: a Retry of a crashed flow run in the Prefect UI is the same
flow run, so it resumes its own run instead of preparing, and paying for, a new one. The flow
run is named after that run id, so the UI and the ledger speak of the same thing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from interviews.ledger import Ledger
from interviews.spec import BatchRunParameters


def derived_run_id(provider: str, flow_run: Any = None) -> str | None:
    """`{provider}-{created}-{flow run id prefix}` for a flow run (the current one by default;
    None outside any). Both parts are fixed for the life of a flow run, retries included
    (unlike its expected start, which a rescheduled retry moves).
    """
    if flow_run is None:
        from prefect.context import FlowRunContext

        context = FlowRunContext.get()
        flow_run = context.flow_run if context is not None else None
    if flow_run is None or flow_run.created is None:
        return None
    return f"{provider}-{flow_run.created:%Y%m%d-%H%M%S}-{flow_run.id.hex[:6]}"


def with_run_id(params: BatchRunParameters, flow_run: Any = None) -> BatchRunParameters:
    """`params` with a run id: the one given, or the flow run's own (see the module)."""
    if params.run_id:
        return params
    run_id = derived_run_id("compare" if params.targets else params.provider, flow_run)
    return params.model_copy(update={"run_id": run_id}) if run_id else params


def flow_run_name() -> str:
    """The name of a flow run: its run id (`flow_run_name=` of the flows that take `params`)."""
    from prefect.runtime import flow_run

    raw = flow_run.parameters.get("params") or {}
    params = raw if isinstance(raw, BatchRunParameters) else BatchRunParameters.model_validate(raw)
    return with_run_id(params).run_id or params.provider


@contextlib.contextmanager
def holding_run(ledger: Ledger, run_id: str) -> Iterator[None]:
    """Hold the run's lease (see `interviews.leases`) while a flow works on it.

    Raises:
        RunBusyError: another live process is working on the run.
    """
    from prefect.runtime import flow_run

    from interviews.leases import run_lease
    from interviews.settings import get_settings

    command = f"flow run {flow_run.name}" if flow_run.id else "interviews"
    with run_lease(ledger, run_id, command=command, seconds=get_settings().lease_seconds):
        yield


def cancel_batches_of_cancelled_flow_run(flow: Any, flow_run: Any, state: Any) -> None:
    """`on_cancellation` hook: cancelling a flow run in the Prefect UI cancels its provider
    batches too (each target's, for a compare run) and makes the cancel final, as
    `interviews cancel` does. Prefect runs it in the worker (or `serve`) process that ran the
    flow run, after stopping it.
    """
    import logging

    from interviews.cancel import cancel_run
    from interviews.preparation import open_data_dir
    from interviews.settings import get_settings

    logger = logging.getLogger("interviews.cancel")
    raw = flow_run.parameters.get("params") or {}
    params = with_run_id(BatchRunParameters.model_validate(raw), flow_run)
    settings = get_settings()
    ledger = open_data_dir(params.data_dir or settings.data_dir).open_ledger(settings.ledger_url)
    if not params.run_id or not ledger.runs_matching(params.run_id):
        logger.info("flow run %s was cancelled before its run was prepared", flow_run.name)
        return
    for line in cancel_run(ledger, params.run_id, params.credentials_block):
        logger.warning("flow run %s cancelled: %s", flow_run.name, line)


def tag_flow_run(*tags: str) -> None:
    """Add `tags` (e.g. `provider:anthropic`, `model:claude-sonnet-5-5`, `run:RUN`) to the
    current flow run, so the Prefect UI filters runs by provider, model and run id. Outside a
    flow run, nothing; tags already there are kept."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return
    flow_run = context.flow_run
    merged = list(dict.fromkeys([*(flow_run.tags or []), *tags]))
    if merged == list(flow_run.tags or []):
        return
    with get_client(sync_client=True) as client:
        client.update_flow_run(flow_run.id, tags=merged)
    flow_run.tags = merged
