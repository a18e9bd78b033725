"""Vertex AI on the wire under the `/vertex` mount: batch prediction (`batchPredictionJobs`)
and real-time `…/publishers/google/models/{model}:generateContent` (non-streaming).

Served under both `/v1/` (GAPIC `JobServiceClient`, aiplatform) and `/v1beta1/` (google-genai),
so `api_endpoint` / `base_url` = `<url>/vertex`. Query strings such as
`$alt=json;enum-encoding=int` are ignored: enums are always names (genai cannot parse ints).
Every call needs `Authorization: Bearer <token>`; the token is neither checked nor kept.
"""

import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from interviews.emulator.clock import isoformat
from interviews.emulator.gcs import GcsError
from interviews.emulator.google_batch import PENDING, BatchRun
from interviews.emulator.google_realtime import generate_content
from interviews.emulator.google_requests import get
from interviews.emulator.google_wire import (
    FAILED_PRECONDITION,
    bearer_token,
    next_page_token,
    page,
    render_error,
)
from interviews.emulator.models import vertex_model_routes
from interviews.emulator.routing import (
    EmulatedError,
    ProviderRoute,
    json_response,
    provider_app,
    read_json,
)
from interviews.emulator.state import EmulatorState
from interviews.emulator.token_counts import google_tokens
from interviews.emulator.vertex_jobs import EXPIRY_SECONDS, VertexJob, new_job_id, parse_input

PROVIDER = "vertex"
VERSIONS = ("v1", "v1beta1")
_MODEL = re.compile(
    r"^(?:publishers/[^/]+/models/[^/]+|projects/[^/]+/locations/[^/]+/models/[^/]+)$"
)
# GCP label rules (ASCII subset): keys start with a lowercase letter, ≤ 63 characters.
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_MAX_LABELS = 64
_LIST_DEFAULT, _LIST_MAX = 100, 1000
_FILTER_TERM = re.compile(
    r'^\s*(labels\.[A-Za-z0-9_-]+|display_name|displayName|state)\s*[=:]\s*"?([^"]*?)"?\s*$'
)
_UNAUTHENTICATED = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential."
)


def authenticate(request: Request) -> None:
    """Require `Authorization: Bearer <token>` (genai and GAPIC with token credentials)."""
    if bearer_token(request) is None:
        raise EmulatedError(401, _UNAUTHENTICATED)


def _jobs(state: EmulatorState) -> dict[str, VertexJob]:
    return state.batches[PROVIDER]


def _labels(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > _MAX_LABELS:
        raise EmulatedError(400, f"labels must be a map of at most {_MAX_LABELS} entries.")
    for key, item in value.items():
        if not _LABEL_KEY.match(str(key)) or not isinstance(item, str):
            raise EmulatedError(400, f"Invalid label key {key!r}: use [a-z][a-z0-9_-]{{0,62}}.")
        if not _LABEL_VALUE.match(item):
            raise EmulatedError(
                400, f"Invalid value for label {key!r}: {item!r}; use [a-z0-9_-]{{0,63}}."
            )
    return value


def _input_uris(config: Any) -> list[str]:
    if not isinstance(config, dict):
        raise EmulatedError(400, "inputConfig is required.")
    if get(config, "instancesFormat") != "jsonl":
        raise EmulatedError(
            400, "inputConfig.instancesFormat must be 'jsonl' (the emulator serves GCS input)."
        )
    uris = get(get(config, "gcsSource"), "uris")
    if isinstance(uris, str):
        uris = [uris]
    if not isinstance(uris, list) or not uris:
        raise EmulatedError(400, "inputConfig.gcsSource.uris is required.")
    for uri in uris:
        if not isinstance(uri, str) or not uri.startswith("gs://"):
            raise EmulatedError(400, f"Invalid input URI {uri!r}: expected gs://bucket/object.")
    return uris


def _check_output(config: Any) -> None:
    if not isinstance(config, dict):
        raise EmulatedError(400, "outputConfig is required.")
    if get(config, "predictionsFormat") != "jsonl":
        raise EmulatedError(
            400, "outputConfig.predictionsFormat must be 'jsonl' (the emulator writes to GCS)."
        )
    prefix = get(get(config, "gcsDestination"), "outputUriPrefix")
    if not isinstance(prefix, str) or not prefix.startswith("gs://") or len(prefix) <= 5:
        raise EmulatedError(400, "outputConfig.gcsDestination.outputUriPrefix must be gs://….")


def _read_inputs(state: EmulatorState, uris: list[str]) -> tuple[list[tuple[str, bytes]], str]:
    """The input files' bytes, or why they could not be read (the job then fails)."""
    if state.gcs is None:
        return [], "The emulator has no Cloud Storage attached, so it cannot read the input."
    try:
        return [(uri, state.gcs.read(uri)) for uri in uris], ""
    except GcsError as exc:
        return [], f"Failed to read the input: {exc}"


def _refreshed(state: EmulatorState, job: VertexJob) -> VertexJob:
    """`job` advanced to now (caller holds `state.lock`); output lands in GCS when it ends."""
    job.refresh(state.now(), state.faults.lines, state.gcs, state.take_truncation)
    return job


def _lookup(request: Request, state: EmulatorState) -> VertexJob:
    """The job named by the path (caller holds `state.lock`), or a 404."""
    params = request.path_params
    job = _jobs(state).get(params["job_id"])
    if job is None or (job.project, job.location) != (params["project"], params["location"]):
        name = (
            f"projects/{params['project']}/locations/{params['location']}"
            f"/batchPredictionJobs/{params['job_id']}"
        )
        raise EmulatedError(404, f"The BatchPredictionJob does not exist: {name}")
    return job


async def create_job(request: Request, state: EmulatorState) -> Response:
    """POST …/batchPredictionJobs: `JOB_STATE_PENDING`; the input is read from GCS now."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise EmulatedError(400, "The request body must be a BatchPredictionJob object.")
    display_name, model = get(body, "displayName"), get(body, "model")
    if not isinstance(display_name, str) or not display_name:
        raise EmulatedError(400, "displayName is required.")
    if not isinstance(model, str) or not _MODEL.match(model):
        raise EmulatedError(
            400,
            f"Invalid model {model!r}: expected publishers/google/models/<id> or "
            "projects/<p>/locations/<l>/models/<id>.",
        )
    input_config, output_config = get(body, "inputConfig"), get(body, "outputConfig")
    uris = _input_uris(input_config)
    _check_output(output_config)
    labels = _labels(get(body, "labels"))
    # Read and parsed outside the lock: a 1 GB input must not stall every other call.
    contents, read_error = _read_inputs(state, uris)
    items, lines, problem = parse_input(contents) if not read_error else ([], 0, read_error)
    with state.lock:
        now = state.now()
        run = BatchRun(
            id=new_job_id(),
            model=model,
            items=items,
            created_at=now,
            processing_seconds=state.config.processing_seconds,
            expiry_seconds=EXPIRY_SECONDS,
            cache=state.prompt_cache,
            service="vertex",
            expire_from_start=True,
            input_error=problem,
        )
        job = VertexJob(
            run=run,
            project=request.path_params["project"],
            location=request.path_params["location"],
            display_name=display_name,
            model=model,
            input_config=input_config,
            output_config=output_config,
            labels=labels,
            output_files=state.config.vertex_output_files,
        )
        _jobs(state)[job.id] = job
        stats = state.stats(PROVIDER)
        stats.batches_created += 1
        stats.requests_received += lines
        return json_response(job.to_json(now, state.faults.lines))


async def get_job(request: Request, state: EmulatorState) -> Response:
    """GET …/batchPredictionJobs/{id}."""
    with state.lock:
        job = _refreshed(state, _lookup(request, state))
        return json_response(job.to_json(state.now(), state.faults.lines))


def _filter(expression: str) -> list[tuple[str, str]]:
    """`labels.k=v AND display_name="x" AND state=JOB_STATE_…` → [(field, value)]; 400 else."""
    terms = []
    for term in re.split(r"\s+AND\s+", expression.strip(), flags=re.IGNORECASE):
        match = _FILTER_TERM.match(term)
        if match is None:
            raise EmulatedError(
                400,
                f"Unsupported filter term {term!r}: the emulator supports labels.<key>=<value>, "
                "display_name=<name> and state=<JOB_STATE_…>, joined by AND.",
            )
        terms.append((match.group(1), match.group(2)))
    return terms


def _matches(job: VertexJob, terms: list[tuple[str, str]]) -> bool:
    for field, value in terms:
        if field.startswith("labels."):
            actual = (job.labels or {}).get(field[len("labels.") :])
        elif field == "state":
            actual = f"JOB_STATE_{job.run.phase}"
        else:
            actual = job.display_name
        if actual != value:
            return False
    return True


async def list_jobs(request: Request, state: EmulatorState) -> Response:
    """GET …/batchPredictionJobs: newest first, `pageSize`/`pageToken`, a small `filter`."""
    size, offset = page(request, _LIST_DEFAULT, _LIST_MAX)
    raw_filter = request.query_params.get("filter", "")
    terms = _filter(raw_filter) if raw_filter.strip() else []
    project, location = request.path_params["project"], request.path_params["location"]
    with state.lock:
        jobs = [
            _refreshed(state, job)
            for job in reversed(_jobs(state).values())
            if (job.project, job.location) == (project, location)
        ]
        jobs = [job for job in jobs if _matches(job, terms)]
        now = state.now()
        body: dict[str, Any] = {
            "batchPredictionJobs": [
                job.to_json(now, state.faults.lines) for job in jobs[offset : offset + size]
            ]
        }
    token = next_page_token(offset, size, len(jobs))
    if token:
        body["nextPageToken"] = token
    return json_response(body)


async def cancel_job(request: Request, state: EmulatorState) -> Response:
    """POST …/batchPredictionJobs/{id}:cancel: `CANCELLING` now, `CANCELLED` at the next read."""
    with state.lock:
        job = _lookup(request, state)
        # A pending job is cancelled before it starts: reading it first would start it.
        if job.run.phase != PENDING:
            _refreshed(state, job)
        try:
            job.cancel(state.now(), state.faults.lines)
        except ValueError as exc:
            raise EmulatedError(
                400,
                f"Cannot cancel {job.name}: the job is in state JOB_STATE_{job.run.phase}.",
                FAILED_PRECONDITION,
            ) from exc
    return json_response({})


async def delete_job(request: Request, state: EmulatorState) -> Response:
    """DELETE …/batchPredictionJobs/{id}: a finished long-running operation."""
    with state.lock:
        job = _lookup(request, state)
        del _jobs(state)[job.id]
    return json_response(job.delete_operation(new_job_id()))


async def generate(request: Request, state: EmulatorState) -> Response:
    """POST …/publishers/google/models/{model}:generateContent: a GenerateContentResponse."""
    model = f"publishers/google/models/{request.path_params['model']}"
    response = await generate_content(request, state, PROVIDER, model)
    # Vertex (unlike the Gemini API) stamps its answers; genai reads it as `create_time`.
    return json_response({**response, "createTime": isoformat(state.now())})


async def count_tokens(request: Request, state: EmulatorState) -> Response:
    """POST …/publishers/google/models/{model}:countTokens: tokens and billable characters."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise EmulatedError(400, "Invalid JSON payload: the body must be an object.")
    tokens, chars = google_tokens(body)
    return json_response({"totalTokens": tokens, "totalBillableCharacters": chars})


def vertex_routes() -> list[ProviderRoute]:
    """The job and real-time routes under every served API version."""
    routes = []
    for version in VERSIONS:
        model = f"/{version}/projects/{{project}}/locations/{{location}}/publishers/google/models"
        routes.append(ProviderRoute("POST", model + "/{model}:generateContent", generate))
        routes.append(ProviderRoute("POST", model + "/{model}:countTokens", count_tokens))
        base = f"/{version}/projects/{{project}}/locations/{{location}}/batchPredictionJobs"
        routes += [
            ProviderRoute("POST", base, create_job),
            ProviderRoute("GET", base, list_jobs),
            # `{job_id}:cancel` must come before `{job_id}`, whose pattern would swallow it.
            ProviderRoute("POST", base + "/{job_id}:cancel", cancel_job),
            ProviderRoute("GET", base + "/{job_id}", get_job),
            ProviderRoute("DELETE", base + "/{job_id}", delete_job),
            *vertex_model_routes(version),
        ]
    return routes


def vertex_app(state: EmulatorState) -> Starlette:
    """The Vertex sub-app, to mount at `/vertex` (`api_endpoint`/`base_url` = `<url>/vertex`)."""
    return provider_app(PROVIDER, state, vertex_routes(), render_error, authenticate)
