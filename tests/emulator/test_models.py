"""Model lookups in each provider's shape, read by the real SDKs (strict where they can be):
catalog models are served until they retire (by the frozen test day), other ids are 404s."""

from __future__ import annotations

import anthropic
import openai
import pytest
from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.cloud import aiplatform_v1
from google.genai import errors as genai_errors


def test_anthropic_model_info_with_lifecycle(client: anthropic.Anthropic) -> None:
    model = client.models.retrieve("claude-sonnet-5-5")
    assert (model.id, model.display_name, model.lifecycle) == (
        "claude-sonnet-5-5",
        "Claude Sonnet 5.5",
        "active",
    )
    seed = client.models.retrieve("claude-sonnet-4-5")  # an alias; deprecated on 2026-11-27
    assert seed.id == "claude-sonnet-4-5-20250929" and seed.lifecycle == "deprecated"
    assert seed.retires_at is not None and seed.retires_at.date().isoformat() == "2026-11-30"
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("claude-opus-4-1-20250805")  # retired 2026-08-05
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("claude-9")


def test_openai_model_with_its_shutdown_date(openai_client: openai.OpenAI) -> None:
    model = openai_client.models.retrieve("gpt-5")
    assert (model.id, model.object, model.shutdown_date) == ("gpt-5", "model", "2026-12-11")
    with pytest.raises(openai.NotFoundError):
        openai_client.models.retrieve("gpt-9")


def test_gemini_model(gemini_client) -> None:
    model = gemini_client.models.get(model="gemini-3.8-flash")
    assert model.name == "models/gemini-3.8-flash"
    assert "batchGenerateContent" in model.supported_actions
    with pytest.raises(genai_errors.ClientError) as caught:
        gemini_client.models.get(model="gemini-9")
    assert caught.value.code == 404


def test_vertex_publisher_model(emulator, google_credentials) -> None:
    garden = aiplatform_v1.ModelGardenServiceClient(
        transport="rest",
        credentials=google_credentials,
        client_options=ClientOptions(api_endpoint=emulator.vertex_base_url),
    )
    found = garden.get_publisher_model(name="publishers/google/models/gemini-3.5-flash", retry=None)
    assert found.name == "publishers/google/models/gemini-3.5-flash"
    assert found.launch_stage == aiplatform_v1.PublisherModel.LaunchStage.GA
    with pytest.raises(gexc.NotFound):
        garden.get_publisher_model(name="publishers/google/models/gemini-9", retry=None)
