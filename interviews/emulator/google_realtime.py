"""Real-time `:generateContent` (non-streaming), shared by the Gemini API and Vertex mounts.

The request is checked and answered by the same functions as a batch request
(`google_requests`); with no batch key, the answer's seed comes from the conversation
(`answers.conversation_seed`). Errors use Google's envelope (400 `INVALID_ARGUMENT`).
"""

from typing import Any

from starlette.requests import Request

from interviews.emulator.google_requests import check, generate, structure_problem
from interviews.emulator.ids import random_token
from interviews.emulator.routing import EmulatedError, read_json
from interviews.emulator.state import EmulatorState


async def generate_content(
    request: Request, state: EmulatorState, provider: str, model: str
) -> dict[str, Any]:
    """The `GenerateContentResponse` JSON for one real-time call (counted in `provider`'s
    `realtime_requests`), or an `EmulatedError` 400 for a request the model would refuse."""
    state.count_realtime(provider)
    body = await read_json(request)
    if (problem := structure_problem(body)) is not None:
        raise EmulatedError(400, f"Invalid GenerateContentRequest: {problem}.")
    if (rejection := check(body)) is not None:
        raise EmulatedError(400, rejection.message)
    # A fresh response id per call, as the real API gives.
    return generate(body, None, model, random_token(24), state.prompt_cache, state.now(), provider)
