"""Cap the retry-after hints the Anthropic SDK follows on its own.

The Anthropic SDK sleeps for whatever `retry-after` a 429/5xx answer carries (up to 49 days)
before its own retries; the OpenAI SDK refuses hints over two minutes and the Google SDKs
ignore them. A response hook cuts the hint to `INTERVIEWS_MAX_SERVER_WAIT_SECONDS` before
the SDK reads it, and logs the cut, so no single HTTP call waits silently for a day.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("interviews.waits")

_HINTS = (("retry-after-ms", 0.001), ("retry-after", 1.0))


def cap_retry_after(response: Any, cap: float, provider: str) -> None:
    """Cut the response's numeric retry-after headers to `cap` seconds (logged when cut)."""
    for name, scale in _HINTS:
        value = response.headers.get(name)
        try:
            seconds = float(value) * scale if value is not None else None
        except ValueError:
            continue
        if seconds is not None and seconds > cap:
            response.headers[name] = f"{cap / scale:g}"
            if name == "retry-after":
                logger.warning(
                    "%s asked to wait %g s before retrying (HTTP %s); waiting at most %g s "
                    "(INTERVIEWS_MAX_SERVER_WAIT_SECONDS)",
                    provider,
                    seconds,
                    response.status_code,
                    cap,
                )


def capped_http_client(sdk: Any, *, provider: str, asynchronous: bool = False) -> Any:
    """The SDK's default HTTP client with `cap_retry_after` on every response (and the
    process's shared TLS context)."""
    from interviews.providers.tls import shared_ssl_context
    from interviews.settings import get_settings

    cap = get_settings().max_server_wait_seconds
    if asynchronous:

        async def hook(response: Any) -> None:
            cap_retry_after(response, cap, provider)

        return sdk.DefaultAsyncHttpxClient(
            verify=shared_ssl_context(), event_hooks={"response": [hook]}
        )

    def sync_hook(response: Any) -> None:
        cap_retry_after(response, cap, provider)

    return sdk.DefaultHttpxClient(
        verify=shared_ssl_context(), event_hooks={"response": [sync_hook]}
    )
