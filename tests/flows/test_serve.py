"""`interviews serve`: prefect.yaml's deployments served from one process, without a work pool;
a triggered run completes, and stopping the process keeps the schedules as they were."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.conftest import ROOT, SAMPLE


def _deployment(client, name: str):
    from prefect.exceptions import ObjectNotFound

    try:
        return client.read_deployment_by_name(name)
    except ObjectNotFound:  # not registered yet
        return None


def test_serve_runs_deployments_and_keeps_schedules_on_shutdown(
    block, control, data_dir: Path, prefect_api: str
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "INTERVIEWS_POLL_INITIAL_SECONDS": "0.1",
        "INTERVIEWS_POLL_MAX_SECONDS": "0.2",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",  # a Retry or Cancel is seen within a second
    }
    serve = subprocess.Popen(
        [sys.executable, "-m", "interviews", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its flow-run subprocesses stop with it
    )
    names = [d["name"] for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]]
    try:
        with get_client(sync_client=True) as client:
            deadline = time.monotonic() + 120
            while _deployment(client, "collect-batches/collect-batches") is None:
                assert serve.poll() is None, serve.stdout.read().decode()
                assert time.monotonic() < deadline, "serve registered no deployment"
                time.sleep(0.5)
        run = run_deployment(
            "anthropic-batch/anthropic-batch",
            parameters={
                "params": {
                    "provider": "anthropic",
                    "personas": str(SAMPLE),
                    "count": 2,
                    "run_id": "served",
                    "credentials_block": block,
                    "data_dir": str(data_dir),
                }
            },
            timeout=180,
        )
        assert run.state.is_completed(), run.state
        assert len(list((data_dir / "interviews").glob("interview_*.json"))) == 2
        _crash_then_retry_in_the_ui_resumes_its_own_run(block, control, data_dir / "retry")
        _cancel_in_the_ui_cancels_the_batch(block, control, data_dir / "cancel")
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(timeout=60)

    with get_client(sync_client=True) as client:
        served = {d.name: d for d in client.read_deployments()}
        assert set(names) <= set(served)
        nightly = served["nightly-batch"]
        assert not nightly.paused  # not paused on shutdown: runs due meanwhile go Late
        [schedule] = nightly.schedules
        assert schedule.schedule.cron == "30 1 * * *"
        assert schedule.schedule.timezone == "Europe/Berlin"
        assert schedule.active is False  # as prefect.yaml says: nothing fires unasked


def _blank_form(block: str, data_dir: Path, count: int) -> dict:
    """A run form as the UI sends it with the run id left empty."""
    return {
        "params": {
            "provider": "anthropic",
            "personas": str(SAMPLE),
            "count": count,
            "credentials_block": block,
            "data_dir": str(data_dir),
        }
    }


def _await(what: str, reached, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while not (value := reached()):
        assert time.monotonic() < deadline, f"never reached: {what}"
        time.sleep(0.2)
    return value


def _holder_pid(data_dir: Path) -> int | None:
    """The pid of the process holding a run's lease (the served flow run's own process)."""
    from interviews.ledger import Ledger

    if not (data_dir / "ledger.db").exists():
        return None
    ledger = Ledger.open(data_dir)
    try:
        with ledger.engine.connect() as conn:
            owners = [row.owner for row in conn.exec_driver_sql("SELECT owner FROM leases")]
    finally:
        ledger.engine.dispose()
    return int(owners[0].rsplit(":", 2)[1]) if owners else None


def _crash_then_retry_in_the_ui_resumes_its_own_run(block, control, data_dir: Path) -> None:
    """SIGKILL the flow run's process while its batch runs, then do what the UI's Retry does
    (the same flow run, set back to Scheduled): it resumes its own run, pays once."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.states import Scheduled

    from interviews.ledger import Ledger

    control.reset()
    control.configure(processing_seconds=3600)
    started = run_deployment(
        "anthropic-batch/anthropic-batch", parameters=_blank_form(block, data_dir, 3), timeout=0
    )
    pid = _await("a flow run process holding its run", lambda: _holder_pid(data_dir))
    _await("a submitted batch", lambda: control.stats()["anthropic"]["batches_created"] == 1)
    os.kill(pid, signal.SIGKILL)
    with get_client(sync_client=True) as client:
        crashed = _await(
            "the flow run marked crashed",
            lambda: (r := client.read_flow_run(started.id)).state.is_crashed() and r,
        )
        run_id = crashed.name  # the flow run is named after its run id
        assert run_id.startswith("anthropic-") and Ledger.open(data_dir).runs(run_id)
        control.advance(3601)  # the batch ended meanwhile
        client.set_flow_run_state(started.id, Scheduled(), force=True)  # the UI's Retry
        retried = _await(
            "the retried flow run to finish",
            lambda: (r := client.read_flow_run(started.id)).state.is_final() and r,
            timeout=180,
        )
    assert retried.state.is_completed(), retried.state
    assert retried.name == run_id
    assert control.stats()["anthropic"]["batches_created"] == 1  # resumed, not paid again
    assert [r["run_id"] for r in Ledger.open(data_dir).runs()] == [run_id]
    assert len(list((data_dir / "interviews").glob("interview_*.json"))) == 3


def _cancel_in_the_ui_cancels_the_batch(block, control, data_dir: Path) -> None:
    """Cancelling a flow run in the UI cancels its provider batch, and the cancel is final."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.states import Cancelling

    from interviews.ledger import Ledger

    control.reset()
    control.configure(processing_seconds=3600)
    started = run_deployment(
        "anthropic-batch/anthropic-batch", parameters=_blank_form(block, data_dir, 2), timeout=0
    )
    _await("a submitted batch", lambda: control.stats()["anthropic"]["batches_created"] == 1)
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(started.id, Cancelling(), force=True)  # the UI's Cancel
        cancelled = _await(
            "the flow run cancelled",
            lambda: (r := client.read_flow_run(started.id)).state.is_cancelled() and r,
        )

    def batch_status():
        ledger = Ledger.open(data_dir)
        try:
            [(_, batch, _)] = ledger.chunk_batches(cancelled.name)
            return batch.provider_status in ("canceling", "ended") and ledger.is_canceled(
                cancelled.name
            )
        finally:
            ledger.engine.dispose()

    _await("the provider batch canceled by the hook", batch_status)
