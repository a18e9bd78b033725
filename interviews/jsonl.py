"""Streaming JSONL and crash-safe file writes.

Files are written to a `.partial` sibling and renamed into place only when complete, so a crash
never leaves a half-written request, result or record file behind under its real name.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from interviews.errors import InputError

# Request, chunk and result files run to hundreds of MB: large buffers mean few write calls.
WRITE_BUFFER = 1 << 20


def dumps_line(value: Any) -> bytes:
    """One JSONL line (with its newline) for `value`."""
    return orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE)


@contextlib.contextmanager
def atomic_writer(path: Path, *, durable: bool = False) -> Iterator[IO[bytes]]:
    """Open `path` for binary writing; it appears under its name only if the block succeeds.

    `durable` also fsyncs before the rename, for files that must survive a power cut (raw
    results); per-interview records skip it, since an fsync each would dominate large runs and
    a killed process loses nothing that has been renamed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb", buffering=WRITE_BUFFER) as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_json(path: Path, value: Any) -> None:
    """Write one pretty JSON document atomically (the seed's record files use indent 2)."""
    with atomic_writer(path) as handle:
        handle.write(orjson.dumps(value, option=orjson.OPT_INDENT_2))


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield (1-based line number, value) for every non-blank line of a JSONL file.

    Raises:
        InputError: on a malformed line, naming the file and the line.
    """
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                if not raw.strip():  # a blank line: checked only here, as it is rare
                    continue
                raise InputError(
                    f"malformed JSON ({exc}); each line must be one complete JSON object",
                    path=str(path),
                    line=number,
                ) from exc
            yield number, value
