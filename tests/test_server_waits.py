"""Server hints are capped: a `retry-after: 86400` never turns into a day of silence.

Against the emulator's 429-with-retry-after fault, with the sleeps injected (nothing waits).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from interviews.batch_types import BatchJob, BatchStatus
from interviews.ledger import Ledger
from interviews.pipeline import prepare_run, submit_chunk
from interviews.polling import Backoff, server_wait, wait_for_batch
from interviews.preparation import DataDirs
from interviews.providers.anthropic_batches import AnthropicBatchAdapter
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE
from tests.test_polling import FakeTime

DAY = 86400


def test_server_wait_cuts_a_long_hint_logs_it_and_respects_the_deadline() -> None:
    logged: list[str] = []
    assert server_wait(DAY, fallback=2, cap=300, what="x", log=logged.append) == 300
    assert "asked to wait 86400 s before x; waiting 300 s" in logged[0]
    assert server_wait(DAY, fallback=2, cap=300, what="x", remaining=42) == 42
    assert server_wait(None, fallback=2, cap=300, what="x") == 2
    assert server_wait(5, fallback=2, cap=300, what="x", log=logged.append) == 5
    assert len(logged) == 1  # a hint within the cap is simply followed


def test_a_day_long_poll_hint_is_cut_to_the_cap() -> None:
    fake, logged = FakeTime(), []
    states = [BatchStatus.RUNNING, BatchStatus.SUCCEEDED]
    wait_for_batch(
        lambda: BatchJob("anthropic", "b1", states.pop(0), "x", poll_after=DAY),
        deadline=fake.now + 10 * DAY,
        backoff=Backoff(1, 10, 2),
        sleep=fake.sleep,
        clock=fake.clock,
        max_hint=300,
        log=logged.append,
    )
    assert fake.sleeps == [300]
    assert "asked to wait 86400 s before polling again" in logged[0]


def test_create_429_with_a_day_long_retry_after_waits_the_cap_and_says_so(
    emu, control, data_dir: Path
) -> None:
    # OpenAI's SDK refuses hints over 2 min itself, so the day reaches the create loop
    from interviews.providers.openai_batches import OpenAIBatchAdapter

    adapter = OpenAIBatchAdapter(api_key="k", base_url=emu.openai_base_url)
    ledger, dirs = Ledger.open(data_dir), DataDirs(data_dir)
    control.set_faults(
        http=[
            {
                "provider": "openai",
                "method": "POST",
                "path": "/batches$",
                "status": 429,
                "retry_after": DAY,
                "count": 1,
            }
        ]
    )
    plan = prepare_run(
        BatchRunParameters(personas=str(SAMPLE), run_id="o1", count=3, provider="openai"),
        ledger=ledger,
        dirs=dirs,
    )
    sleeps: list[float] = []
    logged: list[str] = []
    job = submit_chunk(
        plan.chunks[0],
        adapter=adapter,
        ledger=ledger,
        sleep=sleeps.append,
        max_hint=300,
        log=logged.append,
    )
    assert sleeps == [300]
    assert "asked to wait 86400 s before creating the batch of chunk o1:r0:c0" in logged[0]
    assert "again in 300 s" in logged[1]
    assert control.stats()["openai"]["batches_created"] == 1
    assert ledger.get_batch(plan.chunks[0].id).batch_id == job.batch_id


def test_the_sdks_own_retry_follows_the_cap_not_the_servers_day(
    emu, control, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # the Anthropic SDK sleeps for any retry-after by itself; the cap (0.01 s here) must reach it
    monkeypatch.setenv("INTERVIEWS_MAX_SERVER_WAIT_SECONDS", "0.01")
    adapter = AnthropicBatchAdapter(api_key="k", base_url=emu.anthropic_base_url, max_retries=2)
    created = adapter._client.messages.batches.create(
        requests=[
            {
                "custom_id": "a",
                "params": {
                    "model": "m",
                    "max_tokens": 5,
                    "messages": [{"role": "user", "content": "hi"}],
                },
            }
        ]
    )
    control.set_faults(
        http=[
            {
                "method": "GET",
                "path": "/batches/[^/]+$",
                "status": 429,
                "retry_after": DAY,
                "count": 1,
            }
        ]
    )
    with caplog.at_level(logging.WARNING, logger="interviews.waits"):
        job = adapter.retrieve(created.id)
    assert job.batch_id == created.id
    assert "anthropic asked to wait 86400 s before retrying (HTTP 429)" in caplog.text
    assert control.stats()["anthropic"]["faults_fired"] == 1
