"""SIGTERM stops a waiting `interviews run` at once, says how to resume, and the resumed run
finishes without a second batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from interviews.ledger import Ledger
from tests.conftest import ROOT, SAMPLE


def test_sigterm_mid_wait_exits_143_with_the_resume_line_and_the_rerun_pays_once(
    emu, control, data_dir: Path, prefect_api: str
) -> None:
    control.configure(processing_seconds=3600)  # the batch keeps running until advanced
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "PREFECT_LOGGING_LEVEL": "INFO",
        "ANTHROPIC_BASE_URL": f"{emu.url}/anthropic",
        "ANTHROPIC_API_KEY": "emulator-key",
        "INTERVIEWS_POLL_INITIAL_SECONDS": "600",  # asleep between polls when the signal comes
        "INTERVIEWS_POLL_MAX_SECONDS": "600",
    }
    args = [sys.executable, "-m", "interviews", "run", "--personas", str(SAMPLE)]
    args += ["--count", "3", "--data-dir", str(data_dir), "--run-id", "sig1"]
    child = subprocess.Popen(
        args, env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    for line in child.stdout:  # read until the wait task has polled once: it now sleeps
        lines.append(line)
        if "wait_batch" in line and "0 of 3 requests finished" in line:
            break
    child.send_signal(signal.SIGTERM)
    out, _ = child.communicate(timeout=60)  # a guard only: the exit is immediate
    screen = "".join(lines) + out
    assert child.returncode == 143, screen
    assert (
        "error: stopped by SIGTERM; nothing is lost: re-run with --run-id sig1 to resume "
        "(nothing is paid twice)" in screen
    )
    assert "Traceback" not in screen
    ledger = Ledger.open(data_dir)
    [chunk] = ledger.chunks("sig1")
    assert ledger.get_batch(chunk.id).batch_id is not None  # the batch id was kept
    assert control.stats()["anthropic"]["batches_created"] == 1

    control.advance(7200)  # the batch ends at the provider meanwhile
    env["INTERVIEWS_POLL_INITIAL_SECONDS"] = env["INTERVIEWS_POLL_MAX_SECONDS"] = "0.05"
    rerun = subprocess.run(
        args, env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "3 requested, 3 answered" in rerun.stdout
    assert control.stats()["anthropic"]["batches_created"] == 1  # resumed, not resubmitted
