"""Estimates from the data: the rendered prompts (4 characters per token), a protocol's resent
conversation, and the providers' own count-tokens endpoints (through the real SDKs, against
the emulator), on the command line and in the launcher."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from blocks.credentials import emulator_blocks
from interviews.catalog import get_model
from interviews.estimation import (
    SAMPLE_SIZE,
    PromptSizes,
    count_with_provider,
    estimate_sizes,
    measure_personas,
)
from tests.conftest import SAMPLE
from tests.test_protocol import YAML as PROTOCOL

MODELS = {
    "anthropic": "claude-sonnet-5-5",
    "openai": "gpt-6.1-terra",
    "vertex": "gemini-3.5-flash",
    "gemini": "gemini-3.8-flash",
}
ROOT = Path(__file__).resolve().parents[1]


def _billed(count: int) -> int:
    """What the emulator bills as input for the first `count` sample interviews' first
    requests: one token per four characters of the system prompt and question, rounded up."""
    sizes = measure_personas(SAMPLE, count=count)
    return sum(-(-(len(r.system_message) + len(r.first_question)) // 4) for r in sizes.sample)


def test_a_protocol_resends_its_conversation_in_the_estimate() -> None:
    model = get_model("anthropic", "claude-sonnet-5-5")
    sizes = PromptSizes(count=2, input_chars=4000, turns=3, later_chars=800)
    est = estimate_sizes(model, sizes, max_tokens=100)
    # each interview: the first prompt 3 times (500 tokens), 0 + 1 + 2 earlier answers of 100,
    # and the later questions (100 tokens) asked once and resent once
    assert est.input_tokens == 2 * 500 * 3 + 2 * 100 * 3 + 2 * 100 * 2
    assert est.output_tokens == 2 * 3 * 100


def test_the_prompts_are_measured_as_the_run_renders_them(tmp_path: Path) -> None:
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(PROTOCOL)
    plain = measure_personas(SAMPLE, count=7, start_index=3)
    asked = measure_personas(SAMPLE, count=7, start_index=3, protocol=protocol)
    assert (plain.count, plain.turns, plain.later_chars) == (7, 1, 0)
    assert len(plain.sample) == 7 and plain.sample[0].persona_id == asked.sample[0].persona_id
    assert plain.input_chars == sum(
        len(r.system_message) + len(r.first_question) for r in plain.sample
    )
    assert asked.turns == 3 and asked.later_chars > 0


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_the_provider_counts_what_it_would_bill(emu, control, provider: str) -> None:
    adapter = emulator_blocks(emu.url, emu.gcs_url)[provider].get_adapter()
    sizes = measure_personas(SAMPLE, count=5)
    counted = count_with_provider(sizes, adapter, MODELS[provider], max_tokens=2048)
    assert counted.input_tokens == _billed(5)  # every request counted: the exact sum
    stats = control.stats()[provider]
    assert stats["batches_created"] == 0 and stats["requests_received"] == 0  # nothing spent


def test_a_larger_run_is_scaled_from_the_counted_sample(emu) -> None:
    adapter = emulator_blocks(emu.url, emu.gcs_url)["anthropic"].get_adapter()
    whole = measure_personas(SAMPLE)  # 24 interviews: more than the sample
    assert whole.count == 24 and len(whole.sample) == SAMPLE_SIZE == 20
    counted = count_with_provider(whole, adapter, MODELS["anthropic"], max_tokens=2048)
    sampled_chars = sum(len(r.system_message) + len(r.first_question) for r in whole.sample)
    assert counted.input_tokens == _billed(20) * whole.input_chars // sampled_chars
    # the estimate uses the count, not 4 characters per token, for the first prompts
    model = get_model("anthropic", MODELS["anthropic"])
    est = estimate_sizes(model, counted, max_tokens=2048)
    assert est.input_tokens == counted.input_tokens


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interviews", "estimate", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        cwd=ROOT,
        timeout=60,
    )


def test_the_command_estimates_from_the_prompts_or_the_providers_count(emu) -> None:
    personas = ["--personas", str(SAMPLE), "--count", "5"]
    measured = _cli(*personas)
    assert measured.returncode == 0, measured.stderr
    chars = measure_personas(SAMPLE, count=5).input_chars
    assert f"Tokens in / out │ {(chars + 3) // 4:,} / 10,000" in measured.stdout
    assert "input: rendered prompts, 4 characters per token" in measured.stdout

    env = {"ANTHROPIC_API_KEY": "emulator-key", "ANTHROPIC_BASE_URL": emu.anthropic_base_url}
    counted = _cli(*personas, "--count-tokens", env=env)
    assert counted.returncode == 0, counted.stderr
    assert f"Tokens in / out │ {_billed(5):,} / 10,000" in counted.stdout
    assert "5 first prompts counted by anthropic" in counted.stdout

    refused = _cli("--count", "5", "--count-tokens")
    assert refused.returncode == 1
    assert "--count-tokens counts the prompts of --personas FILE" in refused.stderr
