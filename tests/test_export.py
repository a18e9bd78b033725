"""`interviews export`: one row per interview in Parquet, CSV or JSONL, streamed in blocks,
read back with pyarrow and the csv module; bad run ids and runs without records refused."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from interviews import export
from interviews.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def _record(i: int) -> dict:
    answered = i % 5 != 4
    return {
        "persona_id": i if i % 2 else f"p{i}",
        "timestamp": "2026-12-07T10:00:00+00:00",
        "provider": "anthropic",
        "model": "claude-sonnet-5-5",
        "transcript": [
            {"role": "user", "content": "How are you?"},
            {"role": "assistant", "content": f"Fine, {i}."},
            {"role": "user", "content": "And your medicines?"},
            *([{"role": "assistant", "content": f"Metformin, {i}."}] if answered else []),
        ],
        "custom_id": f"interview_{i}",
        "run_id": "run-1",
        "batch_id": "msgbatch_1",
        "mode": "batch",
        "round": 0,
        "status": "succeeded" if answered else "errored",
        "finish_reason": "end_turn" if answered else None,
        "usage": {"input_tokens": 100 + i, "output_tokens": 20, "cache_read_tokens": 5,
                  "cache_write_tokens": 0, "reasoning_tokens": 0, "cache_write_1h_tokens": 0}
        if answered else None,
        "cost_usd": 0.001 * i if answered else None,
        "error": None if answered else {"kind": "api_error", "message": "boom", "transient": False},
        "question": "And your medicines?",
        "answer": f"Metformin, {i}." if answered else None,
        "flags": ["truncated"] if i == 3 else [],
    }  # fmt: skip


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "runs" / "run-1"
    folder.mkdir(parents=True)
    lines = [orjson.dumps(_record(i)) for i in range(25)]
    # a line cut off by a crash is skipped, not an error
    (folder / "interviews.jsonl").write_bytes(b"\n".join(lines) + b'\n{"persona_id": 9')
    return folder


def test_parquet_is_written_in_blocks_with_typed_columns(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "_BLOCK_ROWS", 10)
    dest = run_dir / "export" / "interviews.parquet"
    assert export.export_run(run_dir / "interviews.jsonl", dest, "parquet") == 25
    parquet = pq.ParquetFile(dest)
    assert parquet.metadata.num_row_groups == 3  # 10 + 10 + 5: never all rows at once
    table = parquet.read()
    assert table.column_names == list(export.COLUMNS)
    rows = table.to_pylist()
    assert rows[3]["questions"] == ["How are you?", "And your medicines?"]
    assert rows[3]["answers"] == ["Fine, 3.", "Metformin, 3."] and rows[3]["flags"] == ["truncated"]
    assert rows[0]["persona_id"] == "p0" and rows[1]["persona_id"] == "1"  # text in every row
    assert rows[4]["status"] == "errored" and rows[4]["answer"] is None
    assert rows[4]["input_tokens"] is None and rows[4]["error_kind"] == "api_error"
    assert rows[7]["input_tokens"] == 107 and rows[7]["cost_usd"] == pytest.approx(0.007)
    assert not list(dest.parent.glob("*.partial"))


def test_csv_and_jsonl_hold_the_same_rows(run_dir: Path) -> None:
    records = run_dir / "interviews.jsonl"
    export.export_run(records, run_dir / "x.csv", "csv")
    export.export_run(records, run_dir / "x.jsonl", "jsonl")
    with (run_dir / "x.csv").open(newline="") as handle:
        from_csv = list(csv.DictReader(handle))
    from_jsonl = [json.loads(line) for line in (run_dir / "x.jsonl").read_text().splitlines()]
    assert len(from_csv) == len(from_jsonl) == 25
    assert list(from_csv[0]) == list(export.COLUMNS) == list(from_jsonl[0])
    assert json.loads(from_csv[3]["answers"]) == from_jsonl[3]["answers"]  # lists as JSON
    assert from_csv[3]["custom_id"] == from_jsonl[3]["custom_id"] == "interview_3"


def test_a_bad_run_id_or_a_run_without_records_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is not a run id"):
        export.check_run_id("../../etc")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="has no records yet"):
        export.records_file(tmp_path / "empty")
    with pytest.raises(InputError, match="unknown export format"):
        export.export_run(tmp_path / "x.jsonl", tmp_path / "y.xlsx", "xlsx")


def test_the_command_writes_inside_the_data_dir(run_dir: Path) -> None:
    data = run_dir.parents[1]
    result = subprocess.run(
        [sys.executable, "-m", "interviews", "export", "run-1", "-f", "csv", "--data-dir",
         str(data)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "✓ 25 interviews exported to" in result.stdout
    assert (run_dir / "export" / "interviews.csv").is_file()
    bad = subprocess.run(
        [sys.executable, "-m", "interviews", "export", "run-1", "-f", "xlsx", "--data-dir",
         str(data)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 1 and "--format must be one of parquet, csv, jsonl" in bad.stderr
