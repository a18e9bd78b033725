"""Anthropic Message Batches through the official `anthropic` SDK.

Wire facts (shared/PROVIDERS.md §1): requests are sent inline (`{"custom_id", "params"}`),
at most 100,000 requests or 256 MB per batch; `processing_status` is in_progress | canceling |
ended; results stream as JSONL from an absolute `results_url`, in no particular order; request
tallies stay zero until the batch ends. Under API version 2026-10-21 the API rejects
`temperature`/`top_p`/`top_k`, so none is ever sent.

Ownership. An Anthropic batch carries no metadata, and the only thing its results echo is each
request's `custom_id`. So every id is sent with the chunk's *ownership tag* appended
(`interview_7-K3QZ5MXA`: a dash and 8 capitals, derived from the chunk and the moment its
intent was committed to the ledger). Our ids are lowercase, so a tagged id is unambiguous and
is stripped back when results are read. A batch found after a lost create call is this chunk's
only if its results carry the tag: proven at once for an ended batch, and checked when the
results are downloaded for one still running.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from interviews.batch_types import (
    BatchJob,
    BatchStatus,
    OutcomeStatus,
    RequestCounts,
    RequestError,
    RequestOutcome,
)
from interviews.costs import Usage, token_counts
from interviews.errors import ForeignBatchError, UnknownBatchStatusError
from interviews.jsonl import atomic_writer
from interviews.providers.base import BatchAdapter, BatchTag, CacheMode, FoundBatch, gone_is_fine
from interviews.providers.sdk_errors import sdk_errors
from interviews.redaction import register_secret
from interviews.requests import CanonicalRequest

PROVIDER = "anthropic"

# Every processing_status literal of anthropic.types.messages.MessageBatch ("ended" is
# resolved from the request tallies, see _ended_status).
_STATUS_MAP: dict[str, BatchStatus] = {
    "in_progress": BatchStatus.RUNNING,
    "canceling": BatchStatus.CANCELING,
    "ended": BatchStatus.SUCCEEDED,
}

# Per-request error types worth another round (shared/error_object.py in the SDK).
_TRANSIENT_ERROR_TYPES = frozenset(
    {"rate_limit_error", "overloaded_error", "api_error", "timeout_error"}
)

_USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    ("cache_creation", "ephemeral_1h_input_tokens"),
)
_SUCCEEDED = OutcomeStatus.SUCCEEDED  # a module global is found faster than an enum member

# How long before the intent time a lost batch may carry as its creation time (the provider's
# clock and ours may differ by this much; a batch cannot be made before its intent).
_FIND_SLACK = timedelta(minutes=2)

# A tagged id: one of ours (lowercase) + "-" + the chunk's tag (base32 capitals).
_TAGGED_ID = re.compile(r"([a-z0-9_-]{1,55})-[A-Z2-7]{8}")
# The first custom_id of a results stream (not one quoted inside an answer: that one's quotes
# are escaped). Results put it first on each line; 64 KiB hold many lines.
_FIRST_ID = re.compile(rb'(?<!\\)"custom_id"\s*:\s*"([A-Za-z0-9_-]{1,64})"')
_PEEK_BYTES = 64 * 1024


def tagged_id(custom_id: str, tag: str) -> str:
    """`custom_id` as sent to Anthropic (at most 55 + 9 = 64 characters, the API's limit)."""
    return f"{custom_id}-{tag}"


def untagged_id(custom_id: Any) -> Any:
    """A results id without its ownership tag (ids from elsewhere are returned unchanged)."""
    if type(custom_id) is str and len(custom_id) > 9 and custom_id[-9] == "-":
        match = _TAGGED_ID.fullmatch(custom_id)
        if match is not None:
            return match.group(1)
    return custom_id


def first_result_tag(head: bytes) -> str | None:
    """The ownership tag of the first custom id in the first bytes of a results stream
    ("" for an untagged id, None when no id is there)."""
    match = _FIRST_ID.search(head)
    if match is None:
        return None
    custom_id = match.group(1).decode()
    return custom_id[-8:] if _TAGGED_ID.fullmatch(custom_id) else ""


def _ended_status(counts: RequestCounts, canceled_by_user: bool) -> BatchStatus:
    """Resolve an `ended` batch from its tallies: ended is not the same as succeeded."""
    total = counts.total
    if total and counts.succeeded == total:
        return BatchStatus.SUCCEEDED
    if counts.succeeded:
        return BatchStatus.PARTIALLY_SUCCEEDED
    if canceled_by_user:
        return BatchStatus.CANCELED
    if total and counts.expired == total:
        return BatchStatus.EXPIRED
    return BatchStatus.FAILED


def _to_job(batch: Any) -> BatchJob:
    """Normalize an SDK `MessageBatch`."""
    raw_status = batch.processing_status
    if raw_status not in _STATUS_MAP:
        raise UnknownBatchStatusError(
            f"Anthropic batch {batch.id} has status {raw_status!r}, which this version of "
            "interviews does not know; upgrade interviews"
        )
    rc = batch.request_counts
    counts = RequestCounts(rc.processing, rc.succeeded, rc.errored, rc.canceled, rc.expired)
    status = _STATUS_MAP[raw_status]
    if raw_status == "ended":
        status = _ended_status(counts, batch.cancel_initiated_at is not None)
    return BatchJob(
        provider=PROVIDER,
        batch_id=batch.id,
        status=status,
        provider_status=raw_status,
        counts=counts,
        created_at=batch.created_at,
        expires_at=batch.expires_at,
        ended_at=batch.ended_at,
    )


@contextlib.contextmanager
def _sdk_errors(action: str) -> Iterator[None]:
    """Translate Anthropic SDK exceptions into our tree, by status code and type only."""
    import anthropic

    with sdk_errors(
        anthropic, provider=PROVIDER, label="Anthropic", key_var="ANTHROPIC_API_KEY", action=action
    ):
        yield


def _usage(counts: list[int] | None) -> Usage | None:
    """Our usage from the message's counts (None: unusable counts, so the cost is unknown;
    so are 1-hour cache writes beyond all cache writes)."""
    if counts is None:
        return None
    fresh, output, read, written, hour = counts
    if hour > written:
        return None
    return Usage(fresh, output, read, written, 0, hour)


def outcome_from_line(value: dict[str, Any]) -> RequestOutcome:
    """Normalize one result line `{"custom_id", "result": {...}}`.

    Raises:
        KeyError/TypeError: the line does not have Anthropic's result shape.
    """
    custom_id = untagged_id(value["custom_id"])
    result = value["result"]
    kind = result["type"]
    if kind == "succeeded":
        # positional arguments and few lookups: this runs once per interview of a large run
        message = result["message"]
        counts = token_counts(message.get("usage"), _USAGE_KEYS)
        content = message.get("content") or ()
        if len(content) == 1 and content[0].get("type") == "text":
            text = content[0].get("text", "")  # the usual answer: one text block
        else:
            text = "".join([b.get("text", "") for b in content if b.get("type") == "text"])
        return RequestOutcome(
            custom_id,
            _SUCCEEDED,
            text,
            message.get("stop_reason"),
            _usage(counts),
            None,
            message.get("model"),
        )
    if kind == "errored":
        error = (result.get("error") or {}).get("error") or {}
        error_type = error.get("type", "unknown_error")
        return RequestOutcome(
            custom_id=custom_id,
            status=OutcomeStatus.ERRORED,
            error=RequestError(
                kind=error_type,
                message=error.get("message", ""),
                transient=error_type in _TRANSIENT_ERROR_TYPES,
            ),
        )
    if kind in ("canceled", "expired"):
        message = (
            "the batch was canceled before this request ran"
            if kind == "canceled"
            else "the batch's 24 h window ended before this request ran"
        )
        return RequestOutcome(
            custom_id=custom_id,
            status=OutcomeStatus(kind),
            error=RequestError(kind=kind, message=message, transient=True),
        )
    raise ValueError(f"unknown result type {kind!r}")


class _TaggedRequestsBody:
    """The Message Batches create body `{"requests": [...]}`, read line by line from a chunk
    file with each `custom_id` carrying the chunk's ownership tag (which proves the batch
    ours if the create answer is lost). Iterable again from the start, as a request body
    must be if it is ever sent twice; holds about one block of lines at a time."""

    _BLOCK = 1 << 20  # bytes handed to the HTTP client at once

    def __init__(self, lines_path: Path, owner: str) -> None:
        self._path = lines_path
        self._owner = owner

    def _pieces(self) -> Iterator[bytes]:
        yield b'{"requests":['
        first = True
        with self._path.open("rb") as handle:
            for raw in handle:
                if not raw.strip():
                    continue
                request = orjson.loads(raw)
                request["custom_id"] = tagged_id(request["custom_id"], self._owner)
                yield (b"" if first else b",") + orjson.dumps(request)
                first = False
        yield b"]}"

    def __iter__(self) -> Iterator[bytes]:
        block: list[bytes] = []
        size = 0
        for piece in self._pieces():
            block.append(piece)
            size += len(piece)
            if size >= self._BLOCK:
                yield b"".join(block)
                block, size = [], 0
        if block:
            yield b"".join(block)

    def content_length(self) -> int:
        """The body's size: sent as Content-Length, so the body is not sent chunked."""
        return sum(len(piece) for piece in self._pieces())


class AnthropicBatchAdapter(BatchAdapter):
    """Anthropic Message Batches.

    Args:
        api_key: the Anthropic API key (from a block or `ANTHROPIC_API_KEY`).
        base_url: API root without `/v1`; None means the SDK default (api.anthropic.com).
        max_retries: the SDK's own per-HTTP-call retries (the only HTTP retry layer).
        timeout: per-HTTP-call timeout in seconds.
        strict_responses: validate every response against the SDK's types (the tests use it
            so the emulator's shapes cannot drift from the real API's).
    """

    provider = PROVIDER
    max_requests = 100_000
    max_bytes = 256 * 1000 * 1000
    window = timedelta(hours=24)

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        max_retries: int = 2,
        timeout: float = 120.0,
        strict_responses: bool = False,
    ) -> None:
        import anthropic  # imported here: the SDK costs ~2.5 s and only network steps need it

        from interviews.providers.server_hints import capped_http_client

        register_secret(api_key)  # a refusal may echo it: redact it from every message

        self._client = anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
            http_client=capped_http_client(anthropic, provider="anthropic"),
            _strict_response_validation=strict_responses,
        )

    @staticmethod
    def build_line(
        request: CanonicalRequest,
        *,
        model: str,
        max_tokens: int,
        endpoint: str | None = None,
        cache: CacheMode = None,
    ) -> dict[str, Any]:
        """`{"custom_id", "params"}` as `anthropic.types.messages.batch_create_params.Request`
        (Anthropic has one endpoint, so `endpoint` is unused).

        With `cache`, the system prompt carries a `cache_control` breakpoint and the request a
        top-level one (automatic caching: a breakpoint on the last block, so each question
        reads the conversation its previous question wrote). A batch's entries live an hour,
        as Anthropic advises for batches (the next question's batch comes after this one
        ends); a real-time conversation's five minutes, the cheaper write.
        """
        params: dict[str, Any] = {
            "model": model,
            "max_tokens": max_tokens,
            "system": request.system_message,
            "messages": [{"role": "user", "content": request.first_question}],
        }
        if cache is not None:
            marker = {"type": "ephemeral", "ttl": "1h" if cache == "batch" else "5m"}
            params["system"] = [
                {"type": "text", "text": request.system_message, "cache_control": marker}
            ]
            params["cache_control"] = marker
        return {"custom_id": request.custom_id, "params": params}

    @staticmethod
    def continue_line(
        line: dict[str, Any], answer: str, question: str, *, last: bool = False
    ) -> dict[str, Any]:
        """The line with `answer` and `question` appended to `params.messages`.

        A cached line keeps its breakpoints, so each question reads what the one before wrote
        and writes the conversation for the next. The `last` question only reads: its
        breakpoint moves from the end of the prompt (automatic caching) to the end of the
        previous question, whose prefix is already cached, so nothing new is written.
        """
        params = line["params"]
        earlier = params["messages"]
        marker = params.get("cache_control")
        if last and marker is not None:
            *before, asked = earlier
            content = asked["content"]
            text = content if isinstance(content, str) else content[0]["text"]
            block = {"type": "text", "text": text, "cache_control": marker}
            earlier = [*before, {**asked, "content": [block]}]
            params = {key: value for key, value in params.items() if key != "cache_control"}
        messages = [
            *earlier,
            {"role": "assistant", "content": answer},
            {"role": "user", "content": question},
        ]
        return {**line, "params": {**params, "messages": messages}}

    def create(self, lines_path: Path, *, tag: BatchTag) -> BatchJob:
        """Send the chunk's lines inline as one Message Batch."""
        from anthropic.types.messages import MessageBatch

        body = _TaggedRequestsBody(lines_path, tag.owner)
        with _sdk_errors("batch create"):
            # never retried by the SDK: a retry after a lost answer would create a second
            # batch; the submit step settles failures through the ledger and a lookup instead.
            # The body (up to 256 MB) is streamed from the chunk file: building it as Python
            # objects for `messages.batches.create(requests=…)` took 1.7 GB at 100k requests.
            batch = self._client.with_options(max_retries=0).post(
                "/v1/messages/batches",
                cast_to=MessageBatch,
                content=body,
                options={
                    "headers": {
                        "Content-Type": "application/json",
                        "Content-Length": str(body.content_length()),
                    }
                },
            )
        return _to_job(batch)

    def check_access(self, model: str) -> str:
        """`GET /v1/models/{model}`."""
        with _sdk_errors(f"model lookup of {model}"):
            self._client.models.retrieve(model)
        return f"GET /v1/models/{model}"

    def count_input_tokens(self, line: dict[str, Any], model: str) -> int:
        """`POST /v1/messages/count_tokens` with the line's system prompt and messages."""
        params = line["params"]
        with _sdk_errors("token count"):
            counted = self._client.messages.count_tokens(
                model=model, system=params["system"], messages=params["messages"]
            )
        return counted.input_tokens

    def retrieve(self, batch_id: str) -> BatchJob:
        """One `GET /v1/messages/batches/{id}`."""
        with _sdk_errors(f"retrieve of batch {batch_id}"):
            return _to_job(self._client.messages.batches.retrieve(batch_id))

    def cancel(self, batch_id: str) -> BatchJob:
        """`POST /v1/messages/batches/{id}/cancel`."""
        with _sdk_errors(f"cancel of batch {batch_id}"):
            return _to_job(self._client.messages.batches.cancel(batch_id))

    def download_results(self, batch_id: str, dest: Path) -> int:
        """Stream the results JSONL byte for byte into `dest` (atomically)."""
        written = 0
        with _sdk_errors(f"results download of batch {batch_id}"):
            decoder = self._client.messages.batches.results(batch_id)
            try:
                with atomic_writer(dest, durable=True) as handle:
                    # the raw body, not the SDK's decoded objects: keep results as returned
                    for chunk in decoder.http_response.iter_bytes():
                        handle.write(chunk)
                        written += len(chunk)
            finally:
                decoder.close()
        return written

    def cleanup(self, batch_id: str) -> int:
        """Delete the batch and its results at Anthropic (allowed once it has ended)."""
        with gone_is_fine(), _sdk_errors(f"delete of batch {batch_id}"):
            self._client.messages.batches.delete(batch_id)
            return 1
        return 0

    outcome_from_line = staticmethod(outcome_from_line)

    @staticmethod
    def line_custom_id(line: dict[str, Any]) -> str:
        """The custom id carried by one of this provider's request lines."""
        return line["custom_id"]

    def find_batches(self, tag: BatchTag) -> list[FoundBatch]:
        """Batches created since `tag.intent_at` with exactly `tag.request_count` requests.

        An ended one is this chunk's only if its results carry the chunk's ownership tag (the
        first result is read to see): others are left out. One still running cannot show its
        results yet: it is returned unproven, and its results are checked when downloaded.
        """
        start = tag.intent_at - _FIND_SLACK
        owner = tag.owner
        found: list[FoundBatch] = []
        with _sdk_errors("batch list"):
            for batch in self._client.messages.batches.list(limit=100):
                if batch.created_at < start:
                    break  # newest first: everything after this is older still
                job = _to_job(batch)
                # the tallies always sum to the batch's size (processing == total until the end)
                if job.counts.total != tag.request_count:
                    continue
                if batch.processing_status != "ended":
                    found.append(FoundBatch(job, proven=False))
                elif self._first_result_tag(batch.id) == owner:
                    found.append(FoundBatch(job, proven=True))
        return found

    def _first_result_tag(self, batch_id: str) -> str | None:
        """The ownership tag on the first result of an ended batch (None if none is readable)."""
        head = b""
        with gone_is_fine(), _sdk_errors(f"results read of batch {batch_id}"):
            decoder = self._client.messages.batches.results(batch_id)
            try:
                for piece in decoder.http_response.iter_bytes():
                    head += piece
                    if len(head) >= _PEEK_BYTES or _FIRST_ID.search(head):
                        break
            finally:
                decoder.close()
        return first_result_tag(head[:_PEEK_BYTES])

    def check_owner(self, results_path: Path, tag: BatchTag) -> None:
        """Refuse results whose ids carry another chunk's ownership tag (a batch adopted while
        it was still running turned out to be someone else's).

        Untagged ids are accepted: batches created before ids were tagged carry none.
        """
        with results_path.open("rb") as handle:
            seen = first_result_tag(handle.read(_PEEK_BYTES))
        if seen and seen != tag.owner:
            raise ForeignBatchError(
                f"its results carry the request ids of another run's batch (tag {seen}, this "
                f"chunk's is {tag.owner})"
            )
