"""Anthropic Message Batches through the official `anthropic` SDK.

Wire facts (shared/PROVIDERS.md §1): requests are sent inline (`{"custom_id", "params"}`),
at most 100,000 requests or 256 MB per batch; `processing_status` is in_progress | canceling |
ended; results stream as JSONL from an absolute `results_url`, in no particular order; request
tallies stay zero until the batch ends. Under API version 2026-10-21 the API rejects
`temperature`/`top_p`/`top_k`, so none is ever sent.
"""

from __future__ import annotations

import contextlib
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
from interviews.errors import UnknownBatchStatusError
from interviews.jsonl import atomic_writer
from interviews.providers.base import BatchAdapter, BatchTag, gone_is_fine
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
)
_SUCCEEDED = OutcomeStatus.SUCCEEDED  # a module global is found faster than an enum member

# How far around the intent time a lost batch may have been created.
_FIND_SLACK = timedelta(minutes=10)


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


def outcome_from_line(value: dict[str, Any]) -> RequestOutcome:
    """Normalize one result line `{"custom_id", "result": {...}}`.

    Raises:
        KeyError/TypeError: the line does not have Anthropic's result shape.
    """
    custom_id = value["custom_id"]
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
            None if counts is None else Usage(*counts),  # None: unusable counts, cost unknown
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
        request: CanonicalRequest, *, model: str, max_tokens: int, endpoint: str | None = None
    ) -> dict[str, Any]:
        """`{"custom_id", "params"}` as `anthropic.types.messages.batch_create_params.Request`
        (Anthropic has one endpoint, so `endpoint` is unused)."""
        return {
            "custom_id": request.custom_id,
            "params": {
                "model": model,
                "max_tokens": max_tokens,
                "system": request.system_message,
                "messages": [{"role": "user", "content": request.first_question}],
            },
        }

    @staticmethod
    def continue_line(line: dict[str, Any], answer: str, question: str) -> dict[str, Any]:
        """The line with `answer` and `question` appended to `params.messages`."""
        params = line["params"]
        messages = [
            *params["messages"],
            {"role": "assistant", "content": answer},
            {"role": "user", "content": question},
        ]
        return {**line, "params": {**params, "messages": messages}}

    def create(self, lines_path: Path, *, tag: BatchTag) -> BatchJob:
        """Send the chunk's lines inline as one Message Batch."""
        with lines_path.open("rb") as handle:
            requests = [orjson.loads(line) for line in handle if line.strip()]
        with _sdk_errors("batch create"):
            # never retried by the SDK: a retry after a lost answer would create a second
            # batch; the submit step settles failures through the ledger and a lookup instead
            batch = self._client.with_options(max_retries=0).messages.batches.create(
                requests=requests
            )
        return _to_job(batch)

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

    def find_batches(self, tag: BatchTag) -> list[BatchJob]:
        """Batches created near `tag.intent_at` with exactly `tag.request_count` requests.

        Anthropic batches carry no metadata, so time window and request count are all there
        is to go on; the caller adopts a match only when it is unique.
        """
        start = tag.intent_at - _FIND_SLACK
        found: list[BatchJob] = []
        with _sdk_errors("batch list"):
            for batch in self._client.messages.batches.list(limit=100):
                if batch.created_at < start:
                    break  # newest first: everything after this is older still
                job = _to_job(batch)
                # tallies are only final once ended; while running, processing == total
                if job.counts.total == tag.request_count:
                    found.append(job)
        return found
