"""Vertex AI batch prediction jobs: input parsing, the job resource and prediction files.

Pure domain logic over a `BatchRun`; `vertex_routes` puts it on the wire. Shapes follow
PROVIDERS.md §3 and Part 2 §4 and the installed `aiplatform_v1.BatchPredictionJob`: proto3 JSON
with string enums, int64 counts as strings and RFC 3339 times.

Output: `{outputUriPrefix}/prediction-model-<create time>/predictions.jsonl` (or
`predictions_00001.jsonl`… when the job writes several files), one line per finished request in
shuffled order: `{"status": "", "processed_time", "request", "response"}` on success,
`{"status": "<error>", "processed_time", "request"}` on failure. Unfinished requests (cancel,
expiry) get no line.
"""

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from interviews.emulator.clock import isoformat
from interviews.emulator.faults import LineFault
from interviews.emulator.gcs import GcsError, GcsObjects
from interviews.emulator.google_batch import (
    CANCELLED,
    EXPIRED,
    FAILED,
    BatchRun,
    Item,
    Outcome,
)
from interviews.emulator.google_requests import get, structure_problem
from interviews.emulator.ids import stable_shuffle
from interviews.emulator.jsonl import encode, split_evenly, truncated

EXPIRY_SECONDS = 24 * 3600
MAX_REQUESTS = 200_000
MAX_INPUT_BYTES = 1024 * 1024 * 1024
# gRPC codes of job-level errors.
_INVALID_ARGUMENT, _CANCELLED, _DEADLINE_EXCEEDED, _INTERNAL = 3, 1, 4, 13


def new_job_id() -> str:
    """A 19-digit numeric id, like the service's."""
    return str(10**18 + secrets.randbelow(9 * 10**18))


def custom_id(request: Any) -> str:
    """The id carried in `request.labels.custom_id` (the only field that survives to output)."""
    labels = get(request, "labels")
    value = labels.get("custom_id") if isinstance(labels, dict) else None
    return str(value) if value is not None else ""


def parse_input(contents: list[tuple[str, bytes]]) -> tuple[list[Item], int, str | None]:
    """(items, non-blank lines, why the input is unusable or None) of JSONL files by URI."""
    items: list[Item] = []
    lines = 0
    for uri, content in contents:
        if len(content) > MAX_INPUT_BYTES:
            return [], 0, f"The input file {uri} is larger than 1 GB."
        for number, raw in enumerate(content.split(b"\n"), start=1):
            if not raw.strip():
                continue
            lines += 1
            try:
                line = orjson.loads(raw)
            except orjson.JSONDecodeError:
                return [], lines, f"Invalid JSON at line {number} of {uri}."
            request = line.get("request") if isinstance(line, dict) else None
            if request is None:
                return [], lines, f"Line {number} of {uri} has no `request` field."
            if (problem := structure_problem(request)) is not None:
                return [], lines, f"Invalid request at line {number} of {uri}: {problem}."
            items.append(Item(custom_id(request), request))
    if not items:
        return [], lines, "The input has no requests."
    if len(items) > MAX_REQUESTS:
        return [], lines, f"The input has {len(items)} requests; a job can have {MAX_REQUESTS}."
    return items, lines, None


def _processed_time(epoch: float | None) -> str:
    """`2026-11-27T18:27:27.775+00:00`, the format of the output's `processed_time`."""
    return datetime.fromtimestamp(epoch or 0.0, UTC).isoformat(timespec="milliseconds")


def _line(outcome: Outcome, request: dict[str, Any]) -> dict[str, Any]:
    processed = _processed_time(outcome.finished_at)
    if outcome.response is not None:
        response = {**outcome.response, "createTime": isoformat(outcome.finished_at)}
        return {"status": "", "processed_time": processed, "request": request, "response": response}
    assert outcome.error is not None
    return {"status": outcome.error.message, "processed_time": processed, "request": request}


@dataclass
class VertexJob:
    """One BatchPredictionJob: the request's fields, its run and where its output went."""

    run: BatchRun
    project: str
    location: str
    display_name: str
    model: str
    input_config: dict[str, Any]
    output_config: dict[str, Any]
    labels: dict[str, str] | None
    output_files: int
    output_directory: str | None = None
    error: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        """The numeric job id."""
        return self.run.id

    @property
    def name(self) -> str:
        """`projects/{p}/locations/{l}/batchPredictionJobs/{id}`, echoing the caller's project."""
        return f"projects/{self.project}/locations/{self.location}/batchPredictionJobs/{self.id}"

    def refresh(
        self,
        now: float,
        faults: Mapping[str, LineFault],
        gcs: GcsObjects | None,
        take_truncation: Callable[[], bool],
    ) -> None:
        """Advance the job; when it ends, write its prediction files."""
        if not self.run.refresh(now, faults):
            return
        run = self.run
        if run.phase == FAILED:
            self.error = {"code": _INVALID_ARGUMENT, "message": run.input_error}
            return
        if run.phase == CANCELLED:
            self.error = {"code": _CANCELLED, "message": "CANCELED"}
        elif run.phase == EXPIRED:
            self.error = {
                "code": _DEADLINE_EXCEEDED,
                "message": "The batch prediction job did not finish within 24 hours; "
                "completed predictions were written.",
            }
        try:
            self._write_output(gcs, take_truncation)
        except GcsError as exc:
            run.fail(now, str(exc))
            self.error = {"code": _INTERNAL, "message": f"Could not write the output: {exc}"}

    def cancel(self, now: float, faults: Mapping[str, LineFault]) -> None:
        """Request cancellation (`CANCELLING`; the next read ends it). ValueError if ended."""
        self.run.cancel(now, faults, immediate=False)

    def _write_output(self, gcs: GcsObjects | None, take_truncation: Callable[[], bool]) -> None:
        outcomes = self.run.outcomes or []
        lines = [
            _line(outcome, item.request)
            for outcome, item in zip(outcomes, self.run.items, strict=True)
            if outcome.finished
        ]
        if not lines:
            return
        if gcs is None:
            raise GcsError("the emulator has no Cloud Storage attached")
        prefix = get(get(self.output_config, "gcsDestination"), "outputUriPrefix")
        stamp = isoformat(self.run.created_at)
        directory = f"{str(prefix).rstrip('/')}/prediction-model-{stamp}"
        chunks = split_evenly(stable_shuffle(lines, self.id, "output"), self.output_files)
        for number, chunk in enumerate(chunks, start=1):
            name = "predictions.jsonl" if len(chunks) == 1 else f"predictions_{number:05d}.jsonl"
            data = encode(chunk)
            # One truncation fault cuts the job's last file, as a download cut short would.
            if number == len(chunks) and take_truncation():
                data = truncated(data)
            gcs.write(f"{directory}/{name}", data)
        self.output_directory = directory

    def to_json(self, now: float, faults: Mapping[str, LineFault]) -> dict[str, Any]:
        """The `BatchPredictionJob` resource (proto3 JSON)."""
        run = self.run
        job: dict[str, Any] = {
            "name": self.name,
            "displayName": self.display_name,
            "model": self.model,
            "inputConfig": self.input_config,
            "outputConfig": self.output_config,
            "state": f"JOB_STATE_{run.phase}",
            "createTime": isoformat(run.created_at),
            "updateTime": isoformat(run.updated_at),
        }
        if run.started_at is not None:
            job["startTime"] = isoformat(run.started_at)
        if run.ended_at is not None:
            job["endTime"] = isoformat(run.ended_at)
        if self.labels:
            job["labels"] = self.labels
        if self.error is not None:
            job["error"] = self.error
        if self.output_directory is not None:
            job["outputInfo"] = {"gcsOutputDirectory": self.output_directory}
        if run.started_at is not None:
            succeeded, failed, incomplete = run.counts(now, faults)
            job["completionStats"] = {
                "successfulCount": str(succeeded),
                "failedCount": str(failed),
                "incompleteCount": str(incomplete),
            }
        return job

    def delete_operation(self, operation_id: str) -> dict[str, Any]:
        """The finished long-running operation a delete answers with."""
        return {
            "name": f"projects/{self.project}/locations/{self.location}/operations/{operation_id}",
            "done": True,
            "response": {"@type": "type.googleapis.com/google.protobuf.Empty"},
        }
