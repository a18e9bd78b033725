"""The count-tokens endpoints: how many input tokens a request would be billed, counted as
the emulator bills them (`approx_tokens` of the same prompt text), so an estimate made with
them matches what the emulator's batches then charge.

- Anthropic `POST /v1/messages/count_tokens` → `{"input_tokens"}`.
- OpenAI `POST /v1/responses/input_tokens` → `{"object": "response.input_tokens", "input_tokens"}`.
- Gemini API and Vertex AI `…/models/{model}:countTokens` → `{"totalTokens"}` (Vertex adds
  `totalBillableCharacters`); the Gemini API counts `contents` or a `generateContentRequest`.
"""

from typing import Any

from interviews.emulator.answers import approx_tokens
from interviews.emulator.anthropic_batches import cache_blocks
from interviews.emulator.google_requests import conversation, get
from interviews.emulator.openai_requests import input_items, prompt_blocks


def anthropic_tokens(params: dict[str, Any]) -> int:
    """The input tokens of a Messages request (system and messages)."""
    return approx_tokens("".join(cache_blocks(params)[0]))


def openai_tokens(body: dict[str, Any]) -> int:
    """The input tokens of a Responses request (`instructions` and `input`)."""
    items = input_items(body)
    instructions = body.get("instructions")
    return approx_tokens(
        "".join(prompt_blocks(items, instructions if isinstance(instructions, str) else None))
    )


def google_tokens(body: dict[str, Any]) -> tuple[int, int]:
    """(tokens, characters) of a countTokens request's contents and system instruction."""
    request = get(body, "generateContentRequest") or body
    _, _, blocks, _ = conversation(request)
    text = "".join(blocks)
    return approx_tokens(text), len(text)
