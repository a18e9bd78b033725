"""Shared HTTP plumbing for provider sub-apps: call counting, faults, errors, JSON."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from interviews.emulator.faults import HttpFault
from interviews.emulator.state import EmulatorState

logger = logging.getLogger(__name__)

Handler = Callable[[Request, EmulatorState], Awaitable[Response]]


class EmulatedError(Exception):
    """An error the emulator answers with; the provider module renders its own envelope.

    `error_type` None lets the provider pick the type that goes with `status`.
    """

    def __init__(
        self,
        status: int,
        message: str,
        error_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.headers = headers or {}


ErrorRenderer = Callable[[EmulatedError], Response]
Authenticator = Callable[[Request], None]


@dataclass(frozen=True)
class ProviderRoute:
    """One provider endpoint: method, path template (relative to the prefix) and handler."""

    method: str
    path: str
    handler: Handler


_HOLD_TICK = 0.05  # seconds between checks whether a held call was let go


def _still_held(state: EmulatorState, fault: HttpFault, deadline: float) -> float:
    """Seconds to wait before looking again; 0 once the delay is over or the fault is gone."""
    with state.lock:
        installed = state.faults.installed(fault)
    return min(_HOLD_TICK, max(0.0, deadline - time.monotonic())) if installed else 0.0


async def hold(state: EmulatorState, fault: HttpFault) -> None:
    """Wait out `fault.delay`, or less if the faults are replaced meanwhile."""
    deadline = time.monotonic() + fault.delay
    while wait := _still_held(state, fault, deadline):
        await asyncio.sleep(wait)


def hold_blocking(state: EmulatorState, fault: HttpFault) -> None:
    """`hold` for a server thread outside the event loop (the GCS emulator)."""
    deadline = time.monotonic() + fault.delay
    while wait := _still_held(state, fault, deadline):
        time.sleep(wait)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response serialised with orjson."""
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


async def read_json(request: Request) -> Any:
    """The request body as JSON, or a 400 `EmulatedError`."""
    body = await request.body()
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError as exc:
        raise EmulatedError(400, f"Request body is not valid JSON: {exc}") from exc


def route_path(request: Request) -> str:
    """The path after the provider prefix (Starlette keeps the full path in mounted apps)."""
    path: str = request.scope["path"]
    root: str = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def presented_key(request: Request) -> str | None:
    """The credential the client sent (API key header, bearer token or `key` query
    parameter), for a fault that echoes it; never stored or logged."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return (
        request.headers.get("x-api-key")
        or request.headers.get("x-goog-api-key")
        or request.query_params.get("key")
    )


def prefix_url(request: Request) -> str:
    """Absolute URL of the provider prefix as the client reached it (host, port and mount)."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


def provider_app(
    provider: str,
    state: EmulatorState,
    routes: Sequence[ProviderRoute],
    render_error: ErrorRenderer,
    authenticate: Authenticator | None = None,
) -> Starlette:
    """A sub-app for one provider, to be mounted under `/<provider>`.

    Every call is counted in stats, then authenticated, then checked against HTTP faults
    (which may hold it: see `faults`), and only then handled; `EmulatedError`s become the
    provider's error envelope.
    """
    state.register_provider(provider)

    def endpoint(route: ProviderRoute) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            state.count_call(provider, f"{route.method} {route.path}")
            try:
                if authenticate is not None:
                    authenticate(request)
                fault = state.take_http_fault(provider, route.method, route_path(request))
                if fault is not None and fault.delay and not fault.delay_after:
                    # Read the body first: looking at the connection must not swallow it.
                    await request.body()
                    await hold(state, fault)
                    if await request.is_disconnected():
                        return Response(status_code=499)  # the client is gone: never handled
                if fault is not None and fault.status is not None:
                    raise EmulatedError(
                        fault.status,
                        fault.error_message(presented_key(request)),
                        fault.error_type,
                        fault.headers(),
                    )
                response = await route.handler(request, state)
                if fault is not None and fault.delay and fault.delay_after:
                    await hold(state, fault)  # done, but the client has not heard
                return response
            except EmulatedError as exc:
                return render_error(exc)
            except Exception:
                # A bug in the emulator must still look like a provider 500 to the SDK under
                # test, but never silently: the traceback goes to the log.
                logger.exception("emulator %s %s failed", route.method, route.path)
                return render_error(EmulatedError(500, "Internal emulator error."))

        return handle

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        message = f"No route for {request.method} {route_path(request)}."
        return render_error(EmulatedError(status, message))

    return Starlette(
        routes=[
            Route(r.path, endpoint(r), methods=[r.method], name=f"{r.method} {r.path}")
            for r in routes
        ],
        exception_handlers={404: not_found, 405: not_found},
    )
