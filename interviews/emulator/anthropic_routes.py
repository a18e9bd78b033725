"""Anthropic on the wire under the `/anthropic` mount: Message Batches (`/v1/messages/batches…`)
and the real-time Messages API (`POST /v1/messages`, non-streaming).

Shapes pass the installed SDK's strict response validation; see PROVIDERS.md Part 2 §1.
"""

from collections.abc import Iterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from interviews.emulator.anthropic_batches import (
    MAX_BODY_BYTES,
    MAX_MESSAGE_BYTES,
    SAMPLING_REJECTED_FROM,
    Batch,
    BatchRequestError,
    answer_message,
    new_batch,
    validate_params,
)
from interviews.emulator.ids import random_id
from interviews.emulator.models import anthropic_model_routes
from interviews.emulator.routing import (
    EmulatedError,
    ProviderRoute,
    json_response,
    prefix_url,
    provider_app,
    read_json,
)
from interviews.emulator.state import EmulatorState
from interviews.emulator.token_counts import anthropic_tokens

PROVIDER = "anthropic"
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_LIST_DEFAULT, _LIST_MAX = 20, 1000
_RESULT_CHUNK_LINES = 500


def render_error(exc: EmulatedError) -> Response:
    """Anthropic's error envelope, with a `request-id` header like the real API."""
    error_type = exc.error_type or _ERROR_TYPES.get(
        exc.status, "api_error" if exc.status >= 500 else "invalid_request_error"
    )
    request_id = random_id("req_")
    body = {
        "type": "error",
        "error": {"type": error_type, "message": exc.message},
        "request_id": request_id,
    }
    return json_response(body, exc.status, {"request-id": request_id, **exc.headers})


def authenticate(request: Request) -> None:
    """Accept `Authorization: Bearer <key>` (SDK 2.x) or `x-api-key`; the key is never kept."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if (scheme.lower() == "bearer" and token.strip()) or request.headers.get("x-api-key"):
        return
    raise EmulatedError(401, "Missing API key: send `x-api-key` or `Authorization: Bearer <key>`.")


def _store(state: EmulatorState) -> dict[str, Batch]:
    return state.batches[PROVIDER]


def _batch(state: EmulatorState, batch_id: str) -> Batch:
    """The batch, refreshed against the clock (caller holds `state.lock`), or a 404."""
    batch = _store(state).get(batch_id)
    if batch is None:
        raise EmulatedError(404, f"Message batch {batch_id!r} not found.")
    batch.refresh(state.now(), state.line_fault)
    return batch


async def create_batch(request: Request, state: EmulatorState) -> Response:
    """POST /v1/messages/batches: validate the envelope now, the params when processed."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise EmulatedError(413, "Request exceeds the maximum size of 256 MB for a batch.")
    if len(await request.body()) > MAX_BODY_BYTES:
        raise EmulatedError(413, "Request exceeds the maximum size of 256 MB for a batch.")
    body = await read_json(request)
    version = request.headers.get("anthropic-version", SAMPLING_REJECTED_FROM)
    with state.lock:
        try:
            batch = new_batch(
                body, state.now(), state.config.processing_seconds, version, state.prompt_cache
            )
        except BatchRequestError as exc:
            raise EmulatedError(400, str(exc)) from exc
        _store(state)[batch.id] = batch
        stats = state.stats(PROVIDER)
        stats.batches_created += 1
        stats.requests_received += len(batch.custom_ids)
        # Seen at its creation instant: every request is still processing, as the API says.
        return json_response(batch.to_json(batch.created_at, prefix_url(request)))


async def retrieve_batch(request: Request, state: EmulatorState) -> Response:
    """GET /v1/messages/batches/{batch_id}."""
    with state.lock:
        batch = _batch(state, request.path_params["batch_id"])
        return json_response(batch.to_json(state.now(), prefix_url(request)))


async def list_batches(request: Request, state: EmulatorState) -> Response:
    """GET /v1/messages/batches: newest first, paged by `after_id`/`before_id` and `limit`."""
    query = request.query_params
    try:
        limit = int(query.get("limit", _LIST_DEFAULT))
    except ValueError as exc:
        raise EmulatedError(400, "limit: Input should be a valid integer") from exc
    if not 1 <= limit <= _LIST_MAX:
        raise EmulatedError(400, f"limit: Input should be between 1 and {_LIST_MAX}")
    after_id, before_id = query.get("after_id"), query.get("before_id")
    if after_id and before_id:
        raise EmulatedError(400, "Only one of after_id and before_id may be given.")
    with state.lock:
        now, base = state.now(), prefix_url(request)
        # Dicts keep insertion order, which is creation order.
        ids = list(reversed(_store(state)))
        if after_id:
            start = ids.index(after_id) + 1 if after_id in ids else len(ids)
            page, has_more = ids[start : start + limit], start + limit < len(ids)
        elif before_id:
            end = ids.index(before_id) if before_id in ids else 0
            page, has_more = ids[max(0, end - limit) : end], end - limit > 0
        else:
            page, has_more = ids[:limit], limit < len(ids)
        data = [_batch(state, batch_id).to_json(now, base) for batch_id in page]
    return json_response(
        {
            "data": data,
            "has_more": has_more,
            "first_id": page[0] if page else None,
            "last_id": page[-1] if page else None,
        }
    )


async def cancel_batch(request: Request, state: EmulatorState) -> Response:
    """POST /v1/messages/batches/{batch_id}/cancel: `canceling` now, `ended` at the next read."""
    with state.lock:
        batch = _batch(state, request.path_params["batch_id"])
        if batch.ended_at is not None:
            # Unverified against the real API, which may answer differently; strict is safer.
            raise EmulatedError(
                400, f"Message batch {batch.id!r} has already ended and cannot be canceled."
            )
        batch.cancel(state.now())
        return json_response(batch.to_json(state.now(), prefix_url(request)))


async def delete_batch(request: Request, state: EmulatorState) -> Response:
    """DELETE /v1/messages/batches/{batch_id}: only once processing has ended."""
    with state.lock:
        batch = _batch(state, request.path_params["batch_id"])
        if batch.ended_at is None:
            raise EmulatedError(
                400,
                f"Message batch {batch.id!r} is still processing; cancel it before deleting.",
            )
        del _store(state)[batch.id]
    return json_response({"id": batch.id, "type": "message_batch_deleted"})


async def batch_results(request: Request, state: EmulatorState) -> Response:
    """GET /v1/messages/batches/{batch_id}/results: JSONL in shuffled order."""
    with state.lock:
        batch = _batch(state, request.path_params["batch_id"])
        if batch.ended_at is None:
            raise EmulatedError(404, f"Results for batch {batch.id!r} are not available yet.")
        if batch.archived_at(state.now()) is not None:
            raise EmulatedError(404, f"Results for batch {batch.id!r} have been archived.")
        lines = batch.results
        truncate = state.take_truncation()
    if truncate:
        return Response(_truncated(lines), media_type="application/binary")
    return StreamingResponse(_jsonl_chunks(lines), media_type="application/binary")


def _jsonl_chunks(lines: list[dict[str, Any]]) -> Iterator[bytes]:
    # Streamed in chunks so a 100,000-line batch never becomes one giant bytes object.
    for start in range(0, len(lines), _RESULT_CHUNK_LINES):
        chunk = lines[start : start + _RESULT_CHUNK_LINES]
        yield b"".join(orjson.dumps(line) + b"\n" for line in chunk)


def _truncated(lines: list[dict[str, Any]]) -> bytes:
    """The first half of the lines, then half of the next one: a download cut mid-line."""
    keep = len(lines) // 2
    head = b"".join(orjson.dumps(line) + b"\n" for line in lines[:keep])
    cut = orjson.dumps(lines[keep])
    return head + cut[: len(cut) // 2]


async def create_message(request: Request, state: EmulatorState) -> Response:
    """POST /v1/messages (non-streaming): a `Message`, or a 400 `invalid_request_error`.

    The same validation and answer as a batch request; with no custom_id, the answer's seed
    comes from the conversation (`answers.conversation_seed`). Message ids are fresh per call,
    as on the real API.
    """
    state.count_realtime(PROVIDER)
    length = request.headers.get("content-length", "")
    too_large = length.isdigit() and int(length) > MAX_MESSAGE_BYTES
    if too_large or len(await request.body()) > MAX_MESSAGE_BYTES:
        raise EmulatedError(413, "Request exceeds the maximum size of 32 MB.")
    params = await read_json(request)
    if not isinstance(params, dict):
        raise EmulatedError(400, "The request body must be a JSON object.")
    if params.get("stream"):
        raise EmulatedError(400, "stream: the emulator answers only non-streaming requests.")
    version = request.headers.get("anthropic-version", SAMPLING_REJECTED_FROM)
    problem = validate_params(params, version)
    if problem is not None:
        raise EmulatedError(400, problem)
    message = answer_message(
        params, None, random_id("msg_"), "standard", state.prompt_cache, state.now()
    )
    return json_response(message, headers={"request-id": random_id("req_")})


async def count_tokens(request: Request, state: EmulatorState) -> Response:
    """POST /v1/messages/count_tokens: `{"input_tokens"}`, as the request would be billed."""
    params = await read_json(request)
    if not isinstance(params, dict):
        raise EmulatedError(400, "The request body must be a JSON object.")
    for name in ("model", "messages"):
        if name not in params:
            raise EmulatedError(400, f"{name}: Field required")
    return json_response({"input_tokens": anthropic_tokens(params)})


def anthropic_app(state: EmulatorState) -> Starlette:
    """The Anthropic sub-app, to mount at `/anthropic`."""
    base = "/v1/messages/batches"
    routes = [
        ProviderRoute("POST", "/v1/messages", create_message),
        ProviderRoute("POST", "/v1/messages/count_tokens", count_tokens),
        ProviderRoute("POST", base, create_batch),
        ProviderRoute("GET", base, list_batches),
        ProviderRoute("GET", base + "/{batch_id}", retrieve_batch),
        ProviderRoute("DELETE", base + "/{batch_id}", delete_batch),
        ProviderRoute("POST", base + "/{batch_id}/cancel", cancel_batch),
        ProviderRoute("GET", base + "/{batch_id}/results", batch_results),
        *anthropic_model_routes(),
    ]
    return provider_app(PROVIDER, state, routes, render_error, authenticate)
