"""Health data is private: everything written under the data directory is 0600 / 0700.

Each test starts from the common umask 022 (under which files would be 0644 and folders 0755)
so that only the project's own mechanism can make them private.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from interviews.ledger import Ledger
from interviews.pipeline import consolidate_records, prepare_run
from interviews.preparation import DataDirs
from interviews.providers.anthropic_batches import AnthropicBatchAdapter
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE
from tests.test_pipeline import run_all

COMMON_UMASK = 0o022


@pytest.fixture
def common_umask() -> Iterator[None]:
    """This process as a fresh one would start: umask 022 (restored afterwards)."""
    before = os.umask(COMMON_UMASK)
    yield
    os.umask(before)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """A fresh `interviews` process with umask 022."""
    return subprocess.run(
        [sys.executable, "-m", "interviews", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250"},
        umask=COMMON_UMASK,
        timeout=120,
    )


def modes(root: Path) -> dict[str, int]:
    """Permission bits of everything under `root` (itself included), by relative path."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def assert_private(root: Path) -> None:
    for name, mode in modes(root).items():
        if (root / name).is_dir():
            assert mode == 0o700, f"folder {name} is {mode:o}"
        else:
            assert mode == 0o600, f"file {name} is {mode:o}"


def test_prepare_batch_run_and_convert_write_only_private_files(
    emu, tmp_path: Path, common_umask: None
) -> None:
    data = tmp_path / "data"
    prepared = cli("prepare", "--personas", str(SAMPLE), "--count", "4", "--data-dir", str(data))
    assert prepared.returncode == 0, prepared.stderr

    # a batch run against the emulator, in this process (umask 022 until the data dir opens)
    adapter = AnthropicBatchAdapter(api_key="k", base_url=emu.anthropic_base_url)
    ledger, dirs = Ledger.open(data), DataDirs(data)
    plan = prepare_run(
        BatchRunParameters(personas=str(SAMPLE), run_id="p1", count=5), ledger=ledger, dirs=dirs
    )
    [summary] = run_all(plan, adapter, ledger, dirs)
    assert summary.statuses == {"succeeded": 5}
    consolidate_records("p1", dirs)

    [results] = (data / "batch_results").glob("batch_output_anthropic_*.jsonl")
    converted = cli(
        "convert", "--results", str(results), "--provider", "anthropic", "--data-dir", str(data)
    )
    assert converted.returncode == 0, converted.stderr

    written = modes(data)
    # every kind of file the project writes is there, and each is private
    for expected in ("ledger.db", "batch_requests", "batch_results", "interviews", "runs/p1"):
        assert expected in written, sorted(written)
    assert any(name.startswith("runs/p1/") and name.endswith(".jsonl") for name in written)
    assert len(list((data / "interviews").glob("interview_*.json"))) == 5
    assert_private(data)


def test_an_older_world_readable_data_dir_gets_private_new_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "interviews").mkdir(parents=True)
    (data / "batch_requests").mkdir()
    old_record = data / "interviews" / "interview_0.json"
    old_record.write_text("{}")
    for path, mode in ((data, 0o755), (data / "interviews", 0o755), (old_record, 0o644)):
        path.chmod(mode)
    (data / "batch_requests").chmod(0o755)

    result = cli("prepare", "--personas", str(SAMPLE), "--count", "2", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr

    written = modes(data)
    new_files = [name for name in written if name.startswith("batch_requests/")]
    assert new_files and all(written[name] == 0o600 for name in new_files)
    # the project's own folders are tightened, so older files in them are out of reach too;
    # the data directory itself and the files already there are left as they were
    assert written["batch_requests"] == written["interviews"] == 0o700
    assert written["."] == 0o755 and written["interviews/interview_0.json"] == 0o644
