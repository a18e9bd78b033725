"""The TLS context the SDK clients share still verifies servers."""

from __future__ import annotations

import ssl

from interviews.providers.anthropic_batches import AnthropicBatchAdapter
from interviews.providers.openai_batches import OpenAIBatchAdapter
from interviews.providers.tls import shared_ssl_context


def test_the_shared_context_verifies_certificates_and_host_names() -> None:
    context = shared_ssl_context()
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # a CA bundle is loaded


def test_every_client_uses_the_one_context() -> None:
    # httpx keeps the context on its connection pool; two adapters, one context
    contexts = {
        id(adapter._client._client._transport._pool._ssl_context)
        for adapter in (
            AnthropicBatchAdapter(api_key="k", base_url="http://127.0.0.1:9"),
            AnthropicBatchAdapter(api_key="k", base_url="http://127.0.0.1:9"),
            OpenAIBatchAdapter(api_key="k", base_url="http://127.0.0.1:9/v1"),
        )
    }
    assert contexts == {id(shared_ssl_context())}
