"""Prefect blocks holding provider credentials and endpoints (no business logic).

Secrets are `SecretStr`: masked in the UI, the API and every repr; unwrapped only when a client
is built.
"""

from __future__ import annotations

import os

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from interviews.errors import ConfigurationError
from interviews.providers.base import BatchAdapter
from interviews.settings import PROVIDER_ENV, require_credentials


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

    def get_adapter(self, *, max_retries: int = 2) -> BatchAdapter:
        """Build the Anthropic batch adapter from these credentials."""
        from interviews.providers.anthropic_batches import AnthropicBatchAdapter

        return AnthropicBatchAdapter(
            api_key=self.api_key.get_secret_value(),
            base_url=self.base_url,
            max_retries=max_retries,
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


CREDENTIAL_BLOCKS: dict[str, type[Block]] = {
    "anthropic": AnthropicCredentials,
    "openai": OpenAICredentials,
}


def resolve_credentials(provider: str, block_name: str | None) -> Block:
    """The provider's credentials: the named block, else the provider's standard env vars.

    Raises:
        ConfigurationError: neither a block name nor the env var is available; the message
            says how to set either.
    """
    block_cls = CREDENTIAL_BLOCKS[provider]
    if block_name:
        try:
            return block_cls.load(block_name)
        except ValueError as exc:
            raise ConfigurationError(
                f"no {block_cls._block_type_slug} block named {block_name!r}; create it in the "
                "Prefect UI or with `interviews setup`"
            ) from exc
    require_credentials(provider, None)
    key_var, url_var = PROVIDER_ENV[provider]
    return block_cls(api_key=os.environ[key_var], base_url=os.environ.get(url_var) or None)
