"""Preparing a run's files: validate input, render prompts, write the canonical request file
and the provider-ready chunk files. No network, no ledger, no Prefect: `interviews prepare`
uses it directly and answers in well under a second.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from interviews import clock
from interviews.catalog import ModelInfo, get_model
from interviews.chunking import ChunkFile, write_chunks
from interviews.costs import Estimate, estimate, estimate_tokens
from interviews.jsonl import atomic_writer, dumps_line, sweep_orphans
from interviews.personas import select_personas
from interviews.private_files import use_private_files
from interviews.prompts import Prompts
from interviews.protocol import load_protocol
from interviews.providers import get_adapter_class
from interviews.requests import CanonicalRequest, build_requests, request_file_path
from interviews.spec import BatchRunParameters


@dataclass(frozen=True)
class DataDirs:
    """The data directory layout (the seed's paths, plus run folders and the ledger)."""

    root: Path

    def __post_init__(self) -> None:
        # Every writer finds the data directory through here: from now on this process
        # creates private files and folders only (see interviews/private_files.py).
        use_private_files(self.root)

    @property
    def requests(self) -> Path:
        """Canonical request files (`batch_request_{provider}_{ts}.jsonl`)."""
        return self.root / "batch_requests"

    @property
    def results(self) -> Path:
        """Raw provider results, kept as returned."""
        return self.root / "batch_results"

    @property
    def interviews(self) -> Path:
        """Interview records, `{custom_id}.json`."""
        return self.root / "interviews"

    def run(self, run_id: str) -> Path:
        """Per-run files: chunks, summary."""
        return self.root / "runs" / run_id


def new_run_id(provider: str, now: datetime | None = None) -> str:
    """A fresh, sortable run id such as `anthropic-20261127-143022-3fa1`."""
    now = now or clock.now()
    return f"{provider}-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def file_sha256(path: Path) -> str:
    """sha256 of a file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _teed(requests: Iterator[CanonicalRequest], sink: IO[bytes]) -> Iterator[CanonicalRequest]:
    """Write each canonical request to `sink` as it passes by (one pass over the input)."""
    for request in requests:
        sink.write(dumps_line(request.as_dict()))
        yield request


@dataclass(frozen=True)
class Prepared:
    """The outcome of `prepare_requests`."""

    requests_path: Path
    request_count: int
    input_chars: int
    chunks: list[ChunkFile]
    # an interview protocol's questions per interview (1: the seed's single question), and the
    # characters of all later questions
    turns: int = 1
    later_chars: int = 0


def prepare_requests(
    params: BatchRunParameters,
    *,
    dirs: DataDirs,
    chunk_dir: Path,
    chunk_stem: str | None = None,
    requests_path: Path | None = None,
    now: datetime | None = None,
) -> Prepared:
    """Validate the input, render prompts, write the canonical file and provider chunk files.

    Nothing is written under its final name unless every record is valid. `chunk_stem` may
    name the request file's stem as `{request_stem}` (prepare's `…_ready` copies).

    Raises:
        InputError: bad personas file or template (names file and line).
        CatalogError: unknown model.
    """
    get_adapter_class(params.provider)  # an unknown provider fails before any file is made
    model = get_model(params.provider, params.model_id)
    protocol = load_protocol(params.protocol) if params.protocol else None
    prompts = Prompts.load(
        Path(params.system_template) if params.system_template else None,
        Path(params.question_template) if params.question_template else None,
        protocol,
    )
    records = select_personas(params.personas, count=params.count, start_index=params.start_index)
    requests = build_requests(records, prompts, source=params.personas)
    # The first record is validated and rendered before any file or folder is made: bad input
    # or a template the sandbox refuses usually shows there, and then nothing is left behind.
    requests = itertools.chain([next(requests)], requests)
    for directory in (dirs.requests, chunk_dir):
        sweep_orphans(directory)  # what a killed prepare left: partial files of health data
    path = requests_path or request_file_path(dirs.requests, params.provider, now or clock.now())
    try:
        return _write_prepared(params, requests, path, chunk_dir, chunk_stem, protocol, model)
    except BaseException:
        if path.exists() and path.stat().st_size == 0:
            path.unlink()  # the name reserved for the request file, never written
        raise


def _write_prepared(
    params: BatchRunParameters,
    requests: Iterator[CanonicalRequest],
    path: Path,
    chunk_dir: Path,
    chunk_stem: str | None,
    protocol: Any,
    model: ModelInfo,
) -> Prepared:
    """Write the canonical request file at `path` and the provider's chunk files."""
    adapter_cls = get_adapter_class(params.provider)
    chars = later_chars = 0

    def counted(items: Iterator[CanonicalRequest]) -> Iterator[CanonicalRequest]:
        nonlocal chars, later_chars
        for item in items:
            chars += len(item.system_message) + len(item.first_question)
            if item.later_questions:
                later_chars += sum(map(len, item.later_questions))
            yield item

    with atomic_writer(path) as sink:
        chunks = write_chunks(
            counted(_teed(requests, sink)),
            build_line=lambda r: adapter_cls.build_line(
                r, model=model.id, max_tokens=params.max_tokens, endpoint=params.endpoint
            ),
            directory=chunk_dir,
            stem=(chunk_stem or f"{params.provider}_r0").format(request_stem=path.stem),
            max_requests=min(
                adapter_cls.max_requests, params.chunk_size or adapter_cls.max_requests
            ),
            max_bytes=adapter_cls.max_bytes,
        )
    count = sum(chunk.request_count for chunk in chunks)
    turns = len(protocol.turns) if protocol else 1
    return Prepared(path, count, chars, chunks, turns, later_chars)


def estimate_prepared(model: ModelInfo, prepared: Prepared, max_tokens: int) -> Estimate:
    """Estimate a prepared run: input from the rendered prompts, output at the seed's
    2,000 tokens per answer (or `max_tokens`, if lower).

    In an interview protocol every question resends the conversation so far: question k
    carries the prompts, k - 1 answers and the questions before it.
    """
    per_answer = min(max_tokens, 2000)
    count, turns = prepared.request_count, prepared.turns
    resent_answers = per_answer * count * turns * (turns - 1) // 2
    input_tokens = (
        estimate_tokens(prepared.input_chars) * turns
        + resent_answers
        + estimate_tokens(prepared.later_chars) * (turns - 1)  # asked, then resent
    )
    return estimate(model, count, input_tokens, per_answer * count * turns)
