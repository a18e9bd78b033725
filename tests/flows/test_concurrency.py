"""Two of everything on one run: real `interviews` processes side by side, against the emulator.

In each case the first process is held inside its most dangerous call (the batch create, or a
real-time call), where the ledger holds an intent but no batch id yet, so a second process
that took that for a crash would create a second batch or send every interview again. The
others start while it is held: a second `run` of the same id stops with a message naming the
first, and two `collect`s (the hourly deployment) leave the run to its process. Then the hold
is released, and the provider-side counts must equal exactly one submission, with one record
per persona.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.conftest import SAMPLE
from tests.flows.test_crash_matrix import CREATE, DOWNLOAD, HOLD

PROVIDERS = ["anthropic", "openai", "vertex", "gemini"]
REALTIME = {
    "anthropic": ("POST", r"/messages$"),
    "openai": ("POST", r"/chat/completions$"),
    "vertex": ("POST", r":generateContent$"),
    "gemini": ("POST", r":generateContent$"),
}
COUNT = 4


def _env(prefect_api: str) -> dict[str, str]:
    return {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "INTERVIEWS_POLL_INITIAL_SECONDS": "0.1",
        "INTERVIEWS_POLL_MAX_SECONDS": "0.2",
        "INTERVIEWS_REALTIME_CONCURRENCY": "1",
        "COLUMNS": "250",
    }


def _run(provider: str, block: str, data_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "interviews", "run",
        "--provider", provider,
        "--personas", str(SAMPLE),
        "--count", str(COUNT),
        "--run-id", "busy",
        "--credentials-block", block,
        "--data-dir", str(data_dir),
        *extra,
    ]  # fmt: skip


def _held(control, provider: str, first: subprocess.Popen, fired_before: int = 0) -> None:
    """Wait until the first process is inside the held call (a fault fired since
    `fired_before`)."""
    deadline = time.monotonic() + 120
    while control.stats()[provider]["faults_fired"] <= fired_before:
        if first.poll() is not None:
            pytest.fail(f"the first process ended before its held call:\n{first.stdout.read()}")
        assert time.monotonic() < deadline, "the first process never reached its held call"
        time.sleep(0.1)


def _assert_refused(second: subprocess.CompletedProcess, holder: str, pid: int) -> None:
    """The second process stopped at once, naming the one that holds the run."""
    assert second.returncode == 1, second.stdout + second.stderr
    refusal = " ".join((second.stdout + second.stderr).split())
    assert f"run busy is being worked on by {holder} (pid {pid} on " in refusal
    assert "nothing was sent" in refusal and "Traceback" not in refusal


def _stop(process: subprocess.Popen) -> None:
    """Kill a process a failed test left running."""
    if process.poll() is None:
        process.kill()
        process.wait()


def _one_record_each(data_dir: Path) -> list[dict]:
    expected = [f"interview_{i}" for i in range(COUNT)]
    assert sorted(p.stem for p in (data_dir / "interviews").glob("*.json")) == expected
    lines = (data_dir / "runs" / "busy" / "interviews.jsonl").read_bytes().splitlines()
    records = [orjson.loads(line) for line in lines]
    assert sorted(record["custom_id"] for record in records) == expected
    return records


def _collect(data_dir: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "interviews", "collect", "--data-dir", str(data_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _hold(control, provider: str, method: str, path: str) -> None:
    control.set_faults(http=[{"provider": provider, "method": method, "path": path, "delay": HOLD}])


# The run's lease, not the provider, keeps the second process out: one provider with inline
# requests and one staging its input in Cloud Storage (each ~20 s) cover it.
@pytest.mark.parametrize("provider", ["anthropic", "vertex"])
def test_run_beside_run_and_collects_pays_once(
    block, control, data_dir: Path, prefect_api: str, provider: str
) -> None:
    """1. A detached run held in its create call; meanwhile a second `run` of the same id is
    refused and two `collect`s leave it alone. 2. Its batch ends; one `collect` is held in
    the results download while a second `collect` starts: it leaves the run alone."""
    control.configure(processing_seconds=3600)
    _hold(control, provider, *CREATE[provider])
    env = _env(prefect_api)
    command = _run(provider, block, data_dir, "--detach")
    first = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        _held(control, provider, first)
        chunk_files = {p: p.read_bytes() for p in (data_dir / "runs" / "busy").glob("*.jsonl")}
        assert chunk_files  # prepared and recorded by the first run

        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        collects = [_collect(data_dir, env) for _ in range(2)]
        collected = [process.communicate(timeout=180)[0] for process in collects]
        assert control.stats()[provider]["batches_created"] == 0  # the first is still held
        control.set_faults({})  # the held create goes on
        out, _ = first.communicate(timeout=180)
    finally:
        _stop(first)

    _assert_refused(second, "interviews run", first.pid)
    for process, output in zip(collects, collected, strict=True):
        assert process.returncode == 0, output
        assert "Run busy: left alone, interviews run (pid" in " ".join(output.split()), output
    assert first.returncode == 0, out
    assert "is waiting on" in " ".join(out.split())  # detached, its batch running
    # the refused run prepared nothing over them and cleaned nothing up
    assert {p: p.read_bytes() for p in chunk_files} == chunk_files

    # 2. collect beside collect, on the ended batch
    control.advance(3601)
    _hold(control, provider, *DOWNLOAD[provider])
    fired = control.stats()[provider]["faults_fired"]
    one = _collect(data_dir, env)
    try:
        _held(control, provider, one, fired_before=fired)
        other = subprocess.run(
            [sys.executable, "-m", "interviews", "collect", "--data-dir", str(data_dir)],
            env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        control.set_faults({})
        finished, _ = one.communicate(timeout=180)
    finally:
        _stop(one)
    assert other.returncode == 0, other.stdout + other.stderr
    assert "Run busy: left alone, collect-batches (pid" in " ".join(other.stdout.split())
    assert one.returncode == 0, finished
    assert "Run summary: busy" in finished

    stats = control.stats()[provider]
    assert stats["batches_created"] == 1
    assert stats["requests_received"] == COUNT
    records = _one_record_each(data_dir)
    assert len({record["batch_id"] for record in records}) == 1
    assert (data_dir / "runs" / "busy" / "summary.json").exists()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_realtime_beside_realtime_sends_each_interview_once(
    block, control, data_dir: Path, prefect_api: str, provider: str
) -> None:
    method, path = REALTIME[provider]
    control.set_faults(http=[{"provider": provider, "method": method, "path": path, "delay": HOLD}])
    env = _env(prefect_api)
    command = _run(provider, block, data_dir, "--realtime")
    first = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        _held(control, provider, first)
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        control.set_faults({})
        out, _ = first.communicate(timeout=180)
    finally:
        _stop(first)
    _assert_refused(second, "interviews run --realtime", first.pid)
    assert first.returncode == 0, out
    assert control.stats()[provider]["realtime_requests"] == COUNT  # each interview once
    _one_record_each(data_dir)
