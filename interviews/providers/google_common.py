"""What Google's two batch products share: job states and the GenerateContentResponse shape.

Vertex AI and the Gemini API report the same `JOB_STATE_*` values (the Gemini API's
`BATCH_STATE_*` arrive mapped by the SDK) and answer with the same camelCase
`GenerateContentResponse`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from interviews.batch_types import BatchStatus, OutcomeStatus, RequestOutcome
from interviews.costs import Usage, token_counts
from interviews.providers.sdk_errors import connection_error, credentials_refused, status_error
from interviews.redaction import scrub_exception

# Every JobState value, mapped to ours. PAUSED is resumable, so it is not terminal; the SDKs'
# own helpers (`has_ended`, `done`) get EXPIRED and PARTIALLY_SUCCEEDED wrong.
JOB_STATE_MAP: dict[str, BatchStatus] = {
    "JOB_STATE_UNSPECIFIED": BatchStatus.PENDING,
    "JOB_STATE_QUEUED": BatchStatus.PENDING,
    "JOB_STATE_PENDING": BatchStatus.PENDING,
    "JOB_STATE_RUNNING": BatchStatus.RUNNING,
    "JOB_STATE_UPDATING": BatchStatus.RUNNING,
    "JOB_STATE_PAUSED": BatchStatus.RUNNING,
    "JOB_STATE_CANCELLING": BatchStatus.CANCELING,
    "JOB_STATE_SUCCEEDED": BatchStatus.SUCCEEDED,
    "JOB_STATE_PARTIALLY_SUCCEEDED": BatchStatus.PARTIALLY_SUCCEEDED,
    "JOB_STATE_FAILED": BatchStatus.FAILED,
    "JOB_STATE_CANCELLED": BatchStatus.CANCELED,
    "JOB_STATE_EXPIRED": BatchStatus.EXPIRED,
}


def continue_request(request: dict[str, Any], answer: str, question: str) -> dict[str, Any]:
    """A GenerateContentRequest with the model's `answer` and the next `question` appended to
    its `contents` (both products take the same request shape)."""
    contents = [
        *request["contents"],
        {"role": "model", "parts": [{"text": answer}]},
        {"role": "user", "parts": [{"text": question}]},
    ]
    return {**request, "contents": contents}


_USAGE_KEYS = (
    "promptTokenCount",
    "candidatesTokenCount",
    "cachedContentTokenCount",
    "thoughtsTokenCount",
)


def answered_outcome(custom_id: str, response: dict[str, Any]) -> RequestOutcome:
    """A succeeded outcome from a camelCase `GenerateContentResponse`.

    Thinking is billed as output, so `thoughtsTokenCount` is added to the output tokens;
    thought parts are left out of the answer text.
    """
    candidate = (response.get("candidates") or [{}])[0]
    parts = (candidate.get("content") or {}).get("parts") or []
    counts = token_counts(response.get("usageMetadata"), _USAGE_KEYS)
    usage = None  # unusable counts: the answer is kept, its usage and cost are unknown
    if counts is not None and counts[2] <= counts[0]:  # no more cached than prompt tokens
        prompt, candidates, cached, thoughts = counts
        usage = Usage(prompt - cached, candidates + thoughts, cached, 0, thoughts)
    return RequestOutcome(
        custom_id=custom_id,
        status=OutcomeStatus.SUCCEEDED,
        text="".join(part.get("text", "") for part in parts if not part.get("thought")),
        finish_reason=candidate.get("finishReason"),
        usage=usage,
        provider_model=response.get("modelVersion"),
    )


@contextlib.contextmanager
def genai_errors(*, provider: str, label: str, key_var: str, action: str) -> Iterator[None]:
    """Translate google-genai exceptions into our tree, by status code and type only (the
    SDK's sync and async clients both speak httpx here); the SDK error is scrubbed of
    secrets, as in `sdk_errors`."""
    import httpx
    from google.auth import exceptions as auth_exceptions
    from google.genai import errors as genai_errors_module

    try:
        yield
    except auth_exceptions.RefreshError as exc:
        raise credentials_refused(
            provider=provider, label=label, action=action, key_var=key_var
        ) from scrub_exception(exc)
    except genai_errors_module.APIError as exc:
        raise status_error(
            provider=provider,
            label=label,
            key_var=key_var,
            action=action,
            status=exc.code or 500,
            detail=f"{exc.status}: {exc.message}",
            request_id=None,
        ) from scrub_exception(exc)
    except httpx.TransportError as exc:
        raise connection_error(
            provider=provider, label=label, action=action, name=type(exc).__name__
        ) from scrub_exception(exc)
