"""A command the CLI prints for the user to run next must do exactly what it says.

`interviews prepare` prints the `interviews run` that submits what it prepared. Following it
must send those requests and no others (once, it dropped `--count` and `--data-dir`, and the
printed command submitted every persona in the file to the default data dir).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import orjson

from tests.conftest import SAMPLE


def _requests(path: Path) -> list[dict]:
    """The request lines of a canonical request file, without the file's own name."""
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def test_the_command_prepare_prints_sends_exactly_what_it_prepared(
    block, control, tmp_path: Path, prefect_api: str
) -> None:
    data_dir = tmp_path / "my data"  # a space: the printed command must quote it
    template = tmp_path / "system.j2"
    template.write_text("You are {{ persona.name }}. Speak plainly.")
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "COLUMNS": "300"}
    interviews = [sys.executable, "-m", "interviews"]
    prepare = subprocess.run(
        [
            *interviews, "prepare", "--provider", "openai",
            "--personas", str(SAMPLE), "--count", "3", "--start-index", "2",
            "--max-tokens", "300", "--system-template", str(template),
            "--data-dir", str(data_dir),
        ],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert prepare.returncode == 0, prepare.stderr
    lines = prepare.stdout.splitlines()
    printed = lines[lines.index("  1. Submit exactly these requests:") + 1].strip()
    assert f"Records appear in {data_dir / 'interviews'}/" in prepare.stdout
    words = shlex.split(printed)
    assert words[:2] == ["interviews", "run"] and "--batch" in words and "--count" in words

    result = subprocess.run(
        [*interviews, *words[1:], "--credentials-block", block],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    stats = control.stats()["openai"]
    assert stats["batches_created"] == 1 and stats["requests_received"] == 3
    canonical = [
        path
        for path in (data_dir / "batch_requests").glob("batch_request_*.jsonl")
        if "_ready" not in path.name  # prepare's provider-ready copy sits beside it
    ]
    prepared, submitted = sorted(canonical, key=lambda path: path.stat().st_mtime)
    assert _requests(submitted) == _requests(prepared)  # the same requests, byte for byte
    assert [r["persona_id"] for r in _requests(prepared)] == [2, 3, 4]
    assert all(r["system_message"].endswith("Speak plainly.") for r in _requests(prepared))
    records = sorted(p.stem for p in (data_dir / "interviews").glob("*.json"))
    assert records == ["interview_2", "interview_3", "interview_4"]
