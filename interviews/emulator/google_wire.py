"""Wire conventions shared by the Vertex and Gemini API emulators: errors, auth, paging.

Google APIs answer errors as `{"error": {"code": <HTTP status>, "message", "status":
"<gRPC status name>"}}`; both genai (`errors.APIError`) and GAPIC REST
(`core_exceptions.from_http_response`) read that envelope.
"""

from starlette.requests import Request
from starlette.responses import Response

from interviews.emulator.routing import EmulatedError, json_response

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ALREADY_EXISTS",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
FAILED_PRECONDITION = "FAILED_PRECONDITION"
_PAGE_TOKEN_PREFIX = "o"


def status_name(status: int) -> str:
    """The gRPC status name Google pairs with an HTTP status."""
    return _STATUS_NAMES.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")


def render_error(exc: EmulatedError) -> Response:
    """Google's error envelope; `error_type`, when set, is the gRPC status name."""
    body = {
        "error": {
            "code": exc.status,
            "message": exc.message,
            "status": exc.error_type or status_name(exc.status),
        }
    }
    return json_response(body, exc.status, exc.headers)


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any (never logged)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def page(request: Request, default: int, maximum: int) -> tuple[int, int]:
    """(page size, offset) from `pageSize` and `pageToken`; 400 when malformed."""
    query = request.query_params
    raw_size = query.get("pageSize") or query.get("page_size") or ""
    try:
        size = int(raw_size) if raw_size else default
    except ValueError as exc:
        raise EmulatedError(400, f"Invalid pageSize {raw_size!r}.") from exc
    if size < 0:
        raise EmulatedError(400, "pageSize must not be negative.")
    size = min(size or default, maximum)
    token = query.get("pageToken") or query.get("page_token") or ""
    if not token:
        return size, 0
    digits = token[len(_PAGE_TOKEN_PREFIX) :]
    if not token.startswith(_PAGE_TOKEN_PREFIX) or not digits.isdigit():
        raise EmulatedError(400, f"Invalid pageToken {token!r}.")
    return size, int(digits)


def next_page_token(offset: int, size: int, total: int) -> str | None:
    """The token of the page after `[offset, offset + size)`, or None when it was the last."""
    return f"{_PAGE_TOKEN_PREFIX}{offset + size}" if offset + size < total else None
