"""Turning an SDK's HTTP failure into our error tree, the same way for every provider.

Transient versus permanent comes from the status code alone; the message says what to do.
A provider may echo the key it refused, so the message is redacted (by `ProviderError`) and
the SDK exception it is raised from is scrubbed in place (`scrub_exception`): Prefect logs the
whole cause chain.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import ModuleType

from interviews.errors import (
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    is_transient_status,
)
from interviews.redaction import scrub_exception

_FIXES = {
    400: "the request was refused as invalid; check the model id and the request file",
    401: "check the API key ({key_var} or the credentials block)",
    403: "the API key may not use this model or project; check its permissions",
    404: "the batch, file or endpoint does not exist; check the id and the base URL",
    413: "the batch is too large; batches are split by size, so report this as a bug",
    429: "rate limited; wait a little, then re-run with the same --run-id",
}
_FIX_LATER = "the API is unavailable right now; re-run with the same --run-id later"


def status_error(
    *,
    provider: str,
    label: str,
    key_var: str,
    action: str,
    status: int,
    detail: str,
    request_id: str | None,
) -> ProviderError:
    """The error for an HTTP failure of `action` (e.g. "batch create")."""
    transient = is_transient_status(status)
    kind = TransientProviderError if transient else PermanentProviderError
    fix = _FIX_LATER if transient and status != 429 else _FIXES.get(status, _FIX_LATER)
    return kind(
        f"{label} {action} failed (HTTP {status}, {detail}); {fix.format(key_var=key_var)}",
        provider=provider,
        status_code=status,
        request_id=request_id,
    )


def connection_error(*, provider: str, label: str, action: str, name: str) -> ProviderError:
    """The error for a call that never got an HTTP answer."""
    return TransientProviderError(
        f"{label} {action} failed: could not reach the API ({name}); check the network and the "
        "base URL, then re-run with the same --run-id",
        provider=provider,
    )


def credentials_refused(*, provider: str, label: str, action: str, key_var: str) -> ProviderError:
    """The error for Google credentials the auth library could not refresh after a 401 (it
    refreshes and retries on its own, so the API's answer never reaches us)."""
    return PermanentProviderError(
        f"{label} {action} failed: the credentials were refused and cannot be refreshed; "
        f"check {key_var} (a short-lived access token may have expired)",
        provider=provider,
        status_code=401,
    )


def body_detail(body: object, fallback: str) -> str:
    """`type: message` from a `{"error": {"type", "message"}}` body (both providers use it)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return f"{error.get('type') or error.get('code') or 'error'}: {error['message']}"
    return fallback


def retry_after_seconds(headers: object) -> float | None:
    """The server's `retry-after-ms` / `retry-after` hint in seconds (numeric forms only)."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = get(name)
        if value:
            try:
                return float(value) * scale
            except ValueError:
                continue
    return None


@contextlib.contextmanager
def sdk_errors(
    sdk: ModuleType, *, provider: str, label: str, key_var: str, action: str
) -> Iterator[None]:
    """Translate a Stainless SDK's exceptions (`anthropic`, `openai`) into our tree.

    Also catches transport errors raised while a streamed body is being read (a dropped
    connection mid-download), which the SDKs let through as raw `httpx2` errors.
    """
    import httpx2

    try:
        yield
    except sdk.APIStatusError as exc:
        error = status_error(
            provider=provider,
            label=label,
            key_var=key_var,
            action=action,
            status=exc.status_code,
            detail=body_detail(exc.body, str(exc.message)),
            request_id=exc.request_id,
        )
        error.retry_after = retry_after_seconds(exc.response.headers)
        raise error from scrub_exception(exc)
    except (sdk.APIConnectionError, httpx2.TransportError) as exc:  # incl. timeouts
        raise connection_error(
            provider=provider, label=label, action=action, name=type(exc).__name__
        ) from scrub_exception(exc)
