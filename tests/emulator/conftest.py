"""Emulator tests: reset before every test, and strict Anthropic and OpenAI clients.

The session emulator, its control client and the hermetic environment come from
`tests/conftest.py`.
"""

from collections.abc import Iterator

import anthropic
import openai
import pytest

from interviews.emulator import EmulatorControl, EmulatorServer

_OPENAI_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")


@pytest.fixture(autouse=True)
def _reset(control: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts from an empty emulator with default settings, and no OpenAI env."""
    control.reset()
    for name in _OPENAI_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[anthropic.Anthropic]:
    """The real SDK in strict mode, without retries unless a test asks for them."""
    with anthropic.Anthropic(
        base_url=emulator.anthropic_base_url,
        api_key="test",
        max_retries=0,
        _strict_response_validation=True,
    ) as sdk:
        yield sdk


@pytest.fixture
def openai_client(emulator: EmulatorServer) -> Iterator[openai.OpenAI]:
    """The real OpenAI SDK in strict mode, without retries unless a test asks for them."""
    with openai.OpenAI(
        base_url=emulator.openai_base_url,
        api_key="test",
        max_retries=0,
        _strict_response_validation=True,
    ) as sdk:
        yield sdk
