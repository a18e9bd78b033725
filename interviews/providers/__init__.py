"""Provider adapters, looked up by provider name.

Adapter modules are imported on first use: the SDKs take seconds to import, and `prepare`,
`estimate` and input errors must answer at once.
"""

from __future__ import annotations

from importlib import import_module

from interviews.catalog import PROVIDERS
from interviews.errors import CatalogError
from interviews.providers.base import BatchAdapter, BatchTag

_ADAPTERS = {
    "anthropic": ("interviews.providers.anthropic_batches", "AnthropicBatchAdapter"),
    "openai": ("interviews.providers.openai_batches", "OpenAIBatchAdapter"),
    "vertex": ("interviews.providers.vertex_batches", "VertexBatchAdapter"),
    "gemini": ("interviews.providers.gemini_batches", "GeminiBatchAdapter"),
}


def get_adapter_class(provider: str) -> type[BatchAdapter]:
    """The adapter class for `provider` (cheap: the SDK itself loads on construction).

    Raises:
        CatalogError: unknown provider.
    """
    if provider not in _ADAPTERS:
        raise CatalogError(
            f"unknown provider {provider!r}; supported providers: {', '.join(PROVIDERS)}"
        )
    module_name, class_name = _ADAPTERS[provider]
    return getattr(import_module(module_name), class_name)


__all__ = ["BatchAdapter", "BatchTag", "get_adapter_class"]
