"""Model lookups, the way each provider answers them: what `interviews check` asks before a run.

The emulator serves the catalog's models of each provider until their retirement day (by
`interviews.clock`, so `INTERVIEWS_NOW` sets the day for the emulator and the catalog alike),
under their ids and aliases; any other id is a 404, as on the real APIs. Each answer has the
provider's own shape (the SDKs validate them in the tests):

- Anthropic `GET /v1/models/{id}`: `ModelInfo` with its lifecycle and retirement;
- OpenAI `GET /v1/models/{id}`: `Model`, with `shutdown_date` when one is announced;
- Gemini API `GET /{ver}/models/{model}`: `Model` with its generation methods;
- Vertex AI `GET /{ver}/publishers/google/models/{model}`: `PublisherModel`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from interviews import clock
from interviews.catalog import ModelInfo, models_for
from interviews.emulator.routing import EmulatedError, ProviderRoute, json_response
from interviews.emulator.state import EmulatorState

_RELEASED = "2025-01-01T00:00:00Z"  # the emulator knows no release days; one fixed day


def served_model(provider: str, model_id: str) -> ModelInfo:
    """The catalog model `model_id` (id or alias) of `provider` if it is served now, else an
    `EmulatedError` 404 worded as the provider words it."""
    for model in models_for(provider):
        if model_id in (model.id, *model.aliases) and not model.is_retired():
            return model
    raise EmulatedError(404, f"model: {model_id}" if provider == "anthropic" else (
        f"The model `{model_id}` does not exist or you do not have access to it."
        if provider == "openai"
        else f"models/{model_id} is not found for API version, or is not supported."
    ))  # fmt: skip


def _lifecycle(model: ModelInfo) -> str:
    return "deprecated" if model.status_on(clock.today()) == "deprecated" else "active"


async def anthropic_model(request: Request, state: EmulatorState) -> Response:
    """GET /v1/models/{model_id}: an Anthropic `ModelInfo`."""
    model = served_model("anthropic", request.path_params["model_id"])
    body = {
        "type": "model",
        "id": model.id,
        "display_name": model.name,
        "created_at": _RELEASED,
        "lifecycle": _lifecycle(model),
    }
    if model.retires:
        body["retires_at"] = f"{model.retires.isoformat()}T00:00:00Z"
    if model.max_output_tokens:
        body["max_tokens"] = model.max_output_tokens
    return json_response(body)


async def openai_model(request: Request, state: EmulatorState) -> Response:
    """GET /v1/models/{model_id}: an OpenAI `Model`."""
    model = served_model("openai", request.path_params["model_id"])
    body: dict = {"id": model.id, "object": "model", "created": 1735689600, "owned_by": "system"}
    if model.retires:
        body["shutdown_date"] = model.retires.isoformat()
    return json_response(body)


async def gemini_model(request: Request, state: EmulatorState) -> Response:
    """GET /{ver}/models/{model}: a Gemini API `Model`."""
    model = served_model("gemini", request.path_params["model"])
    return json_response(
        {
            "name": f"models/{model.id}",
            "version": "001",
            "displayName": model.name,
            "outputTokenLimit": model.max_output_tokens or 65536,
            "supportedGenerationMethods": ["generateContent", "batchGenerateContent"],
        }
    )


async def vertex_model(request: Request, state: EmulatorState) -> Response:
    """GET /{ver}/publishers/google/models/{model}: a Vertex AI `PublisherModel`."""
    model = served_model("vertex", request.path_params["model"])
    return json_response(
        {
            "name": f"publishers/google/models/{model.id}",
            "versionId": "001",
            "launchStage": "GA" if model.lifecycle != "preview" else "PUBLIC_PREVIEW",
            "openSourceCategory": "PROPRIETARY",
        }
    )


def anthropic_model_routes() -> list[ProviderRoute]:
    """Anthropic's model lookup."""
    return [ProviderRoute("GET", "/v1/models/{model_id}", anthropic_model)]


def openai_model_routes() -> list[ProviderRoute]:
    """OpenAI's model lookup."""
    return [ProviderRoute("GET", "/v1/models/{model_id}", openai_model)]


def gemini_model_routes(version: str) -> list[ProviderRoute]:
    """The Gemini API's model lookup under API `version`."""
    return [ProviderRoute("GET", f"/{version}/models/{{model}}", gemini_model)]


def vertex_model_routes(version: str) -> list[ProviderRoute]:
    """Vertex AI's publisher-model lookup under API `version`."""
    return [ProviderRoute("GET", f"/{version}/publishers/google/models/{{model}}", vertex_model)]
