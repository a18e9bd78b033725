"""Anthropic Message Batches: validation, the batch state machine and result lines.

Pure domain logic on emulated time; `anthropic_routes` puts it on the wire. Facts follow
PROVIDERS.md §1 and the installed SDK's types (`anthropic.types.messages`).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from interviews.emulator.answers import approx_tokens, compose_answer, conversation_seed
from interviews.emulator.clock import isoformat
from interviews.emulator.faults import LineFault
from interviews.emulator.ids import random_id, stable_id, stable_shuffle
from interviews.emulator.prompt_cache import (
    ANTHROPIC_LOOKBACK,
    HOUR,
    MINUTES_5,
    CacheUse,
    PromptCache,
)

MAX_REQUESTS = 100_000
MAX_BODY_BYTES = 256 * 1024 * 1024
# The Messages API's own request size limit (a batch may be larger).
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
EXPIRY_SECONDS = 24 * 3600
RETENTION_SECONDS = 29 * 24 * 3600
CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# From this API version on, sampling params are rejected even at default values (§0.2).
SAMPLING_REJECTED_FROM = "2026-10-21"
SAMPLING_PARAMS = ("temperature", "top_p", "top_k")
MAX_CACHE_BREAKPOINTS = 4
# The shortest prefix Anthropic caches (1,024 tokens on Sonnet and Opus models; the emulator
# uses it for every model).
MIN_CACHE_TOKENS = 1024

LineFaultLookup = Callable[[str], LineFault | None]


def _zero_counts() -> dict[str, int]:
    return {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}


class BatchRequestError(ValueError):
    """The create body breaks a rule the real API checks synchronously (→ HTTP 400)."""


@dataclass
class Batch:
    """One message batch. Its state is derived from the clock whenever it is read.

    Request `i` finishes at `done_times[ranks[i]]`; ranks are a deterministic shuffle, so
    completion order differs from input order like the real service.
    """

    id: str
    created_at: float
    custom_ids: list[str]
    params: list[Any]
    api_version: str
    ranks: list[int]
    done_times: list[float]
    cancel_initiated_at: float | None = None
    cache: PromptCache | None = None
    """The emulator's prompt cache, read and written as each request is done (None: off)."""
    ended_at: float | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    """Result lines in download order; filled once, when the batch ends."""
    final_counts: dict[str, int] = field(default_factory=_zero_counts)
    """`request_counts` once ended (kept, as every poll of a finished batch reads them)."""

    @property
    def expires_at(self) -> float:
        """Creation + 24 h: whatever is unfinished then becomes `expired`."""
        return self.created_at + EXPIRY_SECONDS

    def archived_at(self, now: float) -> float | None:
        """Results stay downloadable for 29 days after creation."""
        archived = self.created_at + RETENTION_SECONDS
        return archived if now >= archived else None

    def processing_status(self) -> str:
        """`in_progress`, `canceling` or `ended` (call `refresh` first)."""
        if self.ended_at is not None:
            return "ended"
        return "canceling" if self.cancel_initiated_at is not None else "in_progress"

    def refresh(self, now: float, line_fault: LineFaultLookup) -> None:
        """End the batch if the clock says so; `line_fault(custom_id)` gives forced outcomes.

        A cancel shows as `canceling` in its own response and ends at the next read.
        """
        if self.ended_at is not None:
            return
        if self.cancel_initiated_at is not None:
            self._finish(now, self.cancel_initiated_at, "canceled", line_fault)
            return
        # The batch ends when its last request is done, or at the 24 h deadline, when whatever
        # is still unfinished expires.
        end = min(self.done_times[-1], self.expires_at)
        if now >= end:
            self._finish(end, end, "expired", line_fault)

    def cancel(self, now: float) -> None:
        """Start canceling; requests finished by now keep their results."""
        if self.cancel_initiated_at is None:
            self.cancel_initiated_at = now

    def _finish(
        self, ended_at: float, cutoff: float, unfinished: str, line_fault: LineFaultLookup
    ) -> None:
        results = []
        for custom_id, params, rank in zip(self.custom_ids, self.params, self.ranks, strict=True):
            fault = line_fault(custom_id)
            if fault is not None and fault.type == "answer":  # answered, in the fault's words
                result = _process(
                    params, self.api_version, self.id, custom_id, self.cache, self.done_times[rank]
                )
                if result["type"] == "succeeded":
                    result["message"]["content"][0]["text"] = fault.message
                    result["message"]["usage"]["output_tokens"] = approx_tokens(fault.message)
            elif fault is not None:
                result = _forced_result(fault, self.id, custom_id)
            elif self.done_times[rank] <= cutoff:
                result = _process(
                    params, self.api_version, self.id, custom_id, self.cache, self.done_times[rank]
                )
            else:
                result = {"type": unfinished}
            results.append({"custom_id": custom_id, "result": result})
        self.results = stable_shuffle(results, self.id, "results")
        for line in results:
            self.final_counts[line["result"]["type"]] += 1
        self.ended_at = ended_at
        # The inputs are no longer needed once every outcome is fixed.
        self.params = []

    def request_counts(self, now: float) -> dict[str, int]:
        """Counts as the real API reports them: every request is `processing` until the whole
        batch ends, and the tallies always sum to the batch's size."""
        if self.ended_at is not None:
            return dict(self.final_counts)
        return {**_zero_counts(), "processing": len(self.custom_ids)}

    def to_json(self, now: float, prefix_url: str) -> dict[str, Any]:
        """The `MessageBatch` object; `results_url` is absolute, built from `prefix_url`."""
        ended = self.ended_at is not None
        return {
            "id": self.id,
            "type": "message_batch",
            "processing_status": self.processing_status(),
            "request_counts": self.request_counts(now),
            "created_at": isoformat(self.created_at),
            "expires_at": isoformat(self.expires_at),
            "ended_at": isoformat(self.ended_at),
            "cancel_initiated_at": isoformat(self.cancel_initiated_at),
            "archived_at": isoformat(self.archived_at(now)),
            "results_url": f"{prefix_url}/v1/messages/batches/{self.id}/results" if ended else None,
        }


def new_batch(
    body: Any,
    now: float,
    processing_seconds: float,
    api_version: str,
    cache: PromptCache | None = None,
) -> Batch:
    """Validate a create body like the real API does synchronously and build the batch
    (whose requests use `cache`, the emulator's prompt cache, when they are done)."""
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list):
        raise BatchRequestError("requests: Field required")
    if not 1 <= len(requests) <= MAX_REQUESTS:
        raise BatchRequestError(
            f"requests: List should have between 1 and {MAX_REQUESTS} items, not {len(requests)}"
        )
    custom_ids: list[str] = []
    params: list[Any] = []
    seen: set[str] = set()
    for index, item in enumerate(requests):
        custom_id = item.get("custom_id") if isinstance(item, dict) else None
        if not isinstance(custom_id, str) or not CUSTOM_ID.match(custom_id):
            raise BatchRequestError(
                f"requests.{index}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
            )
        if custom_id in seen:
            raise BatchRequestError(
                f"requests.{index}.custom_id: Duplicate custom_id '{custom_id}'; "
                "each request in a batch needs a unique custom_id"
            )
        if not isinstance(item.get("params"), dict):
            raise BatchRequestError(f"requests.{index}.params: Input should be a valid dictionary")
        seen.add(custom_id)
        custom_ids.append(custom_id)
        params.append(item["params"])
    batch_id = random_id("msgbatch_")
    count = len(custom_ids)
    return Batch(
        id=batch_id,
        created_at=now,
        custom_ids=custom_ids,
        params=params,
        api_version=api_version,
        ranks=stable_shuffle(range(count), batch_id, "ranks"),
        done_times=[now + processing_seconds * (k + 1) / count for k in range(count)],
        cache=cache,
    )


def validate_params(params: dict[str, Any], api_version: str) -> str | None:
    """Why the API would reject these params (checked only when processed), or None."""
    for name in ("model", "max_tokens", "messages"):
        if name not in params:
            return f"{name}: Field required"
    if not isinstance(params["model"], str) or not params["model"]:
        return "model: Input should be a valid string"
    max_tokens = params["max_tokens"]
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        return "max_tokens: Input should be an integer greater than or equal to 1"
    messages = params["messages"]
    if not isinstance(messages, list) or not messages:
        return "messages: List should have at least 1 item"
    if any(not isinstance(m, dict) or m.get("role") not in ("user", "assistant") for m in messages):
        return "messages: each message needs a role of 'user' or 'assistant'"
    if api_version >= SAMPLING_REJECTED_FROM:
        for name in SAMPLING_PARAMS:
            if name in params:
                return f"{name}: Extra inputs are not permitted"
    if len(cache_blocks(params)[1]) > MAX_CACHE_BREAKPOINTS:
        return (
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {len(cache_blocks(params)[1])}."
        )
    return None


def _ttl(control: dict[str, Any]) -> float:
    return HOUR if control.get("ttl") == "1h" else MINUTES_5


def cache_blocks(params: dict[str, Any]) -> tuple[list[str], list[tuple[int, float]]]:
    """The prompt's text blocks in order (system, then each message's) and its cache
    breakpoints: (block index, lifetime) of each `cache_control`, the top-level one (automatic
    caching) marking the last block."""
    blocks: list[str] = []
    marks: list[tuple[int, float]] = []

    def add(content: Any) -> None:
        if isinstance(content, str):
            blocks.append(content)
            return
        for block in content if isinstance(content, list) else ():
            if isinstance(block, dict) and block.get("type") == "text":
                blocks.append(str(block.get("text", "")))
                if isinstance(block.get("cache_control"), dict):
                    marks.append((len(blocks) - 1, _ttl(block["cache_control"])))

    add(params.get("system"))
    for message in params.get("messages") or ():
        if isinstance(message, dict):
            add(message.get("content"))
    if isinstance(params.get("cache_control"), dict) and blocks:
        marks.append((len(blocks) - 1, _ttl(params["cache_control"])))
    return blocks, marks


def _text(content: Any) -> str:
    """Plain text of a string or a list of content blocks (non-text blocks are skipped)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            block.get("text", "")
            for block in content
            if isinstance(block, dict) and block.get("type") == "text"
        )
    return ""


def _process(
    params: dict[str, Any],
    api_version: str,
    batch_id: str,
    custom_id: str,
    cache: PromptCache | None,
    done_at: float,
) -> dict[str, Any]:
    """The outcome of running one request, done at `done_at`: a `succeeded` message or an
    `errored` line."""
    problem = validate_params(params, api_version)
    if problem is not None:
        return _errored("invalid_request_error", problem, batch_id, custom_id)
    message_id = stable_id("msg_", batch_id, custom_id)
    message = answer_message(params, custom_id, message_id, "batch", cache, done_at)
    return {"type": "succeeded", "message": message}


def answer_message(
    params: dict[str, Any],
    custom_id: str | None,
    message_id: str,
    service_tier: str,
    cache: PromptCache | None = None,
    now: float = 0.0,
) -> dict[str, Any]:
    """The `Message` answering validated `params` (see `validate_params`) as its persona.

    Serves batches and `POST /v1/messages` alike: the answer comes from the system prompt, the
    last user message and `custom_id`, or for a real-time call (None) the conversation's
    `conversation_seed`. Its usage bills the prompt cache's reads and writes at `now`.
    """
    system = _text(params.get("system"))
    turns = [(str(m.get("role")), _text(m.get("content"))) for m in params["messages"]]
    users = [text for role, text in turns if role == "user"]
    question = users[-1] if users else ""
    answer = compose_answer(system, question, custom_id or conversation_seed(system, turns))
    output_tokens = approx_tokens(answer)
    stop_reason = "end_turn"
    if params["max_tokens"] < output_tokens:
        answer = answer[: params["max_tokens"] * 4]
        output_tokens = params["max_tokens"]
        stop_reason = "max_tokens"
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": params["model"],
        "content": [{"type": "text", "text": answer}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": _usage(params, output_tokens, service_tier, cache, now),
    }


def _usage(
    params: dict[str, Any],
    output_tokens: int,
    service_tier: str,
    cache: PromptCache | None,
    now: float,
) -> dict[str, Any]:
    """The message's usage: input tokens apart from the cache's reads and writes."""
    blocks, marks = cache_blocks(params)
    total = approx_tokens("".join(blocks))
    use = CacheUse()
    if cache is not None:
        use = cache.use(
            f"anthropic|{params['model']}",
            blocks,
            marks,
            now=now,
            min_tokens=MIN_CACHE_TOKENS,
            lookback=ANTHROPIC_LOOKBACK,
        )
    hour = use.written if use.written_ttl >= HOUR else 0
    return {
        "input_tokens": total - use.read - use.written,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": use.written,
        "cache_read_input_tokens": use.read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": use.written - hour,
            "ephemeral_1h_input_tokens": hour,
        },
        "service_tier": service_tier,
    }


def _errored(error_type: str, message: str, batch_id: str, custom_id: str) -> dict[str, Any]:
    return {
        "type": "errored",
        "error": {
            "type": "error",
            "error": {"type": error_type, "message": message},
            "request_id": stable_id("req_", batch_id, custom_id),
        },
    }


def _forced_result(fault: LineFault, batch_id: str, custom_id: str) -> dict[str, Any]:
    if fault.type == "errored":
        return _errored(fault.error_type, fault.message, batch_id, custom_id)
    return {"type": fault.type}
