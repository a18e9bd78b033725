"""Gemini API Files on the wire: resumable upload, get, list, delete, download.

Part of the `/gemini` sub-app (`gemini_routes`). The upload URL the start answer hands out is
absolute (built from the request's host and mount), because the SDK calls it verbatim, and
without the API key. Shapes follow `google.genai.types.File`.
"""

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from interviews.emulator.gemini_files import (
    FILE_ID,
    GENERATED,
    LOWER_ALNUM,
    MAX_FILE_BYTES,
    UPLOADED,
    GeminiFile,
    UploadSession,
    add_file,
    live_file,
    new_file_id,
)
from interviews.emulator.google_requests import get
from interviews.emulator.google_wire import next_page_token, page
from interviews.emulator.ids import random_token
from interviews.emulator.jsonl import truncated
from interviews.emulator.routing import (
    EmulatedError,
    json_response,
    prefix_url,
    read_json,
    route_path,
)
from interviews.emulator.state import EmulatorState

PROVIDER = "gemini"
VERSIONS = ("v1beta", "v1")
UPLOADS = "gemini-uploads"
"""`state.files` key of the open upload sessions."""
UPLOAD_STATUS = "x-goog-upload-status"
_CHUNK_GRANULARITY = str(8 * 1024 * 1024)
_FILE_LIST_DEFAULT, _FILE_LIST_MAX = 10, 100


def _version(request: Request) -> str:
    """The API version segment the client used (`v1beta` or `v1`)."""
    segments = route_path(request).split("/")
    return next(s for s in segments if s in VERSIONS)


def versioned_url(request: Request) -> str:
    """`<prefix URL>/<version>`, the base of the `uri` fields of files."""
    return f"{prefix_url(request)}/{_version(request)}"


def files_store(state: EmulatorState) -> dict[str, GeminiFile]:
    """The Gemini file store (hold `state.lock` while using it)."""
    return state.files[PROVIDER]


def _sessions(state: EmulatorState) -> dict[str, UploadSession]:
    return state.files.setdefault(UPLOADS, {})


def lookup_file(state: EmulatorState, file_id: str) -> GeminiFile:
    """The live file (caller holds `state.lock`); the service answers 403 for unknown files."""
    stored = live_file(files_store(state), file_id, state.now())
    if stored is None:
        raise EmulatedError(
            403, f"You do not have permission to access the File {file_id} or it may not exist."
        )
    return stored


async def upload(request: Request, state: EmulatorState) -> Response:
    """POST /upload/{ver}/files: a resumable `start`, or a chunk sent to the upload URL."""
    upload_id = request.query_params.get("upload_id")
    if upload_id is None:
        return await _start_upload(request, state)
    return await _upload_chunk(request, state, upload_id)


def _header_int(request: Request, name: str) -> int | None:
    raw = request.headers.get(name)
    if raw is None:
        return None
    if not raw.strip().isdigit():
        raise EmulatedError(400, f"Invalid {name} header {raw!r}.")
    return int(raw)


async def _start_upload(request: Request, state: EmulatorState) -> Response:
    if request.headers.get("x-goog-upload-protocol", "").lower() != "resumable":
        raise EmulatedError(400, "The emulator supports resumable uploads only.")
    if "start" not in request.headers.get("x-goog-upload-command", "").lower():
        raise EmulatedError(400, "A resumable upload begins with `x-goog-upload-command: start`.")
    body = await read_json(request) or {}
    meta = get(body, "file") or {}
    if not isinstance(meta, dict):
        raise EmulatedError(400, "`file` must be a File object.")
    size = _header_int(request, "x-goog-upload-header-content-length")
    if size is not None and size > MAX_FILE_BYTES:
        raise EmulatedError(400, "Files can be at most 2 GB.")
    mime_type = request.headers.get("x-goog-upload-header-content-type") or get(meta, "mimeType")
    requested = get(meta, "name")
    with state.lock:
        file_id = new_file_id()
        if requested:
            file_id = str(requested).removeprefix("files/")
            if not FILE_ID.match(file_id):
                raise EmulatedError(400, f"Invalid file name {requested!r}.")
            if live_file(files_store(state), file_id, state.now()) is not None:
                raise EmulatedError(409, f"A file named files/{file_id} already exists.")
        session = UploadSession(
            id=random_token(32, LOWER_ALNUM),
            file_id=file_id,
            display_name=get(meta, "displayName"),
            mime_type=str(mime_type or "application/octet-stream"),
            declared_size=size,
        )
        _sessions(state)[session.id] = session
    url = (
        f"{prefix_url(request)}/upload/{_version(request)}/files"
        f"?upload_id={session.id}&upload_protocol=resumable"
    )
    headers = {
        "x-goog-upload-url": url,
        "x-goog-upload-control-url": url,
        "x-goog-upload-chunk-granularity": _CHUNK_GRANULARITY,
        UPLOAD_STATUS: "active",
    }
    return Response(b"", 200, headers, media_type="text/plain")


async def _upload_chunk(request: Request, state: EmulatorState, upload_id: str) -> Response:
    commands = {c.strip() for c in request.headers.get("x-goog-upload-command", "").split(",")}
    chunk = await request.body()
    with state.lock:
        session = _sessions(state).get(upload_id)
        if session is None:
            raise EmulatedError(404, "Unknown or finished upload session.")
        if "cancel" in commands:
            del _sessions(state)[upload_id]
            return Response(b"", 200, {UPLOAD_STATUS: "cancelled"})
        if "query" in commands:
            received = {"x-goog-upload-size-received": str(len(session.data))}
            return Response(b"", 200, {UPLOAD_STATUS: "active", **received})
        if "upload" in commands:
            offset = _header_int(request, "x-goog-upload-offset") or 0
            if offset != len(session.data):
                raise EmulatedError(
                    400, f"Upload offset {offset} does not match the {len(session.data)} bytes "
                    "received so far.",
                )  # fmt: skip
            session.data.extend(chunk)
        if "finalize" not in commands:
            return Response(b"", 200, {UPLOAD_STATUS: "active"})
        del _sessions(state)[upload_id]
        if session.declared_size is not None and session.declared_size != len(session.data):
            raise EmulatedError(
                400, f"The upload declared {session.declared_size} bytes but sent "
                f"{len(session.data)}.",
            )  # fmt: skip
        stored = add_file(
            files_store(state),
            session.file_id,
            bytes(session.data),
            state.now(),
            mime_type=session.mime_type,
            source=UPLOADED,
            display_name=session.display_name,
        )
        state.stats(PROVIDER).files_uploaded += 1
        body = {"file": stored.to_json(versioned_url(request))}
    return json_response(body, headers={UPLOAD_STATUS: "final"})


async def get_file(request: Request, state: EmulatorState) -> Response:
    """GET /{ver}/files/{id}."""
    with state.lock:
        stored = lookup_file(state, request.path_params["file_id"])
        return json_response(stored.to_json(versioned_url(request)))


async def list_files(request: Request, state: EmulatorState) -> Response:
    """GET /{ver}/files: newest first, paged."""
    size, offset = page(request, _FILE_LIST_DEFAULT, _FILE_LIST_MAX)
    with state.lock:
        now = state.now()
        files = [f for f in reversed(files_store(state).values()) if not f.expired(now)]
        base = versioned_url(request)
        body: dict[str, Any] = {"files": [f.to_json(base) for f in files[offset : offset + size]]}
    if token := next_page_token(offset, size, len(files)):
        body["nextPageToken"] = token
    return json_response(body)


async def delete_file(request: Request, state: EmulatorState) -> Response:
    """DELETE /{ver}/files/{id}: batches keep their already-read input."""
    with state.lock:
        stored = lookup_file(state, request.path_params["file_id"])
        del files_store(state)[stored.id]
    return json_response({})


async def download_file(request: Request, state: EmulatorState) -> Response:
    """GET /{ver}/files/{id}:download?alt=media: a generated file's bytes (may be truncated)."""
    if request.query_params.get("alt") != "media":
        raise EmulatedError(400, "Downloads need the `alt=media` query parameter.")
    with state.lock:
        stored = lookup_file(state, request.path_params["file_id"])
        if stored.source != GENERATED:
            raise EmulatedError(
                400, "Only generated files can be downloaded; uploaded files cannot."
            )
        content = stored.content
        if state.take_truncation():
            content = truncated(content)
    return Response(content, media_type="application/octet-stream")
