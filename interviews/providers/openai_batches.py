"""OpenAI Batch API (with the Files API) through the official `openai` SDK.

Wire facts (shared/PROVIDERS.md §2): the lines `{"custom_id", "method", "url", "body"}` are
uploaded as a file (`purpose="batch"`), then a batch is created from it; at most 50,000 requests
and 200 MB per file. Results come back in TWO files: the output file (HTTP 200 lines) and the
error file (HTTP error lines, and `response: null` lines such as `batch_expired`), in no
particular order. Reasoning models reject `max_tokens` and sampling parameters, so lines use
`max_completion_tokens` (`max_output_tokens` on /v1/responses) and no temperature.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
from interviews.errors import UnknownBatchStatusError, is_transient_status
from interviews.jsonl import atomic_writer
from interviews.providers.base import BatchAdapter, BatchTag, CacheMode, FoundBatch, gone_is_fine
from interviews.providers.sdk_errors import sdk_errors
from interviews.redaction import register_secret
from interviews.requests import CanonicalRequest

PROVIDER = "openai"
CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"

# Every `status` literal of openai.types.Batch. "completed", "expired" and "cancelled" are
# resolved from the request tallies (see _ended_status): ended is not the same as succeeded.
_STATUS_MAP: dict[str, BatchStatus] = {
    "validating": BatchStatus.PENDING,
    "in_progress": BatchStatus.RUNNING,
    "finalizing": BatchStatus.FINALIZING,
    "cancelling": BatchStatus.CANCELING,
    "completed": BatchStatus.SUCCEEDED,
    "expired": BatchStatus.EXPIRED,
    "cancelled": BatchStatus.CANCELED,
    "failed": BatchStatus.FAILED,
}

_FINISHED = frozenset({"completed", "expired", "cancelled", "failed"})

# `error.code` of `response: null` lines that mean the request never ran.
_NOT_RUN = {"batch_expired": OutcomeStatus.EXPIRED, "batch_cancelled": OutcomeStatus.CANCELED}
_TRANSIENT_CODES = frozenset({"request_timeout", "rate_limit_exceeded", "server_error"})

# Metadata keys that tag our batches, to find one again after a crash.
_META_RUN, _META_CHUNK, _META_SHA = "interviews_run_id", "interviews_chunk", "interviews_sha256"
_META_OWNER = "interviews_owner"  # the chunk's ownership tag (see BatchTag.owner)
_FIND_SLACK = timedelta(minutes=10)


def _ts(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


def _ended_status(raw: str, counts: RequestCounts) -> BatchStatus:
    """Resolve a finished batch from its tallies."""
    if counts.succeeded and counts.succeeded == counts.total:
        return BatchStatus.SUCCEEDED
    if counts.succeeded:
        return BatchStatus.PARTIALLY_SUCCEEDED
    if raw == "completed":
        return BatchStatus.FAILED  # every request errored
    return _STATUS_MAP[raw]


def _to_job(batch: Any) -> BatchJob:
    """Normalize an SDK `Batch`."""
    raw = batch.status
    if raw not in _STATUS_MAP:
        raise UnknownBatchStatusError(
            f"OpenAI batch {batch.id} has status {raw!r}, which this version of interviews "
            "does not know; upgrade interviews"
        )
    rc = batch.request_counts
    total, done, failed = (rc.total, rc.completed, rc.failed) if rc else (0, 0, 0)
    counts = RequestCounts(processing=max(total - done - failed, 0), succeeded=done, errored=failed)
    status = _STATUS_MAP[raw]
    if raw in ("completed", "expired", "cancelled"):
        status = _ended_status(raw, counts)
    errors = ()
    if batch.errors and batch.errors.data:
        errors = tuple(
            f"line {e.line}: {e.message} ({e.code})" if e.line else f"{e.message} ({e.code})"
            for e in batch.errors.data
        )
    return BatchJob(
        provider=PROVIDER,
        batch_id=batch.id,
        status=status,
        provider_status=raw,
        counts=counts,
        created_at=_ts(batch.created_at),
        expires_at=_ts(batch.expires_at),
        ended_at=_ts(
            batch.completed_at or batch.expired_at or batch.cancelled_at or batch.failed_at
        ),
        errors=errors,
    )


@contextlib.contextmanager
def _sdk_errors(action: str) -> Iterator[None]:
    """Translate OpenAI SDK exceptions into our tree, by status code and type only."""
    import openai

    with sdk_errors(
        openai, provider=PROVIDER, label="OpenAI", key_var="OPENAI_API_KEY", action=action
    ):
        yield


def _chat_outcome(custom_id: str, body: dict[str, Any]) -> RequestOutcome:
    choice = (body.get("choices") or [{}])[0]
    usage = _usage(body.get("usage"), _CHAT_USAGE)
    return RequestOutcome(
        custom_id=custom_id,
        status=OutcomeStatus.SUCCEEDED,
        text=(choice.get("message") or {}).get("content") or "",
        finish_reason=choice.get("finish_reason"),
        usage=usage,
        provider_model=body.get("model"),
    )


_CHAT_USAGE = (
    "prompt_tokens",
    "completion_tokens",
    ("prompt_tokens_details", "cached_tokens"),
    ("completion_tokens_details", "reasoning_tokens"),
    ("prompt_tokens_details", "cache_write_tokens"),
)
_RESPONSES_USAGE = (
    "input_tokens",
    "output_tokens",
    ("input_tokens_details", "cached_tokens"),
    ("output_tokens_details", "reasoning_tokens"),
    ("input_tokens_details", "cache_write_tokens"),
)


def _usage(usage: object, keys: tuple) -> Usage | None:
    """Our usage from OpenAI's (whose input count includes the tokens read from and written
    to the prompt cache), or None when its counts are unusable (the cost is then unknown)."""
    counts = token_counts(usage, keys)
    if counts is None or counts[2] + counts[4] > counts[0]:  # more cached than input: unreal
        return None
    prompt, completion, cached, reasoning, written = counts
    return Usage(prompt - cached - written, completion, cached, written, reasoning)


def _responses_outcome(custom_id: str, body: dict[str, Any]) -> RequestOutcome:
    text = "".join(
        part.get("text", "")
        for item in body.get("output") or []
        if item.get("type") == "message"
        for part in item.get("content") or []
        if part.get("type") == "output_text"
    )
    incomplete = (body.get("incomplete_details") or {}).get("reason")
    return RequestOutcome(
        custom_id=custom_id,
        status=OutcomeStatus.SUCCEEDED,
        text=text,
        finish_reason=incomplete or body.get("status"),
        usage=_usage(body.get("usage"), _RESPONSES_USAGE),
        provider_model=body.get("model"),
    )


def outcome_from_line(value: dict[str, Any]) -> RequestOutcome:
    """Normalize one line of an output or error file.

    Raises:
        KeyError/TypeError/ValueError: the line does not have OpenAI's batch output shape.
    """
    custom_id = value["custom_id"]
    response = value.get("response")
    if response is not None:
        status = response["status_code"]
        body = response.get("body") or {}
        if status == 200:
            if body.get("object") == "response":
                return _responses_outcome(custom_id, body)
            return _chat_outcome(custom_id, body)
        error = body.get("error") or {}
        return RequestOutcome(
            custom_id=custom_id,
            status=OutcomeStatus.ERRORED,
            error=RequestError(
                kind=error.get("code") or error.get("type") or f"http_{status}",
                message=error.get("message") or f"HTTP {status}",
                transient=is_transient_status(status),
            ),
        )
    error = value.get("error") or {}
    code = error.get("code") or "unknown_error"
    status = _NOT_RUN.get(code, OutcomeStatus.ERRORED)
    return RequestOutcome(
        custom_id=custom_id,
        status=status,
        error=RequestError(
            kind=str(status) if code in _NOT_RUN else code,
            message=error.get("message") or code,
            transient=code in _NOT_RUN or code in _TRANSIENT_CODES,
        ),
    )


def _upload_name(tag: BatchTag) -> str:
    """A file name that identifies the chunk, to find an upload again after a crash."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", tag.chunk_key)
    return f"interviews_{safe}_{tag.fingerprint[:12]}.jsonl"


class OpenAIBatchAdapter(BatchAdapter):
    """OpenAI Batch API.

    Args:
        api_key: the OpenAI API key (from a block or `OPENAI_API_KEY`).
        base_url: API root including `/v1`; None means the SDK default.
        organization / project: optional OpenAI organization and project ids.
        max_retries: the SDK's own per-HTTP-call retries (the only HTTP retry layer).
        timeout: per-HTTP-call timeout in seconds.
        strict_responses: validate every response against the SDK's types (used by tests).
    """

    provider = PROVIDER
    max_requests = 50_000
    max_bytes = 200 * 1000 * 1000
    window = timedelta(hours=24)

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        max_retries: int = 2,
        timeout: float = 300.0,
        strict_responses: bool = False,
    ) -> None:
        import openai  # imported here: the SDK is slow to import and only network steps need it

        from interviews.providers.tls import shared_ssl_context

        register_secret(api_key)  # a refusal may echo it: redact it from every message

        self._client = openai.OpenAI(
            api_key=api_key,
            base_url=base_url,
            organization=organization,
            project=project,
            max_retries=max_retries,
            timeout=timeout,
            http_client=openai.DefaultHttpxClient(verify=shared_ssl_context()),
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
        """One `{"custom_id", "method", "url", "body"}` line for the chosen endpoint.

        OpenAI caches a repeated prompt prefix implicitly; with `cache`, the body's
        `prompt_cache_key` (the interview's custom id, the same for each of its questions)
        routes every question of one interview to where its prefix is cached.
        """
        url = endpoint or CHAT
        if url == CHAT:
            body: dict[str, Any] = {
                "model": model,
                "messages": [
                    {"role": "system", "content": request.system_message},
                    {"role": "user", "content": request.first_question},
                ],
                "max_completion_tokens": max_tokens,
            }
        elif url == RESPONSES:
            body = {
                "model": model,
                "instructions": request.system_message,
                "input": request.first_question,
                "max_output_tokens": max_tokens,
            }
        else:
            raise ValueError(
                f"unsupported OpenAI batch endpoint {url!r}; use {CHAT} or {RESPONSES}"
            )
        if cache is not None:
            body["prompt_cache_key"] = request.custom_id
        return {"custom_id": request.custom_id, "method": "POST", "url": url, "body": body}

    @staticmethod
    def continue_line(
        line: dict[str, Any], answer: str, question: str, *, last: bool = False
    ) -> dict[str, Any]:
        """The line with `answer` and `question` appended: to `messages` (Chat Completions),
        or to `input` as a list of messages (Responses; a first question is a plain string)."""
        body = line["body"]
        turns = [{"role": "assistant", "content": answer}, {"role": "user", "content": question}]
        if line["url"] == CHAT:
            body = {**body, "messages": [*body["messages"], *turns]}
        else:
            given = body["input"]
            earlier = given if isinstance(given, list) else [{"role": "user", "content": given}]
            body = {**body, "input": [*earlier, *turns]}
        return {**line, "body": body}

    def _find_upload(self, name: str, size: int, since: datetime) -> str | None:
        """The id of an earlier upload of this very chunk file, if a crash left one."""
        for item in self._client.files.list(purpose="batch", order="desc", limit=100):
            if _ts(item.created_at) and _ts(item.created_at) < since:
                break
            if item.filename == name and item.bytes == size:
                return item.id
        return None

    def create(self, lines_path: Path, *, tag: BatchTag) -> BatchJob:
        """Upload the chunk file (once) and create a batch from it, tagged with metadata."""
        with lines_path.open("rb") as handle:
            endpoint = orjson.loads(handle.readline())["url"]
        name = _upload_name(tag)
        size = lines_path.stat().st_size
        with _sdk_errors("file upload"):
            file_id = self._find_upload(name, size, tag.intent_at - _FIND_SLACK)
            if file_id is None:
                with lines_path.open("rb") as handle:
                    file_id = self._client.files.create(
                        file=(name, handle, "application/jsonl"), purpose="batch"
                    ).id
        with _sdk_errors("batch create"):
            # never retried by the SDK: a retry after a lost answer would create a second
            # batch; the submit step settles failures through the ledger and a lookup instead
            batch = self._client.with_options(max_retries=0).batches.create(
                input_file_id=file_id,
                endpoint=endpoint,
                completion_window="24h",
                metadata={
                    _META_RUN: tag.run_id[:512],
                    _META_CHUNK: tag.chunk_key[:512],
                    _META_OWNER: tag.owner,
                    _META_SHA: tag.fingerprint,
                },
            )
        return _to_job(batch)

    def check_access(self, model: str) -> str:
        """`GET /v1/models/{model}`."""
        with _sdk_errors(f"model lookup of {model}"):
            self._client.models.retrieve(model)
        return f"GET /v1/models/{model}"

    def count_input_tokens(self, line: dict[str, Any], model: str) -> int:
        """`POST /v1/responses/input_tokens` (OpenAI's one count-tokens endpoint): a Chat
        Completions line's messages go in as Responses input messages, which take the same
        roles."""
        body = line["body"]
        if line["url"] == CHAT:
            asked: dict[str, Any] = {"input": body["messages"]}
        else:
            asked = {"input": body["input"], "instructions": body.get("instructions")}
        with _sdk_errors("token count"):
            counted = self._client.responses.input_tokens.count(model=model, **asked)
        return counted.input_tokens

    def retrieve(self, batch_id: str) -> BatchJob:
        """One `GET /v1/batches/{id}`."""
        with _sdk_errors(f"retrieve of batch {batch_id}"):
            return _to_job(self._client.batches.retrieve(batch_id))

    def cancel(self, batch_id: str) -> BatchJob:
        """`POST /v1/batches/{id}/cancel`; finished requests stay in the output file."""
        with _sdk_errors(f"cancel of batch {batch_id}"):
            return _to_job(self._client.batches.cancel(batch_id))

    def download_results(self, batch_id: str, dest: Path) -> int:
        """Stream the output file, then the error file, byte for byte into `dest`.

        Both are kept as returned; they are concatenated into one JSONL file (every line
        carries its `custom_id`, and success and error lines are told apart by `response`).
        """
        with _sdk_errors(f"results download of batch {batch_id}"):
            batch = self._client.batches.retrieve(batch_id)
            written, last = 0, b"\n"
            with atomic_writer(dest, durable=True) as handle:
                for file_id in (batch.output_file_id, batch.error_file_id):
                    if not file_id:
                        continue
                    if last != b"\n":  # keep the two files' lines apart
                        handle.write(b"\n")
                        written += 1
                    with self._client.files.with_streaming_response.content(file_id) as body:
                        for chunk in body.iter_bytes():
                            handle.write(chunk)
                            written += len(chunk)
                            last = chunk[-1:] or last
        return written

    def cleanup(self, batch_id: str) -> int:
        """Delete the batch's input, output and error files at OpenAI."""
        with _sdk_errors(f"retrieve of batch {batch_id}"):
            batch = self._client.batches.retrieve(batch_id)
        deleted = 0
        for file_id in (batch.input_file_id, batch.output_file_id, batch.error_file_id):
            if file_id:
                with gone_is_fine(), _sdk_errors(f"delete of file {file_id}"):
                    self._client.files.delete(file_id)
                    deleted += 1
        return deleted

    outcome_from_line = staticmethod(outcome_from_line)

    @staticmethod
    def line_custom_id(line: dict[str, Any]) -> str:
        """The custom id carried by one of this provider's request lines."""
        return line["custom_id"]

    def find_batches(self, tag: BatchTag) -> list[FoundBatch]:
        """Batches whose metadata names this run and chunk (created after the intent)."""
        start = tag.intent_at - _FIND_SLACK
        found = []
        with _sdk_errors("batch list"):
            for batch in self._client.batches.list(limit=100):
                if _ts(batch.created_at) < start:
                    break  # newest first: the rest are older still
                meta = batch.metadata or {}
                if (
                    meta.get(_META_RUN) == tag.run_id[:512]
                    and meta.get(_META_CHUNK) == tag.chunk_key[:512]
                    and meta.get(_META_OWNER) == tag.owner
                ):
                    found.append(FoundBatch(_to_job(batch)))
        return found
