"""Flow tests run on a real Prefect API: the test harness, started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from blocks.credentials import (
    AnthropicCredentials,
    GeminiCredentials,
    OpenAICredentials,
    VertexBatchSettings,
)


@pytest.fixture(autouse=True, scope="session")
def prefect_api() -> Iterator[str]:
    """Start Prefect's test harness (a temporary server and database) and yield its API URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


@pytest.fixture
def block(emu) -> str:
    """One `emulator-test` credentials block per provider, pointing at the emulator."""
    AnthropicCredentials(api_key="test-key", base_url=emu.anthropic_base_url).save(
        "emulator-test", overwrite=True
    )
    OpenAICredentials(api_key="test-key", base_url=emu.openai_base_url).save(
        "emulator-test", overwrite=True
    )
    VertexBatchSettings(
        project="proj",
        bucket="interviews-emulator",
        access_token="test-token",
        api_endpoint=emu.vertex_base_url,
        storage_endpoint=emu.gcs_url,
    ).save("emulator-test", overwrite=True)
    GeminiCredentials(api_key="test-key", base_url=emu.gemini_base_url).save(
        "emulator-test", overwrite=True
    )
    return "emulator-test"
