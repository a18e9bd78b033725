"""Request files: a name per prepare (never per second), and nothing left by a killed one."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import orjson

from interviews.requests import request_file_path
from tests.conftest import SAMPLE

SECOND = datetime(2026, 12, 6, 9, 30, 15, tzinfo=UTC)


def test_names_reserved_in_the_same_second_never_collide(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(lambda _: request_file_path(tmp_path, "openai", SECOND), range(16)))
    assert len(set(paths)) == 16
    assert paths[0].parent == tmp_path and all(p.exists() for p in paths)
    assert sorted(p.name for p in paths)[0] == "batch_request_openai_20261206_093015.jsonl"


def _prepare(data: Path, count: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable, "-m", "interviews", "prepare", "--provider", "anthropic",
            "--personas", str(SAMPLE), "--count", str(count), "--data-dir", str(data),
        ],
        env={**os.environ, "INTERVIEWS_NOW": SECOND.isoformat()},  # the same second for both
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_two_prepares_in_one_second_keep_both_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    processes = [_prepare(data, count) for count in (2, 5)]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    canonical = [p for p in (data / "batch_requests").glob("*.jsonl") if "_ready" not in p.name]
    sizes = sorted(len(p.read_bytes().splitlines()) for p in canonical)
    assert sizes == [2, 5]  # neither replaced the other
    for path in canonical:  # each file whole, and its ready copy beside it
        assert all(orjson.loads(line) for line in path.read_bytes().splitlines())
        assert path.with_name(f"{path.stem}_ready_c000.jsonl").exists()


def test_a_killed_prepares_partial_files_are_swept_and_a_live_ones_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    requests = data / "batch_requests"
    requests.mkdir(parents=True)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    orphan = requests / f"batch_request_anthropic_20261206_000000.jsonl.{gone.pid}.partial"
    orphan.write_text('{"persona": "health data"}\n')
    live = requests / f"batch_request_anthropic_20261206_000001.jsonl.{os.getpid()}.partial"
    live.write_text("being written\n")
    process = _prepare(data, 1)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert not orphan.exists()
    assert live.exists()
