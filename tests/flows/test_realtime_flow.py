"""Real-time mode: the same records through each provider's ordinary API, with the SDKs'
retries, and resume without sending an answered interview again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from flows.realtime_flow import realtime_interviews
from interviews.errors import PermanentProviderError
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE

PROVIDERS = ["anthropic", "openai", "vertex", "gemini"]
# the real-time route of each provider, as the fault rules match it
ROUTE = {
    "anthropic": r"/messages$",
    "openai": r"/chat/completions$",
    "vertex": r":generateContent$",
    "gemini": r":generateContent$",
}


@pytest.fixture(autouse=True)
def quick_google_retries(monkeypatch) -> None:
    """google-genai backs off on its own (no server hint); keep its first wait tiny here."""
    monkeypatch.setenv("INTERVIEWS_REALTIME_RETRY_INITIAL_SECONDS", "0.01")


def _params(provider: str, block: str, data_dir: Path, **extra) -> BatchRunParameters:
    values = {
        "provider": provider,
        "personas": str(SAMPLE),
        "count": 5,
        "run_id": "rt",
        "credentials_block": block,
        "data_dir": str(data_dir),
        "chunk_size": 2,  # three tasks
    }
    return BatchRunParameters(**values | extra)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_realtime_run_survives_429_and_500_and_resumes_without_resending(
    block, data_dir: Path, control, provider: str
) -> None:
    control.set_faults(
        http=[
            {
                "provider": provider,
                "method": "POST",
                "path": ROUTE[provider],
                "status": 429,
                "retry_after": 0.01,
                "count": 2,
            },
            {
                "provider": provider,
                "method": "POST",
                "path": ROUTE[provider],
                "status": 500,
                "count": 1,
            },
        ]
    )
    summary = realtime_interviews(_params(provider, block, data_dir))

    assert summary["ok"] and summary["mode"] == "realtime"
    assert summary["statuses"] == {"succeeded": 5}
    stats = control.stats()[provider]
    assert stats["realtime_requests"] == 5 and stats["faults_fired"] == 3
    assert stats["batches_created"] == 0
    records = [orjson.loads(p.read_bytes()) for p in sorted(data_dir.glob("interviews/*.json"))]
    assert [r["custom_id"] for r in records] == [f"interview_{i}" for i in range(5)]
    for record in records:
        assert record["mode"] == "realtime" and record["batch_id"] is None
        assert record["transcript"][-1]["role"] == "assistant"
        assert record["cost_usd"] > 0
    total = sum(r["cost_usd"] for r in records)
    assert float(summary["cost_usd"]["actual_realtime"]) == pytest.approx(total, rel=1e-6)

    again = realtime_interviews(_params(provider, block, data_dir))
    assert again["statuses"] == {"succeeded": 5}
    assert control.stats()[provider]["realtime_requests"] == 5  # nothing sent twice
    lines = Path(again["records_jsonl"]).read_bytes().splitlines()
    assert sorted(orjson.loads(line)["custom_id"] for line in lines) == [
        f"interview_{i}" for i in range(5)
    ]


def test_errored_requests_are_recorded_then_sent_again(block, data_dir: Path, control) -> None:
    control.set_faults(http=[{"method": "POST", "path": r"/messages$", "status": 400, "count": 1}])
    first = realtime_interviews(_params("anthropic", block, data_dir, chunk_size=None))
    assert first["statuses"] == {"errored": 1, "succeeded": 4}
    second = realtime_interviews(_params("anthropic", block, data_dir, chunk_size=None))
    assert second["statuses"] == {"succeeded": 5}
    stats = control.stats()["anthropic"]
    # the refused call was answered by the fault; the re-run sent only that one again
    assert (stats["faults_fired"], stats["realtime_requests"]) == (1, 5)


def test_rejected_key_stops_the_run(block, data_dir: Path, control) -> None:
    control.set_faults(http=[{"method": "POST", "path": r"/messages$", "status": 401, "count": 99}])
    with pytest.raises(PermanentProviderError, match="check the API key"):
        realtime_interviews(_params("anthropic", block, data_dir))
    assert not list(data_dir.glob("interviews/*.json"))  # no failure recorded per interview


def test_sigkill_mid_run_then_rerun_sends_each_interview_once(
    block, control, data_dir: Path, prefect_api: str
) -> None:
    # every call is held a little, so the run is surely killed with answers still to come
    control.set_faults(http=[{"method": "POST", "path": r"/messages$", "delay": 0.3, "count": 999}])
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "INTERVIEWS_REALTIME_CONCURRENCY": "1",
    }
    command = [
        sys.executable,
        "-m",
        "interviews",
        "run",
        "--realtime",
        "--personas",
        str(SAMPLE),
        "--count",
        "6",
        "--run-id",
        "rtcrash",
        "--credentials-block",
        block,
        "--data-dir",
        str(data_dir),
    ]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    part = data_dir / "runs" / "rtcrash" / "records" / "r0_c000.jsonl"
    deadline = time.monotonic() + 120
    while not (part.exists() and len(part.read_bytes().splitlines()) >= 2):
        assert first.poll() is None, first.stdout.read().decode()
        assert time.monotonic() < deadline, "no answer was recorded"
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    answered_before = len(part.read_bytes().splitlines())
    assert answered_before < 6  # killed mid-run
    control.set_faults({})

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert second.returncode == 0, second.stdout + second.stderr
    assert control.stats()["anthropic"]["realtime_requests"] == 6  # each interview sent once
    records = sorted(p.name for p in (data_dir / "interviews").glob("*.json"))
    assert records == [f"interview_{i}.json" for i in range(6)]
    lines = (data_dir / "runs" / "rtcrash" / "interviews.jsonl").read_bytes().splitlines()
    assert sorted(orjson.loads(line)["custom_id"] for line in lines) == [
        f"interview_{i}" for i in range(6)
    ]
