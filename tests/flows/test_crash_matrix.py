"""SIGKILL at the dangerous moments, then re-run: one batch per chunk, every interview once.

The emulator holds one call (`delay` fault) so the run is killed exactly there:
- create, before it is handled: nothing exists at the provider yet (after prepare/upload);
- create, after it is handled but before the answer: the batch exists, its id was never saved;
- results download: the batch ended, nothing was downloaded yet.
And one kill needs no fault: while waiting, the batch recorded and still running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interviews.ledger import Ledger
from tests.conftest import SAMPLE

CREATE = {
    "anthropic": ("POST", r"/messages/batches$"),
    "openai": ("POST", r"/batches$"),
    "vertex": ("POST", r"/batchPredictionJobs$"),
    "gemini": ("POST", r":batchGenerateContent$"),
}
DOWNLOAD = {"anthropic": ("GET", r"/results$"), "openai": ("GET", r"/content$")}
# provider states that mean "submitted and being polled"
RUNNING = {"in_progress", "JOB_STATE_RUNNING", "JOB_STATE_PENDING", "JOB_STATE_QUEUED"}
CASES = (
    [(p, "waiting") for p in CREATE]
    + [(p, "create_before") for p in CREATE]
    + [(p, "create_after") for p in CREATE]
    + [(p, "download") for p in DOWNLOAD]
)


@pytest.mark.parametrize(("provider", "moment"), CASES)
def test_sigkill_then_rerun_pays_once_and_records_each_interview_once(
    block,
    control,
    data_dir: Path,
    prefect_api: str,
    provider: str,
    moment: str,
) -> None:
    if moment == "waiting":
        control.configure(processing_seconds=3600)
    else:
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
    while not _reached(moment, provider, control, data_dir) and first.poll() is None:
        assert time.monotonic() < deadline, f"the run never reached {moment}"
        time.sleep(0.1)
    assert first.poll() is None, first.stdout.read().decode()
    time.sleep(0.5 if moment != "create_after" else 1.0)  # let the held call be handled
    first.send_signal(signal.SIGKILL)
    first.wait()
    control.set_faults({})
    if moment == "waiting":
        assert control.stats()[provider]["batches_created"] == 1
        control.advance(3601)

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Resuming run crash" in second.stdout.replace("\n", "")
    stats = control.stats()[provider]
    assert stats["batches_created"] == 1
    if provider in ("openai", "vertex"):
        assert stats["files_uploaded"] == 1
    records = sorted(p.name for p in (data_dir / "interviews").glob("*.json"))
    assert records == [f"interview_{i}.json" for i in range(4)]
    lines = (data_dir / "runs" / "crash" / "interviews.jsonl").read_text().splitlines()
    assert len(lines) == 4


def _reached(moment: str, provider: str, control, data_dir: Path) -> bool:
    """Whether the run is where it should be killed: in the wait loop with its batch recorded,
    or inside the call the emulator holds."""
    if moment != "waiting":
        return control.stats()[provider]["faults_fired"] >= 1
    ledger = Ledger.open(data_dir)
    chunks = ledger.chunks("crash") if ledger.get_run("crash") else []
    batch = ledger.get_batch(chunks[0].id) if chunks else None
    return batch is not None and bool(batch.batch_id) and batch.provider_status in RUNNING
