"""`interviews launch`, real-time choice, end to end: answered with the arrow keys and Enter
on a pseudo-terminal, the interviews run through `interviews run --realtime` (Prefect, on this
session's test harness) against the emulator's Anthropic Messages API."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pexpect

from tests.test_launcher import DOWN, ENTER, launch_env, screen_text, spawn_launch


def _about() -> str:
    from interviews.catalog import get_model
    from interviews.costs import money
    from interviews.estimation import estimate_sizes, measure_personas
    from tests.conftest import SAMPLE

    sizes = measure_personas(SAMPLE, count=3, start_index=2)
    est = estimate_sizes(get_model("anthropic", "claude-opus-5-5"), sizes, max_tokens=2048)
    assert money(est.realtime) != "$0.16"
    return money(est.realtime)


def test_arrow_keys_choose_real_time_and_the_interviews_run_now(
    emu, control, data_dir: Path, prefect_api: str
) -> None:
    env = launch_env(emu, PREFECT_API_URL=prefect_api)
    child = spawn_launch(["--data-dir", str(data_dir)], env)
    child.timeout = 180  # the real-time run starts Prefect's flow machinery in the child
    child.expect("Provider:")
    child.send(ENTER)  # anthropic, the first
    child.expect("Model:")
    child.send(DOWN + DOWN + "\x1b[A" + ENTER)  # sonnet-5-5 -> opus-5-5 -> sonnet-5 -> opus-5-5
    child.expect("Personas file:")
    child.send(ENTER)  # the sample, relative to the repository root
    child.expect("How many interviews?")
    child.send("3" + ENTER)
    child.expect("Start at persona index:")
    child.send("2" + ENTER)
    child.expect(re.escape("Use Batch API?"))
    child.send(ENTER)  # 3 < 100: no
    # estimated from personas 2-4's own prompts (a fixed 3,000 tokens in made it $0.16)
    child.expect(re.escape(f"Run 3 interviews now in real time (about {_about()})?"))
    child.send(ENTER)  # yes
    child.expect("Run summary")
    child.expect(pexpect.EOF)
    child.close()
    screen = screen_text(child)
    assert child.exitstatus == 0, screen[-3000:]

    assert "? Model: claude-opus-5-5" in screen
    assert "? Use Batch API? (yes/no, Enter: no) No" in screen
    assert "3 requested, 3 answered" in screen
    stats = control.stats()["anthropic"]
    assert stats["realtime_requests"] == 3 and stats["batches_created"] == 0
    records = [orjson.loads(p.read_bytes()) for p in sorted(data_dir.glob("interviews/*.json"))]
    assert [r["custom_id"] for r in records] == ["interview_2", "interview_3", "interview_4"]
    for record in records:
        assert record["mode"] == "realtime" and record["status"] == "succeeded"
        assert record["model"] == "claude-opus-5-5"
        assert record["transcript"][-1]["role"] == "assistant"
