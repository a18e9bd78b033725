"""The run ledger: intents, batch ids and runs that must not change under a resume."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from interviews.batch_types import BatchJob, BatchStatus, RequestCounts
from interviews.chunking import ChunkFile
from interviews.errors import LedgerError
from interviews.ledger import INTENT, Ledger

SPEC = {"provider": "anthropic", "model": "m", "count": 2}


def chunk_file(tmp_path: Path, index: int) -> ChunkFile:
    return ChunkFile(index, tmp_path / f"c{index}.jsonl", tmp_path / f"c{index}.idx", 2, 10, "ab")


def make_run(tmp_path: Path, url: str, run_id: str = "r") -> Ledger:
    ledger = Ledger(url)
    assert ledger.check_run(run_id, SPEC) is False
    ledger.create_run(
        run_id,
        provider="anthropic",
        model="m",
        spec=SPEC,
        requests_path=tmp_path / "req.jsonl",
        request_count=4,
        estimate_usd="1.5",
        files=[chunk_file(tmp_path, 0), chunk_file(tmp_path, 1)],
    )
    return ledger


def test_intent_then_batch_id(tmp_path: Path, ledger_url: str) -> None:
    ledger = make_run(tmp_path, ledger_url)
    chunk = ledger.chunks("r")[0]
    intent = ledger.record_intent(chunk.id, "anthropic")
    assert intent.status == INTENT and intent.batch_id is None
    with pytest.raises(LedgerError, match="already has a batch"):
        ledger.record_intent(chunk.id, "anthropic")
    job = BatchJob(
        "anthropic",
        "msgbatch_1",
        BatchStatus.RUNNING,
        "in_progress",
        RequestCounts(processing=2),
        created_at=datetime.now(UTC),
    )
    ledger.record_batch(chunk.id, job)
    stored = ledger.get_batch(chunk.id)
    assert stored.batch_id == "msgbatch_1" and stored.created_at.tzinfo is not None
    assert ledger.claimed_batch_ids("anthropic") == {"msgbatch_1"}


def test_refused_create_drops_only_an_intent(tmp_path: Path, ledger_url: str) -> None:
    ledger = make_run(tmp_path, ledger_url)
    first, second = ledger.chunks("r")
    ledger.record_intent(first.id, "anthropic")
    ledger.drop_intent(first.id)
    assert ledger.get_batch(first.id) is None
    ledger.record_intent(second.id, "anthropic")
    ledger.record_batch(second.id, BatchJob("anthropic", "b2", BatchStatus.RUNNING, "in_progress"))
    ledger.drop_intent(second.id)  # has a batch id: must survive
    assert ledger.get_batch(second.id).batch_id == "b2"


def test_resume_checks_the_spec(tmp_path: Path, ledger_url: str) -> None:
    ledger = make_run(tmp_path, ledger_url)
    assert ledger.check_run("r", SPEC) is True
    with pytest.raises(LedgerError, match="model changed"):
        ledger.check_run("r", {**SPEC, "model": "other"})


def test_ledger_survives_reopening(tmp_path: Path, ledger_url: str) -> None:
    make_run(tmp_path, ledger_url)
    again = Ledger(ledger_url)
    assert [c.chunk_index for c in again.chunks("r")] == [0, 1]
    assert again.get_run("r")["request_count"] == 4


def test_release_forget_cancel_and_family_lookup(tmp_path: Path, ledger_url: str) -> None:
    ledger = make_run(tmp_path, ledger_url, "cmp-anthropic-m")
    make_run(tmp_path, ledger_url, "cmp-openai-m")
    make_run(tmp_path, ledger_url, "cmp-q2")
    make_run(tmp_path, ledger_url, "cmpx")  # another run that only shares a prefix
    assert [r["run_id"] for r in ledger.runs_matching("cmp")] == [
        "cmp-anthropic-m",
        "cmp-openai-m",
        "cmp-q2",
    ]
    chunk = ledger.chunks("cmp-anthropic-m")[0]
    intent = ledger.record_intent(chunk.id, "anthropic")
    ledger.record_batch(chunk.id, BatchJob("anthropic", "b9", BatchStatus.RUNNING, "in_progress"))
    ledger.release_batch(chunk.id)  # adopted by mistake: back to the bare intent
    released = ledger.get_batch(chunk.id)
    assert released.batch_id is None and released.status == INTENT
    assert released.intent_at == intent.intent_at  # the chunk keeps its ownership tag
    with pytest.raises(LedgerError, match="has submitted batches"):
        ledger.forget_run("cmp-anthropic-m")  # an intent may have been paid for
    ledger.forget_run("cmpx")
    assert ledger.get_run("cmpx") is None and ledger.chunks("cmpx") == []
    assert not ledger.is_canceled("cmp-openai-m")
    ledger.mark_canceled("cmp-openai-m")
    ledger.mark_canceled("cmp-openai-m")  # twice is fine
    assert ledger.is_canceled("cmp-openai-m")
    ledger.clear_canceled("cmp-openai-m")
    assert not ledger.is_canceled("cmp-openai-m")
