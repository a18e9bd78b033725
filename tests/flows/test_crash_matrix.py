"""SIGKILL at the dangerous moments, then re-run: one batch per chunk, every interview once.

The emulator holds one call (`delay` fault) so the run is killed exactly there:
- create, before it is handled: nothing exists at the provider yet (after prepare/upload);
- create, after it is handled but before the answer: the batch exists, its id was never saved;
- results download: the batch ended, nothing was downloaded yet.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SAMPLE
from tests.flows.test_batch_flows import block  # noqa: F401 - the credentials fixture

CREATE = {
    "anthropic": ("POST", r"/messages/batches$"),
    "openai": ("POST", r"/batches$"),
    "vertex": ("POST", r"/batchPredictionJobs$"),
    "gemini": ("POST", r":batchGenerateContent$"),
}
DOWNLOAD = {"anthropic": ("GET", r"/results$"), "openai": ("GET", r"/content$")}
CASES = (
    [(p, "create_before") for p in CREATE]
    + [(p, "create_after") for p in CREATE]
    + [(p, "download") for p in DOWNLOAD]
)


@pytest.mark.parametrize(("provider", "moment"), CASES)
def test_sigkill_then_rerun_pays_once_and_records_each_interview_once(
    block,  # noqa: F811
    control,
    data_dir: Path,
    prefect_api: str,
    provider: str,
    moment: str,
) -> None:
    method, path = (DOWNLOAD if moment == "download" else CREATE)[provider]
    control.configure(processing_seconds=0)
    control.set_faults(
        http=[
            {
                "provider": provider,
                "method": method,
                "path": path,
                "delay": 60,
                "delay_after": moment == "create_after",
            }
        ]
    )
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "INTERVIEWS_POLL_INITIAL_SECONDS": "0.1",
        "INTERVIEWS_POLL_MAX_SECONDS": "0.2",
    }
    command = [
        sys.executable,
        "-m",
        "interviews",
        "run",
        "--provider",
        provider,
        "--personas",
        str(SAMPLE),
        "--count",
        "4",
        "--run-id",
        "crash",
        "--credentials-block",
        block,
        "--data-dir",
        str(data_dir),
    ]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while control.stats()[provider]["faults_fired"] < 1 and first.poll() is None:
        assert time.monotonic() < deadline, "the run never reached the held call"
        time.sleep(0.1)
    assert first.poll() is None, first.stdout.read().decode()
    time.sleep(0.5 if moment != "create_after" else 1.0)  # let the held call be handled
    first.send_signal(signal.SIGKILL)
    first.wait()
    control.set_faults({})

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert second.returncode == 0, second.stdout + second.stderr
    stats = control.stats()[provider]
    assert stats["batches_created"] == 1
    if provider in ("openai", "vertex"):
        assert stats["files_uploaded"] == 1
    records = sorted(p.name for p in (data_dir / "interviews").glob("*.json"))
    assert records == [f"interview_{i}.json" for i in range(4)]
    lines = (data_dir / "runs" / "crash" / "interviews.jsonl").read_text().splitlines()
    assert len(lines) == 4
