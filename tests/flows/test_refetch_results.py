"""`refetch_results` (`interviews run --run-id ID --refetch-results`): a run whose saved results
file had a bad line fetches the results again; the old file is kept, no answer is lost."""

from __future__ import annotations

from pathlib import Path

import orjson

from flows.batch_flows import batch_interviews
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE


def test_refetch_results_replaces_a_bad_saved_file(block, data_dir: Path, control) -> None:
    params = BatchRunParameters(
        provider="openai",
        personas=str(SAMPLE),
        count=3,
        run_id="refetch",
        credentials_block=block,
        data_dir=str(data_dir),
        max_rounds=0,
    )
    first = batch_interviews(params)
    assert first["statuses"] == {"succeeded": 3} and first["skipped_result_lines"] == 0
    [raw] = (data_dir / "batch_results").glob("batch_output_openai_*.jsonl")
    lines = raw.read_bytes().splitlines()
    lines[1] = b'{"custom_id": "interview_x", "resp'  # a bad saved line
    raw.write_bytes(b"\n".join(lines) + b"\n")

    again = batch_interviews(params)  # reuses the bad file: reported, earlier answers kept
    assert again["skipped_result_lines"] == 1
    assert f"{raw}:2: not a openai batch result line" in again["result_line_problems"][0]
    assert again["statuses"] == {"succeeded": 3} and again["kept_earlier_answers"] >= 1

    fetched = batch_interviews(params.model_copy(update={"refetch_results": True}))
    assert fetched["skipped_result_lines"] == 0 and fetched["statuses"] == {"succeeded": 3}
    kept = raw.with_name(f"{raw.stem}.replaced-1.jsonl")
    assert kept.read_bytes().splitlines()[1] == b'{"custom_id": "interview_x", "resp'
    assert len(raw.read_bytes().splitlines()) == 3 and b"interview_x" not in raw.read_bytes()
    for number in range(3):
        record = orjson.loads((data_dir / "interviews" / f"interview_{number}.json").read_bytes())
        assert record["status"] == "succeeded"
    assert control.stats()["openai"]["batches_created"] == 1  # fetched again, never resubmitted
