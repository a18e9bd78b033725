"""Prefect blocks holding provider credentials and endpoints (no business logic).

Secrets are `SecretStr`: masked in the UI, the API and every repr; unwrapped only when a client
is built (`get_adapter` for batches, `get_realtime_adapter` for real-time calls). Each block
can also be built from the provider's standard environment variables.
"""

from __future__ import annotations

from typing import Any

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from interviews.errors import ConfigurationError
from interviews.providers.base import BatchAdapter
from interviews.providers.realtime import RealtimeAdapter
from interviews.redaction import register_secret
from interviews.settings import env_value, get_settings, require_credentials


class AnthropicCredentials(Block):
    """Anthropic API key and endpoint for the Message Batches API.

    Example:
        Load a saved block and build the batch adapter:
        ```python
        from blocks.credentials import AnthropicCredentials
        adapter = AnthropicCredentials.load("BLOCK_NAME").get_adapter()
        ```
    """

    _block_type_name = "Anthropic Credentials"
    _block_type_slug = "anthropic-credentials"
    _description = "API key and base URL for Anthropic's Message Batches API."
    _documentation_url = "https://platform.claude.com/docs/en/build-with-claude/batch-processing"

    api_key: SecretStr = Field(
        default=..., description="Anthropic API key (kept encrypted; never logged)."
    )
    base_url: str | None = Field(
        default=None,
        description="API root without /v1; empty means https://api.anthropic.com.",
    )

    @classmethod
    def from_env(cls) -> AnthropicCredentials:
        """From `ANTHROPIC_API_KEY` (and `ANTHROPIC_BASE_URL`)."""
        return cls(api_key=env_value("ANTHROPIC_API_KEY"), base_url=env_value("ANTHROPIC_BASE_URL"))

    def get_adapter(self, *, max_retries: int = 2) -> BatchAdapter:
        """Build the Anthropic batch adapter from these credentials."""
        from interviews.providers.anthropic_batches import AnthropicBatchAdapter

        return AnthropicBatchAdapter(
            api_key=self.api_key.get_secret_value(),
            base_url=self.base_url,
            max_retries=max_retries,
        )

    def get_realtime_adapter(self) -> RealtimeAdapter:
        """Build the Anthropic real-time (Messages API) adapter from these credentials."""
        from interviews.providers.anthropic_realtime import AnthropicRealtimeAdapter

        return AnthropicRealtimeAdapter(
            api_key=self.api_key.get_secret_value(), base_url=self.base_url
        )


class OpenAICredentials(Block):
    """OpenAI API key, endpoint, organization and project for the Batch and Files APIs.

    Example:
        Load a saved block and build the batch adapter:
        ```python
        from blocks.credentials import OpenAICredentials
        adapter = OpenAICredentials.load("BLOCK_NAME").get_adapter()
        ```
    """

    _block_type_name = "OpenAI Credentials"
    _block_type_slug = "openai-credentials"
    _description = "API key, base URL, organization and project for OpenAI's Batch API."
    _documentation_url = "https://platform.openai.com/docs/guides/batch"

    api_key: SecretStr = Field(
        default=..., description="OpenAI API key (kept encrypted; never logged)."
    )
    base_url: str | None = Field(
        default=None, description="API root including /v1; empty means https://api.openai.com/v1."
    )
    organization: str | None = Field(default=None, description="OpenAI organization id, if any.")
    project: str | None = Field(default=None, description="OpenAI project id, if any.")

    @classmethod
    def from_env(cls) -> OpenAICredentials:
        """From `OPENAI_API_KEY` (and `OPENAI_BASE_URL`, `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`)."""
        return cls(
            api_key=env_value("OPENAI_API_KEY"),
            base_url=env_value("OPENAI_BASE_URL"),
            organization=env_value("OPENAI_ORG_ID"),
            project=env_value("OPENAI_PROJECT_ID"),
        )

    def get_adapter(self, *, max_retries: int = 2) -> BatchAdapter:
        """Build the OpenAI batch adapter from these credentials."""
        from interviews.providers.openai_batches import OpenAIBatchAdapter

        return OpenAIBatchAdapter(
            api_key=self.api_key.get_secret_value(),
            base_url=self.base_url,
            organization=self.organization,
            project=self.project,
            max_retries=max_retries,
        )

    def get_realtime_adapter(self) -> RealtimeAdapter:
        """Build the OpenAI real-time (Chat Completions / Responses) adapter."""
        from interviews.providers.openai_realtime import OpenAIRealtimeAdapter

        return OpenAIRealtimeAdapter(
            api_key=self.api_key.get_secret_value(),
            base_url=self.base_url,
            organization=self.organization,
            project=self.project,
        )


class VertexBatchSettings(Block):
    """Where Vertex AI batch jobs run and stage their files, and how they authenticate.

    Authentication comes from a prefect-gcp `GcpCredentials` block named here (service account
    or Application Default Credentials), or from a short-lived OAuth access token. The block is
    named rather than nested so that only Vertex runs import prefect-gcp, which loads the
    aiplatform and BigQuery SDKs (5-7 s for every process otherwise).

    Example:
        Load a saved block and build the batch adapter:
        ```python
        from blocks.credentials import VertexBatchSettings
        adapter = VertexBatchSettings.load("BLOCK_NAME").get_adapter()
        ```
    """

    _block_type_name = "Vertex Batch Settings"
    _block_type_slug = "vertex-batch-settings"
    _description = "Project, region, GCS staging bucket and credentials for Vertex AI batch jobs."
    _documentation_url = "https://cloud.google.com/vertex-ai/docs/predictions/batch-predictions"

    project: str = Field(default=..., description="GCP project id.")
    location: str = Field(default="us-central1", description="Vertex region, or global.")
    bucket: str = Field(default=..., description="GCS bucket for batch inputs and outputs.")
    prefix: str = Field(default="interviews", description="Folder inside the bucket.")
    gcp_credentials_block: str | None = Field(
        default=None,
        description="Name of a prefect-gcp GCP Credentials block (service account or ADC); "
        "empty means Application Default Credentials, unless an access token is given.",
    )
    access_token: SecretStr | None = Field(
        default=None, description="A short-lived OAuth access token instead of credentials."
    )
    api_endpoint: str | None = Field(
        default=None, description="Vertex API root; empty means the regional Google endpoint."
    )
    storage_endpoint: str | None = Field(
        default=None, description="GCS API root; empty means Google Cloud Storage."
    )

    @classmethod
    def from_env(cls) -> VertexBatchSettings:
        """From `GOOGLE_CLOUD_PROJECT`, `GOOGLE_CLOUD_LOCATION` and `INTERVIEWS_GCS_BUCKET`,
        with Application Default Credentials, or the access token in
        `GOOGLE_OAUTH_ACCESS_TOKEN` (gcloud's and Terraform's name for one). Another Vertex
        API root comes from `GOOGLE_VERTEX_BASE_URL` (google-genai's name) and another Cloud
        Storage from `STORAGE_EMULATOR_HOST` (google-cloud-storage's): how `interviews
        emulator serve` is reached."""
        return cls(
            project=env_value("GOOGLE_CLOUD_PROJECT"),
            location=env_value("GOOGLE_CLOUD_LOCATION") or "us-central1",
            bucket=env_value("INTERVIEWS_GCS_BUCKET"),
            access_token=env_value("GOOGLE_OAUTH_ACCESS_TOKEN"),
            api_endpoint=env_value("GOOGLE_VERTEX_BASE_URL"),
            storage_endpoint=env_value("STORAGE_EMULATOR_HOST"),
        )

    def _google_credentials(self) -> Any:
        if self.gcp_credentials_block:
            from prefect_gcp import GcpCredentials

            block = GcpCredentials.load(self.gcp_credentials_block)
            return block.get_credentials_from_service_account()
        if self.access_token is not None:
            from google.oauth2.credentials import Credentials

            token = self.access_token.get_secret_value()
            register_secret(token)  # a refusal may echo it: redact it from every message
            return Credentials(token=token)
        return None  # Application Default Credentials

    def get_adapter(self) -> BatchAdapter:
        """Build the Vertex batch adapter from these settings."""
        from interviews.providers.vertex_batches import VertexBatchAdapter

        return VertexBatchAdapter(
            project=self.project,
            location=self.location,
            bucket=self.bucket,
            prefix=self.prefix,
            credentials=self._google_credentials(),
            api_endpoint=self.api_endpoint,
            storage_endpoint=self.storage_endpoint,
        )

    def get_realtime_adapter(self) -> RealtimeAdapter:
        """Build the Vertex AI real-time (`generateContent`) adapter from these settings."""
        from interviews.providers.google_realtime import VertexRealtimeAdapter

        return VertexRealtimeAdapter(
            project=self.project,
            location=self.location,
            credentials=self._google_credentials(),
            api_endpoint=self.api_endpoint,
            retry_initial_delay=get_settings().realtime_retry_initial_seconds,
        )


class GeminiCredentials(Block):
    """Gemini Developer API key and endpoint for batch mode.

    Example:
        Load a saved block and build the batch adapter:
        ```python
        from blocks.credentials import GeminiCredentials
        adapter = GeminiCredentials.load("BLOCK_NAME").get_adapter()
        ```
    """

    _block_type_name = "Gemini Credentials"
    _block_type_slug = "gemini-credentials"
    _description = "API key and base URL for the Gemini Developer API's batch mode."
    _documentation_url = "https://ai.google.dev/gemini-api/docs/batch-api"

    api_key: SecretStr = Field(
        default=..., description="Gemini API key (kept encrypted; never logged)."
    )
    base_url: str | None = Field(
        default=None, description="API root; empty means https://generativelanguage.googleapis.com."
    )
    api_version: str | None = Field(
        default=None, description="API version such as v1beta; empty means the SDK's default."
    )

    @classmethod
    def from_env(cls) -> GeminiCredentials:
        """From `GEMINI_API_KEY` or `GOOGLE_API_KEY` (and `GOOGLE_GEMINI_BASE_URL`)."""
        return cls(
            api_key=env_value("GEMINI_API_KEY", "GOOGLE_API_KEY"),
            base_url=env_value("GOOGLE_GEMINI_BASE_URL"),
        )

    def get_adapter(self) -> BatchAdapter:
        """Build the Gemini batch adapter from these credentials."""
        from interviews.providers.gemini_batches import GeminiBatchAdapter

        return GeminiBatchAdapter(
            api_key=self.api_key.get_secret_value(),
            base_url=self.base_url,
            api_version=self.api_version,
        )

    def get_realtime_adapter(self) -> RealtimeAdapter:
        """Build the Gemini API real-time (`generateContent`) adapter from these credentials."""
        from interviews.providers.google_realtime import GeminiRealtimeAdapter

        return GeminiRealtimeAdapter(
            api_key=self.api_key.get_secret_value(),
            base_url=self.base_url,
            api_version=self.api_version,
            retry_initial_delay=get_settings().realtime_retry_initial_seconds,
        )


CREDENTIAL_BLOCKS: dict[str, type[Any]] = {
    "anthropic": AnthropicCredentials,
    "openai": OpenAICredentials,
    "vertex": VertexBatchSettings,
    "gemini": GeminiCredentials,
}


def resolve_credentials(provider: str, block_name: str | None) -> Any:
    """The provider's credentials block: the named one, else one built from the environment.

    Raises:
        ConfigurationError: no block name and the environment lacks what the provider needs;
            or the named block does not exist. The message says how to fix either.
    """
    block_cls = CREDENTIAL_BLOCKS[provider]
    if block_name:
        try:
            return block_cls.load(block_name)
        except ValueError as exc:
            raise ConfigurationError(
                f"no {block_cls._block_type_slug} block named {block_name!r}; create it in the "
                "Prefect UI or in code (see the README)"
            ) from exc
    require_credentials(provider, None)
    return block_cls.from_env()


def on_loopback(credentials: Block) -> bool:
    """Whether `credentials` point at this machine (the emulator): its batches end in
    seconds, so waiting polls at once rather than every 30 s."""
    from urllib.parse import urlsplit

    url = getattr(credentials, "base_url", None) or getattr(credentials, "api_endpoint", None)
    host = urlsplit(url if url and "//" in url else f"//{url}").hostname if url else None
    return host in ("127.0.0.1", "localhost", "::1")


def emulator_blocks(url: str, gcs_url: str) -> dict[str, Block]:
    """One block per provider pointing at the local emulator at `url` (its GCS at `gcs_url`).

    The keys are placeholders: the emulator accepts any, and they are not secrets.
    """
    return {
        "anthropic": AnthropicCredentials(api_key="emulator-key", base_url=f"{url}/anthropic"),
        "openai": OpenAICredentials(api_key="emulator-key", base_url=f"{url}/openai/v1"),
        "vertex": VertexBatchSettings(
            project="emulator-project",
            location="us-central1",
            bucket="interviews-emulator",
            access_token="emulator-token",
            api_endpoint=f"{url}/vertex",
            storage_endpoint=gcs_url,
        ),
        "gemini": GeminiCredentials(api_key="emulator-key", base_url=f"{url}/gemini"),
    }
