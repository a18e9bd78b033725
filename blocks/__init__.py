"""Prefect blocks: provider credentials and endpoints."""

from blocks.credentials import AnthropicCredentials, resolve_credentials

__all__ = ["AnthropicCredentials", "resolve_credentials"]
