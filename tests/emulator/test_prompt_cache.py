"""The emulator's prompt cache: minimum prefix, lookback, lifetimes, whole 128-token blocks,
and each provider's usage through its real SDK (cache reads and writes billed as documented)."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
from google.genai import Client as GenaiClient
from google.genai import types

from interviews.emulator import EmulatorControl
from interviews.emulator.prompt_cache import HOUR, MINUTES_5, PromptCache
from tests.emulator.builders import system_prompt

# 4,400 characters: 1,100 emulator tokens (one per four characters), over the 1,024 minimum
LONG = "x" * 4400
SHORT = "y" * 400  # 100 tokens


def _use(cache: PromptCache, blocks: list[str], marks: list[tuple[int, float]], now: float):
    return cache.use("anthropic|m", blocks, marks, now=now, min_tokens=1024, lookback=20)


def test_a_prefix_below_the_minimum_is_neither_written_nor_read() -> None:
    cache = PromptCache()
    first = _use(cache, ["a" * 400, SHORT], [(1, HOUR)], now=0)
    again = _use(cache, ["a" * 400, SHORT], [(1, HOUR)], now=1)
    assert (first.read, first.written) == (again.read, again.written) == (0, 0)


def test_the_next_question_reads_what_the_last_wrote_and_writes_only_the_new_part() -> None:
    cache = PromptCache()
    first = _use(cache, [LONG, SHORT], [(0, HOUR), (1, HOUR)], now=0)
    assert (first.read, first.written, first.written_ttl) == (0, 1200, HOUR)
    longer = [LONG, SHORT, SHORT, SHORT]  # an answer and the next question
    second = _use(cache, longer, [(0, HOUR), (3, HOUR)], now=600)
    assert (second.read, second.written) == (1200, 200)
    # the last question moves its breakpoint back to the end of the previous prompt: read only
    last = _use(cache, [*longer, SHORT, SHORT], [(0, HOUR), (3, HOUR)], now=700)
    assert (last.read, last.written) == (1400, 0)


def test_entries_expire_with_their_lifetime_and_a_hit_renews_them() -> None:
    cache = PromptCache()
    _use(cache, [LONG], [(0, MINUTES_5)], now=0)
    assert _use(cache, [LONG, SHORT], [(1, MINUTES_5)], now=299).read == 1100  # renewed at 299
    assert _use(cache, [LONG, SHORT, SHORT], [(2, MINUTES_5)], now=598).read == 1200
    assert _use(cache, [LONG, SHORT, SHORT, SHORT], [(3, MINUTES_5)], now=2000).read == 0


def test_anthropic_looks_back_at_most_20_blocks_before_a_breakpoint() -> None:
    cache = PromptCache()
    _use(cache, [LONG], [(0, HOUR)], now=0)
    near = [LONG, *[SHORT] * 20]
    far = [LONG, *[SHORT] * 21]
    assert _use(PromptCache(), near, [(20, HOUR)], now=1).read == 0  # a fresh cache: no hit
    assert _use(cache, near, [(20, HOUR)], now=1).read == 1100
    cache_far = PromptCache()
    _use(cache_far, [LONG], [(0, HOUR)], now=0)
    assert _use(cache_far, far, [(21, HOUR)], now=1).read == 0


def test_openai_reads_in_whole_128_token_blocks_and_models_cache_apart() -> None:
    cache = PromptCache()
    cache.use("openai|a", [LONG], [(0, HOUR)], now=0, min_tokens=1024, granularity=128)
    hit = cache.use("openai|a", [LONG, SHORT], [(1, HOUR)], now=1, min_tokens=1024, granularity=128)
    other = cache.use(
        "openai|b", [LONG, SHORT], [(1, HOUR)], now=1, min_tokens=1024, granularity=128
    )
    assert hit.read == 1024 and other.read == 0  # 1,100 cached tokens read as 8 blocks


# --- through the real SDKs ------------------------------------------------------------------

SYSTEM = system_prompt(0) + LONG  # a persona with long study instructions
Q1, A1, Q2 = "How are you?", "Fine, thanks, mostly.", "Which medicines do you take?"


def _anthropic(client: anthropic.Anthropic, messages: list[dict[str, Any]], ttl: str) -> Any:
    marker = {"type": "ephemeral", "ttl": ttl}
    return client.messages.create(
        model="claude-sonnet-5-5",
        max_tokens=256,
        system=[{"type": "text", "text": SYSTEM, "cache_control": marker}],  # type: ignore[list-item]
        messages=messages,  # type: ignore[arg-type]
        cache_control=marker,  # type: ignore[arg-type]
    )


def test_anthropic_bills_writes_by_lifetime_then_reads(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    first = _anthropic(client, [{"role": "user", "content": Q1}], "1h").usage
    total = first.input_tokens + first.cache_creation_input_tokens
    assert first.cache_read_input_tokens == 0 and first.cache_creation_input_tokens == total
    assert first.cache_creation is not None
    assert first.cache_creation.ephemeral_1h_input_tokens == total
    assert first.cache_creation.ephemeral_5m_input_tokens == 0
    control.advance(1800)  # half an hour later: the hour-long entry is still there
    turns = [
        {"role": "user", "content": Q1},
        {"role": "assistant", "content": A1},
        {"role": "user", "content": Q2},
    ]
    second = _anthropic(client, turns, "1h").usage
    assert second.cache_read_input_tokens == total
    assert second.cache_creation_input_tokens > 0 and second.input_tokens == 0
    control.advance(3700)  # past the hour: gone
    assert _anthropic(client, turns, "5m").usage.cache_read_input_tokens == 0


def test_anthropic_refuses_a_fifth_breakpoint(client: anthropic.Anthropic) -> None:
    marker = {"type": "ephemeral"}
    blocks = [{"type": "text", "text": "a", "cache_control": marker} for _ in range(5)]
    try:
        client.messages.create(
            model="claude-sonnet-5-5",
            max_tokens=16,
            system=blocks,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": Q1}],
        )
    except anthropic.BadRequestError as exc:
        assert "A maximum of 4 blocks with cache_control" in str(exc)
    else:
        raise AssertionError("five breakpoints were accepted")


def test_openai_reports_implicitly_cached_tokens(openai_client: openai.OpenAI) -> None:
    def ask(messages: list[dict[str, str]]) -> Any:
        return openai_client.chat.completions.create(
            model="gpt-6.1-terra",
            messages=[{"role": "system", "content": SYSTEM}, *messages],  # type: ignore[list-item]
            prompt_cache_key="interview_1",
        ).usage

    first = ask([{"role": "user", "content": Q1}])
    second = ask(
        [
            {"role": "user", "content": Q1},
            {"role": "assistant", "content": A1},
            {"role": "user", "content": Q2},
        ]
    )
    assert first.prompt_tokens_details.cached_tokens == 0
    cached = second.prompt_tokens_details.cached_tokens
    assert (
        cached and cached % 128 == 0 and first.prompt_tokens - 128 < cached <= first.prompt_tokens
    )
    assert second.prompt_tokens_details.cache_write_tokens == 0  # implicit writes: not billed


def test_gemini_reports_implicitly_cached_tokens_for_minutes(
    gemini_client: GenaiClient, control: EmulatorControl
) -> None:
    def ask(turns: list[tuple[str, str]]) -> types.GenerateContentResponseUsageMetadata:
        contents = [types.Content(role=role, parts=[types.Part(text=text)]) for role, text in turns]
        response = gemini_client.models.generate_content(
            model="gemini-2.5-flash",
            contents=contents,  # type: ignore[arg-type]
            config=types.GenerateContentConfig(system_instruction=SYSTEM),
        )
        assert response.usage_metadata is not None
        return response.usage_metadata

    first = ask([("user", Q1)])
    again = [("user", Q1), ("model", A1), ("user", Q2)]
    assert not first.cached_content_token_count
    assert ask(again).cached_content_token_count == first.prompt_token_count
    control.advance(600)  # implicit entries last minutes, not the hours between batches
    assert not ask(again).cached_content_token_count
