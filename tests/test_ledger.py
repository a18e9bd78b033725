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


def make_run(tmp_path: Path) -> Ledger:
    ledger = Ledger.open(tmp_path / "data")
    assert ledger.check_run("r", SPEC) is False
    ledger.create_run(
        "r",
        provider="anthropic",
        model="m",
        spec=SPEC,
        requests_path=tmp_path / "req.jsonl",
        request_count=4,
        estimate_usd="1.5",
        files=[chunk_file(tmp_path, 0), chunk_file(tmp_path, 1)],
    )
    return ledger


def test_intent_then_batch_id(tmp_path: Path) -> None:
    ledger = make_run(tmp_path)
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


def test_refused_create_drops_only_an_intent(tmp_path: Path) -> None:
    ledger = make_run(tmp_path)
    first, second = ledger.chunks("r")
    ledger.record_intent(first.id, "anthropic")
    ledger.drop_intent(first.id)
    assert ledger.get_batch(first.id) is None
    ledger.record_intent(second.id, "anthropic")
    ledger.record_batch(second.id, BatchJob("anthropic", "b2", BatchStatus.RUNNING, "in_progress"))
    ledger.drop_intent(second.id)  # has a batch id: must survive
    assert ledger.get_batch(second.id).batch_id == "b2"


def test_resume_checks_the_spec(tmp_path: Path) -> None:
    ledger = make_run(tmp_path)
    assert ledger.check_run("r", SPEC) is True
    with pytest.raises(LedgerError, match="model changed"):
        ledger.check_run("r", {**SPEC, "model": "other"})


def test_ledger_survives_reopening(tmp_path: Path) -> None:
    make_run(tmp_path)
    again = Ledger.open(tmp_path / "data")
    assert [c.chunk_index for c in again.chunks("r")] == [0, 1]
    assert again.get_run("r")["request_count"] == 4
