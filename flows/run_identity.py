"""Run ids and the run's lease, as seen from inside a flow run.

A flow run started without a run id (a deployment's form left blank, a schedule) takes one
derived from the flow run itself: a Retry of a crashed flow run in the Prefect UI is the same
flow run, so it resumes its own run instead of preparing, and paying for, a new one. The flow
run is named after that run id, so the UI and the ledger speak of the same thing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from interviews.ledger import Ledger
from interviews.spec import BatchRunParameters


def derived_run_id(provider: str) -> str | None:
    """`{provider}-{scheduled start}-{flow run id prefix}` inside a flow run, else None.

    Both parts are fixed for the life of a flow run, retries included.
    """
    from prefect.runtime import flow_run

    run_key = flow_run.id
    if not run_key:
        return None
    scheduled = flow_run.scheduled_start_time
    return f"{provider}-{scheduled:%Y%m%d-%H%M%S}-{str(run_key).replace('-', '')[:6]}"


def with_run_id(params: BatchRunParameters) -> BatchRunParameters:
    """`params` with a run id: the one given, or the flow run's own (see the module)."""
    if params.run_id:
        return params
    run_id = derived_run_id("compare" if params.targets else params.provider)
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
