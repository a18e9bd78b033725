"""Flow tests run on a real Prefect API: the test harness, started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from blocks.credentials import emulator_blocks


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
    for credentials in emulator_blocks(emu.url, emu.gcs_url).values():
        credentials.save("emulator-test", overwrite=True)
    return "emulator-test"
