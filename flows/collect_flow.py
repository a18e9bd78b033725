"""The `collect_batches` flow: finish the runs whose batches have ended, leave the rest.

Schedule it (e.g. hourly) next to detached runs: each call looks at every open run in the
ledger once, without waiting, so it holds no process while batches run for hours.
"""

from __future__ import annotations

from typing import Any

import orjson
from prefect import flow, get_run_logger

from flows.batch_flows import PROVIDER_FLOWS
from interviews.errors import InterviewsError
from interviews.leases import RunBusyError, busy_elsewhere, describe_holder, run_lease
from interviews.preparation import open_data_dir
from interviews.settings import get_settings
from interviews.spec import BatchRunParameters


@flow(name="collect-batches", log_prints=True)
def collect_batches(data_dir: str | None = None) -> list[dict[str, Any]]:
    """Look at every open run once: download, convert and report those whose batches ended,
    start their retry rounds (and an interview protocol's next question), and leave the ones
    still running for the next call. Runs that were only prepared, with nothing submitted yet,
    are left alone, and so are runs another live process is working on (an attached run, a
    second collect): only detached or abandoned runs are taken.

    Args:
        data_dir: the data directory whose ledger to read (default: settings).

    Returns:
        One summary per open run (`detached: True` for runs still waiting).
    """
    settings = get_settings()
    root = data_dir or settings.data_dir
    ledger = open_data_dir(root).open_ledger(settings.ledger_url)
    logger = get_run_logger()
    outcomes = []
    for run in ledger.open_runs():
        spec = orjson.loads(run["spec_json"])
        if not run["params_json"] or spec.get("mode") == "realtime":
            continue  # real-time runs have no batches; re-running their run id resumes them
        if not any(batch for _, batch, _ in ledger.chunk_batches(run["run_id"])):
            continue  # only prepared (e.g. by `interviews launch`): collect never starts paying
        params = BatchRunParameters.model_validate_json(run["params_json"])
        params = params.model_copy(update={"detach": True, "data_dir": str(root)})
        if spec.get("protocol_of"):  # a protocol's later question: the protocol run resumes
            # from its first question's run id, finishes this one and submits the next
            params = params.model_copy(update={"run_id": spec["protocol_of"]})
        holder = busy_elsewhere(ledger, params.run_id)
        if holder is not None:  # an attached run, or another collect: theirs to finish
            logger.info("Run %s: left alone, %s is on it", params.run_id, describe_holder(holder))
            outcomes.append(
                {"run_id": params.run_id, "ok": True, "left_alone": describe_holder(holder)}
            )
            continue
        try:
            # claimed here, so another collect sees this one (its flows claim it again)
            with run_lease(
                ledger, params.run_id, command="collect-batches", seconds=settings.lease_seconds
            ):
                outcomes.append(PROVIDER_FLOWS[params.provider](params))
        except RunBusyError as exc:  # claimed between the look above and the flow's own claim
            logger.info("Run %s: left alone (%s)", params.run_id, exc)
            outcomes.append({"run_id": params.run_id, "ok": True, "left_alone": "another process"})
        except InterviewsError as exc:  # one broken run must not stop the others
            logger.error("Run %s: %s", run["run_id"], exc)
            outcomes.append({"run_id": run["run_id"], "ok": False, "error": str(exc)})
    return outcomes
