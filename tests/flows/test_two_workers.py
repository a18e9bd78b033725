"""Two workers that share nothing but the PostgreSQL ledger and a gs:// data directory.

Each worker is a real `interviews` process in a working directory of its own, with its own
workspace: what one leaves for the other must be in the ledger or the bucket. The nightly
detached run submitted by one is collected by the other; a worker SIGKILLed in the middle of
a run (in its create call, or holding the results download) is finished by the other's
`collect`, paying once, with one record per interview, all in the bucket.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pytest

from interviews.datastore import RemoteMirror
from interviews.preparation import DataDirs
from tests.conftest import SAMPLE
from tests.flows.test_crash_matrix import CREATE, DOWNLOAD, HOLD, _await

COUNT = 4


@pytest.fixture
def shared(
    emu, postgres_url: str, prefect_api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """What the two workers share: the ledger database, the bucket, the Prefect API (and
    the test itself reads the bucket through its own workspace)."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emu.gcs_url)
    monkeypatch.setenv("INTERVIEWS_WORKSPACE_DIR", str(tmp_path / "checker"))
    return {
        "INTERVIEWS_LEDGER_URL": postgres_url,
        "STORAGE_EMULATOR_HOST": emu.gcs_url,
        "PREFECT_API_URL": prefect_api,
        "INTERVIEWS_POLL_INITIAL_SECONDS": "0.1",
        "INTERVIEWS_POLL_MAX_SECONDS": "0.2",
        "COLUMNS": "250",
        "data_dir": f"gs://interviews-emulator/w-{uuid.uuid4().hex[:8]}/data",
    }


def _worker(tmp_path: Path, name: str, shared: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """A worker's working directory and environment (its workspace inside that directory)."""
    home = tmp_path / name
    home.mkdir()
    env = {k: v for k, v in shared.items() if k != "data_dir"}
    return home, {**os.environ, **env, "INTERVIEWS_WORKSPACE_DIR": str(home / "workspace")}


def _run(provider: str, block: str, shared: dict[str, str], *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "interviews", "run",
        "--provider", provider,
        "--personas", str(SAMPLE),
        "--count", str(COUNT),
        "--run-id", "nightly",
        "--credentials-block", block,
        "--data-dir", shared["data_dir"],
        *extra,
    ]  # fmt: skip


def _collect(shared: dict[str, str], home: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.run(
        [sys.executable, "-m", "interviews", "collect", "--data-dir", shared["data_dir"]],
        cwd=home, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _finished_in_the_bucket(shared: dict[str, str], provider: str, control) -> None:
    """One batch paid, every request sent once, one record per interview in the bucket (read
    by a third workspace), each from the one batch."""
    stats = control.stats()[provider]
    assert stats["batches_created"] == 1
    assert stats["requests_received"] == COUNT
    mirror = RemoteMirror(shared["data_dir"])
    dirs = DataDirs(mirror.root, mirror)
    expected = [f"interview_{n}" for n in range(COUNT)]
    for custom_id in expected:
        assert dirs.fetch(dirs.interviews / f"{custom_id}.json"), custom_id
    consolidated = dirs.run("nightly") / "interviews.jsonl"
    assert dirs.fetch(consolidated) and dirs.fetch(dirs.run("nightly") / "summary.json")
    records = [orjson.loads(line) for line in consolidated.read_bytes().splitlines()]
    assert sorted(record["custom_id"] for record in records) == expected
    assert {record["status"] for record in records} == {"succeeded"}
    assert len({record["batch_id"] for record in records}) == 1


def _nothing_left_in(*homes: Path) -> None:
    """Only the workspaces were written in the workers' own directories (no ./data)."""
    for home in homes:
        assert sorted(p.name for p in home.iterdir()) in ([], ["workspace"]), home


def test_the_nightly_run_one_worker_submits_is_collected_by_the_other(
    block, control, shared: dict[str, str], tmp_path: Path
) -> None:
    control.configure(processing_seconds=3600)
    one, one_env = _worker(tmp_path, "one", shared)
    two, two_env = _worker(tmp_path, "two", shared)
    submitted = subprocess.run(
        _run("openai", block, shared, "--detach"),
        cwd=one, env=one_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    assert "is waiting on" in " ".join(submitted.stdout.split())

    waiting = _collect(shared, two, two_env)  # the hourly collect: nothing has ended yet
    assert waiting.returncode == 0, waiting.stdout + waiting.stderr
    assert "is waiting on" in " ".join(waiting.stdout.split())
    control.advance(3601)
    collected = _collect(shared, two, two_env)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert "Run summary: nightly" in collected.stdout
    _finished_in_the_bucket(shared, "openai", control)
    _nothing_left_in(one, two)


@pytest.mark.parametrize(("provider", "moment"), [("anthropic", "create"), ("vertex", "download")])
def test_a_worker_killed_mid_run_is_finished_by_the_other(
    block, control, shared: dict[str, str], tmp_path: Path, provider: str, moment: str
) -> None:
    """Killed inside the create call (the ledger holds an intent and no batch id; on
    Anthropic the batch is still running and cannot show whose it is), or holding the
    results download (the batch ended, nothing downloaded): the other worker's `collect`
    takes the dead worker's run over and finishes it without a second batch."""
    control.configure(processing_seconds=3600 if moment == "create" else 0)
    method, path = (CREATE if moment == "create" else DOWNLOAD)[provider]
    # the create is held after it is handled: the batch exists, its id never reaches the worker
    hold = {"delay": HOLD, "delay_after": moment == "create"}
    control.set_faults(http=[{"provider": provider, "method": method, "path": path, **hold}])
    one, one_env = _worker(tmp_path, "one", shared)
    two, two_env = _worker(tmp_path, "two", shared)
    first = subprocess.Popen(
        _run(provider, block, shared), cwd=one, env=one_env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _await(first, "its held call", lambda: control.stats()[provider]["faults_fired"] >= 1)
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    control.set_faults({})
    if moment == "create":
        assert control.stats()[provider]["batches_created"] == 1
        control.advance(3601)  # the batch has ended when the other worker looks

    collected = _collect(shared, two, two_env)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert "Run summary: nightly" in collected.stdout
    _finished_in_the_bucket(shared, provider, control)
