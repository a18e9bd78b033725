"""The real-time step: send one chunk's requests concurrently and record each answer as it
arrives. A chunk is the unit of a Prefect task; the requests inside it are plain asyncio.

Records are the batch records (`mode: "realtime"`, real-time prices), written through the same
`write_records`: `interviews/{custom_id}.json` and the chunk's part of the run's JSONL. The
part file is appended to and flushed record by record, so a crash keeps every answer already
received; a re-run sends only the requests without an answer.

An interview protocol of several questions is one conversation per persona, recorded when it
ends (answered to the last question, or stopped by a failure).
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from interviews.batch_types import Conversation, OutcomeStatus, RequestOutcome
from interviews.catalog import ModelInfo
from interviews.costs import Usage
from interviews.jsonl import dumps_line, iter_jsonl
from interviews.ledger import ChunkRow, Ledger
from interviews.preparation import DataDirs
from interviews.prices import Prices
from interviews.providers.realtime import RealtimeAdapter, get_realtime_class
from interviews.records import (
    ConvertSummary,
    RecordContext,
    copy_answered,
    load_index,
    record_path,
    write_records,
)
from interviews.spec import BatchRunParameters

# Requests per chunk (one Prefect task each) when the run does not set a chunk size.
REALTIME_CHUNK_SIZE = 500
# With a data directory in an object store, how often a chunk's part is uploaded while its
# answers arrive (and once more when the chunk ends).
REMOTE_PART_UPLOAD_SECONDS = 30.0
_DONE = object()


def with_realtime_defaults(params: BatchRunParameters) -> BatchRunParameters:
    """A real-time run's parameters: chunks of `REALTIME_CHUNK_SIZE` unless set (one task per
    few hundred requests, so progress shows and a task never holds a whole large run)."""
    if params.chunk_size is None:
        return params.model_copy(update={"chunk_size": REALTIME_CHUNK_SIZE})
    return params


def part_path(dirs: DataDirs, chunk: ChunkRow) -> Path:
    """The chunk's part of the run's consolidated JSONL (the same name a batch chunk uses)."""
    return dirs.run(chunk.run_id) / "records" / f"r{chunk.round}_c{chunk.chunk_index:03d}.jsonl"


def keep_answered(part: Path) -> set[str]:
    """Rewrite `part` with only its answered records; return their custom ids.

    Failed records are dropped because their requests are sent again, and a line cut off by a
    crash is dropped because it is incomplete.
    """
    if not part.exists():
        return set()
    return set(copy_answered(part, part))


def _pending_lines(chunk: ChunkRow, answered: set[str], custom_id: Callable) -> list[dict]:
    """The chunk's request lines still without an answer."""
    with chunk.path.open("rb") as lines:
        parsed = (orjson.loads(raw) for raw in lines if raw.strip())
        return [line for line in parsed if custom_id(line) not in answered]


def _protocol_questions(index_path: Path) -> dict[str, list[str]]:
    """`custom_id → every question` of the interviews that follow a protocol of several
    questions (the others, asked one question, are not listed)."""
    questions = {}
    for _, entry in iter_jsonl(index_path):
        if entry.get("then"):
            questions[entry["custom_id"]] = [entry["question"], *entry["then"]]
    return questions


async def _converse(
    adapter: RealtimeAdapter, line: dict[str, Any], questions: list[str], *, model: str
) -> RequestOutcome:
    """One interview of a protocol as a conversation: each question asked after the answer to
    the one before, on the same line carried further. The outcome is the last answer (or the
    first failure), with the conversation before it."""
    turns: list[dict[str, str]] = []
    usage = Usage()
    outcome = await adapter.answer(line, model=model)
    for number, (asked, question) in enumerate(itertools.pairwise(questions), start=2):
        if outcome.status is not OutcomeStatus.SUCCEEDED:
            break
        text = outcome.text or ""
        turns += [{"role": "user", "content": asked}, {"role": "assistant", "content": text}]
        usage = usage + outcome.usage
        last = number == len(questions)
        line = adapter.batch_adapter.continue_line(line, text, question, last=last)
        outcome = await adapter.answer(line, model=model)
        outcome.conversation = Conversation(list(turns), usage, question)
    return outcome


async def _send_all(
    adapter: RealtimeAdapter,
    lines: list[dict[str, Any]],
    *,
    model: str,
    concurrency: int,
    emit: Callable[[RequestOutcome], None],
    protocol: dict[str, list[str]],
) -> None:
    """Send every line (or hold every protocol conversation), at most `concurrency` at a time;
    the first fatal error cancels the rest (a task group)."""
    limit = asyncio.Semaphore(concurrency)
    custom_id = adapter.batch_adapter.line_custom_id

    async def one(line: dict[str, Any]) -> None:
        async with limit:
            questions = protocol.get(custom_id(line))
            if questions:
                emit(await _converse(adapter, line, questions, model=model))
            else:
                emit(await adapter.answer(line, model=model))

    try:
        async with asyncio.TaskGroup() as group:
            for line in lines:
                group.create_task(one(line))
    finally:
        await adapter.aclose()


def _outcomes(
    make_adapter: Callable[[], RealtimeAdapter],
    lines: list[dict[str, Any]],
    *,
    model: str,
    concurrency: int,
    protocol: dict[str, list[str]],
) -> Iterator[RequestOutcome]:
    """Outcomes in the order they arrive; the event loop runs in its own thread so records
    are written here while requests are in flight. A fatal error is raised here, after the
    outcomes that came before it."""
    arrived: queue.Queue = queue.Queue()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(
                _send_all(
                    make_adapter(),
                    lines,
                    model=model,
                    concurrency=concurrency,
                    emit=arrived.put,
                    protocol=protocol,
                )
            )
        except BaseException as exc:  # handed to the consuming thread
            failure.append(exc.exceptions[0] if isinstance(exc, BaseExceptionGroup) else exc)
        finally:
            arrived.put(_DONE)

    sender = threading.Thread(target=run, name="realtime-requests", daemon=True)
    sender.start()
    while (item := arrived.get()) is not _DONE:
        yield item
    sender.join()
    if failure:
        raise failure[0]


def interview_chunk(
    chunk: ChunkRow,
    *,
    make_adapter: Callable[[], RealtimeAdapter],
    model: ModelInfo,
    ledger: Ledger,
    dirs: DataDirs,
    records_dir: Path | None,
    concurrency: int,
) -> int:
    """Send the chunk's unanswered requests and record every outcome; returns how many
    requests were sent (0 when the chunk was already answered).

    Raises:
        PermanentProviderError: authentication or permission refused; the records received
            before it are kept.
    """
    part = part_path(dirs, chunk)
    for needed in (part, chunk.path, chunk.index_path):
        dirs.fetch(needed)
    answered = keep_answered(part)
    batch_cls = get_realtime_class(chunk.provider).batch_adapter
    lines = _pending_lines(chunk, answered, batch_cls.line_custom_id)
    if lines:
        index = {k: v for k, v in load_index(chunk.index_path).items() if k not in answered}
        context = RecordContext(
            provider=chunk.provider,
            model=model,
            run_id=chunk.run_id,
            batch_id=None,
            mode="realtime",
        )
        part.parent.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []  # per-interview files, for a data directory in a bucket
        uploaded = time.monotonic()
        try:
            with part.open("ab") as sink:

                def append(record: dict[str, Any]) -> None:
                    nonlocal uploaded
                    sink.write(dumps_line(record))
                    sink.flush()  # each answer reaches the file as it arrives
                    if dirs.mirror is None:
                        return
                    if records_dir is not None:
                        written.append(Path(record_path(records_dir, record["custom_id"])))
                    # answers are paid for: a bucket copy of the part at most this old
                    # bounds what a killed worker's successor sends again
                    if time.monotonic() - uploaded >= REMOTE_PART_UPLOAD_SECONDS:
                        dirs.publish(part)
                        uploaded = time.monotonic()

                outcomes = _outcomes(
                    make_adapter,
                    lines,
                    model=model.id,
                    concurrency=concurrency,
                    protocol=_protocol_questions(chunk.index_path),
                )
                write_records(
                    outcomes,
                    index=index,
                    context=context,
                    interviews_dir=records_dir,
                    on_record=append,
                )
        finally:  # what was answered is kept, also when the chunk stops on an error
            dirs.publish_many(written)
            if part.exists():
                dirs.publish(part)
    ledger.update_chunk(chunk.id, status="converted")
    return len(lines)


def summarize_records(path: Path, rates: Prices) -> ConvertSummary:
    """Tallies, tokens and cost of a run from its consolidated JSONL (streamed).

    The uncached cost adds to the records' cost what their cache reads and writes would have
    cost as plain input at `rates` (base prices: a record of a protocol holds the sum of
    several requests' usage, whose long-context tiers it cannot tell apart).
    """
    from decimal import Decimal

    summary = ConvertSummary()
    with path.open("rb") as records:
        for raw in records:
            record = orjson.loads(raw)
            summary.statuses[record["status"]] += 1
            summary.flags.update(record.get("flags") or ())
            usage = record.get("usage")
            if usage is None and record["status"] == "succeeded":
                summary.usage_unknown += 1  # unusable token counts: the cost is incomplete
            summary.usage = summary.usage + Usage(**(usage or {}))
            summary.cost += Decimal(str(record.get("cost_usd") or 0))
    summary.cost_realtime = summary.cost
    summary.cost_uncached = (
        summary.cost + rates.flat_cost(summary.usage.uncached()) - rates.flat_cost(summary.usage)
    )
    return summary
