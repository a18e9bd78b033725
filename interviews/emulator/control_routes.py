"""Test-only control routes under `/_emulator/` (health, reset, clock, config, faults, stats)."""

from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from interviews.emulator.clock import isoformat
from interviews.emulator.faults import Faults, FaultSpecError
from interviews.emulator.routing import EmulatedError, json_response, read_json
from interviews.emulator.state import EmulatorState


def _bad_request(message: str) -> Response:
    return json_response({"error": message}, 400)


async def _object_body(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise EmulatedError(400, "body must be a JSON object")
    return body


def control_routes(state: EmulatorState) -> list[Route]:
    """The routes, bound to `state`; mount them at `/_emulator`."""

    def clock_json() -> dict[str, Any]:
        return {"now": isoformat(state.now()), "offset_seconds": state.clock.offset}

    async def health(request: Request) -> Response:
        providers = sorted(state.stats_snapshot())
        return json_response({"status": "ok", "providers": providers, **clock_json()})

    async def reset(request: Request) -> Response:
        state.reset()
        return json_response({"status": "reset", **clock_json()})

    async def advance(request: Request) -> Response:
        try:
            seconds = (await _object_body(request)).get("seconds")
            if not isinstance(seconds, int | float) or isinstance(seconds, bool):
                return _bad_request("advance needs {'seconds': <number >= 0>}")
            state.advance(float(seconds))
        except (EmulatedError, ValueError) as exc:
            return _bad_request(str(exc))
        return json_response(clock_json())

    async def config(request: Request) -> Response:
        try:
            new = state.configure(**await _object_body(request))
        except (EmulatedError, ValueError) as exc:
            return _bad_request(str(exc))
        return json_response(asdict(new))

    async def faults(request: Request) -> Response:
        try:
            state.set_faults(Faults.from_json(await _object_body(request)))
        except (EmulatedError, FaultSpecError) as exc:
            return _bad_request(str(exc))
        return json_response({"status": "ok"})

    async def stats(request: Request) -> Response:
        return json_response(state.stats_snapshot())

    return [
        Route("/health", health, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/advance", advance, methods=["POST"]),
        Route("/config", config, methods=["POST"]),
        Route("/faults", faults, methods=["POST"]),
        Route("/stats", stats, methods=["GET"]),
    ]
