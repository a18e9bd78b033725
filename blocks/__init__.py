"""Prefect blocks: provider credentials and endpoints."""

from blocks.credentials import (
    AnthropicCredentials,
    GeminiCredentials,
    OpenAICredentials,
    VertexBatchSettings,
    resolve_credentials,
)

__all__ = [
    "AnthropicCredentials",
    "GeminiCredentials",
    "OpenAICredentials",
    "VertexBatchSettings",
    "resolve_credentials",
]
