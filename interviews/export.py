"""Exporting a run: one row per interview, as Parquet, CSV or JSONL, for pandas, polars or
duckdb.

The rows come from the run's consolidated records (`runs/{run_id}/interviews.jsonl`, or a batch
protocol's `transcripts.jsonl`, whose records hold the whole conversation), read line by line
and written in blocks: a million-interview run never sits in memory.

Columns (`COLUMNS`): ids and where the answer came from, every question and answer in order
(lists), the last question and answer, quality flags (list), finish reason, token counts and
cost, and the error of an interview that was not answered. `persona_id` is text in every
format (persona files mix numbers and names). CSV holds each list as a JSON array.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from interviews.errors import InputError
from interviews.jsonl import atomic_writer, whole_records

FORMATS = ("parquet", "csv", "jsonl")
# The run-id field's pattern (spec.BatchRunParameters.run_id): a run id names a folder.
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_USAGE = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
COLUMNS = (
    "run_id",
    "custom_id",
    "persona_id",
    "provider",
    "model",
    "mode",
    "status",
    "round",
    "batch_id",
    "timestamp",
    "questions",
    "answers",
    "question",
    "answer",
    "flags",
    "finish_reason",
    *_USAGE,
    "cost_usd",
    "error_kind",
    "error_message",
)
_LISTS = frozenset({"questions", "answers", "flags"})
_BLOCK_ROWS = 10_000  # rows per Parquet row group


def records_file(run_dir: Path) -> Path:
    """The run's records to export: a batch protocol's whole transcripts, else its records.

    Raises:
        InputError: the run has no records yet.
    """
    for name in ("transcripts.jsonl", "interviews.jsonl"):
        if (run_dir / name).is_file():
            return run_dir / name
    raise InputError(
        f"run {run_dir.name} has no records yet (no interviews.jsonl); wait for it to end, or "
        "finish it with `interviews collect`",
        path=str(run_dir),
    )


def check_run_id(run_id: str) -> str:
    """`run_id` if it can name a run folder; an InputError naming the fix otherwise."""
    if not _RUN_ID.match(run_id):
        raise InputError(
            f"{run_id!r} is not a run id (letters, digits, `_`, `.` and `-`); see "
            "`interviews status` for the runs"
        )
    return run_id


def row(record: dict[str, Any]) -> dict[str, Any]:
    """One export row from one interview record."""
    transcript = record.get("transcript") or []
    usage = record.get("usage") or {}
    error = record.get("error") or {}
    persona_id = record.get("persona_id")
    return {
        "run_id": record.get("run_id"),
        "custom_id": record.get("custom_id"),
        "persona_id": None if persona_id is None else str(persona_id),
        "provider": record.get("provider"),
        "model": record.get("model"),
        "mode": record.get("mode"),
        "status": record.get("status"),
        "round": record.get("round"),
        "batch_id": record.get("batch_id"),
        "timestamp": record.get("timestamp"),
        "questions": [t["content"] for t in transcript if t.get("role") == "user"],
        "answers": [t["content"] for t in transcript if t.get("role") == "assistant"],
        "question": record.get("question"),
        "answer": record.get("answer"),
        "flags": list(record.get("flags") or ()),
        "finish_reason": record.get("finish_reason"),
        **{key: usage.get(key) if record.get("usage") is not None else None for key in _USAGE},
        "cost_usd": record.get("cost_usd"),
        "error_kind": error.get("kind"),
        "error_message": error.get("message"),
    }


def rows(path: Path) -> Iterator[dict[str, Any]]:
    """Export rows of the records JSONL at `path`, in file order (a line cut off by a crash is
    skipped: its interview has another, whole line or none)."""
    for record in whole_records(path):
        yield row(record)


def export_run(records: Path, dest: Path, fmt: str) -> int:
    """Write every row of `records` to `dest` in `fmt`; returns the rows written. `dest`
    appears whole or not at all.

    Raises:
        InputError: an unknown format.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        return _parquet(rows(records), dest)
    count = 0
    with atomic_writer(dest) as sink:
        if fmt == "jsonl":
            for item in rows(records):
                sink.write(orjson.dumps(item) + b"\n")
                count += 1
            return count
        text = _TextSink(sink)
        writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for item in rows(records):
            writer.writerow(
                {k: orjson.dumps(v).decode() if k in _LISTS else v for k, v in item.items()}
            )
            count += 1
    return count


class _TextSink:
    """A text view of a binary sink, for the csv module (UTF-8)."""

    def __init__(self, sink: Any) -> None:
        self._sink = sink

    def write(self, text: str) -> int:
        return self._sink.write(text.encode())


def _parquet(items: Iterator[dict[str, Any]], dest: Path) -> int:
    """Rows to Parquet in row groups of `_BLOCK_ROWS`, through a temporary file renamed into
    place."""
    import pyarrow as pa  # imported here: only Parquet exports need it (and it is large)
    import pyarrow.parquet as pq

    types = {name: pa.string() for name in COLUMNS}
    types.update({name: pa.list_(pa.string()) for name in _LISTS})
    types.update({name: pa.int64() for name in (*_USAGE, "round")})
    types["cost_usd"] = pa.float64()
    schema = pa.schema(list(types.items()))
    partial = dest.with_name(f"{dest.name}.{os.getpid()}.partial")  # as atomic_writer names it
    count = 0
    try:
        with pq.ParquetWriter(partial, schema) as writer:
            block: list[dict[str, Any]] = []
            for item in items:
                block.append(item)
                if len(block) == _BLOCK_ROWS:
                    writer.write_table(pa.Table.from_pylist(block, schema=schema))
                    count += len(block)
                    block = []
            if block or not count:
                writer.write_table(pa.Table.from_pylist(block, schema=schema))
                count += len(block)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return count
