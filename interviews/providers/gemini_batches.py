"""Gemini Developer API batch mode through `google-genai` with an API key.

Wire facts (shared/PROVIDERS.md §4): a batch takes inline requests (all together under 20 MB,
each with `metadata` carrying our key) or an uploaded JSONL file of `{"key", "request"}` lines.
Inline responses come back inside the job, file results as a downloadable file; either way they
are joined on the key, never on position. States BATCH_STATE_* arrive mapped to JOB_STATE_*.
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
    OutcomeStatus,
    RequestError,
    RequestOutcome,
)
from interviews.errors import UnknownBatchStatusError, is_transient_status
from interviews.jsonl import atomic_writer, dumps_line
from interviews.providers.base import (
    BatchAdapter,
    BatchTag,
    CacheMode,
    FoundBatch,
    gone_is_fine,
    label_value,
)
from interviews.providers.google_common import (
    JOB_STATE_MAP,
    answered_outcome,
    continue_request,
    genai_errors,
)
from interviews.redaction import register_secret
from interviews.requests import CanonicalRequest

PROVIDER = "gemini"
INLINE_LIMIT = 20 * 1000 * 1000  # inline requests must stay under 20 MB in total

_STATUS_MAP = JOB_STATE_MAP


# A request's `error` is a google.rpc.Status: its code is a gRPC code (below 100), though an
# HTTP status is accepted too. CANCELLED (1) marks requests a canceled batch never ran.
_GRPC_CANCELLED = 1
# DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE: worth another round
_GRPC_TRANSIENT = frozenset({4, 8, 10, 13, 14})


def _transient_code(code: int) -> bool:
    """Whether a request that failed with `code` (gRPC or HTTP) may succeed when sent again."""
    return code in _GRPC_TRANSIENT if code < 100 else is_transient_status(code)


def _display_name(tag: BatchTag) -> str:
    # the ownership tag makes the name this chunk's alone (see BatchTag.owner)
    return f"interviews-{label_value(tag.chunk_key)}-{tag.owner.lower()}"


def _to_job(job: Any) -> BatchJob:
    """Normalize a `google.genai.types.BatchJob`."""
    raw = job.state.value if job.state is not None else "JOB_STATE_UNSPECIFIED"
    if raw not in _STATUS_MAP:
        raise UnknownBatchStatusError(
            f"Gemini batch {job.name} has state {raw!r}, which this version of interviews "
            "does not know; upgrade interviews"
        )
    errors = (job.error.message,) if job.error is not None and job.error.message else ()
    return BatchJob(
        provider=PROVIDER,
        batch_id=job.name,
        status=_STATUS_MAP[raw],
        provider_status=raw,
        created_at=job.create_time,
        ended_at=job.end_time,
        errors=errors,
    )


@contextlib.contextmanager
def _sdk_errors(action: str) -> Iterator[None]:
    """Translate google-genai exceptions into our tree, by status code and type only."""
    with genai_errors(
        provider=PROVIDER, label="Gemini API", key_var="GEMINI_API_KEY", action=action
    ):
        yield


def outcome_from_line(value: dict[str, Any]) -> RequestOutcome:
    """Normalize one result line `{"key", "response"}` or `{"key", "error"|"status"}`.

    Inline results are stored in the same shape (see `download_results`).

    Raises:
        KeyError/TypeError/ValueError: the line is not a Gemini batch result.
    """
    custom_id = value.get("key") or value["metadata"]["key"]
    response = value.get("response")
    error = value.get("error") or value.get("status")
    if response is None or error:
        error = error or {}
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else str(error)
        if code == _GRPC_CANCELLED:  # the batch was canceled before this request ran
            return RequestOutcome(
                custom_id=custom_id,
                status=OutcomeStatus.CANCELED,
                error=RequestError(kind="canceled", message=message or "", transient=True),
            )
        return RequestOutcome(
            custom_id=custom_id,
            status=OutcomeStatus.ERRORED,
            error=RequestError(
                kind=f"http_{code}" if code else "gemini_error",
                message=message or "no response",
                transient=code is None or _transient_code(int(code)),
            ),
        )
    return answered_outcome(custom_id, response)


def _wire(value: Any) -> dict[str, Any] | None:
    """An SDK object back in its wire form (camelCase JSON), or None."""
    if value is None:
        return None
    return value.model_dump(mode="json", by_alias=True, exclude_none=True)


def _inline_request(line: dict[str, Any]) -> dict[str, Any]:
    """One of our file lines as an SDK `InlinedRequest` dict (the SDK maps it to the wire)."""
    request = line["request"]
    system = request["systemInstruction"]["parts"][0]["text"]
    return {
        "contents": request["contents"],
        "config": {
            "system_instruction": system,
            "max_output_tokens": request["generationConfig"]["maxOutputTokens"],
        },
        "metadata": {"key": line["key"]},
    }


class GeminiBatchAdapter(BatchAdapter):
    """Gemini Developer API batch mode.

    Args:
        api_key: the Gemini API key (from a block or `GEMINI_API_KEY`).
        base_url: API root; None means the SDK default.
        api_version: e.g. "v1beta"; None means the SDK default.
        timeout: per-call timeout in seconds.
        attempts: the SDK's attempts per HTTP call (1 = no retry).
    """

    provider = PROVIDER
    max_requests = 100_000
    max_bytes = 2_000_000_000
    window = timedelta(hours=48)

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        api_version: str | None = None,
        timeout: float = 120.0,
        attempts: int = 3,
    ) -> None:
        from google import genai

        register_secret(api_key)  # a refusal may echo it: redact it from every message
        from google.genai import types

        self._types = types
        self._options = types.HttpOptions(
            base_url=base_url,
            api_version=api_version,
            timeout=int(timeout * 1000),  # milliseconds
            retry_options=types.HttpRetryOptions(attempts=attempts),
        )
        self._client = genai.Client(api_key=api_key, http_options=self._options)
        # the create call must not be retried blindly (see `create`)
        self._create_client = genai.Client(
            api_key=api_key,
            http_options=self._options.model_copy(
                update={"retry_options": types.HttpRetryOptions(attempts=1)}
            ),
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
        """`{"key", "request": GenerateContentRequest}` (the file-input line format). Gemini
        caches a repeated prompt prefix implicitly, so `cache` adds nothing."""
        return {
            "key": request.custom_id,
            "request": {
                "contents": [{"role": "user", "parts": [{"text": request.first_question}]}],
                "systemInstruction": {"parts": [{"text": request.system_message}]},
                "generationConfig": {"maxOutputTokens": max_tokens},
            },
        }

    @staticmethod
    def continue_line(
        line: dict[str, Any], answer: str, question: str, *, last: bool = False
    ) -> dict[str, Any]:
        """The line with `answer` (role `model`) and `question` appended to `contents`."""
        return {**line, "request": continue_request(line["request"], answer, question)}

    def create(self, lines_path: Path, *, tag: BatchTag) -> BatchJob:
        """Create the batch from inline requests (< 20 MB) or an uploaded file."""
        config = {"display_name": _display_name(tag)}
        if lines_path.stat().st_size < INLINE_LIMIT:
            with lines_path.open("rb") as handle:
                source: Any = [
                    _inline_request(orjson.loads(line)) for line in handle if line.strip()
                ]
        else:
            with _sdk_errors("file upload"):
                uploaded = self._client.files.upload(
                    file=str(lines_path),
                    config={"mime_type": "jsonl", "display_name": _display_name(tag)},
                )
            source = uploaded.name
        with _sdk_errors("batch create"):
            job = self._create_client.batches.create(model=tag.model, src=source, config=config)
        return _to_job(job)

    def check_access(self, model: str) -> str:
        """`GET models/{model}`."""
        with _sdk_errors(f"model lookup of {model}"):
            self._client.models.get(model=model)
        return f"GET models/{model}"

    def count_input_tokens(self, line: dict[str, Any], model: str) -> int:
        """`POST models/{model}:countTokens`. The Gemini API's count takes no system
        instruction, so the system prompt is counted as a first user turn of the same text."""
        request = line["request"]
        system = request.get("systemInstruction")
        contents = [{"role": "user", **system}] if system else []
        with _sdk_errors("token count"):
            counted = self._client.models.count_tokens(
                model=model, contents=[*contents, *request["contents"]]
            )
        return counted.total_tokens or 0

    def retrieve(self, batch_id: str) -> BatchJob:
        """One `GET batches/{id}`."""
        with _sdk_errors(f"read of batch {batch_id}"):
            return _to_job(self._client.batches.get(name=batch_id))

    def cancel(self, batch_id: str) -> BatchJob:
        """Ask the API to cancel the batch."""
        with _sdk_errors(f"cancel of batch {batch_id}"):
            self._client.batches.cancel(name=batch_id)
        return self.retrieve(batch_id)

    def download_results(self, batch_id: str, dest: Path) -> int:
        """Write the results to `dest`: the result file as returned, or, for inline batches,
        one `{"key", "response", "error"}` line per inline response (its JSON as received)."""
        with _sdk_errors(f"results of batch {batch_id}"):
            job = self._client.batches.get(name=batch_id)
            destination = job.dest
            with atomic_writer(dest, durable=True) as handle:
                if destination is not None and destination.file_name:
                    self._client.files.download(file=destination.file_name, destination=handle)
                elif destination is not None and destination.inlined_responses:
                    for item in destination.inlined_responses:
                        handle.write(
                            dumps_line(
                                {
                                    "key": (item.metadata or {}).get("key"),
                                    "response": _wire(item.response),
                                    "error": _wire(item.error),
                                }
                            )
                        )
        return dest.stat().st_size

    def cleanup(self, batch_id: str) -> int:
        """Delete the batch (inline requests and answers live in it) and its files."""
        job = None
        with gone_is_fine(), _sdk_errors(f"read of batch {batch_id}"):
            job = self._client.batches.get(name=batch_id)
        if job is None:
            return 0  # already deleted
        names = [
            source.file_name
            for source in (job.src, job.dest)
            if source is not None and getattr(source, "file_name", None)
        ]
        deleted = 0
        for name in names:
            with gone_is_fine(), _sdk_errors(f"delete of {name}"):
                self._client.files.delete(name=name)
                deleted += 1
        with gone_is_fine(), _sdk_errors(f"delete of batch {batch_id}"):
            self._client.batches.delete(name=batch_id)
            deleted += 1
        return deleted

    outcome_from_line = staticmethod(outcome_from_line)

    @staticmethod
    def line_custom_id(line: dict[str, Any]) -> str:
        """The custom id carried by one of this provider's request lines."""
        return line["key"]

    def find_batches(self, tag: BatchTag) -> list[FoundBatch]:
        """Batches whose display name names this chunk (the API keeps no other tag)."""
        wanted = _display_name(tag)
        found = []
        with _sdk_errors("batch list"):
            for job in self._client.batches.list(config={"page_size": 100}):
                if job.display_name == wanted:
                    found.append(FoundBatch(_to_job(job)))
        return found
