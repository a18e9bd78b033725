"""SIGKILL at every dangerous moment, then re-run: one batch per chunk, every interview once.

Each case holds the run at its moment, checks it is there, kills it (SIGKILL), and runs the
same command again. The moments, for each of the four providers:
- waiting: the batch is recorded and running (no fault: a long processing time);
- create_before: the emulator holds the create call before handling it, so nothing exists at
  the provider yet (prepare and upload are done);
- create_after: the emulator handled the create but holds its answer: the batch exists, its id
  was never saved;
- download: the batch ended (the ledger says so) and nothing was saved yet: the emulator holds
  the results download: Anthropic's results stream, OpenAI's output file content, and for
  Vertex the media download of the prediction file from GCS. A Gemini batch this small is sent
  inline, and inline results come back inside the batch resource itself: the download is the
  `batches.get` made after the wait, identical on the wire to a poll. So the test holds one
  poll, ends the batch on the emulator clock and installs the hold again (which lets the held
  poll go, see `interviews.emulator.faults`): the next read, the one that fetches the inline
  results, is held. (Only file-input batches, over 20 MB, download a results file.)
- convert (once, on Anthropic: the same for every provider): records are being written. No
  provider call happens then, so the record writer is
  held instead, deterministically rather than by racing it (writing all 24 records takes a
  few milliseconds): the temporary name of one record (`<custom_id>.json.partial`, see
  `interviews.records`) is a FIFO nobody reads, so opening it blocks. The run is killed once
  every record before that one (in results order) is written, and checked to be mid-convert:
  the run's interviews.jsonl not there, fewer records than requests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from interviews.ledger import Ledger
from interviews.providers import get_adapter_class
from tests.conftest import SAMPLE

CREATE = {
    "anthropic": ("POST", r"/messages/batches$"),
    "openai": ("POST", r"/batches$"),
    "vertex": ("POST", r"/batchPredictionJobs$"),
    "gemini": ("POST", r":batchGenerateContent$"),
}
DOWNLOAD = {
    "anthropic": ("GET", r"/results$"),
    "openai": ("GET", r"/content$"),
    "vertex": ("GET", r"/prediction-model-[^/]+/predictions[^/]*\.jsonl$"),  # GCS media
    "gemini": ("GET", r"/batches/[^/:]+$"),  # inline results: the batch read after the wait
}
MOMENTS = ("waiting", "create_before", "create_after", "download")
# converting makes no provider call: the same record writer for every provider, so one case.
# Waiting is the ledger's batch id read back and polled again, the same for every provider:
# one provider with inline results and one with results in Cloud Storage keep the suite short.
CASES = [
    (provider, moment)
    for moment in MOMENTS
    for provider in CREATE
    if moment != "waiting" or provider in ("anthropic", "vertex")
] + [("anthropic", "convert")]
HOLD = 60  # seconds: longer than any case; a hold also ends as soon as the faults change


@pytest.mark.parametrize(("provider", "moment"), CASES)
def test_sigkill_then_rerun_pays_once_and_records_each_interview_once(
    block,
    control,
    data_dir: Path,
    prefect_api: str,
    provider: str,
    moment: str,
) -> None:
    count = 4
    two_step = moment == "download" and provider == "gemini"
    # around the create call the batch takes 2 s, so the re-run finds it still running (an
    # Anthropic batch then cannot show whose it is until its results arrive)
    creating = moment in ("create_before", "create_after")
    control.configure(
        processing_seconds=3600 if moment == "waiting" or two_step else 2 if creating else 0
    )
    if creating or (moment == "download" and not two_step):
        method, path = (DOWNLOAD if moment == "download" else CREATE)[provider]
        control.set_faults(http=[_hold(provider, method, path, after=moment == "create_after")])
    if moment == "convert":
        count = sum(1 for line in SAMPLE.read_text().splitlines() if line.strip())
        held = data_dir / "interviews" / f"interview_{count - 1}.json.partial"
        held.parent.mkdir()
        os.mkfifo(held)
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "INTERVIEWS_POLL_INITIAL_SECONDS": "0.1",
        "INTERVIEWS_POLL_MAX_SECONDS": "0.2",
    }
    command = [
        sys.executable, "-m", "interviews", "run",
        "--provider", provider,
        "--personas", str(SAMPLE),
        "--count", str(count),
        "--run-id", "crash",
        "--credentials-block", block,
        "--data-dir", str(data_dir),
    ]  # fmt: skip
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        if moment == "waiting" or two_step:
            # Running, not pending: Google batches start when first read, so a batch killed
            # while pending would only start, and take its hour, after the clock moves on.
            _await(first, "a running batch", lambda: _batch(data_dir) == "running")
        if two_step:
            method, path = DOWNLOAD[provider]
            control.set_faults(http=[_hold(provider, method, path)])
            _await(first, "a held poll", lambda: _fired(control, provider) >= 1)
            control.advance(3601)  # the batch ends at its next read
            control.set_faults(http=[_hold(provider, method, path)])  # lets the poll go
            _await(first, "the results read", lambda: _fired(control, provider) >= 2)
        elif moment == "convert":
            _await(first, "the held record", lambda: _held_record(provider, data_dir, held))
        elif moment != "waiting":
            _await(first, f"the held call ({moment})", lambda: _fired(control, provider) >= 1)
            if moment != "download":  # let the held create reach its handler (or be handled)
                time.sleep(0.5 if moment == "create_before" else 1.0)
        if moment == "download":  # the wait is over, no results saved
            assert _batch(data_dir) == "succeeded"
            assert not list(data_dir.glob("batch_results/*.jsonl"))
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    control.set_faults({})
    if moment == "convert":  # killed mid-conversion
        held.unlink()
        assert not (data_dir / "runs" / "crash" / "interviews.jsonl").exists()
        assert len(list((data_dir / "interviews").glob("*.json"))) < count
    if moment == "waiting":
        assert control.stats()[provider]["batches_created"] == 1
        control.advance(3601)

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Resuming run crash" in second.stdout.replace("\n", "")
    stats = control.stats()[provider]
    assert stats["batches_created"] == 1
    if provider in ("openai", "vertex"):
        assert stats["files_uploaded"] == 1
    expected = sorted(f"interview_{i}" for i in range(count))
    assert sorted(os.listdir(data_dir / "interviews")) == [f"{c}.json" for c in expected]
    lines = (data_dir / "runs" / "crash" / "interviews.jsonl").read_bytes().splitlines()
    assert sorted(orjson.loads(line)["custom_id"] for line in lines) == expected
    # no wrong adoption: every answer comes from the one batch the ledger holds for the run
    ledger = Ledger.open(data_dir)
    owned = {ledger.get_batch(chunk.id).batch_id for chunk in ledger.chunks("crash")}
    ledger.engine.dispose()
    assert {orjson.loads(line)["batch_id"] for line in lines} == owned


def _hold(provider: str, method: str, path: str, *, after: bool = False) -> dict:
    """A fault holding the next matching call (before it is handled, or after with `after`)."""
    return {
        "provider": provider, "method": method, "path": path,
        "delay": HOLD, "delay_after": after,
    }  # fmt: skip


def _await(process: subprocess.Popen, what: str, reached: Callable[[], bool]) -> None:
    """Poll until `reached()`, failing if the run ends first or takes far too long."""
    deadline = time.monotonic() + 120
    while not reached():
        if process.poll() is not None:
            pytest.fail(f"the run ended before {what}:\n{process.stdout.read().decode()}")
        assert time.monotonic() < deadline, f"the run never reached {what}"
        time.sleep(0.1)


def _fired(control, provider: str) -> int:
    return control.stats()[provider]["faults_fired"]


def _batch(data_dir: Path) -> str | None:
    """The status of the first chunk's batch as the ledger has it (None while it has no id)."""
    ledger = Ledger.open(data_dir)
    try:
        chunks = ledger.chunks("crash") if ledger.get_run("crash") else []
        batch = ledger.get_batch(chunks[0].id) if chunks else None
        return batch.status if batch is not None and batch.batch_id else None
    finally:
        ledger.engine.dispose()


def _held_record(provider: str, data_dir: Path, held: Path) -> bool:
    """Whether the record writer is blocked on `held`: every record it writes before that one
    (in the order of the results file, which it follows) is there."""
    results = list(data_dir.glob("batch_results/*.jsonl"))
    if not results:
        return False
    order = [outcome.custom_id for outcome in get_adapter_class(provider).parse_results(results[0])]
    before = order.index(held.name.removesuffix(".json.partial"))
    written = len(list(held.parent.glob("*.json")))
    started = before > 0 or any((data_dir / "runs" / "crash" / "records").glob("*.partial"))
    return written == before and started
