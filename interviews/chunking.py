"""Split requests into provider-sized chunks, by request count AND bytes.

Each chunk becomes one provider batch. A chunk is two files: the provider-ready lines (what is
sent) and a small index of `custom_id → persona_id, question` (plus, in an interview protocol, the
questions still to come and the conversation so far) used to build records from results without
re-reading the whole canonical file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from interviews.errors import InputError
from interviews.jsonl import atomic_writer, dumps_line
from interviews.quality import record_facts
from interviews.requests import CanonicalRequest

# Room for the envelope around the lines ({"requests":[...]} or a multipart header).
_ENVELOPE_BYTES = 1024


@dataclass(frozen=True)
class ChunkFile:
    """One written chunk: its provider file, its index file, and what they hold."""

    index: int
    path: Path
    index_path: Path
    request_count: int
    byte_count: int
    sha256: str


class _OpenChunk:
    """The chunk being filled; finished with `close()`."""

    def __init__(self, index: int, path: Path, index_path: Path) -> None:
        self.index = index
        self.path = path
        self.index_path = index_path
        self.count = 0
        self.bytes = 0
        self.digest = hashlib.sha256()
        self._lines_cm = atomic_writer(path)
        self._index_cm = atomic_writer(index_path)
        self.lines: IO[bytes] = self._lines_cm.__enter__()
        self.index_file: IO[bytes] = self._index_cm.__enter__()

    def add(self, line: bytes, index_line: bytes) -> None:
        self.lines.write(line)
        self.index_file.write(index_line)
        self.digest.update(line)
        self.count += 1
        self.bytes += len(line)

    def close(self, error: BaseException | None = None) -> ChunkFile:
        exc_info = (type(error), error, error.__traceback__) if error else (None, None, None)
        self._lines_cm.__exit__(*exc_info)
        self._index_cm.__exit__(*exc_info)
        return ChunkFile(
            self.index, self.path, self.index_path, self.count, self.bytes, self.digest.hexdigest()
        )


def write_chunks(
    requests: Iterable[CanonicalRequest],
    *,
    build_line: Callable[[CanonicalRequest], dict[str, Any]],
    directory: Path,
    stem: str,
    max_requests: int,
    max_bytes: int,
) -> list[ChunkFile]:
    """Stream `requests` into chunk files `{stem}_c{NNN}.jsonl` under `directory`.

    A chunk is closed when one more line would pass `max_requests` or `max_bytes`.

    Raises:
        InputError: one request alone is larger than `max_bytes`.
    """
    lines = (
        (
            request.custom_id,
            dumps_line(build_line(request)),
            dumps_line(
                index_entry(
                    request.custom_id,
                    request.persona_id,
                    request.first_question,
                    request.later_questions,
                    facts=record_facts(request.persona, request.health_record),
                )
            ),
        )
        for request in requests
    )
    return write_chunk_lines(
        lines, directory=directory, stem=stem, max_requests=max_requests, max_bytes=max_bytes
    )


def index_entry(
    custom_id: str,
    persona_id: int | str,
    question: str,
    later: tuple[str, ...] | list[str] = (),
    history: int | None = None,
    facts: str | None = None,
) -> dict[str, Any]:
    """One chunk index line: the request's persona and question and, in an interview protocol,
    the questions still to come (`then`) and where the conversation so far is (`history`, a
    byte offset into the run's `history.jsonl`); `facts` are the person's checkable facts for
    the answer's quality flags (`quality.record_facts`)."""
    entry: dict[str, Any] = {"custom_id": custom_id, "persona_id": persona_id, "question": question}
    if later:
        entry["then"] = list(later)
    if history is not None:
        entry["history"] = history
    if facts:
        entry["facts"] = facts
    return entry


def write_chunk_lines(
    lines: Iterable[tuple[str, bytes, bytes]],
    *,
    directory: Path,
    stem: str,
    max_requests: int,
    max_bytes: int,
) -> list[ChunkFile]:
    """Stream ready `(custom_id, provider line, index line)` triples into chunk files.

    Used directly to build a retry round from an earlier round's lines, all or nothing.

    Raises:
        InputError: one line alone is larger than `max_bytes`.
    """
    chunks: list[ChunkFile] = []
    current: _OpenChunk | None = None
    budget = max_bytes - _ENVELOPE_BYTES
    try:
        for custom_id, line, index_line in lines:
            if len(line) > budget:
                raise InputError(
                    f"request {custom_id} is {len(line):,} bytes, more than one batch "
                    f"may hold ({budget:,}); shorten its persona, record or templates"
                )
            if current is not None and (
                current.count >= max_requests or current.bytes + len(line) > budget
            ):
                chunks.append(current.close())
                current = None
            if current is None:
                index = len(chunks)
                current = _OpenChunk(
                    index,
                    directory / f"{stem}_c{index:03d}.jsonl",
                    directory / f"{stem}_c{index:03d}.index.jsonl",
                )
            current.add(line, index_line)
    except BaseException as exc:
        if current is not None:
            current.close(exc)
        for done in chunks:  # all or nothing: no chunk of a bad input stays on disk
            done.path.unlink(missing_ok=True)
            done.index_path.unlink(missing_ok=True)
        raise
    if current is not None:
        chunks.append(current.close())
    return chunks
