"""The emulator's ASGI app: one mount per provider plus `/_emulator` control routes."""

from starlette.applications import Starlette
from starlette.routing import Mount

from interviews.emulator.anthropic_routes import anthropic_app
from interviews.emulator.control_routes import control_routes
from interviews.emulator.gemini_routes import gemini_app
from interviews.emulator.openai_routes import openai_app
from interviews.emulator.state import EmulatorState
from interviews.emulator.vertex_routes import vertex_app


def create_app(state: EmulatorState | None = None) -> Starlette:
    """Build the app around `state` (a fresh one if None), reachable as `app.state.emulator`.

    Providers live under their own prefixes so their paths cannot clash (PROVIDERS.md
    Part 2 §7): SDK clients use `base_url=<url>/anthropic`, `<url>/openai/v1`, `<url>/gemini`,
    and `<url>/vertex` (genai `base_url`, aiplatform `api_endpoint`). Vertex jobs need GCS
    attached to `state` (`EmulatorServer` does that).
    """
    state = state or EmulatorState()
    app = Starlette(
        routes=[
            Mount("/_emulator", routes=control_routes(state)),
            Mount("/anthropic", app=anthropic_app(state)),
            Mount("/openai", app=openai_app(state)),
            Mount("/vertex", app=vertex_app(state)),
            Mount("/gemini", app=gemini_app(state)),
        ]
    )
    app.state.emulator = state
    return app
