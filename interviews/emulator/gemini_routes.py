"""Gemini Developer API batch mode, Files and real-time `generateContent` on the wire, under the
`/gemini` mount.

Served under both `/v1beta` (google-genai 2.x default) and `/v1` (3.x), so `base_url` =
`<url>/gemini`. Auth is `x-goog-api-key` (or an OAuth bearer token); only the resumable upload
URL, which the SDK calls without the key, is exempt. Every answer on an `/upload/` path carries
`x-goog-upload-status`: without it the SDK retries the chunk silently for 7 s.
"""

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interviews.emulator.gemini_batches import (
    EXPIRY_SECONDS,
    MAX_INLINE_BYTES,
    GeminiBatch,
    InlineRequestError,
    StoreFile,
    parse_file,
    parse_inline,
)
from interviews.emulator.gemini_file_routes import (
    PROVIDER,
    UPLOAD_STATUS,
    UPLOADS,
    VERSIONS,
    delete_file,
    download_file,
    files_store,
    get_file,
    list_files,
    lookup_file,
    upload,
)
from interviews.emulator.gemini_files import GENERATED, LOWER_ALNUM, add_file
from interviews.emulator.google_batch import PENDING, BatchRun, Item
from interviews.emulator.google_realtime import generate_content
from interviews.emulator.google_requests import get
from interviews.emulator.google_wire import (
    FAILED_PRECONDITION,
    bearer_token,
    next_page_token,
    page,
    render_error,
)
from interviews.emulator.ids import random_token
from interviews.emulator.models import gemini_model_routes
from interviews.emulator.routing import (
    EmulatedError,
    ProviderRoute,
    json_response,
    provider_app,
    read_json,
    route_path,
)
from interviews.emulator.state import EmulatorState
from interviews.emulator.token_counts import google_tokens

_BATCH_LIST_DEFAULT, _BATCH_LIST_MAX = 50, 1000
_NO_CALLER = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)


def authenticate(request: Request) -> None:
    """Require `x-goog-api-key` or a bearer token, except on the resumable upload URL."""
    if request.headers.get("x-goog-api-key", "").strip() or bearer_token(request):
        return
    if route_path(request).startswith("/upload/") and "upload_id" in request.query_params:
        return
    raise EmulatedError(403, _NO_CALLER)


class UploadStatusMiddleware:
    """Add `x-goog-upload-status: final` to `/upload/` answers that lack it (errors, faults)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "/upload/" not in scope["path"]:
            await self.app(scope, receive, send)
            return

        async def send_with_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == UPLOAD_STATUS.encode() for name, _ in headers):
                    headers.append((UPLOAD_STATUS.encode(), b"final"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_status)


def _batches(state: EmulatorState) -> dict[str, GeminiBatch]:
    return state.batches[PROVIDER]


def _store_output(state: EmulatorState) -> StoreFile:
    """Writes a batch's responses file into the Files store (caller holds `state.lock`)."""

    def store_file(file_id: str, content: bytes, created_at: float) -> str:
        stored = add_file(
            files_store(state), file_id, content, created_at, mime_type="application/jsonl",
            source=GENERATED,
        )  # fmt: skip
        return stored.name

    return store_file


def _refreshed(state: EmulatorState, batch: GeminiBatch) -> GeminiBatch:
    batch.refresh(state.now(), state.faults.lines, _store_output(state))
    return batch


def _lookup(state: EmulatorState, batch_id: str) -> GeminiBatch:
    """The batch (caller holds `state.lock`), or a 404."""
    batch = _batches(state).get(batch_id)
    if batch is None:
        raise EmulatedError(404, f"Requested entity was not found: batches/{batch_id}.")
    return batch


def _inputs(
    state: EmulatorState, body: Any, raw_size: int
) -> tuple[list[Item], list[dict[str, str] | None], int, str | None, str | None]:
    """(items, metadata, lines, input file name, input problem) of a create body."""
    batch = get(body, "batch")
    if not isinstance(batch, dict):
        raise EmulatedError(400, 'The request body must be {"batch": GenerateContentBatch}.')
    config = get(batch, "inputConfig")
    inline = get(get(config, "requests"), "requests")
    file_name = get(config, "fileName")
    if (inline is None) == (file_name is None):
        raise EmulatedError(
            400, "batch.input_config needs exactly one of `requests` and `file_name`."
        )
    if inline is not None:
        if raw_size > MAX_INLINE_BYTES:
            raise EmulatedError(400, "Inline batch requests must total less than 20 MB.")
        try:
            items, metadata = parse_inline(inline)
        except InlineRequestError as exc:
            raise EmulatedError(400, str(exc)) from exc
        return items, metadata, len(items), None, None
    file_id = str(file_name).removeprefix("files/")
    with state.lock:
        content = lookup_file(state, file_id).content
    items, lines, problem = parse_file(content, f"files/{file_id}")
    return items, [None] * len(items), lines, f"files/{file_id}", problem


async def create_batch(request: Request, state: EmulatorState) -> Response:
    """POST /{ver}/models/{model}:batchGenerateContent: a `BATCH_STATE_PENDING` Operation."""
    raw = await request.body()
    body = await read_json(request)
    items, metadata, lines, input_file, problem = _inputs(state, body, len(raw))
    display_name = get(get(body, "batch"), "displayName")
    with state.lock:
        now = state.now()
        run = BatchRun(
            id=random_token(22, LOWER_ALNUM),
            model=request.path_params["model"],
            items=items,
            created_at=now,
            processing_seconds=state.config.processing_seconds,
            expiry_seconds=EXPIRY_SECONDS,
            cache=state.prompt_cache,
            service="gemini",
            expire_from_start=False,
            input_error=problem,
        )
        batch = GeminiBatch(
            run=run,
            model=f"models/{request.path_params['model']}",
            display_name=display_name,
            input_file=input_file,
            metadata=metadata,
        )
        _batches(state)[run.id] = batch
        stats = state.stats(PROVIDER)
        stats.batches_created += 1
        stats.requests_received += lines
        return json_response(batch.to_json(now, state.faults.lines))


async def get_batch(request: Request, state: EmulatorState) -> Response:
    """GET /{ver}/batches/{id}."""
    with state.lock:
        batch = _refreshed(state, _lookup(state, request.path_params["batch_id"]))
        return json_response(batch.to_json(state.now(), state.faults.lines))


async def list_batches(request: Request, state: EmulatorState) -> Response:
    """GET /{ver}/batches: newest first, paged; the page is `operations`."""
    size, offset = page(request, _BATCH_LIST_DEFAULT, _BATCH_LIST_MAX)
    with state.lock:
        ids = list(reversed(_batches(state)))
        now = state.now()
        operations = [
            _refreshed(state, _batches(state)[batch_id]).to_json(now, state.faults.lines)
            for batch_id in ids[offset : offset + size]
        ]
    body: dict[str, Any] = {"operations": operations}
    if token := next_page_token(offset, size, len(ids)):
        body["nextPageToken"] = token
    return json_response(body)


async def cancel_batch(request: Request, state: EmulatorState) -> Response:
    """POST /{ver}/batches/{id}:cancel: the batch ends `BATCH_STATE_CANCELLED` at once."""
    with state.lock:
        batch = _lookup(state, request.path_params["batch_id"])
        # A pending batch is cancelled before it starts: reading it first would start it.
        if batch.run.phase != PENDING:
            _refreshed(state, batch)
        try:
            batch.cancel(state.now(), state.faults.lines, _store_output(state))
        except ValueError as exc:
            raise EmulatedError(
                400, f"Cannot cancel {batch.name}: it has already ended.", FAILED_PRECONDITION
            ) from exc
    return json_response({})


async def delete_batch(request: Request, state: EmulatorState) -> Response:
    """DELETE /{ver}/batches/{id}."""
    with state.lock:
        batch = _lookup(state, request.path_params["batch_id"])
        del _batches(state)[batch.run.id]
    return json_response({})


async def generate(request: Request, state: EmulatorState) -> Response:
    """POST /{ver}/models/{model}:generateContent (non-streaming): a GenerateContentResponse."""
    model = request.path_params["model"]
    return json_response(await generate_content(request, state, PROVIDER, model))


async def count_tokens(request: Request, state: EmulatorState) -> Response:
    """POST /{ver}/models/{model}:countTokens: `{"totalTokens"}` of the contents (or of a
    `generateContentRequest`), as they would be billed."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise EmulatedError(400, "Invalid JSON payload: the body must be an object.")
    tokens, _ = google_tokens(body)
    return json_response({"totalTokens": tokens})


def gemini_routes() -> list[ProviderRoute]:
    """The batch, file and real-time routes under every served API version."""
    routes = []
    for v in VERSIONS:
        routes += [
            ProviderRoute("POST", f"/{v}/models/{{model}}:generateContent", generate),
            ProviderRoute("POST", f"/{v}/models/{{model}}:countTokens", count_tokens),
            ProviderRoute("POST", f"/{v}/models/{{model}}:batchGenerateContent", create_batch),
            ProviderRoute("GET", f"/{v}/batches", list_batches),
            # `{id}:verb` routes come first: the plain `{id}` pattern would swallow them.
            ProviderRoute("POST", f"/{v}/batches/{{batch_id}}:cancel", cancel_batch),
            ProviderRoute("GET", f"/{v}/batches/{{batch_id}}", get_batch),
            ProviderRoute("DELETE", f"/{v}/batches/{{batch_id}}", delete_batch),
            ProviderRoute("POST", f"/upload/{v}/files", upload),
            ProviderRoute("GET", f"/{v}/files", list_files),
            ProviderRoute("GET", f"/{v}/files/{{file_id}}:download", download_file),
            ProviderRoute("GET", f"/{v}/files/{{file_id}}", get_file),
            ProviderRoute("DELETE", f"/{v}/files/{{file_id}}", delete_file),
            *gemini_model_routes(v),
        ]
    return routes


def gemini_app(state: EmulatorState) -> ASGIApp:
    """The Gemini sub-app, to mount at `/gemini` (SDK `base_url` = `<url>/gemini`)."""
    state.files.setdefault(UPLOADS, {})
    app = provider_app(PROVIDER, state, gemini_routes(), render_error, authenticate)
    return UploadStatusMiddleware(app)
