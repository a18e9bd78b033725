"""The run report as one HTML file with charts: drawn from the summaries (bars in proportion,
every text escaped, nothing fetched from elsewhere) and screenshotted in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest

from interviews.html_report import answer_lengths, render


def _summary(provider: str, model: str, batch: str, realtime: str, flags: dict) -> dict:
    return {
        "run_id": f"cmp-{provider}",
        "provider": provider,
        "model": model,
        "requests": 24,
        "statuses": {"succeeded": 22, "errored": 2},
        "flags": flags,
        "usage": {"input_tokens": 19801, "output_tokens": 2961, "cache_read_tokens": 1200},
        "cost_usd": {
            "actual_batch": batch,
            "same_usage_at_realtime_prices": realtime,
            "estimate_batch": "0.25",
            "actual_over_estimate": 0.1,
        },
    }


SUMMARIES = [
    _summary("anthropic", "claude-sonnet-5-5", "0.0346", "0.0692", {"refusal": 1}),
    _summary("gemini", "<script>alert(1)</script>", "0.0173", "0.0346", {}),
    {"run_id": "cmp-openai", "error": "the key was refused"},  # a failed target: left out
]


def test_the_charts_are_in_proportion_and_every_text_is_escaped(tmp_path: Path) -> None:
    page = render("cmp", SUMMARIES, {"anthropic / claude-sonnet-5-5": [30, 60, 120]})
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "http" not in page  # nothing fetched from elsewhere: the file opens offline
    costs = page.split("Cost: batch vs real-time prices")[-1].split("</section>")[0]
    widths = [float(w) for w in re.findall(r'<rect x="\d+" y="\d+" width="([\d.]+)"', costs)]
    assert len(widths) == 4  # two targets, batch and real time each
    assert widths[0] / widths[2] == pytest.approx(2.0, rel=0.01)  # $0.0346 vs $0.0173
    assert widths[1] == pytest.approx(2 * widths[0], rel=0.01)  # real time is twice batch
    assert "$0.0346" in costs and "refusal" in page
    assert page.count("<svg") == 5  # outcomes, cost, tokens, flags, answer lengths


def test_answer_lengths_come_from_the_answered_records(tmp_path: Path) -> None:
    records = tmp_path / "interviews.jsonl"
    lines = [
        {"status": "succeeded", "answer": "one two three"},
        {"status": "errored", "answer": None},
        {"status": "succeeded", "transcript": [{"role": "assistant", "content": "a b"}]},
    ]
    records.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    assert answer_lengths(records) == [3, 2]


def test_the_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (.ci/run does)")
    lengths = {"anthropic / claude-sonnet-5-5": [12, 40, 80, 90, 150, 300, 900]}
    page = tmp_path / "report.html"
    page.write_text(render("cmp", SUMMARIES, lengths))
    artifacts = Path(os.environ.get("INTERVIEWS_TEST_ARTIFACTS") or tmp_path)
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "run-report.png"
    shot.unlink(missing_ok=True)
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'chromium'}",
         "--window-size=800,1700", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (800, 1700)
    assert len(png) > 20_000  # charts and text drawn, not a blank page
