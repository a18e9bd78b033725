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
