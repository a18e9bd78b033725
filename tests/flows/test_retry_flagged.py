"""`--retry-flagged`: a flagged answer is sent again in the next round, within the run's retry
rounds; the new answer replaces it, and a failure never does (the flagged answer is kept)."""

from __future__ import annotations

from pathlib import Path

import orjson

from flows.batch_flows import batch_interviews
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE

BROKEN = "As an AI language model, I don't have a body, so I can't say how I feel."


def _params(block: str, data_dir: Path, run_id: str, **extra) -> BatchRunParameters:
    values = {
        "provider": "anthropic",
        "personas": str(SAMPLE),
        "count": 3,
        "run_id": run_id,
        "credentials_block": block,
        "data_dir": str(data_dir),
        "retry_flagged": True,
        "max_rounds": 1,
    }
    return BatchRunParameters(**values | extra)


def _record(data_dir: Path, custom_id: str) -> dict:
    return orjson.loads((data_dir / "interviews" / f"{custom_id}.json").read_bytes())


def test_a_flagged_answer_is_sent_again_within_the_rounds(block, control, data_dir: Path) -> None:
    # interview_1 answers out of character in every round (its tagged id in any batch)
    control.set_faults(lines={"interview_1-*": {"type": "answer", "message": BROKEN}})
    before = control.stats()["anthropic"]["batches_created"]
    summary = batch_interviews(_params(block, data_dir, "flagged"))
    assert control.stats()["anthropic"]["batches_created"] - before == 2  # round 0, round 1
    assert summary["ok"] and summary["statuses"] == {"succeeded": 3}
    assert summary["flagged_retries"] == 1  # sent again once: max_rounds=1 stops there
    assert summary["flags"] == {"breaks_character": 1}  # the final answer's, counted once
    record = _record(data_dir, "interview_1")
    assert record["round"] == 1 and record["flags"] == ["breaks_character"]
    assert _record(data_dir, "interview_0")["round"] == 0  # unflagged: never sent again
    lines = (data_dir / "runs" / "flagged" / "interviews.jsonl").read_bytes().splitlines()
    assert len(lines) == 3


def test_without_the_option_a_flagged_answer_stands(block, control, data_dir: Path) -> None:
    control.set_faults(lines={"interview_1-*": {"type": "answer", "message": BROKEN}})
    before = control.stats()["anthropic"]["batches_created"]
    summary = batch_interviews(_params(block, data_dir, "plain", retry_flagged=False))
    assert control.stats()["anthropic"]["batches_created"] - before == 1
    assert summary["flags"] == {"breaks_character": 1} and not summary["flagged_retries"]
