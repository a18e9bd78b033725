"""Shared fixtures: hermetic environment, the emulator, and a fresh data directory.

Prefect is configured here, before anything imports it: a temporary PREFECT_HOME and no
analytics. The Prefect test harness itself is started only by tests under `tests/flows/`
(its own conftest), so pure-logic tests never pay its ~13 s.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="interviews-prefect-"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
# gs:// data dirs in tests use the emulator, which serves only the JSON API (see datastore.py)
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

from interviews.emulator import EmulatorControl, EmulatorServer

# a real PostgreSQL server for the ledger tests (started on first use)
pytest_plugins = ["tests.postgres"]

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "matched_personas.jsonl"
# The instant every test runs at (interviews/clock.py): the day the catalog's facts were read.
# Claude Sonnet 4.5 is deprecated then and still takes batches (it retires 2026-11-30).
FROZEN_NOW = "2026-11-27T12:00:00Z"

_HERMETIC_ENV = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_PROFILE",
    "ANTHROPIC_CONFIG_DIR",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_USE_ENTERPRISE",
    "GOOGLE_GENAI_API_VERSION",
    "GOOGLE_VERTEX_BASE_URL",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
    "INTERVIEWS_GCS_BUCKET",
    "GOOGLE_GEMINI_BASE_URL",
    "STORAGE_EMULATOR_HOST",
    "API_ENDPOINT_OVERRIDE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "INTERVIEWS_DATA_DIR",
    "INTERVIEWS_LEDGER_URL",
)


@pytest.fixture(autouse=True, scope="session")
def _frozen_clock() -> Iterator[None]:
    """Freeze the project's clock for the whole session, in the environment so that every CLI a
    test starts (subprocess, pseudo-terminal) inherits it: no test depends on today's date.
    A test that needs another day sets INTERVIEWS_NOW itself (monkeypatch or a child's env)."""
    before = os.environ.get("INTERVIEWS_NOW")
    os.environ["INTERVIEWS_NOW"] = FROZEN_NOW
    yield
    if before is None:
        os.environ.pop("INTERVIEWS_NOW", None)
    else:
        os.environ["INTERVIEWS_NOW"] = before


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real keys, endpoints or proxies reach a test; polls never sleep for long."""
    for name in _HERMETIC_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INTERVIEWS_POLL_INITIAL_SECONDS", "0.01")
    monkeypatch.setenv("INTERVIEWS_POLL_MAX_SECONDS", "0.05")


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    """The emulator on a free loopback port for the whole session."""
    with EmulatorServer() as server:
        yield server


@pytest.fixture(scope="session")
def control(emulator: EmulatorServer) -> Iterator[EmulatorControl]:
    """Client of the emulator's control routes."""
    with EmulatorControl(emulator.url) as client:
        yield client


@pytest.fixture
def emu(emulator: EmulatorServer, control: EmulatorControl) -> EmulatorServer:
    """The emulator, reset: no batches, no faults, instant processing unless configured."""
    control.reset()
    control.configure(processing_seconds=0.0)
    return emulator


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty data directory for one test."""
    path = tmp_path / "data"
    path.mkdir()
    return path


def line_faults(faults: dict[str, dict]) -> dict[str, dict]:
    """Line faults keyed by custom id for every provider: on Anthropic the ids carry the
    chunk's ownership tag (`interview_4-K3QZ5MXA`), matched by the pattern `interview_4-*`."""
    return {**faults, **{f"{key}-*": value for key, value in faults.items()}}


def write_jsonl(path: Path, lines: list[str]) -> Path:
    """Write raw text lines (may be malformed on purpose) as a file."""
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path
