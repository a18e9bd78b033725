"""Opt-in fault injection: HTTP errors, per-line outcomes and truncated downloads.

The JSON accepted by `POST /_emulator/faults` (it replaces all current faults; `{}` clears)::

    {"http": [{"provider": "anthropic", "method": "POST", "path": "/batches$",
               "status": 429, "retry_after": 0.01, "count": 1}],
     "lines": {"<custom_id>": {"type": "errored", "error_type": "overloaded_error",
                               "message": "..."} | {"type": "expired"} | {"type": "canceled"}},
     "truncate_results": false}

HTTP faults fire `count` times, then stop; with `"echo_key": true` the error message repeats the
key or token the client presented (`x-api-key`, `x-goog-api-key`, `Authorization: Bearer` or
`?key=`), as a careless server does in a 401 (use it with 401/403). `provider` is `anthropic`,
`openai`, `vertex` or `gemini` (None: any), and `path` is a regex searched in the path after the
provider prefix (e.g. `/v1/batches`). On Vertex and Gemini `error_type`, if set, is the gRPC status
name of the error envelope (e.g. `RESOURCE_EXHAUSTED`). Vertex faults also hit clients' media
downloads from the GCS emulator (`GET …?alt=media`, how Vertex results are read): `path` is then
searched in the object's URL path with the object name decoded, e.g.
`/download/storage/v1/b/<bucket>/o/<prefix>/prediction-model-…/predictions.jsonl`; there a `delay`
always holds the call before the object is read (a read changes nothing).
A `delay` hold ends early when the faults are replaced or cleared (a reset too), so a test can
hold a call, change the world, and let it go. A call held before it was handled whose client
hung up meanwhile is dropped, never handled, as a service never sees a request that did not
reach it.
Line faults override a request's outcome when its batch ends (the key is the `custom_id`; on
Vertex `request.labels.custom_id`, on Gemini the inline `metadata.key` or the file line's `key`;
on Anthropic a key may also be a pattern with `*`, such as `interview_4-*`, to match the ids
`interviews` sends there with its ownership tag appended).
On OpenAI batches every line fault becomes an error-file line: `errored` an HTTP error response
(status 429 for `rate_limit_error`, else 500, with `error_type` as the error body's type),
`expired` a `batch_expired` and `canceled` a `batch_cancelled` line. On Vertex and Gemini,
`errored` and `canceled` make the request fail (a failure line with `message` as its `status`;
an error entry with gRPC code 8 for `rate_limit_error`, 13 otherwise, 1 for `canceled`), and
`expired` keeps it from ever finishing, so its batch can only end by expiring (or a cancel).
`truncate_results` is `true` (every download) or an int (that many downloads); it cuts Anthropic
results downloads, OpenAI `batch_output` and Gemini generated-file downloads mid-line, and the
last prediction file a Vertex job writes to GCS. `Faults` is not locked itself; `EmulatorState`
guards it.
"""

import re
from dataclasses import dataclass, field
from typing import Any

# The Anthropic SDK honours any retry-after, however large (PROVIDERS.md §0.9), so the default
# stays tiny: a fault test must never sleep for real.
DEFAULT_RETRY_AFTER = 0.01
_RETRY_AFTER_STATUSES = {429, 529}
# "answer" forces an answer's text (`message`), to try the quality flags: Anthropic batches
# only (the other providers' batches take any forced line for an error)
LINE_FAULT_TYPES = ("errored", "expired", "canceled", "answer")


class FaultSpecError(ValueError):
    """The fault JSON is malformed; the message names the field."""


@dataclass
class HttpFault:
    """Answer matching calls with an error status instead of handling them, or hold them.

    With `delay` the call is held that many seconds: before it is handled (`delay_after`
    false), or after it was handled but before the answer goes out (`delay_after` true: the
    work is done, the client has not heard of it yet). A delay fault with no `status` then
    answers normally; crash tests kill a client while it waits. The hold ends early once the
    fault is no longer installed (`Faults.installed`).
    """

    status: int | None
    provider: str | None = None
    method: str | None = None
    path: str = ""
    count: int = 1
    retry_after: float | None = None
    should_retry: bool | None = None
    error_type: str | None = None
    message: str | None = None
    delay: float = 0.0
    delay_after: bool = False
    echo_key: bool = False

    def error_message(self, presented_key: str | None) -> str:
        """The error text; with `echo_key`, it repeats the presented key (a leak to guard
        against, so tests can check that it is redacted everywhere)."""
        message = self.message or f"Injected fault (HTTP {self.status})."
        if self.echo_key:
            message = f"{message} Incorrect API key provided: {presented_key or '<none>'}."
        return message

    def matches(self, provider: str, method: str, path: str) -> bool:
        """Whether a call (path relative to the provider prefix) is hit by this fault."""
        return (
            self.count > 0
            and self.provider in (None, provider)
            and self.method in (None, method)
            and re.search(self.path, path) is not None
        )

    def headers(self) -> dict[str, str]:
        """Response headers: `retry-after` (seconds, may be fractional) and friends."""
        headers: dict[str, str] = {}
        retry_after = self.retry_after
        if retry_after is None and self.status in _RETRY_AFTER_STATUSES:
            retry_after = DEFAULT_RETRY_AFTER
        if retry_after is not None:
            # The SDKs read `retry-after-ms` first and accept a float in `retry-after`.
            headers["retry-after"] = f"{retry_after:g}"
            headers["retry-after-ms"] = f"{retry_after * 1000:g}"
        if self.should_retry is not None:
            headers["x-should-retry"] = "true" if self.should_retry else "false"
        return headers


@dataclass(frozen=True)
class LineFault:
    """Force one request's outcome (by `custom_id`) when its batch ends."""

    type: str
    error_type: str = "api_error"
    message: str = "Injected fault."


@dataclass
class Faults:
    """The current set of faults."""

    http: list[HttpFault] = field(default_factory=list)
    lines: dict[str, LineFault] = field(default_factory=dict)
    truncate_results: bool | int = False

    @classmethod
    def from_json(cls, data: Any) -> "Faults":
        """Parse the control-route JSON, raising `FaultSpecError` on anything unexpected."""
        if not isinstance(data, dict):
            raise FaultSpecError("faults must be a JSON object")
        unknown = set(data) - {"http", "lines", "truncate_results"}
        if unknown:
            raise FaultSpecError(f"unknown fault keys: {sorted(unknown)}")
        http = [_parse_http(i, item) for i, item in enumerate(_as_list(data.get("http")))]
        lines_data = data.get("lines") or {}
        if not isinstance(lines_data, dict):
            raise FaultSpecError("lines must be an object keyed by custom_id")
        lines = {str(cid): _parse_line(str(cid), spec) for cid, spec in lines_data.items()}
        truncate = data.get("truncate_results", False)
        if not isinstance(truncate, bool | int) or truncate < 0:
            raise FaultSpecError("truncate_results must be a boolean or a non-negative int")
        return cls(http=http, lines=lines, truncate_results=truncate)

    def take_http(self, provider: str, method: str, path: str) -> HttpFault | None:
        """The first live HTTP fault matching the call, with one firing used up."""
        for fault in self.http:
            if fault.matches(provider, method, path):
                fault.count -= 1
                return fault
        return None

    def installed(self, fault: HttpFault) -> bool:
        """Whether `fault` (that very object) is still one of these faults; a call it holds
        is let go once it is not."""
        return any(item is fault for item in self.http)

    def take_truncation(self) -> bool:
        """Whether this results download is cut short (uses up one if counted)."""
        if self.truncate_results is True:
            return True
        if self.truncate_results is False or self.truncate_results <= 0:
            return False
        self.truncate_results -= 1
        return True


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FaultSpecError("http must be a list of fault objects")
    return value


def _parse_http(index: int, item: Any) -> HttpFault:
    where = f"http[{index}]"
    if not isinstance(item, dict):
        raise FaultSpecError(f"{where} must be an object")
    allowed = {
        "provider", "method", "path", "status", "retry_after", "count",
        "should_retry", "error_type", "message", "delay", "delay_after", "echo_key",
    }  # fmt: skip
    unknown = set(item) - allowed
    if unknown:
        raise FaultSpecError(f"{where}: unknown keys {sorted(unknown)}")
    status = item.get("status")
    delay = item.get("delay", 0)
    if not isinstance(delay, int | float) or not 0 <= delay <= 600:
        raise FaultSpecError(f"{where}.delay must be 0-600 seconds")
    if status is None and not delay:
        raise FaultSpecError(f"{where} needs a status, a delay, or both")
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        raise FaultSpecError(f"{where}.status must be an HTTP error status (400-599)")
    path = str(item.get("path", ""))
    try:
        re.compile(path)
    except re.error as exc:
        raise FaultSpecError(f"{where}.path is not a valid regex: {exc}") from exc
    count = item.get("count", 1)
    if not isinstance(count, int) or count < 0:
        raise FaultSpecError(f"{where}.count must be a non-negative int")
    retry_after = item.get("retry_after")
    if retry_after is not None and (not isinstance(retry_after, int | float) or retry_after < 0):
        raise FaultSpecError(f"{where}.retry_after must be a non-negative number of seconds")
    method = item.get("method")
    return HttpFault(
        status=status,
        provider=item.get("provider"),
        method=method.upper() if isinstance(method, str) else None,
        path=path,
        count=count,
        retry_after=float(retry_after) if retry_after is not None else None,
        should_retry=item.get("should_retry"),
        error_type=item.get("error_type"),
        message=item.get("message"),
        delay=float(delay),
        delay_after=bool(item.get("delay_after", False)),
        echo_key=bool(item.get("echo_key", False)),
    )


def _parse_line(custom_id: str, spec: Any) -> LineFault:
    where = f"lines[{custom_id!r}]"
    if not isinstance(spec, dict) or spec.get("type") not in LINE_FAULT_TYPES:
        raise FaultSpecError(f"{where}.type must be one of {LINE_FAULT_TYPES}")
    return LineFault(
        type=spec["type"],
        error_type=str(spec.get("error_type", "api_error")),
        message=str(spec.get("message", "Injected fault.")),
    )
