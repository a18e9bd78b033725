"""Emulator tests: reset before every test, and the real SDK clients pointed at the emulator.

The session emulator, its control client and the hermetic environment come from
`tests/conftest.py`. Google clients never retry (one attempt, `retry=None` per call in the
tests), so a fault test cannot stall on the SDKs' long default retries.
"""

from collections.abc import Iterator

import anthropic
import google.oauth2.credentials
import openai
import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform_v1, storage
from google.genai import Client as GenaiClient
from google.genai import types

from interviews.emulator import EmulatorControl, EmulatorServer
from tests.emulator.google_support import LOCATION, PROJECT

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


@pytest.fixture(scope="session")
def google_credentials() -> google.oauth2.credentials.Credentials:
    """A static OAuth token: sent as `Authorization: Bearer test`, never refreshed."""
    return google.oauth2.credentials.Credentials(token="test")


@pytest.fixture(scope="session")
def gcs_client(emulator: EmulatorServer) -> storage.Client:
    """google-cloud-storage against the emulator's GCS (pass `retry=None` per call)."""
    return storage.Client(
        project="emulator",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emulator.gcs_url},
    )


@pytest.fixture(scope="session")
def job_client(
    emulator: EmulatorServer, google_credentials: google.oauth2.credentials.Credentials
) -> aiplatform_v1.JobServiceClient:
    """The GAPIC Vertex `JobServiceClient` over REST (no default retry on job methods)."""
    return aiplatform_v1.JobServiceClient(
        transport="rest",
        credentials=google_credentials,
        client_options=ClientOptions(api_endpoint=emulator.vertex_base_url),
    )


@pytest.fixture
def vertex_genai(
    emulator: EmulatorServer, google_credentials: google.oauth2.credentials.Credentials
) -> Iterator[GenaiClient]:
    """google-genai in Vertex mode (explicit project/location, as a custom base URL needs)."""
    client = GenaiClient(
        vertexai=True,
        project=PROJECT,
        location=LOCATION,
        credentials=google_credentials,
        http_options=types.HttpOptions(
            base_url=emulator.vertex_base_url,
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    )
    yield client
    client.close()


@pytest.fixture
def gemini_client(emulator: EmulatorServer) -> Iterator[GenaiClient]:
    """google-genai for the Gemini Developer API (API key), one attempt per call."""
    client = GenaiClient(
        api_key="test",
        http_options=types.HttpOptions(
            base_url=emulator.gemini_base_url,
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    )
    yield client
    client.close()
