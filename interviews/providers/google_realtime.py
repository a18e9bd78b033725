"""Gemini `generateContent` (real time) for Vertex AI and the Gemini Developer API, on the
official `google-genai` SDK's async client.

The request line's camelCase `GenerateContentRequest` is handed to the SDK as its typed
contents and config; the answer is dumped back to camelCase and wrapped as the provider's
batch result line, so the batch parsers read it.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from interviews.providers.gemini_batches import GeminiBatchAdapter
from interviews.providers.google_common import genai_errors
from interviews.providers.realtime import RealtimeAdapter
from interviews.providers.vertex_batches import VertexBatchAdapter
from interviews.redaction import register_secret

# Request fields that are not generation settings and that the real-time call takes elsewhere.
_NOT_CONFIG = ("contents", "systemInstruction", "generationConfig", "labels")


def _http_options(base_url: str | None, timeout: float, attempts: int, initial_delay: float):
    """Per-call timeout and the SDK's own retries (429, 5xx; exponential backoff)."""
    import httpx
    from google.genai import types

    return types.HttpOptions(
        base_url=base_url,
        timeout=int(timeout * 1000),  # milliseconds
        retry_options=types.HttpRetryOptions(attempts=attempts, initial_delay=initial_delay),
        # google-genai sends async calls through aiohttp whenever aiohttp is installed (gcsfs
        # brings it); an httpx transport keeps them on httpx, whose errors `genai_errors` maps
        async_client_args={"transport": httpx.AsyncHTTPTransport()},
    )


class _GenerateContent(RealtimeAdapter):
    """`models.generate_content` for one request line (shared by both Google products)."""

    label: str
    key_var: str

    def __init__(self, client: Any) -> None:
        self._client = client

    @staticmethod
    @abstractmethod
    def _result_line(line: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
        """The answer in the provider's batch result-line shape."""

    async def _send(self, line: dict[str, Any], *, model: str) -> dict[str, Any]:
        """The GenerateContentResponse, wrapped as the provider's batch result line."""
        from google.genai import types

        request = line["request"]  # both products' lines carry the request here
        config = {
            **(request.get("generationConfig") or {}),
            **{k: v for k, v in request.items() if k not in _NOT_CONFIG},
        }
        if request.get("systemInstruction"):
            config["systemInstruction"] = request["systemInstruction"]
        if request.get("labels") and self.provider == "vertex":
            config["labels"] = request["labels"]
        custom_id = self.batch_adapter.line_custom_id(line)
        with genai_errors(
            provider=self.provider,
            label=self.label,
            key_var=self.key_var,
            action=f"request {custom_id}",
        ):
            response = await self._client.aio.models.generate_content(
                model=model,
                contents=request["contents"],
                config=types.GenerateContentConfig.model_validate(config),
            )
        dumped = response.model_dump(mode="json", by_alias=True, exclude_none=True)
        dumped.pop("sdkHttpResponse", None)  # transport details, not part of the answer
        return self._result_line(line, dumped)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aio.aclose()


class GeminiRealtimeAdapter(_GenerateContent):
    """Gemini Developer API `generateContent`.

    Args:
        api_key: the Gemini API key.
        base_url: API root; None means the SDK default.
        api_version: e.g. "v1beta"; None means the SDK default.
        timeout: per-call timeout in seconds.
        attempts: the SDK's attempts per call (retries 429 and 5xx with backoff).
        retry_initial_delay: the SDK's first backoff, in seconds.
    """

    provider = "gemini"
    batch_adapter = GeminiBatchAdapter
    label = "Gemini API"
    key_var = "GEMINI_API_KEY"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        api_version: str | None = None,
        timeout: float = 600.0,
        attempts: int = 5,
        retry_initial_delay: float = 1.0,
    ) -> None:
        from google import genai

        register_secret(api_key)  # a refusal may echo it: redact it from every message

        options = _http_options(base_url, timeout, attempts, retry_initial_delay)
        if api_version:
            options.api_version = api_version
        super().__init__(genai.Client(api_key=api_key, http_options=options))

    @staticmethod
    def _result_line(line: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
        return {"key": line["key"], "response": response}


class VertexRealtimeAdapter(_GenerateContent):
    """Vertex AI `generateContent` on a publisher model.

    Args:
        project / location: where the model is called.
        credentials: `google.auth` credentials; None means Application Default Credentials.
        api_endpoint: API root (e.g. an emulator's URL); None means the regional host.
        timeout, attempts, retry_initial_delay: as for the Gemini API.
    """

    provider = "vertex"
    batch_adapter = VertexBatchAdapter
    label = "Vertex AI"
    key_var = "the GCP credentials"

    def __init__(
        self,
        *,
        project: str,
        location: str,
        credentials: Any = None,
        api_endpoint: str | None = None,
        timeout: float = 600.0,
        attempts: int = 5,
        retry_initial_delay: float = 1.0,
    ) -> None:
        from google import genai

        # a refusal may echo the access token: redact it from every message
        register_secret(getattr(credentials, "token", None))
        super().__init__(
            genai.Client(
                vertexai=True,
                project=project,
                location=location,
                credentials=credentials,
                http_options=_http_options(api_endpoint, timeout, attempts, retry_initial_delay),
            )
        )

    @staticmethod
    def _result_line(line: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
        return {"status": "", "request": line["request"], "response": response}
