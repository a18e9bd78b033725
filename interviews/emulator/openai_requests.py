"""One OpenAI batch request run by the emulator: validation like the real API, then a body.

Supports the two endpoints the pipeline uses, `/v1/chat/completions` and `/v1/responses`.
A rejected request becomes `(400, {"error": {...}})` for the batch's error file; an accepted
one a `chat.completion` or `response` object with a persona-flavoured answer from `answers`.
Bodies pass the installed SDK's `ChatCompletion` / `responses.Response` models.
"""

import re
from dataclasses import dataclass
from typing import Any

from interviews.emulator.answers import approx_tokens, compose_answer, conversation_seed
from interviews.emulator.ids import HEX, stable_token
from interviews.emulator.prompt_cache import DAY, PromptCache

CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
SUPPORTED_ENDPOINTS = (CHAT, RESPONSES)
# Reasoning models (gpt-5 family, o-series) reject `max_tokens` and non-default sampling.
# `gpt-5-chat-latest` is the non-reasoning exception.
_REASONING_MODEL = re.compile(r"^(?:gpt-5(?!-chat)|o\d)")
_SAMPLING_PARAMS = ("temperature", "top_p")
# The Responses API refuses tiny output budgets (observed message, see `_responses_problem`).
MIN_OUTPUT_TOKENS = 16


# Implicit prompt caching: prompts from 1,024 tokens, cached in whole 128-token blocks.
MIN_CACHE_TOKENS = 1024
CACHE_BLOCK_TOKENS = 128


@dataclass(frozen=True)
class Rejection:
    """Why the real API would answer a request with HTTP 400."""

    message: str
    param: str | None
    code: str

    def body(self) -> dict[str, Any]:
        """The error body, as the synchronous endpoint would send it."""
        return {
            "error": {
                "message": self.message,
                "type": "invalid_request_error",
                "param": self.param,
                "code": self.code,
            }
        }


@dataclass(frozen=True)
class Outcome:
    """What running a request produced: status, body and the tokens it used."""

    status_code: int
    body: dict[str, Any]
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0


def is_reasoning_model(model: str) -> bool:
    """Whether `model` is a reasoning model (stricter parameter rules)."""
    return _REASONING_MODEL.match(model) is not None


def check(endpoint: str, body: dict[str, Any]) -> Rejection | None:
    """Why the endpoint would reject `body` (a dict that has a `model`), or None."""
    problem = _chat_problem(body) if endpoint == CHAT else _responses_problem(body)
    if problem is None and is_reasoning_model(str(body["model"])):
        problem = _sampling_problem(body)
    return problem


def execute(
    endpoint: str,
    body: dict[str, Any],
    custom_id: str | None,
    seed: str,
    created: float,
    cache: PromptCache | None = None,
) -> Outcome:
    """Run one request finished at `created`: a batch line's or a real-time call's body.
    Its cached tokens are the prompt prefix `cache` holds then (implicit caching).

    The answer depends only on the request and `custom_id` (the same request in another batch
    gets the same answer); a real-time call has no custom_id (None), so the conversation's
    `conversation_seed` stands in. `seed` (batch id + custom_id, or a per-call token) keeps
    the response ids stable but distinct.
    """
    rejection = check(endpoint, body)
    if rejection is not None:
        return Outcome(400, rejection.body())
    if endpoint == CHAT:
        return _chat_completion(body, custom_id, seed, created, cache)
    return _response(body, custom_id, seed, created, cache)


def _integer_problem(body: dict[str, Any], name: str, minimum: int) -> Rejection | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        kind = type(value).__name__
        return Rejection(
            f"Invalid type for '{name}': expected an integer, but got {kind} instead.",
            name,
            "invalid_type",
        )
    if value < minimum:
        return Rejection(
            f"Invalid '{name}': integer below minimum value. Expected a value >= {minimum}, "
            f"but got {value} instead.",
            name,
            "integer_below_min_value",
        )
    return None


def _chat_problem(body: dict[str, Any]) -> Rejection | None:
    messages = body.get("messages")
    if messages is None:
        return Rejection(
            "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"
        )
    if not isinstance(messages, list):
        return Rejection(
            "Invalid type for 'messages': expected an array, but got another type instead.",
            "messages",
            "invalid_type",
        )
    if not messages:
        return Rejection(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            "messages",
            "empty_array",
        )
    if "max_tokens" in body and is_reasoning_model(str(body["model"])):
        return Rejection(
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
    for name in ("max_completion_tokens", "max_tokens"):
        if problem := _integer_problem(body, name, 1):
            return problem
    return None


def _responses_problem(body: dict[str, Any]) -> Rejection | None:
    if body.get("input") is None:
        return Rejection(
            "Missing required parameter: 'input'.", "input", "missing_required_parameter"
        )
    if "max_tokens" in body:
        return Rejection(
            "Unsupported parameter: 'max_tokens'. In the Responses API, this parameter has "
            "moved to 'max_output_tokens'.",
            "max_tokens",
            "unsupported_parameter",
        )
    return _integer_problem(body, "max_output_tokens", MIN_OUTPUT_TOKENS)


def _sampling_problem(body: dict[str, Any]) -> Rejection | None:
    for name in _SAMPLING_PARAMS:
        value = body.get(name)
        # Only the default (1) is accepted; sending it explicitly is fine.
        if value is not None and value != 1:
            return Rejection(
                f"Unsupported value: '{name}' does not support {value} with this model. "
                "Only the default (1) value is supported.",
                name,
                "unsupported_value",
            )
    return None


def _text(content: Any) -> str:
    """Plain text of a string or of content parts (`text`, `input_text`, `output_text`: an
    assistant turn replayed into Responses input; others skipped)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") in ("text", "input_text", "output_text")
        )
    return ""


@dataclass(frozen=True)
class _Conversation:
    """What a chat or Responses request asks, as the answer needs it."""

    system: str
    question: str
    """The last user message: what the answer answers."""
    every: str
    """All prompt text, for the token count."""
    turns: list[tuple[str, str]]
    """(role, text) of the user and assistant messages, in order."""
    blocks: list[str]
    """The prompt text of each message (instructions first), whose prefixes are cached."""

    def cached_tokens(self, model: str, cache: PromptCache | None, now: float) -> int:
        """The prompt's tokens read from `cache` at `now` (implicit caching: the prompt is
        written with one breakpoint at its end; see interviews/emulator/prompt_cache.py)."""
        if cache is None or not self.blocks:
            return 0
        use = cache.use(
            f"openai|{model}",
            self.blocks,
            [(len(self.blocks) - 1, DAY)],
            now=now,
            min_tokens=MIN_CACHE_TOKENS,
            granularity=CACHE_BLOCK_TOKENS,
        )
        return use.read


def _conversation(items: list[Any], instructions: str | None = None) -> _Conversation:
    """The conversation in chat messages or Responses input items (`instructions`, when
    given, is the system prompt and comes first)."""
    messages = [m for m in items if isinstance(m, dict)]
    systems = [
        _text(m.get("content")) for m in messages if m.get("role") in ("system", "developer")
    ]
    turns = [
        (str(m["role"]), _text(m.get("content")))
        for m in messages
        if m.get("role") in ("user", "assistant")
    ]
    users = [text for role, text in turns if role == "user"]
    system = instructions or (systems[0] if systems else "")
    blocks = prompt_blocks(messages, instructions)
    return _Conversation(system, users[-1] if users else "", "".join(blocks), turns, blocks)


def input_items(body: dict[str, Any]) -> list[Any]:
    """A Responses request's `input` as a list of items (a plain string is one user message)."""
    given = body.get("input")
    return given if isinstance(given, list) else [{"role": "user", "content": str(given or "")}]


def prompt_blocks(items: list[Any], instructions: str | None = None) -> list[str]:
    """The prompt text of each chat message or Responses input item (`instructions` first):
    what is billed as input, and whose prefixes are cached."""
    blocks = [_text(m.get("content")) for m in items if isinstance(m, dict)]
    return [instructions, *blocks] if instructions else blocks


def _answer(chat: _Conversation, custom_id: str | None, limit: int | None) -> tuple[str, int, bool]:
    """The answer text, its token count and whether `limit` cut it short."""
    identity = custom_id or conversation_seed(chat.system, chat.turns)
    answer = compose_answer(chat.system, chat.question, identity)
    tokens = approx_tokens(answer)
    if limit is not None and limit < tokens:
        return answer[: limit * 4], limit, True
    return answer, tokens, False


def _chat_completion(
    body: dict[str, Any],
    custom_id: str | None,
    seed: str,
    created: float,
    cache: PromptCache | None,
) -> Outcome:
    chat = _conversation(body["messages"])
    model = str(body["model"])
    # `max_tokens` still works as the limit on models that accept it.
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    answer, completion_tokens, truncated = _answer(chat, custom_id, limit)
    prompt_tokens = approx_tokens(chat.every)
    cached = chat.cached_tokens(model, cache, created)
    completion = {
        "id": "chatcmpl-" + stable_token(29, seed, "chatcmpl"),
        "object": "chat.completion",
        "created": int(created),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": answer,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "length" if truncated else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {
                "cached_tokens": cached,
                "cache_write_tokens": 0,
                "audio_tokens": 0,
            },
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": None,
    }
    return Outcome(200, completion, prompt_tokens, completion_tokens)


def _response(
    body: dict[str, Any],
    custom_id: str | None,
    seed: str,
    created: float,
    cache: PromptCache | None,
) -> Outcome:
    items = input_items(body)
    instructions = body.get("instructions")
    chat = _conversation(items, instructions if isinstance(instructions, str) else None)
    model = str(body["model"])
    answer, output_tokens, truncated = _answer(chat, custom_id, body.get("max_output_tokens"))
    input_tokens = approx_tokens(chat.every)
    cached = chat.cached_tokens(model, cache, created)
    status = "incomplete" if truncated else "completed"
    effort = None
    if is_reasoning_model(model):
        reasoning = body.get("reasoning")
        effort = reasoning.get("effort") if isinstance(reasoning, dict) else None
        effort = effort or "medium"
    response = {
        "id": "resp_" + stable_token(50, seed, "resp", alphabet=HEX),
        "object": "response",
        "created_at": int(created),
        "completed_at": int(created) if not truncated else None,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if truncated else None,
        "instructions": instructions,
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "model": model,
        "output": [
            {
                "id": "msg_" + stable_token(50, seed, "msg", alphabet=HEX),
                "type": "message",
                "status": status,
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": answer, "annotations": [], "logprobs": []}
                ],
            }
        ],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": effort, "summary": None},
        "service_tier": "default",
        "store": True,
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_logprobs": 0,
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
        "user": None,
        "metadata": body.get("metadata") or {},
    }
    return Outcome(200, response, input_tokens, output_tokens)
