"""Gemini API batch mode: inline or file requests, the batch Operation and its output.

Pure domain logic over a `BatchRun`; `gemini_routes` puts it on the wire. Shapes follow
PROVIDERS.md §4 and Part 2 §4.4 and what google-genai's `batches.py` parses: the batch is a
long-running Operation `{"name": "batches/…", "metadata": {GenerateContentBatch}, "done",
"response"}` with `metadata.state` `BATCH_STATE_*`.

Output: inline batches get `inlinedResponses` in input order, one entry per request
(`{"response"}` or `{"error": {code, message}}`, plus the request's `metadata`); file batches a
generated `files/batch-…` of `{"key", "response"}` / `{"key", "error"}` lines in shuffled order.
Requests a cancel or the expiry cut off become error entries (CANCELLED / DEADLINE_EXCEEDED).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from interviews.emulator.clock import isoformat
from interviews.emulator.faults import LineFault
from interviews.emulator.google_batch import (
    CANCELLED,
    CANCELLING,
    CODE_CANCELLED,
    CODE_DEADLINE_EXCEEDED,
    ENDED,
    EXPIRED,
    FAILED,
    PARTIALLY_SUCCEEDED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    BatchRun,
    Item,
    Outcome,
)
from interviews.emulator.google_requests import get, structure_problem
from interviews.emulator.ids import stable_shuffle
from interviews.emulator.jsonl import encode

# Unverified: "jobs pending or running for more than 48 hours expire" (ai.google.dev batch docs).
EXPIRY_SECONDS = 48 * 3600
MAX_INLINE_BYTES = 20 * 1024 * 1024
BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"
OUTPUT_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput"
# The API has no PARTIALLY_SUCCEEDED or CANCELLING: those show as SUCCEEDED and RUNNING.
_STATES = {
    PENDING: "BATCH_STATE_PENDING",
    RUNNING: "BATCH_STATE_RUNNING",
    CANCELLING: "BATCH_STATE_RUNNING",
    SUCCEEDED: "BATCH_STATE_SUCCEEDED",
    PARTIALLY_SUCCEEDED: "BATCH_STATE_SUCCEEDED",
    FAILED: "BATCH_STATE_FAILED",
    CANCELLED: "BATCH_STATE_CANCELLED",
    EXPIRED: "BATCH_STATE_EXPIRED",
}
_INVALID_ARGUMENT = 3
_UNFINISHED = {
    CANCELLED: (CODE_CANCELLED, "The batch was cancelled before this request ran."),
    EXPIRED: (CODE_DEADLINE_EXCEEDED, "The batch expired before this request ran."),
}

StoreFile = Callable[[str, bytes, float], str]
"""Writes a generated output file `(file_id, content, created_at)` and returns its name."""


class InlineRequestError(ValueError):
    """An inline request is malformed; the create call answers 400 with this message."""


def parse_inline(requests: Any) -> tuple[list[Item], list[dict[str, str] | None]]:
    """Items and per-request metadata of `batch.inputConfig.requests.requests`."""
    if not isinstance(requests, list) or not requests:
        raise InlineRequestError("batch.input_config.requests.requests must be a non-empty list.")
    items, metadata = [], []
    for index, entry in enumerate(requests):
        where = f"batch.input_config.requests.requests[{index}]"
        request = get(entry, "request")
        if (problem := structure_problem(request)) is not None:
            raise InlineRequestError(f"{where}.request: {problem}.")
        meta = get(entry, "metadata")
        if meta is not None and not isinstance(meta, dict):
            raise InlineRequestError(f"{where}.metadata must be a map of strings.")
        key = str(meta.get("key", "")) if meta else ""
        items.append(Item(key, request))
        metadata.append(meta)
    return items, metadata


def parse_file(content: bytes, file_name: str) -> tuple[list[Item], int, str | None]:
    """(items, non-blank lines, why the file is unusable or None) of `{"key","request"}` JSONL."""
    items: list[Item] = []
    lines = 0
    for number, raw in enumerate(content.split(b"\n"), start=1):
        if not raw.strip():
            continue
        lines += 1
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return [], lines, f"Invalid JSON at line {number} of {file_name}."
        request = line.get("request") if isinstance(line, dict) else None
        if (problem := structure_problem(request)) is not None:
            return [], lines, f"Invalid request at line {number} of {file_name}: {problem}."
        items.append(Item(str(line.get("key", "")), request))
    if not items:
        return [], lines, f"The input file {file_name} has no requests."
    return items, lines, None


def _entry(outcome: Outcome, phase: str) -> dict[str, Any]:
    if outcome.response is not None:
        return {"response": outcome.response}
    if outcome.error is not None:
        return {"error": {"code": outcome.error.code, "message": outcome.error.message}}
    code, message = _UNFINISHED.get(phase, _UNFINISHED[CANCELLED])
    return {"error": {"code": code, "message": message}}


@dataclass
class GeminiBatch:
    """One batch: its request fields, its run and its output once ended."""

    run: BatchRun
    model: str
    """`models/<id>`."""
    display_name: str | None
    input_file: str | None
    """`files/<id>` for file input, None for inline requests."""
    metadata: list[dict[str, str] | None]
    inlined: list[dict[str, Any]] | None = None
    responses_file: str | None = None

    @property
    def name(self) -> str:
        """`batches/<id>`."""
        return f"batches/{self.run.id}"

    @property
    def done(self) -> bool:
        """Whether the batch has ended."""
        return self.run.phase in ENDED

    def refresh(self, now: float, faults: Mapping[str, LineFault], store_file: StoreFile) -> None:
        """Advance the batch; when it ends, build its output."""
        if self.run.refresh(now, faults):
            self._build_output(store_file)

    def cancel(self, now: float, faults: Mapping[str, LineFault], store_file: StoreFile) -> None:
        """End the batch as CANCELLED now (ValueError if it has ended)."""
        self.run.cancel(now, faults, immediate=True)
        self._build_output(store_file)

    def _build_output(self, store_file: StoreFile) -> None:
        run = self.run
        if run.outcomes is None:  # FAILED: no output
            return
        entries = [_entry(outcome, run.phase) for outcome in run.outcomes]
        if self.input_file is None:
            self.inlined = [
                {**entry, "metadata": meta} if meta else entry
                for entry, meta in zip(entries, self.metadata, strict=True)
            ]
            return
        lines = [
            {"key": item.key, **entry} if item.key else entry
            for item, entry in zip(run.items, entries, strict=True)
        ]
        content = encode(stable_shuffle(lines, run.id, "output"))
        self.responses_file = store_file(f"batch-{run.id}", content, run.ended_at or 0.0)

    def output(self) -> dict[str, Any] | None:
        """`GenerateContentBatchOutput` (camelCase), once there is one."""
        if self.inlined is not None:
            return {"inlinedResponses": {"inlinedResponses": self.inlined}}
        if self.responses_file is not None:
            return {"responsesFile": self.responses_file}
        return None

    def to_json(self, now: float, faults: Mapping[str, LineFault]) -> dict[str, Any]:
        """The batch as a long-running Operation."""
        run = self.run
        succeeded, failed, pending = run.counts(now, faults)
        metadata: dict[str, Any] = {
            "@type": BATCH_TYPE,
            "model": self.model,
            "name": self.name,
            "createTime": isoformat(run.created_at),
            "updateTime": isoformat(run.updated_at),
            "state": _STATES[run.phase],
            "batchStats": {
                "requestCount": str(len(run.items)),
                "successfulRequestCount": str(succeeded),
                "failedRequestCount": str(failed),
                "pendingRequestCount": str(pending),
            },
        }
        if self.display_name:
            metadata["displayName"] = self.display_name
        if self.input_file is not None:
            metadata["inputConfig"] = {"fileName": self.input_file}
        if run.ended_at is not None:
            metadata["endTime"] = isoformat(run.ended_at)
        operation: dict[str, Any] = {"name": self.name, "metadata": metadata}
        output = self.output()
        if output is not None:
            metadata["output"] = output
        if self.done:
            operation["done"] = True
            if output is not None:
                operation["response"] = {"@type": OUTPUT_TYPE, **output}
            if run.phase == FAILED:
                operation["error"] = {"code": _INVALID_ARGUMENT, "message": run.input_error}
        return operation
