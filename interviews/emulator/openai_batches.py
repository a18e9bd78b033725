"""OpenAI Batch: input-file validation, the batch state machine and output/error lines.

Pure domain logic on emulated time; `openai_routes` puts it on the wire. Facts follow
PROVIDERS.md §2 and the installed SDK's `openai.types.Batch`.

Lifecycle (every step happens when the batch is read, so tests never sleep):

- create answers `validating`; the first read validates the input: `failed` (with line-level
  `errors`) or `in_progress`;
- request k (in a shuffled rank order) finishes at created + processing_seconds·(k+1)/n, and
  `request_counts` grow as requests finish;
- the first read after the last request finished shows `finalizing`, the next `completed`, with
  `output_file_id` (successes) and `error_file_id` (failures, None if there are none);
- at created + 24 h unfinished requests are `batch_expired` error lines (status `expired`);
- cancel answers `cancelling`; the next read ends the batch as `cancelled`, unfinished requests
  becoming `batch_cancelled` error lines.
"""

import math
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import orjson

from interviews.emulator.faults import LineFault
from interviews.emulator.ids import HEX, random_token, stable_shuffle, stable_token
from interviews.emulator.openai_requests import check, execute
from interviews.emulator.prompt_cache import PromptCache

MAX_REQUESTS = 50_000
MAX_INPUT_BYTES = 200 * 1024 * 1024
EXPIRY_SECONDS = 24 * 3600
# Unverified: the real API's cap on reported line errors is not documented; a cap keeps every
# poll of a badly broken 50,000-line batch small.
MAX_REPORTED_ERRORS = 100
ENDED = frozenset({"completed", "failed", "expired", "cancelled"})
EXPIRED_MESSAGE = "This request could not be executed before the completion window expired."
CANCELLED_MESSAGE = "This request could not be executed because the batch was cancelled."

StoreFile = Callable[[str, bytes, float], str]
"""Writes a batch output file `(filename, content, created_at)` and returns its id."""


@dataclass
class ParsedInput:
    """A batch input file, split into requests, or the reasons it fails validation."""

    custom_ids: list[str] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    model: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    lines: int = 0
    """Non-blank lines (the requests received, valid or not)."""


def _line_error(
    code: str, message: str, line: int | None, param: str | None = None
) -> dict[str, Any]:
    return {"code": code, "line": line, "message": message, "param": param}


def parse_input(content: bytes, endpoint: str) -> ParsedInput:
    """Validate a `.jsonl` input file against `endpoint` like the real API's validation step."""
    parsed = ParsedInput()
    raw_lines = content.split(b"\n")
    parsed.lines = sum(1 for raw in raw_lines if raw.strip())
    if len(content) > MAX_INPUT_BYTES:
        parsed.errors.append(
            _line_error(
                "file_too_large",
                f"The input file is {len(content)} bytes; a batch input file can be at most "
                f"{MAX_INPUT_BYTES} bytes (200 MB). Split it into several batches.",
                None,
            )
        )
        return parsed
    if parsed.lines > MAX_REQUESTS:
        parsed.errors.append(
            _line_error(
                "too_many_tasks",
                f"The input file has {parsed.lines} requests; a batch can have at most "
                f"{MAX_REQUESTS}. Split it into several batches.",
                None,
            )
        )
        return parsed
    if parsed.lines == 0:
        parsed.errors.append(_line_error("empty_file", "The input file is empty.", None))
        return parsed
    seen: set[str] = set()
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        problem = _check_line(raw, number, endpoint, seen, parsed)
        if problem is not None and len(parsed.errors) < MAX_REPORTED_ERRORS:
            parsed.errors.append(problem)
    return parsed


def _check_line(
    raw: bytes, number: int, endpoint: str, seen: set[str], parsed: ParsedInput
) -> dict[str, Any] | None:
    """Record one input line in `parsed`, or return its (first) error."""
    try:
        item = orjson.loads(raw)
    except orjson.JSONDecodeError:
        item = None
    if not isinstance(item, dict):
        return _line_error("invalid_json_line", "This line is not parseable as valid JSON.", number)
    for name in ("custom_id", "method", "url", "body"):
        if item.get(name) is None:
            return _line_error(
                "missing_required_parameter",
                f"Missing required parameter: '{name}'.",
                number,
                name,
            )
    custom_id, body = item["custom_id"], item["body"]
    if not isinstance(custom_id, str) or not custom_id:
        return _line_error(
            "invalid_value", "'custom_id' must be a non-empty string.", number, "custom_id"
        )
    if item["method"] != "POST":
        return _line_error(
            "invalid_value", f"Invalid method {item['method']!r}; only 'POST' is supported.",
            number, "method",
        )  # fmt: skip
    if item["url"] != endpoint:
        return _line_error(
            "url_mismatch",
            f"The provided URL {item['url']!r} does not match the batch endpoint {endpoint!r}.",
            number,
            "url",
        )
    if not isinstance(body, dict):
        return _line_error("invalid_value", "'body' must be a JSON object.", number, "body")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _line_error(
            "missing_required_parameter", "Missing required parameter: 'body.model'.",
            number, "body.model",
        )  # fmt: skip
    if parsed.model is not None and model != parsed.model:
        # The guide: "each input file can only include requests to a single model".
        return _line_error(
            "model_mismatch",
            f"The provided model {model!r} does not match the model of the other requests in "
            f"this batch ({parsed.model!r}); a batch can only use one model.",
            number,
            "body.model",
        )
    if custom_id in seen:
        return _line_error(
            "duplicate_custom_id",
            f"The custom_id {custom_id!r} is a duplicate of another request. The custom_id "
            "parameter must be unique for each request in a batch.",
            number,
            "custom_id",
        )
    seen.add(custom_id)
    parsed.model = model
    parsed.custom_ids.append(custom_id)
    parsed.bodies.append(body)
    return None


@dataclass
class Batch:
    """One OpenAI batch; its state advances when it is read (`refresh`).

    Request `i` finishes at `done_times[ranks[i]]`; ranks are a deterministic shuffle, so
    completion order differs from input order like the real service.
    """

    id: str
    endpoint: str
    input_file_id: str
    created_at: float
    metadata: dict[str, str] | None
    output_expires_seconds: int | None
    custom_ids: list[str]
    bodies: list[dict[str, Any]]
    model: str | None
    input_errors: list[dict[str, Any]]
    ranks: list[int]
    done_times: list[float]
    rejected_before: list[int]
    """`rejected_before[k]`: requests of rank < k the endpoint rejects (400) when run."""
    positions: dict[str, int]
    """Input index by custom_id."""
    status: str = "validating"
    in_progress_at: float | None = None
    finalizing_at: float | None = None
    completed_at: float | None = None
    failed_at: float | None = None
    expired_at: float | None = None
    cancelling_at: float | None = None
    cancelled_at: float | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    final_counts: dict[str, int] | None = None
    usage: dict[str, Any] = field(default_factory=lambda: _usage(0, 0, 0))
    """`BatchUsage`: zero until the batch ends, then the sum over successful requests."""
    cache: PromptCache | None = None
    """The emulator's prompt cache, read and written as each request is done (None: off)."""

    @property
    def expires_at(self) -> float:
        """Creation + 24 h: whatever is unfinished then becomes `batch_expired`."""
        return self.created_at + EXPIRY_SECONDS

    def refresh(self, now: float, faults: Mapping[str, LineFault], store_file: StoreFile) -> None:
        """Advance the state as of `now`; `faults` (by custom_id) force outcomes at the end."""
        if self.status in ENDED:
            return
        if self.status == "validating":
            if self.input_errors:
                self.status, self.failed_at = "failed", now
                self.bodies = []
                return
            self.status = "in_progress"
            self.in_progress_at = min(now, self.expires_at)
            if not self._expired(now):
                return  # this read shows `in_progress`, like the real API after validation
        if self.status == "cancelling":
            cutoff = -math.inf  # cancelled while still validating: no request ran
            if self.in_progress_at is not None and self.cancelling_at is not None:
                cutoff = self.cancelling_at
            self._finish("cancelled", now, cutoff, "batch_cancelled", faults, store_file)
            self.cancelled_at = now
        elif self._expired(now):
            deadline = self.expires_at
            self._finish("expired", deadline, deadline, "batch_expired", faults, store_file)
            self.expired_at = deadline
        elif self.status == "in_progress" and now >= self.done_times[-1]:
            self.status = "finalizing"
            self.finalizing_at = max(self.done_times[-1], self.in_progress_at or now)
        elif self.status == "finalizing":
            self._finish("completed", now, math.inf, "batch_expired", faults, store_file)
            self.completed_at = now

    def _expired(self, now: float) -> bool:
        return now >= self.expires_at and self.done_times[-1] > self.expires_at

    def cancel(self, now: float) -> None:
        """Start cancelling (a no-op when already cancelling); requests done by now keep output."""
        if self.status != "cancelling":
            self.status, self.cancelling_at = "cancelling", now

    def _finish(
        self,
        status: str,
        ended_at: float,
        cutoff: float,
        unfinished: str,
        faults: Mapping[str, LineFault],
        store_file: StoreFile,
    ) -> None:
        """Fix every request's outcome, write the output and error files, end the batch."""
        succeeded: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        tokens = [0, 0, 0]
        for custom_id, body, rank in zip(self.custom_ids, self.bodies, self.ranks, strict=True):
            fault = faults.get(custom_id)
            if fault is not None:
                failed.append(forced_line(fault, self.id, custom_id))
            elif self.done_times[rank] <= cutoff:
                seed = f"{self.id}\x1f{custom_id}"
                outcome = execute(
                    self.endpoint, body, custom_id, seed, self.done_times[rank], self.cache
                )
                line = _response_line(self.id, custom_id, outcome.status_code, outcome.body)
                (succeeded if outcome.status_code == 200 else failed).append(line)
                tokens[0] += outcome.input_tokens
                tokens[1] += outcome.output_tokens
                tokens[2] += outcome.reasoning_tokens
            else:
                failed.append(_unfinished_line(unfinished, self.id, custom_id))
        if succeeded:
            lines = stable_shuffle(succeeded, self.id, "output")
            self.output_file_id = store_file(f"{self.id}_output.jsonl", encode(lines), ended_at)
        if failed:
            lines = stable_shuffle(failed, self.id, "errors")
            self.error_file_id = store_file(f"{self.id}_error.jsonl", encode(lines), ended_at)
        self.final_counts = {
            "total": len(self.custom_ids),
            "completed": len(succeeded),
            "failed": len(failed),
        }
        self.usage = _usage(*tokens)
        self.status = status
        # The inputs are no longer needed once every outcome is fixed.
        self.bodies = []

    def request_counts(self, now: float, faults: Mapping[str, LineFault]) -> dict[str, int]:
        """`{total, completed, failed}`; before the end, counts grow as requests finish."""
        if self.final_counts is not None:
            return dict(self.final_counts)
        if self.in_progress_at is None:
            # Validating, failed validation, or cancelled before validation: nothing ran.
            return {"total": 0, "completed": 0, "failed": 0}
        until = self.cancelling_at if self.cancelling_at is not None else now
        finished = bisect_right(self.done_times, until)
        failing = self.rejected_before[finished]
        # Faults are few and custom_ids many, so look the faulted ones up by position.
        for custom_id in faults:
            index = self.positions.get(custom_id)
            if index is None:
                continue
            rank = self.ranks[index]
            rejected = self.rejected_before[rank + 1] > self.rejected_before[rank]
            if rank < finished and not rejected:
                failing += 1
        return {"total": len(self.custom_ids), "completed": finished - failing, "failed": failing}

    def to_json(self, now: float, faults: Mapping[str, LineFault]) -> dict[str, Any]:
        """The `Batch` object (timestamps in Unix seconds)."""
        errors = None
        if self.status == "failed":
            errors = {"object": "list", "data": self.input_errors}
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "errors": errors,
            "input_file_id": self.input_file_id,
            "completion_window": "24h",
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": _seconds(self.created_at),
            "in_progress_at": _seconds(self.in_progress_at),
            "expires_at": _seconds(self.expires_at),
            "finalizing_at": _seconds(self.finalizing_at),
            "completed_at": _seconds(self.completed_at),
            "failed_at": _seconds(self.failed_at),
            "expired_at": _seconds(self.expired_at),
            "cancelling_at": _seconds(self.cancelling_at),
            "cancelled_at": _seconds(self.cancelled_at),
            "request_counts": self.request_counts(now, faults),
            "usage": dict(self.usage),
            "model": self.model if self.status != "validating" else None,
            "metadata": self.metadata,
        }


def new_batch(
    parsed: ParsedInput,
    *,
    endpoint: str,
    input_file_id: str,
    metadata: dict[str, str] | None,
    output_expires_seconds: int | None,
    now: float,
    processing_seconds: float,
    cache: PromptCache | None = None,
) -> Batch:
    """A `validating` batch over an already parsed input file (whose requests use `cache`,
    the emulator's prompt cache, when they are done)."""
    batch_id = "batch_" + random_token(32, HEX)
    count = len(parsed.custom_ids)
    ranks = stable_shuffle(range(count), batch_id, "ranks")
    rejected_by_rank = [0] * count
    for index, body in enumerate(parsed.bodies):
        rejected_by_rank[ranks[index]] = int(check(endpoint, body) is not None)
    return Batch(
        id=batch_id,
        endpoint=endpoint,
        input_file_id=input_file_id,
        created_at=now,
        metadata=metadata,
        output_expires_seconds=output_expires_seconds,
        custom_ids=parsed.custom_ids,
        bodies=parsed.bodies,
        model=parsed.model,
        input_errors=parsed.errors,
        ranks=ranks,
        # A failed (empty) input still needs one entry so the clock logic stays uniform.
        done_times=[now + processing_seconds * (k + 1) / count for k in range(count)] or [now],
        rejected_before=[0, *accumulate(rejected_by_rank)],
        positions={custom_id: index for index, custom_id in enumerate(parsed.custom_ids)},
        cache=cache,
    )


def encode(lines: list[dict[str, Any]]) -> bytes:
    """JSONL bytes, one object per line, each ending in a newline."""
    return b"".join(orjson.dumps(line) + b"\n" for line in lines)


def _seconds(epoch: float | None) -> int | None:
    return int(epoch) if epoch is not None else None


def _usage(input_tokens: int, output_tokens: int, reasoning_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
    }


def _line_id(batch_id: str, custom_id: str) -> str:
    return "batch_req_" + stable_token(32, batch_id, custom_id, "line", alphabet=HEX)


def _response_line(
    batch_id: str, custom_id: str, status_code: int, body: dict[str, Any]
) -> dict[str, Any]:
    """An output/error line for a request that reached the endpoint (`error: null`)."""
    return {
        "id": _line_id(batch_id, custom_id),
        "custom_id": custom_id,
        "response": {
            "status_code": status_code,
            "request_id": stable_token(32, batch_id, custom_id, "request", alphabet=HEX),
            "body": body,
        },
        "error": None,
    }


def _unfinished_line(code: str, batch_id: str, custom_id: str) -> dict[str, Any]:
    """An error line for a request that never ran (`response: null`)."""
    message = EXPIRED_MESSAGE if code == "batch_expired" else CANCELLED_MESSAGE
    return {
        "id": _line_id(batch_id, custom_id),
        "custom_id": custom_id,
        "response": None,
        "error": {"code": code, "message": message},
    }


def forced_line(fault: LineFault, batch_id: str, custom_id: str) -> dict[str, Any]:
    """The error line a `lines` fault forces: an HTTP error, `batch_expired` or `_cancelled`."""
    if fault.type == "expired":
        return _unfinished_line("batch_expired", batch_id, custom_id)
    if fault.type == "canceled":
        return _unfinished_line("batch_cancelled", batch_id, custom_id)
    status = _ERROR_STATUS.get(fault.error_type, 500)
    error = {
        "message": fault.message,
        "type": fault.error_type,
        "param": None,
        "code": "rate_limit_exceeded" if status == 429 else None,
    }
    return _response_line(batch_id, custom_id, status, {"error": error})


# The HTTP status the real API pairs with each error type (permanent ones are 4xx).
_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
}
