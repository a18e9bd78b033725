"""Preparing a run's files: validate input, render prompts, write the canonical request file
and the provider-ready chunk files. No network, no ledger, no Prefect: `interviews prepare`
uses it directly and answers in well under a second.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from interviews import clock
from interviews.catalog import ModelInfo, get_model
from interviews.chunking import ChunkFile, write_chunks
from interviews.costs import Estimate
from interviews.datastore import RemoteMirror, is_remote, local_input, local_path, mirror_for
from interviews.errors import ConfigurationError, InputError
from interviews.jsonl import atomic_writer, dumps_line, sweep_orphans
from interviews.personas import select_personas
from interviews.private_files import use_private_files
from interviews.prompts import Prompts
from interviews.protocol import load_protocol
from interviews.providers import get_adapter_class
from interviews.requests import CanonicalRequest, build_requests, request_file_path
from interviews.spec import BatchRunParameters

if TYPE_CHECKING:
    from interviews.ledger import Ledger
    from interviews.providers.base import CacheMode


@dataclass(frozen=True)
class DataDirs:
    """The data directory layout (the seed's paths, plus run folders and the ledger).

    `root` is where the files are on this machine. For a data directory in an object store
    (`open_data_dir("gs://…")`) it is this process's workspace, `mirror` moves files between
    it and the bucket, and `location` is the URL; for a local one `mirror` is None and every
    fetch/publish method below does nothing.
    """

    root: Path
    mirror: RemoteMirror | None = None

    def __post_init__(self) -> None:
        # Every writer finds the data directory through here: from now on this process
        # creates private files and folders only (see interviews/private_files.py).
        use_private_files(self.root)

    @property
    def location(self) -> str:
        """The data directory as the user named it (a folder, or the bucket URL)."""
        return self.mirror.url if self.mirror else str(self.root)

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

    def open_ledger(self, url: str | None) -> Ledger:
        """The run ledger at `url`, or SQLite in a local data directory.

        Raises:
            ConfigurationError: a data directory in an object store without a ledger URL
                (SQLite cannot live in a bucket, and a ledger in one process's workspace would
                vanish with it).
        """
        from interviews.ledger import Ledger

        if url is None and self.mirror is not None:
            raise ConfigurationError(
                f"the data directory {self.mirror.url} is in an object store, so the run "
                "ledger must be a database every machine reaches: set INTERVIEWS_LEDGER_URL "
                "(e.g. postgresql+psycopg://user@host/interviews)"
            )
        return Ledger.open(self.root, url, self.mirror)

    # ------------------------------------------------ moving files to and from the store
    def fetch(self, path: Path) -> bool:
        """Bring `path` from the store before reading it; tell whether it exists."""
        return self.mirror.fetch(path) if self.mirror else path.exists()

    def fetch_tree(self, folder: Path) -> None:
        """Bring every file under `folder` from the store."""
        if self.mirror:
            self.mirror.fetch_tree(folder)

    def publish(self, *paths: Path) -> None:
        """Upload files a step wrote (before the ledger records the step)."""
        if self.mirror:
            self.mirror.publish(paths)

    def publish_many(self, paths: list[Path]) -> None:
        """Upload many small files at once (per-interview records)."""
        if self.mirror:
            self.mirror.publish_many(paths)

    def claim(self, path: Path) -> bool:
        """Claim a new file's name in the store (True: it was free there); always True for
        a local data directory, whose names are claimed by the local file alone."""
        return self.mirror.claim(path) if self.mirror else True

    def remove(self, path: Path) -> None:
        """Delete a file (here and in the store)."""
        if self.mirror:
            self.mirror.remove(path)
        else:
            path.unlink(missing_ok=True)

    def remove_tree(self, folder: Path) -> None:
        """Delete a folder (here and in the store)."""
        if self.mirror:
            self.mirror.remove_tree(folder)
        else:
            shutil.rmtree(folder, ignore_errors=True)

    def shown(self, path: Path | str) -> str:
        """How to name a data file to a person (its URL when it lives in a bucket)."""
        path = Path(path)
        if self.mirror and path.is_relative_to(self.root):
            return self.mirror.shown(path)
        return str(path)


def open_data_dir(data_dir: str | Path) -> DataDirs:
    """The layout of a data directory: a local folder, or `scheme://bucket/prefix` (gs://,
    s3://, any fsspec URL) mirrored through this process's workspace."""
    if is_remote(data_dir):
        mirror = mirror_for(str(data_dir))
        return DataDirs(mirror.root, mirror)
    return DataDirs(local_path(data_dir))


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
    mode: str = "batch",
) -> Prepared:
    """Validate the input, render prompts, write the canonical file and provider chunk files.

    `mode` ("batch" or "realtime") decides how long a protocol's prompt prefix is asked to
    stay cached (see `CacheMode`).

    Nothing is written under its final name unless every record is valid. `chunk_stem` may
    name the request file's stem as `{request_stem}` (prepare's `…_ready` copies). Inputs
    may be URLs (`gs://bucket/personas.jsonl`): they are read from local copies, and errors
    name the URL.

    Raises:
        InputError: bad personas file or template (names file and line).
        CatalogError: unknown model.
    """
    local = localize_inputs(params)
    try:
        return _prepare_requests(local, dirs, chunk_dir, chunk_stem, requests_path, now, mode)
    except InputError as exc:
        message = str(exc)
        for field in INPUT_FIELDS:
            url, copy = getattr(params, field), getattr(local, field)
            if url and url != copy:
                message = message.replace(copy, url)
        if message == str(exc):
            raise
        raise InputError(message) from None


# the parameters that name input files, which may be URLs
INPUT_FIELDS = ("personas", "protocol", "system_template", "question_template")


def localize_inputs(params: BatchRunParameters) -> BatchRunParameters:
    """`params` with every input URL replaced by a local copy (`local_input`)."""
    changes = {
        field: str(local_input(value))
        for field in INPUT_FIELDS
        if (value := getattr(params, field)) and is_remote(value)
    }
    return params.model_copy(update=changes) if changes else params


def _prepare_requests(
    params: BatchRunParameters,
    dirs: DataDirs,
    chunk_dir: Path,
    chunk_stem: str | None,
    requests_path: Path | None,
    now: datetime | None,
    mode: str,
) -> Prepared:
    """`prepare_requests` once its inputs are local files."""
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
    path = requests_path or request_file_path(
        dirs.requests, params.provider, now or clock.now(), claim=dirs.claim
    )
    try:
        cache = cache_mode(len(protocol.turns) if protocol else 1, mode)
        prepared = _write_prepared(
            params, requests, path, chunk_dir, chunk_stem, protocol, model, cache
        )
    except BaseException:
        if path.exists() and path.stat().st_size == 0:
            dirs.remove(path)  # the name reserved for the request file, never written
        raise
    dirs.publish(path, *(f for chunk in prepared.chunks for f in (chunk.path, chunk.index_path)))
    return prepared


def cache_mode(turns: int, mode: str) -> CacheMode:
    """Whether an interview of `turns` questions asks for prompt caching, and for how long.

    A cache write costs more than plain input (Anthropic: 2x for an hour, 1.25x for five
    minutes) and a read a tenth of it, and the last question writes nothing (see
    `continue_line`). So a single question never pays (nothing reads its prefix); in batch,
    whose one-hour entries cost 2x, two questions lose about a tenth of the first prompt and
    three or more save; in real time, two questions already save.
    """
    needed = 3 if mode == "batch" else 2
    return ("batch" if mode == "batch" else "realtime") if turns >= needed else None


def _write_prepared(
    params: BatchRunParameters,
    requests: Iterator[CanonicalRequest],
    path: Path,
    chunk_dir: Path,
    chunk_stem: str | None,
    protocol: Any,
    model: ModelInfo,
    cache: CacheMode,
) -> Prepared:
    """Write the canonical request file at `path` and the provider's chunk files (their
    lines marked for prompt caching as `cache` says, unless the run turned caching off)."""
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
                r,
                model=model.id,
                max_tokens=params.max_tokens,
                endpoint=params.endpoint,
                cache=cache if params.prompt_cache else None,
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
    """Estimate a prepared run from its rendered prompts (see interviews/estimation.py)."""
    from interviews.estimation import PromptSizes, estimate_sizes

    sizes = PromptSizes(
        prepared.request_count, prepared.input_chars, prepared.turns, prepared.later_chars
    )
    return estimate_sizes(model, sizes, max_tokens=max_tokens)
