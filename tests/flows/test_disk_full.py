"""A full disk under the data directory: one clear line, and the same --run-id resumes.

The data directory sits on a real 2 MiB tmpfs (these tests run as root, as CI does), filled
up while the run waits, so the ledger (SQLite) and the result files hit ENOSPC for real.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from interviews.diskfull import disk_full_is_clear, is_disk_full
from interviews.errors import DiskFullError
from interviews.ledger import Ledger
from tests.conftest import ROOT, SAMPLE


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, unmounted afterwards."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount_point)],
        check=True,
    )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path) -> Path:
    """Write a filler file until the disk is full; return it (delete it to free the disk)."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_full_disk_errors_from_sqlite_and_from_files_both_read_as_one_line(
    small_disk: Path,
) -> None:
    db = sqlite3.connect(small_disk / "x.db")
    db.execute("create table t (v blob)")
    db.commit()
    fill(small_disk)
    with pytest.raises(DiskFullError) as caught, disk_full_is_clear(small_disk, "r1"):
        for _ in range(1000):
            db.execute("insert into t values (randomblob(4096))")
            db.commit()
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    with pytest.raises(DiskFullError) as caught, disk_full_is_clear(small_disk, "r1"):
        (small_disk / "more.json").write_bytes(b"x" * 65536)
    assert caught.value.__cause__.errno == errno.ENOSPC
    assert str(caught.value) == (
        f"the disk holding the data directory {small_disk} is full (no space left for the "
        "ledger or the run's files); free some space, then re-run with the same --run-id r1: "
        "it resumes where it stopped and nothing is paid twice"
    )
    assert not is_disk_full(OSError(errno.EACCES, "denied"))


def test_disk_fills_during_a_run_then_the_same_run_id_finishes_with_one_batch(
    emu, control, small_disk: Path, prefect_api: str
) -> None:
    control.configure(processing_seconds=3600)  # the batch runs until the test advances it
    data_dir = small_disk / "data"
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "PREFECT_LOGGING_LEVEL": "INFO",
        "ANTHROPIC_BASE_URL": f"{emu.url}/anthropic",
        "ANTHROPIC_API_KEY": "emulator-key",
        "INTERVIEWS_POLL_INITIAL_SECONDS": "0.05",
        "INTERVIEWS_POLL_MAX_SECONDS": "0.05",
    }
    args = [sys.executable, "-m", "interviews", "run", "--personas", str(SAMPLE)]
    args += ["--count", "6", "--data-dir", str(data_dir), "--run-id", "full1"]
    child = subprocess.Popen(
        args, env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    for line in child.stdout:  # until the batch is submitted and being waited for
        lines.append(line)
        if "wait_batch" in line:
            break
    filler = fill(small_disk)
    control.advance(7200)  # the batch ends: results to download, ledger rows to write
    out, _ = child.communicate(timeout=300)
    screen = "".join(lines) + out
    assert child.returncode == 1, screen
    assert (
        f"error: the disk holding the data directory {data_dir} is full (no space left for "
        "the ledger or the run's files); free some space, then re-run with the same --run-id "
        "full1: it resumes where it stopped and nothing is paid twice"
    ) in screen.replace("\n", " ").replace("  ", " ")
    for raw in ("Traceback", "OperationalError", "Errno 28"):
        assert raw not in screen, screen

    filler.unlink()
    rerun = subprocess.run(args, env=env, cwd=str(ROOT), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "6 requested, 6 answered" in rerun.stdout
    assert control.stats()["anthropic"]["batches_created"] == 1  # nothing paid twice
    [chunk] = Ledger.open(data_dir).chunks("full1")
    assert chunk.results_path is not None
