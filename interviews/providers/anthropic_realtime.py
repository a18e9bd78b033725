"""Anthropic Messages API (real time), on the official `anthropic` SDK's async client."""

from __future__ import annotations

from typing import Any

from interviews.providers.anthropic_batches import AnthropicBatchAdapter, _sdk_errors
from interviews.providers.realtime import RealtimeAdapter
from interviews.redaction import register_secret


class AnthropicRealtimeAdapter(RealtimeAdapter):
    """`POST /v1/messages` for each request line.

    Args:
        api_key: the Anthropic API key.
        base_url: API root; None means the SDK default.
        max_retries: the SDK's retries per call (429 and 5xx, honouring retry-after).
        timeout: per-call timeout in seconds.
    """

    provider = "anthropic"
    batch_adapter = AnthropicBatchAdapter

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        max_retries: int = 4,
        timeout: float = 600.0,
        strict_responses: bool = False,
    ) -> None:
        import anthropic

        from interviews.providers.server_hints import capped_http_client

        register_secret(api_key)  # a refusal may echo it: redact it from every message

        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
            http_client=capped_http_client(anthropic, provider="anthropic", asynchronous=True),
            _strict_response_validation=strict_responses,
        )

    async def _send(self, line: dict[str, Any], *, model: str) -> dict[str, Any]:
        """The Message, wrapped as a succeeded batch result line."""
        with _sdk_errors(f"message for {line['custom_id']}"):
            message = await self._client.messages.create(**line["params"])
        return {
            "custom_id": line["custom_id"],
            "result": {"type": "succeeded", "message": message.model_dump(mode="json")},
        }

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()
