"""One Gemini `GenerateContentRequest` run by the emulator (Vertex and Gemini API batches).

Requests arrive as proto-JSON, so every field is read under its camelCase and its snake_case
name. A request the model endpoint would reject yields a `Rejection` (it becomes a failure line
or an error entry); an accepted one a camelCase `GenerateContentResponse` with a
persona-flavoured answer from `answers`. Responses pass `google.genai.types` validation, which
forbids unknown fields.
"""

import re
from dataclasses import dataclass
from typing import Any

from interviews.emulator.answers import approx_tokens, compose_answer, conversation_seed
from interviews.emulator.ids import stable_token
from interviews.emulator.prompt_cache import MINUTES_5, PromptCache, gemini_min_tokens

# maxOutputTokens must be in [1, 65536] on current Gemini models (2.5 and later).
MAX_OUTPUT_TOKENS = 65_536
# Models that think by default and report `thoughtsTokenCount`.
_THINKING_MODEL = re.compile(r"^gemini-(?:2\.5|[3-9])")
_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-"


@dataclass(frozen=True)
class Rejection:
    """Why the model endpoint would refuse a request (HTTP 400 / INVALID_ARGUMENT)."""

    message: str
    code: int = 3
    """gRPC status code (3: INVALID_ARGUMENT)."""


def get(obj: Any, camel: str) -> Any:
    """`obj[camel]`, else its snake_case twin (proto-JSON accepts both), else None."""
    if not isinstance(obj, dict):
        return None
    if camel in obj:
        return obj[camel]
    return obj.get(re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower())


def _text(content: Any) -> str:
    """The text parts of one `Content` (or of a bare string), joined by newlines."""
    if isinstance(content, str):
        return content
    parts = get(content, "parts")
    if not isinstance(parts, list):
        return ""
    return "\n".join(str(p["text"]) for p in parts if isinstance(p, dict) and "text" in p)


def structure_problem(request: Any) -> str | None:
    """Why `request` is not a GenerateContentRequest at all (this fails a whole Vertex job)."""
    if not isinstance(request, dict):
        return "the request is not a JSON object"
    contents = get(request, "contents")
    if not isinstance(contents, list) or not contents:
        return "the request has no `contents` (a non-empty list of Content objects)"
    if not all(isinstance(item, dict) for item in contents):
        return "every item of `contents` must be a Content object"
    return None


def check(request: dict[str, Any]) -> Rejection | None:
    """Why the endpoint would reject a structurally valid request, or None."""
    config = get(request, "generationConfig") or {}
    limit = get(config, "maxOutputTokens")
    if limit is not None and (
        not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_OUTPUT_TOKENS
    ):
        return Rejection(
            f"Unable to submit request because it has a maxOutputTokens value of {limit} but "
            f"the supported range is from 1 (inclusive) to {MAX_OUTPUT_TOKENS + 1} (exclusive). "
            "Update the value and try again."
        )
    temperature = get(config, "temperature")
    if temperature is not None and (
        not isinstance(temperature, int | float) or not 0 <= temperature <= 2
    ):
        return Rejection(
            f"Unable to submit request because it has a temperature value of {temperature} but "
            "the supported range is from 0 (inclusive) to 2.0001 (exclusive). Update the value "
            "and try again."
        )
    return None


def conversation(request: dict[str, Any]) -> tuple[str, str, list[str], list[tuple[str, str]]]:
    """(system text, last user text, prompt text blocks, (role, text) turns) of a request;
    the blocks are the system text and each content's, in order (the cached prefixes end
    between them).

    A content without a role is the user's, as the API reads it.
    """
    system = _text(get(request, "systemInstruction") or {})
    contents = [c for c in get(request, "contents") or [] if isinstance(c, dict)]
    turns = [(str(c.get("role") or "user"), _text(c)) for c in contents]
    users = [text for role, text in turns if role == "user"]
    blocks = [system, *(text for _, text in turns)]
    return system, (users[-1] if users else ""), blocks, turns


def model_id(model: str) -> str:
    """`publishers/google/models/gemini-2.5-flash` or `models/…` → `gemini-2.5-flash`."""
    return model.rsplit("/", 1)[-1]


def _thoughts(request: dict[str, Any], model: str, seed: str) -> int:
    """Thinking tokens: 0 for non-thinking models or `thinkingBudget: 0`, else a stable count."""
    budget = get(get(get(request, "generationConfig"), "thinkingConfig"), "thinkingBudget")
    if budget == 0 or not _THINKING_MODEL.match(model):
        return 0
    return 48 + int(stable_token(2, seed, "thoughts", alphabet="0123456789"))


def generate(
    request: dict[str, Any],
    custom_id: str | None,
    model: str,
    seed: str,
    cache: PromptCache | None = None,
    now: float = 0.0,
    service: str = "gemini",
) -> dict[str, Any]:
    """A `GenerateContentResponse` (camelCase JSON) answering `request` as its persona.

    Serves batches and real-time `:generateContent` alike. The answer depends only on the
    request and `custom_id`, or for a real-time call (None) the conversation's
    `conversation_seed`; `seed` (batch id + key, or a per-call token) keeps the response id
    stable but distinct. Its cached tokens are the prefix `cache` holds at `now` for
    `service` (implicit caching).
    """
    system, question, blocks, turns = conversation(request)
    answer = compose_answer(system, question, custom_id or conversation_seed(system, turns))
    tokens = approx_tokens(answer)
    limit = get(get(request, "generationConfig"), "maxOutputTokens")
    finish = "STOP"
    if isinstance(limit, int) and limit < tokens:
        answer, tokens, finish = answer[: limit * 4], limit, "MAX_TOKENS"
    version = model_id(model)
    prompt = approx_tokens("".join(blocks))
    thoughts = _thoughts(request, version, seed)
    usage: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": tokens,
        "totalTokenCount": prompt + tokens + thoughts,
    }
    if cache is not None:
        use = cache.use(
            f"{service}|{version}",
            blocks,
            [(len(blocks) - 1, MINUTES_5)],
            now=now,
            min_tokens=gemini_min_tokens(version),
        )
        if use.read:  # the API leaves out a zero count
            usage["cachedContentTokenCount"] = use.read
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": answer}]},
                "finishReason": finish,
            }
        ],
        "usageMetadata": usage,
        "modelVersion": version,
        "responseId": stable_token(22, seed, "response", alphabet=_ID_ALPHABET),
    }
