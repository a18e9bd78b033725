"""Prefect blocks: provider credentials and endpoints."""

from blocks.credentials import AnthropicCredentials, OpenAICredentials, resolve_credentials

__all__ = ["AnthropicCredentials", "OpenAICredentials", "resolve_credentials"]
