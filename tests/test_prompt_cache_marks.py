"""Prompt caching on our side: when a run asks for it, how each provider's line marks it (and
keeps marking it as the protocol goes on), how cache reads and writes are read from results
and priced, and how the report shows the saving and a protocol's one total."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from interviews.catalog import get_model
from interviews.costs import Usage, prices
from interviews.emulator.anthropic_batches import validate_params
from interviews.preparation import cache_mode, open_data_dir, prepare_requests
from interviews.providers.anthropic_batches import AnthropicBatchAdapter
from interviews.providers.anthropic_batches import outcome_from_line as anthropic_outcome
from interviews.providers.openai_batches import CHAT, RESPONSES, OpenAIBatchAdapter
from interviews.providers.openai_batches import outcome_from_line as openai_outcome
from interviews.report import protocol_rows, protocol_total, summary_rows
from interviews.requests import CanonicalRequest
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE
from tests.test_protocol import YAML as PROTOCOL

REQUEST = CanonicalRequest(
    custom_id="interview_7",
    persona_id=7,
    persona={},
    health_record={},
    system_message="You are Ada, 67.",
    first_question="How are you?",
)
AT = datetime(2026, 12, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("turns", "mode", "expected"),
    [
        (1, "batch", None),
        (2, "batch", None),  # 1-hour writes at 2x: two questions would lose money
        (3, "batch", "batch"),
        (1, "realtime", None),
        (2, "realtime", "realtime"),
    ],
)
def test_caching_is_asked_for_only_where_it_pays(turns: int, mode: str, expected) -> None:
    assert cache_mode(turns, mode) == expected


def test_anthropic_marks_the_system_prompt_and_the_end_of_the_prompt() -> None:
    build = AnthropicBatchAdapter.build_line
    plain = build(REQUEST, model="m", max_tokens=100)["params"]
    batch = build(REQUEST, model="m", max_tokens=100, cache="batch")["params"]
    realtime = build(REQUEST, model="m", max_tokens=100, cache="realtime")["params"]
    assert plain["system"] == REQUEST.system_message and "cache_control" not in plain
    hour, minutes = {"type": "ephemeral", "ttl": "1h"}, {"type": "ephemeral", "ttl": "5m"}
    assert batch["system"] == [
        {"type": "text", "text": REQUEST.system_message, "cache_control": hour}
    ]
    assert batch["cache_control"] == hour and realtime["cache_control"] == minutes


def test_anthropic_keeps_its_marks_and_the_last_question_only_reads() -> None:
    adapter = AnthropicBatchAdapter
    line = adapter.build_line(REQUEST, model="m", max_tokens=100, cache="batch")
    second = adapter.continue_line(line, "Fine.", "Which medicines?")
    last = adapter.continue_line(second, "Metformin.", "Anything else?", last=True)
    assert second["params"]["cache_control"] == line["params"]["cache_control"]
    params = last["params"]
    assert "cache_control" not in params  # no breakpoint at the end: nothing new written
    asked = params["messages"][2]  # the previous question now ends the cached prefix
    assert asked["content"] == [
        {
            "type": "text",
            "text": "Which medicines?",
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        }
    ]
    assert [m["role"] for m in params["messages"]] == ["user", "assistant"] * 2 + ["user"]
    assert params["messages"][-1]["content"] == "Anything else?"
    assert validate_params(params, "2026-10-21") is None  # the API takes it (two breakpoints)
    assert line["params"]["cache_control"]  # the earlier line is left as it was


@pytest.mark.parametrize("endpoint", [CHAT, RESPONSES])
def test_openai_routes_an_interview_by_its_prompt_cache_key(endpoint: str) -> None:
    adapter = OpenAIBatchAdapter
    plain = adapter.build_line(REQUEST, model="m", max_tokens=100, endpoint=endpoint)
    line = adapter.build_line(REQUEST, model="m", max_tokens=100, endpoint=endpoint, cache="batch")
    later = adapter.continue_line(line, "Fine.", "Which medicines?", last=True)
    assert "prompt_cache_key" not in plain["body"]
    assert line["body"]["prompt_cache_key"] == later["body"]["prompt_cache_key"] == "interview_7"


def _anthropic_result(usage: dict) -> dict:
    message = {"content": [{"type": "text", "text": "Hi"}], "stop_reason": "end_turn"}
    return {
        "custom_id": "interview_7",
        "result": {"type": "succeeded", "message": message | {"usage": usage}},
    }


def test_anthropic_one_hour_writes_are_read_apart() -> None:
    usage = {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_read_input_tokens": 2000,
        "cache_creation_input_tokens": 300,
        "cache_creation": {"ephemeral_1h_input_tokens": 300, "ephemeral_5m_input_tokens": 0},
    }
    assert anthropic_outcome(_anthropic_result(usage)).usage == Usage(10, 5, 2000, 300, 0, 300)
    usage["cache_creation"]["ephemeral_1h_input_tokens"] = 301  # more than all writes: unreal
    assert anthropic_outcome(_anthropic_result(usage)).usage is None


def test_openai_cache_reads_and_writes_come_out_of_the_prompt_count() -> None:
    body = {
        "choices": [{"message": {"content": "Hi"}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 3000,
            "completion_tokens": 40,
            "prompt_tokens_details": {"cached_tokens": 2048, "cache_write_tokens": 900},
        },
    }
    line = {"custom_id": "interview_7", "response": {"status_code": 200, "body": body}}
    assert openai_outcome(line).usage == Usage(52, 40, 2048, 900, 0)
    body["usage"]["prompt_tokens_details"]["cache_write_tokens"] = 1000  # 3,048 > 3,000
    assert openai_outcome(line).usage is None


def test_one_hour_cache_writes_cost_twice_the_input_price() -> None:
    # Claude Sonnet 5.5 in batch: $1 in, $5 out, $0.05 cache read, $1.25 5-minute write and
    # $2 1-hour write per million tokens (genai-prices)
    rates = prices(get_model("anthropic", "claude-sonnet-5-5"), batch=True, at=AT)
    usage = Usage(1000, 100, 2000, 3000, 0, 1000)
    expected = 1000 * 1 + 100 * 5 + 2000 * Decimal("0.05") + 2000 * Decimal("1.25") + 1000 * 2
    assert rates.cost(usage) == expected / 1_000_000
    assert rates.cost(usage.uncached()) == Decimal(6000 * 1 + 100 * 5) / 1_000_000
    # a model priced from the catalog: its 1-hour write is twice its input price
    opus4 = prices(get_model("anthropic", "claude-opus-4-20250514"), batch=True, at=AT)
    assert opus4.cache_write_1h == 2 * opus4.input


def _question(run_id: str, answered: int, cost: str, uncached: str, read: int) -> dict:
    return {
        "run_id": run_id,
        "provider": "anthropic",
        "model": "claude-sonnet-5-5",
        "requests": 4,
        "statuses": {"succeeded": answered},
        "usage": {"input_tokens": 100, "output_tokens": 50, "cache_read_tokens": read},
        "cost_usd": {
            "actual_batch": cost,
            "same_usage_at_realtime_prices": "1",
            "saved": "0.5",
            "estimate_batch": "1",
            "without_prompt_cache": uncached,
            "prompt_cache_saved": str(Decimal(uncached) - Decimal(cost)),
            "actual_over_estimate": None,
        },
    }


def test_a_protocol_has_one_total_with_its_cache_saving() -> None:
    total = protocol_total(
        "proto",
        [_question("proto", 4, "0.25", "0.25", 0), _question("proto-q2", 3, "0.10", "0.40", 900)],
    )
    assert total["usage"]["input_tokens"] == 200 and total["usage"]["cache_read_tokens"] == 900
    cost = total["cost_usd"]
    assert Decimal(cost["actual_batch"]) == Decimal("0.35")
    assert Decimal(cost["without_prompt_cache"]) == Decimal("0.65")
    assert cost["actual_over_estimate"] == 0.175
    rows = dict(protocol_rows(total))
    assert rows["Question 2"] == "3 of 4 answered, $0.1000 (proto-q2)"
    assert rows["Prompt cache saving"] == "saved $0.3000 (without caching: $0.6500)"
    assert rows["Cost (batch prices)"] == "$0.3500"


def test_a_cache_that_cost_more_says_so() -> None:
    summary = _question("run", 4, "0.30", "0.25", 10) | {
        "mode": "batch",
        "batches": [],
        "interviews_dir": "",
    }
    rows = dict(summary_rows(summary))
    assert rows["Prompt cache saving"] == "cost $0.0500 more (without caching: $0.2500)"
    no_cache = summary | {"usage": {"input_tokens": 1, "output_tokens": 1}}
    assert "Prompt cache" not in dict(summary_rows(no_cache))


def test_a_run_without_prompt_caching_marks_nothing(tmp_path: Path) -> None:
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(PROTOCOL)  # three questions: a batch protocol worth caching
    dirs = open_data_dir(str(tmp_path / "data"))
    marked = {}
    for cache in (True, False):
        params = BatchRunParameters(
            provider="anthropic",
            personas=str(SAMPLE),
            count=2,
            protocol=str(protocol),
            prompt_cache=cache,
        )
        chunk_dir = tmp_path / f"chunks_{cache}"
        prepared = prepare_requests(params, dirs=dirs, chunk_dir=chunk_dir)
        line = orjson.loads(prepared.chunks[0].path.read_bytes().splitlines()[0])
        marked[cache] = "cache_control" in line["params"]
        # turning caching off changes the requests, so it is part of the run's identity
        assert ("prompt_cache" in params.spec("sha")) is (not cache)
    assert marked == {True: True, False: False}
