"""OpenAI on the wire under the `/openai` mount: Files + Batches (`/v1/files…`, `/v1/batches…`)
and the real-time endpoints the batches run (`POST /v1/chat/completions`, `POST /v1/responses`,
non-streaming).

SDK clients use `base_url=<url>/openai/v1`. Shapes pass the installed SDK's strict response
validation (PROVIDERS.md Part 2 §2); errors use OpenAI's `{"error": {message, type, param,
code}}` envelope with an `x-request-id` header.
"""

from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response

from interviews.emulator.ids import HEX, random_token
from interviews.emulator.models import openai_model_routes
from interviews.emulator.openai_batches import ENDED, Batch, new_batch, parse_input
from interviews.emulator.openai_files import (
    BATCH_FILE_SECONDS,
    LIST_DEFAULT,
    LIST_MAX,
    MAX_EXPIRY_SECONDS,
    MAX_UPLOAD_BYTES,
    MIN_EXPIRY_SECONDS,
    UPLOAD_PURPOSES,
    StoredFile,
    add_file,
    list_page,
    live_file,
)
from interviews.emulator.openai_requests import CHAT, RESPONSES, SUPPORTED_ENDPOINTS, execute
from interviews.emulator.routing import (
    EmulatedError,
    ProviderRoute,
    json_response,
    provider_app,
    read_json,
)
from interviews.emulator.state import EmulatorState
from interviews.emulator.token_counts import openai_tokens

PROVIDER = "openai"
# Every endpoint `batches.create` accepts (`batch_create_params.endpoint`); the emulator runs
# only `SUPPORTED_ENDPOINTS` and says so for the rest.
BATCH_ENDPOINTS = (
    "/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions",
    "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos",
)  # fmt: skip
MAX_METADATA_PAIRS, MAX_METADATA_KEY, MAX_METADATA_VALUE = 16, 64, 512
_BATCH_LIST_DEFAULT, _BATCH_LIST_MAX = 20, 100
_ERROR_TYPES = {401: "invalid_request_error", 429: "requests"}
_DEFAULT_CODES = {429: "rate_limit_exceeded"}


class OpenAIError(EmulatedError):
    """An `EmulatedError` that also carries OpenAI's `param` and `code`."""

    def __init__(
        self,
        status: int,
        message: str,
        param: str | None = None,
        code: str | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(status, message, error_type)
        self.param = param
        self.code = code


def render_error(exc: EmulatedError) -> Response:
    """OpenAI's error envelope, with an `x-request-id` header like the real API."""
    server_error = exc.status >= 500
    error_type = exc.error_type or _ERROR_TYPES.get(
        exc.status, "server_error" if server_error else "invalid_request_error"
    )
    body = {
        "error": {
            "message": exc.message,
            "type": error_type,
            "param": getattr(exc, "param", None),
            "code": getattr(exc, "code", None) or _DEFAULT_CODES.get(exc.status),
        }
    }
    headers = {"x-request-id": "req_" + random_token(32, HEX), **exc.headers}
    return json_response(body, exc.status, headers)


def authenticate(request: Request) -> None:
    """Require `Authorization: Bearer <key>`; the key is neither checked nor kept."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return
    raise OpenAIError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    )


def _files(state: EmulatorState) -> dict[str, StoredFile]:
    return state.files[PROVIDER]


def _batches(state: EmulatorState) -> dict[str, Batch]:
    return state.batches[PROVIDER]


def _file(state: EmulatorState, file_id: str) -> StoredFile:
    """The live file (caller holds `state.lock`), or a 404."""
    stored = live_file(_files(state), file_id, state.now())
    if stored is None:
        raise OpenAIError(404, f"No such File object: {file_id}", "id")
    return stored


def _limit(request: Request, default: int, maximum: int) -> int:
    raw = request.query_params.get("limit", str(default))
    try:
        limit = int(raw)
    except ValueError as exc:
        raise OpenAIError(400, f"Invalid 'limit': {raw!r} is not an integer.", "limit") from exc
    if not 1 <= limit <= maximum:
        raise OpenAIError(
            400, f"Invalid 'limit': expected a value between 1 and {maximum}.", "limit"
        )
    return limit


def _page(data: list[dict[str, Any]], has_more: bool) -> Response:
    first = data[0]["id"] if data else None
    last = data[-1]["id"] if data else None
    return json_response(
        {"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": has_more}
    )


# --- Files ---------------------------------------------------------------------------------


def _expiry_seconds(anchor: Any, seconds: Any, param: str) -> int | None:
    """Validate an `expires_after` pair (both None means not given)."""
    if anchor is None and seconds is None:
        return None
    if anchor != "created_at":
        raise OpenAIError(400, f"Invalid '{param}.anchor': only 'created_at' is supported.", param)
    try:
        value = int(seconds)
    except (TypeError, ValueError) as exc:
        raise OpenAIError(400, f"Invalid '{param}.seconds': expected an integer.", param) from exc
    if not MIN_EXPIRY_SECONDS <= value <= MAX_EXPIRY_SECONDS:
        raise OpenAIError(
            400,
            f"Invalid '{param}.seconds': expected a value between {MIN_EXPIRY_SECONDS} and "
            f"{MAX_EXPIRY_SECONDS}.",
            param,
        )
    return value


async def upload_file(request: Request, state: EmulatorState) -> Response:
    """POST /v1/files (multipart `purpose`, `file`, optional `expires_after[...]`)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_UPLOAD_BYTES + 64 * 1024:
        raise OpenAIError(400, "File is too large.", "file")
    try:
        form = await request.form(max_files=1, max_fields=10)
    except (HTTPException, MultiPartException) as exc:
        # Starlette turns multipart errors into HTTPException(400) inside an app.
        detail = getattr(exc, "detail", None) or getattr(exc, "message", str(exc))
        raise OpenAIError(400, f"Could not parse the multipart body: {detail}") from exc
    try:
        purpose, upload = form.get("purpose"), form.get("file")
        if not isinstance(purpose, str) or not purpose:
            raise OpenAIError(
                400, "Missing required parameter: 'purpose'.", "purpose",
                "missing_required_parameter",
            )  # fmt: skip
        if purpose not in UPLOAD_PURPOSES:
            raise OpenAIError(
                400,
                f"Invalid value for 'purpose': {purpose!r}. Expected one of "
                f"{', '.join(UPLOAD_PURPOSES)}.",
                "purpose",
                "invalid_value",
            )
        if not isinstance(upload, UploadFile):
            raise OpenAIError(
                400, "Missing required parameter: 'file'.", "file", "missing_required_parameter"
            )
        filename = upload.filename or "upload"
        if purpose == "batch" and not filename.endswith(".jsonl"):
            raise OpenAIError(400, "Invalid file format for Batch API. Must be .jsonl", "file")
        seconds = _expiry_seconds(
            form.get("expires_after[anchor]"), form.get("expires_after[seconds]"), "expires_after"
        )
        content = await upload.read()
    finally:
        await form.close()
    if len(content) > MAX_UPLOAD_BYTES:
        raise OpenAIError(400, "File is too large.", "file")
    with state.lock:
        now = state.now()
        if seconds is None and purpose == "batch":
            seconds = BATCH_FILE_SECONDS
        expires_at = now + seconds if seconds is not None else None
        stored = add_file(_files(state), filename, purpose, content, now, expires_at)
        state.stats(PROVIDER).files_uploaded += 1
        return json_response(stored.to_json())


async def list_files(request: Request, state: EmulatorState) -> Response:
    """GET /v1/files: `purpose` filter, `order` (desc by default), `after` cursor, `limit`."""
    query = request.query_params
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise OpenAIError(400, "Invalid 'order': expected 'asc' or 'desc'.", "order")
    limit = _limit(request, LIST_DEFAULT, LIST_MAX)
    with state.lock:
        page, has_more = list_page(
            _files(state),
            state.now(),
            purpose=query.get("purpose"),
            order=order,
            after=query.get("after"),
            limit=limit,
        )
        return _page([f.to_json() for f in page], has_more)


async def retrieve_file(request: Request, state: EmulatorState) -> Response:
    """GET /v1/files/{file_id}."""
    with state.lock:
        return json_response(_file(state, request.path_params["file_id"]).to_json())


async def delete_file(request: Request, state: EmulatorState) -> Response:
    """DELETE /v1/files/{file_id}: batches keep running on their already-read input."""
    with state.lock:
        stored = _file(state, request.path_params["file_id"])
        del _files(state)[stored.id]
    return json_response({"id": stored.id, "object": "file", "deleted": True})


async def file_content(request: Request, state: EmulatorState) -> Response:
    """GET /v1/files/{file_id}/content: the raw bytes (batch output may be cut by a fault)."""
    with state.lock:
        stored = _file(state, request.path_params["file_id"])
        content = stored.content
        # Only result downloads are truncated, never the client's own uploads.
        if stored.purpose == "batch_output" and state.take_truncation():
            content = _truncated(content)
    return Response(content, media_type="application/octet-stream")


def _truncated(content: bytes) -> bytes:
    """The first half of the lines, then half of the next one: a download cut mid-line."""
    lines = content.splitlines(keepends=True)
    keep = len(lines) // 2
    cut = lines[keep].rstrip(b"\n")
    return b"".join(lines[:keep]) + cut[: len(cut) // 2]


# --- Batches -------------------------------------------------------------------------------


def _metadata(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > MAX_METADATA_PAIRS:
        raise OpenAIError(
            400,
            f"Invalid 'metadata': expected an object with at most {MAX_METADATA_PAIRS} pairs.",
            "metadata",
        )
    for key, item in value.items():
        if len(key) > MAX_METADATA_KEY or not isinstance(item, str):
            raise OpenAIError(
                400,
                f"Invalid 'metadata': keys are strings of at most {MAX_METADATA_KEY} characters "
                "and values are strings.",
                "metadata",
            )
        if len(item) > MAX_METADATA_VALUE:
            raise OpenAIError(
                400,
                f"Invalid 'metadata.{key}': string too long; at most {MAX_METADATA_VALUE} "
                "characters.",
                "metadata",
            )
    return value


def _create_fields(body: Any) -> tuple[str, str, dict[str, str] | None, int | None]:
    """(input_file_id, endpoint, metadata, output expiry seconds) from a create body."""
    if not isinstance(body, dict):
        raise OpenAIError(400, "The request body must be a JSON object.")
    for name in ("input_file_id", "endpoint", "completion_window"):
        if not body.get(name):
            raise OpenAIError(
                400, f"Missing required parameter: '{name}'.", name, "missing_required_parameter"
            )
    if body["completion_window"] != "24h":
        raise OpenAIError(
            400,
            f"Invalid value for 'completion_window': {body['completion_window']!r}. "
            "Supported values are: '24h'.",
            "completion_window",
            "invalid_value",
        )
    endpoint = body["endpoint"]
    if endpoint not in BATCH_ENDPOINTS:
        raise OpenAIError(
            400,
            f"Invalid value for 'endpoint': {endpoint!r}. Supported values are: "
            f"{', '.join(BATCH_ENDPOINTS)}.",
            "endpoint",
            "invalid_value",
        )
    if endpoint not in SUPPORTED_ENDPOINTS:
        raise OpenAIError(
            400,
            f"The emulator does not implement batches for {endpoint!r}; it supports "
            f"{', '.join(SUPPORTED_ENDPOINTS)}.",
            "endpoint",
        )
    expiry = body.get("output_expires_after") or {}
    if not isinstance(expiry, dict):
        raise OpenAIError(400, "Invalid 'output_expires_after'.", "output_expires_after")
    seconds = _expiry_seconds(expiry.get("anchor"), expiry.get("seconds"), "output_expires_after")
    return str(body["input_file_id"]), endpoint, _metadata(body.get("metadata")), seconds


def _lookup(state: EmulatorState, batch_id: str) -> Batch:
    """The batch as last seen (caller holds `state.lock`), or a 404."""
    batch = _batches(state).get(batch_id)
    if batch is None:
        raise OpenAIError(404, f"No batch found with id '{batch_id}'.", "batch_id")
    return batch


def _refresh(state: EmulatorState, batch: Batch) -> Batch:
    """Advance `batch` to now; its output files land in the file store."""

    def store_file(filename: str, content: bytes, created_at: float) -> str:
        seconds = batch.output_expires_seconds or BATCH_FILE_SECONDS
        stored = add_file(
            _files(state), filename, "batch_output", content, created_at, created_at + seconds
        )
        return stored.id

    batch.refresh(state.now(), state.faults.lines, store_file)
    return batch


def _refreshed(state: EmulatorState, batch_id: str) -> Batch:
    """The batch, advanced to now (caller holds `state.lock`), or a 404."""
    return _refresh(state, _lookup(state, batch_id))


def _batch_json(state: EmulatorState, batch: Batch) -> dict[str, Any]:
    return batch.to_json(state.now(), state.faults.lines)


async def create_batch(request: Request, state: EmulatorState) -> Response:
    """POST /v1/batches: the envelope is checked now, the input file at the first read."""
    input_file_id, endpoint, metadata, seconds = _create_fields(await read_json(request))
    with state.lock:
        stored = live_file(_files(state), input_file_id, state.now())
        if stored is None:
            raise OpenAIError(
                400, f"Invalid 'input_file_id': file {input_file_id!r} does not exist.",
                "input_file_id",
            )  # fmt: skip
        if stored.purpose != "batch":
            raise OpenAIError(
                400,
                f"Invalid 'input_file_id': file {input_file_id!r} has purpose "
                f"{stored.purpose!r}; a batch input file must be uploaded with purpose 'batch'.",
                "input_file_id",
            )
        content = stored.content
    # Parsed outside the lock: a 200 MB file must not stall every other call.
    parsed = parse_input(content, endpoint)
    with state.lock:
        batch = new_batch(
            parsed,
            endpoint=endpoint,
            input_file_id=input_file_id,
            metadata=metadata,
            output_expires_seconds=seconds,
            now=state.now(),
            processing_seconds=state.config.processing_seconds,
            cache=state.prompt_cache,
        )
        _batches(state)[batch.id] = batch
        stats = state.stats(PROVIDER)
        stats.batches_created += 1
        stats.requests_received += parsed.lines
        # Seen at its creation instant: still `validating`, as the API answers.
        return json_response(batch.to_json(batch.created_at, state.faults.lines))


async def retrieve_batch(request: Request, state: EmulatorState) -> Response:
    """GET /v1/batches/{batch_id}."""
    with state.lock:
        batch = _refreshed(state, request.path_params["batch_id"])
        return json_response(_batch_json(state, batch))


async def list_batches(request: Request, state: EmulatorState) -> Response:
    """GET /v1/batches: newest first, paged by `after` and `limit`."""
    limit = _limit(request, _BATCH_LIST_DEFAULT, _BATCH_LIST_MAX)
    after = request.query_params.get("after")
    with state.lock:
        # Dicts keep insertion order, which is creation order.
        ids = list(reversed(_batches(state)))
        start = 0
        if after:
            start = ids.index(after) + 1 if after in ids else len(ids)
        page = ids[start : start + limit]
        data = [_batch_json(state, _refreshed(state, batch_id)) for batch_id in page]
        return _page(data, start + limit < len(ids))


async def cancel_batch(request: Request, state: EmulatorState) -> Response:
    """POST /v1/batches/{batch_id}/cancel: `cancelling` now, `cancelled` at the next read."""
    with state.lock:
        batch = _lookup(state, request.path_params["batch_id"])
        # A batch cancelled while still validating stops before any request runs.
        if batch.status != "validating":
            _refresh(state, batch)
        if batch.status in ENDED:
            # Unverified against the real API, which may answer differently; strict is safer.
            raise OpenAIError(
                400, f"Cannot cancel a batch with status '{batch.status}'.", "batch_id"
            )
        batch.cancel(state.now())
        return json_response(_batch_json(state, batch))


# --- Real time -----------------------------------------------------------------------------


def _request_id() -> dict[str, str]:
    return {"x-request-id": "req_" + random_token(32, HEX)}


async def _run_realtime(request: Request, state: EmulatorState, endpoint: str) -> Response:
    """Validate and answer one real-time call with the batch lines' `execute`.

    With no custom_id the answer's seed comes from the conversation
    (`answers.conversation_seed`); ids are fresh per call, as on the real API.
    """
    state.count_realtime(PROVIDER)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise OpenAIError(400, "The request body must be a JSON object.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise OpenAIError(
            400, "Missing required parameter: 'model'.", "model", "missing_required_parameter"
        )
    if body.get("stream"):
        raise OpenAIError(
            400, "The emulator answers only non-streaming requests ('stream': false).", "stream"
        )
    previous = body.get("previous_response_id")
    if endpoint == RESPONSES and previous is not None:
        # Responses are never stored here, so no earlier one can be found (as on the real
        # API for an unknown id): real-time callers send the whole conversation instead.
        raise OpenAIError(
            400,
            f"Previous response with id '{previous}' not found.",
            "previous_response_id",
            "previous_response_not_found",
        )
    outcome = execute(endpoint, body, None, random_token(24), state.now(), state.prompt_cache)
    if outcome.status_code != 200:
        error = outcome.body["error"]
        raise OpenAIError(outcome.status_code, error["message"], error["param"], error["code"])
    return json_response(outcome.body, headers=_request_id())


async def chat_completions(request: Request, state: EmulatorState) -> Response:
    """POST /v1/chat/completions (non-streaming): a `chat.completion`, like a batch line's."""
    return await _run_realtime(request, state, CHAT)


async def responses(request: Request, state: EmulatorState) -> Response:
    """POST /v1/responses (non-streaming): a `response` object, like a batch line's."""
    return await _run_realtime(request, state, RESPONSES)


async def count_input_tokens(request: Request, state: EmulatorState) -> Response:
    """POST /v1/responses/input_tokens: the input tokens a Responses request would be billed."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise OpenAIError(400, "The request body must be a JSON object.")
    return json_response({"object": "response.input_tokens", "input_tokens": openai_tokens(body)})


def openai_app(state: EmulatorState) -> Starlette:
    """The OpenAI sub-app, to mount at `/openai` (SDK `base_url=<url>/openai/v1`)."""
    routes = [
        ProviderRoute("POST", CHAT, chat_completions),
        ProviderRoute("POST", RESPONSES, responses),
        ProviderRoute("POST", RESPONSES + "/input_tokens", count_input_tokens),
        ProviderRoute("POST", "/v1/files", upload_file),
        ProviderRoute("GET", "/v1/files", list_files),
        ProviderRoute("GET", "/v1/files/{file_id}", retrieve_file),
        ProviderRoute("DELETE", "/v1/files/{file_id}", delete_file),
        ProviderRoute("GET", "/v1/files/{file_id}/content", file_content),
        ProviderRoute("POST", "/v1/batches", create_batch),
        ProviderRoute("GET", "/v1/batches", list_batches),
        ProviderRoute("GET", "/v1/batches/{batch_id}", retrieve_batch),
        ProviderRoute("POST", "/v1/batches/{batch_id}/cancel", cancel_batch),
        *openai_model_routes(),
    ]
    return provider_app(PROVIDER, state, routes, render_error, authenticate)
