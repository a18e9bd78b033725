"""OpenAI Chat Completions and Responses (real time), on the official `openai` SDK."""

from __future__ import annotations

from typing import Any

from interviews.providers.openai_batches import OpenAIBatchAdapter, _sdk_errors
from interviews.providers.realtime import RealtimeAdapter
from interviews.redaction import register_secret


class OpenAIRealtimeAdapter(RealtimeAdapter):
    """The request line's own endpoint (`/v1/chat/completions` or `/v1/responses`).

    Args:
        api_key: the OpenAI API key.
        base_url: API root including /v1; None means the SDK default.
        organization / project: optional OpenAI account scoping.
        max_retries: the SDK's retries per call (429 and 5xx, honouring retry-after).
        timeout: per-call timeout in seconds.
    """

    provider = "openai"
    batch_adapter = OpenAIBatchAdapter

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        max_retries: int = 4,
        timeout: float = 600.0,
        strict_responses: bool = False,
    ) -> None:
        import openai

        from interviews.providers.tls import shared_ssl_context

        register_secret(api_key)  # a refusal may echo it: redact it from every message

        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            organization=organization,
            project=project,
            max_retries=max_retries,
            timeout=timeout,
            http_client=openai.DefaultAsyncHttpxClient(verify=shared_ssl_context()),
            _strict_response_validation=strict_responses,
        )

    async def _send(self, line: dict[str, Any], *, model: str) -> dict[str, Any]:
        """The completion or response, wrapped as a batch output line."""
        with _sdk_errors(f"request {line['custom_id']}"):
            if line["url"] == "/v1/responses":
                body = await self._client.responses.create(**line["body"])
            else:
                body = await self._client.chat.completions.create(**line["body"])
        return {
            "custom_id": line["custom_id"],
            "response": {"status_code": 200, "body": body.model_dump(mode="json")},
            "error": None,
        }

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()
