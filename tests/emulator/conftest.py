"""Emulator tests: reset before every test, and a strict Anthropic client.

The session emulator, its control client and the hermetic environment come from
`tests/conftest.py`.
"""

from collections.abc import Iterator

import anthropic
import pytest

from interviews.emulator import EmulatorControl, EmulatorServer


@pytest.fixture(autouse=True)
def _reset(control: EmulatorControl) -> None:
    """Every test starts from an empty emulator with default settings."""
    control.reset()


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
