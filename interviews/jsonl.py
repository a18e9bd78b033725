"""Streaming JSONL and crash-safe file writes.

Files are written to a `.partial` sibling and renamed into place only when complete, so a crash
never leaves a half-written request, result or record file behind under its real name.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from interviews.errors import InputError

# Request, chunk and result files run to hundreds of MB: large buffers mean few write calls.
WRITE_BUFFER = 1 << 20

# The longest line a results (or other JSONL) file may have, in bytes, newline excluded. A real
# answer is a few KB (a 300k-token answer is ~1.2 MB), so 64 MiB is generous; a longer line is
# reported and skipped, never read whole (orjson would hold it ~3 times over). Setting:
# INTERVIEWS_MAX_LINE_BYTES.
MAX_LINE_BYTES = 64 << 20
# An over-long line is skipped in pieces of this size.
_SKIP_PIECE = 1 << 20


@dataclass(frozen=True, slots=True)
class OverlongLine:
    """Stands in for a line longer than the limit: only its size (bytes, newline included)."""

    size: int

    def problem(self, limit: int) -> str:
        """What is wrong with the line, for a one-line report."""
        return f"line of {self.size:,} bytes is longer than the {limit:,}-byte limit"


def max_line_bytes() -> int:
    """The line limit: INTERVIEWS_MAX_LINE_BYTES, or `MAX_LINE_BYTES`."""
    from interviews.settings import get_settings

    return get_settings().max_line_bytes


def read_lines(
    handle: IO[bytes], limit: int | None = None
) -> Iterator[tuple[int, bytes | OverlongLine]]:
    """Yield (1-based line number, raw line) for every line of a binary file, in bounded memory.

    A line longer than `limit` bytes (default: `max_line_bytes()`) is never held whole: it is
    skipped in 1 MiB pieces and yielded as an `OverlongLine` with its size, and reading goes on.
    """
    if limit is None:
        limit = max_line_bytes()
    readline = handle.readline
    number = 0
    while True:
        raw = readline(limit + 1)  # a line of exactly `limit` bytes plus its newline fits
        if not raw:
            return
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            size = len(raw)
            del raw  # not kept while the rest is skipped
            while True:
                piece = readline(_SKIP_PIECE)
                size += len(piece)
                if not piece or piece.endswith(b"\n"):
                    break
            yield number, OverlongLine(size)
            continue
        yield number, raw


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
    # the pid in the name: two processes writing one path never share a partial file, and one
    # left by a killed process is known for an orphan (`sweep_orphans`)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        with partial.open("wb", buffering=WRITE_BUFFER) as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


_PARTIAL = re.compile(r"\.(\d+)\.partial$")


def sweep_orphans(directory: Path) -> int:
    """Delete the partial files that killed processes left in `directory` (they may hold
    health data, and nothing will ever finish them); return how many were removed.

    Only partials of this machine's dead processes are touched: a live writer's stays.
    """
    removed = 0
    if not directory.is_dir():
        return 0
    for path in directory.glob("*.partial"):
        match = _PARTIAL.search(path.name)
        if match is None or pid_alive(int(match.group(1))):
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs on this machine (someone else's counts too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def write_json(path: Path, value: Any) -> None:
    """Write one pretty JSON document atomically (the seed's record files use indent 2)."""
    with atomic_writer(path) as handle:
        handle.write(orjson.dumps(value, option=orjson.OPT_INDENT_2))


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield (1-based line number, value) for every non-blank line of a JSONL file.

    Raises:
        InputError: on a malformed or over-long line, naming the file and the line.
    """
    limit = max_line_bytes()
    with path.open("rb") as handle:
        for number, raw in read_lines(handle, limit):
            if isinstance(raw, OverlongLine):
                raise InputError(
                    f"{raw.problem(limit)} (INTERVIEWS_MAX_LINE_BYTES); each line must be one "
                    "JSON object",
                    path=str(path),
                    line=number,
                )
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


def whole_records(path: Path) -> Iterator[Any]:
    """Each parsed line of a records JSONL the pipeline wrote, in file order, skipping a line a
    crash cut off (its interview has another, whole line, or none)."""
    with path.open("rb") as lines:
        for raw in lines:
            try:
                yield orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
