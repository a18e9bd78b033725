"""Fixtures: one emulator per session, reset before every test, and a strict Anthropic client."""

from collections.abc import Iterator

import anthropic
import pytest

from interviews.emulator import EmulatorControl, EmulatorServer

_HERMETIC_ENV = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_PROFILE",
    "ANTHROPIC_CONFIG_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    """The emulator on a free loopback port for the whole session."""
    with EmulatorServer() as server:
        yield server


@pytest.fixture(scope="session")
def control(emulator: EmulatorServer) -> Iterator[EmulatorControl]:
    """Client for the emulator's control routes."""
    with EmulatorControl(emulator.url) as client:
        yield client


@pytest.fixture(autouse=True)
def _clean(control: EmulatorControl, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts from an empty emulator and an environment without keys or proxies."""
    for name in _HERMETIC_ENV:
        monkeypatch.delenv(name, raising=False)
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
