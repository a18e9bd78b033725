"""Real-time adapters: one request, one answer, through each provider's ordinary endpoint.

A real-time adapter sends the very line a batch would carry (`BatchAdapter.build_line`) to the
provider's real-time API and turns the answer into the same `RequestOutcome` a batch result
gives, by wrapping it in the provider's result-line shape and reusing the batch adapter's
parser. So both modes produce identical records, and only the price differs.

The SDKs own the retries of each call (429 and 5xx; the Stainless SDKs honour retry-after).
A request that still fails becomes an errored outcome, except for authentication and
permission failures, which stop the run: every other request would fail the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from interviews.batch_types import OutcomeStatus, RequestError, RequestOutcome
from interviews.errors import PermanentProviderError, ProviderError
from interviews.providers.base import BatchAdapter

# Statuses that mean the credentials are wrong for every request, not this one.
FATAL_STATUSES = frozenset({401, 403})


class RealtimeAdapter(ABC):
    """Sends one provider request line to the real-time API (async)."""

    provider: ClassVar[str]
    batch_adapter: ClassVar[type[BatchAdapter]]

    async def answer(self, line: dict[str, Any], *, model: str) -> RequestOutcome:
        """The outcome of one request line.

        Raises:
            PermanentProviderError: authentication or permission refused (stops the run).
        """
        custom_id = self.batch_adapter.line_custom_id(line)
        try:
            result_line = await self._send(line, model=model)
        except ProviderError as exc:
            if isinstance(exc, PermanentProviderError) and exc.status_code in FATAL_STATUSES:
                raise
            return RequestOutcome(
                custom_id=custom_id,
                status=OutcomeStatus.ERRORED,
                error=RequestError(
                    kind=f"http_{exc.status_code}" if exc.status_code else "connection_error",
                    message=str(exc),
                    transient=not isinstance(exc, PermanentProviderError),
                ),
            )
        return self.batch_adapter.outcome_from_line(result_line)

    @abstractmethod
    async def _send(self, line: dict[str, Any], *, model: str) -> dict[str, Any]:
        """Call the API; return the answer wrapped as one of the provider's result lines.

        Raises:
            ProviderError: the call failed after the SDK's own retries.
        """

    @abstractmethod
    async def aclose(self) -> None:
        """Close the HTTP client."""


def get_realtime_class(provider: str) -> type[RealtimeAdapter]:
    """The real-time adapter class of `provider` (imported on demand: the SDKs are slow)."""
    if provider == "anthropic":
        from interviews.providers.anthropic_realtime import AnthropicRealtimeAdapter

        return AnthropicRealtimeAdapter
    if provider == "openai":
        from interviews.providers.openai_realtime import OpenAIRealtimeAdapter

        return OpenAIRealtimeAdapter
    if provider in ("vertex", "gemini"):
        from interviews.providers.google_realtime import (
            GeminiRealtimeAdapter,
            VertexRealtimeAdapter,
        )

        return VertexRealtimeAdapter if provider == "vertex" else GeminiRealtimeAdapter
    raise ValueError(f"unknown provider {provider!r}")
