"""Real-time adapters: a request that cannot reach the API becomes an errored (retryable)
outcome, not a crash of the whole chunk."""

from __future__ import annotations

import asyncio
import socket

import pytest

from interviews.batch_types import OutcomeStatus
from interviews.providers.anthropic_realtime import AnthropicRealtimeAdapter
from interviews.providers.google_realtime import GeminiRealtimeAdapter


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens once closed


LINES = {
    "gemini": {
        "key": "interview_1",
        "request": {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]},
    },
    "anthropic": {
        "custom_id": "interview_1",
        "params": {
            "model": "claude-sonnet-5-5",
            "max_tokens": 10,
            "messages": [{"role": "user", "content": "Hi"}],
        },
    },
}


@pytest.mark.parametrize("provider", ["gemini", "anthropic"])
def test_unreachable_api_is_an_errored_retryable_outcome(provider: str) -> None:
    url = _closed_port_url()
    if provider == "gemini":
        adapter = GeminiRealtimeAdapter(api_key="k", base_url=url, attempts=1, timeout=5)
    else:
        adapter = AnthropicRealtimeAdapter(api_key="k", base_url=url, max_retries=0, timeout=5)

    async def answer():
        try:
            return await adapter.answer(LINES[provider], model="gemini-3.8-flash")
        finally:
            await adapter.aclose()

    outcome = asyncio.run(answer())
    assert outcome.custom_id == "interview_1"
    assert outcome.status is OutcomeStatus.ERRORED
    assert outcome.error.kind == "connection_error" and outcome.error.transient
    assert "could not reach the API" in outcome.error.message
