"""Interview protocols: several questions as one conversation, in real time and in batch
rounds, with the same transcript in the record either way."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from flows.batch_flows import batch_interviews
from flows.realtime_flow import realtime_interviews
from interviews.export import export_run, records_file
from interviews.ledger import Ledger
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE, line_faults
from tests.test_protocol import YAML as PROTOCOL

# PROTOCOL asks three questions: the second templated, the third a follow-up of the second
COUNT = 4
TARGETS = [
    ("anthropic", {}),
    ("openai", {}),
    ("openai", {"openai_endpoint": "/v1/responses"}),
    ("vertex", {}),
    ("gemini", {}),
]


def _params(
    provider: str, block: str, data_dir: Path, protocol: Path, **extra
) -> BatchRunParameters:
    values = {
        "provider": provider,
        "personas": str(SAMPLE),
        "count": COUNT,
        "run_id": "proto",
        "protocol": str(protocol),
        "credentials_block": block,
        "data_dir": str(data_dir),
    }
    return BatchRunParameters(**values | extra)


def _records(data_dir: Path) -> dict[str, dict]:
    return {
        path.stem: orjson.loads(path.read_bytes())
        for path in sorted((data_dir / "interviews").glob("*.json"))
    }


def _shape(record: dict) -> list[tuple[str, str | None]]:
    """The transcript's structure: roles in order, with the questions' text (answers differ in
    wording between the modes, as the emulator seeds them differently)."""
    return [
        (turn["role"], turn["content"] if turn["role"] == "user" else None)
        for turn in record["transcript"]
    ]


@pytest.mark.parametrize(("provider", "extra"), TARGETS, ids=lambda value: str(value))
def test_three_question_protocol_gives_the_same_transcript_in_batch_and_real_time(
    block, tmp_path: Path, control, provider: str, extra: dict
) -> None:
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(PROTOCOL)
    batch_dir, realtime_dir = tmp_path / "batch", tmp_path / "realtime"
    before = control.stats()[provider]

    summary = batch_interviews(_params(provider, block, batch_dir, protocol, **extra))
    batches = control.stats()[provider]["batches_created"] - before["batches_created"]
    realtime = realtime_interviews(_params(provider, block, realtime_dir, protocol, **extra))
    calls = control.stats()[provider]["realtime_requests"] - before["realtime_requests"]

    assert summary["ok"] and [q["run_id"] for q in summary["questions"]] == [
        "proto",
        "proto-q2",
        "proto-q3",
    ]
    assert batches == 3  # one batch per question, each carrying the conversation so far
    _check_prompt_cache(provider, summary, realtime, batch_dir)
    assert realtime["ok"] and calls == 3 * COUNT  # one call per question and persona
    in_batch, in_realtime = _records(batch_dir), _records(realtime_dir)
    assert len(in_batch) == COUNT and in_batch.keys() == in_realtime.keys()
    for custom_id, record in in_batch.items():
        other = in_realtime[custom_id]
        assert record.keys() == other.keys()
        assert record["status"] == other["status"] == "succeeded"
        assert (record["mode"], other["mode"]) == ("batch", "realtime")
        assert _shape(record) == _shape(other)
        roles = [turn["role"] for turn in record["transcript"]]
        assert roles == ["user", "assistant"] * 3
        questions = [turn["content"] for turn in record["transcript"] if turn["role"] == "user"]
        assert questions[0] == "How has your health been lately?"
        assert questions[1].endswith(", which medicines do you take?")
        assert questions[1].split(",")[0] not in ("", "{{ persona.name }}")
        assert questions[2] == "What would make taking them easier?"
        assert all(turn["content"] for turn in record["transcript"])
        # the emulator's answers are grounded in the record: no quality flag trips on them;
        # the last question and its answer are also top-level fields
        for one in (record, other):
            assert one["flags"] == []
            assert one["question"] == one["transcript"][-2]["content"] == questions[2]
            assert one["answer"] == one["transcript"][-1]["content"]
        # usage and cost are the whole interview's: three answers' worth of output
        for one in (record, other):
            answers = [t["content"] for t in one["transcript"] if t["role"] == "assistant"]
            assert one["usage"]["output_tokens"] >= sum(len(a) // 4 for a in answers)
            assert one["cost_usd"] > 0
    # the batch run's transcripts file holds each interview once, with its whole transcript
    lines = (batch_dir / "runs" / "proto" / "transcripts.jsonl").read_bytes().splitlines()
    finals = {orjson.loads(line)["custom_id"]: orjson.loads(line) for line in lines}
    assert finals == in_batch
    # exported, one row per interview with its whole conversation
    run_dir = batch_dir / "runs" / "proto"
    dest = run_dir / "export.parquet"
    assert export_run(records_file(run_dir), dest, "parquet") == COUNT
    for exported in pq.read_table(dest).to_pylist():
        record = in_batch[exported["custom_id"]]
        assert exported["questions"] == [t["content"] for t in record["transcript"][::2]]
        assert len(exported["answers"]) == 3 and exported["answer"] == record["answer"]


def _check_prompt_cache(provider: str, summary: dict, realtime: dict, batch_dir: Path) -> None:
    """Both modes read the conversation back from the prompt cache; the batch protocol has one
    total, the sum of its questions, with its cache saving against the uncached cost."""
    total = summary["protocol"]
    assert total == orjson.loads(
        (batch_dir / "runs" / "proto" / "protocol_summary.json").read_bytes()
    )
    for key in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"):
        assert total["usage"][key] == sum(q["usage"][key] for q in summary["questions"])
    costs = total["cost_usd"]
    assert Decimal(costs["actual_batch"]) == sum(
        Decimal(q["cost_usd"]["actual_batch"]) for q in summary["questions"]
    )
    for usage, cost in ((total["usage"], costs), (realtime["usage"], realtime["cost_usd"])):
        assert usage["cache_read_tokens"] > 0
        actual = Decimal(cost.get("actual_batch") or cost["actual_realtime"])
        assert Decimal(cost["without_prompt_cache"]) - actual == Decimal(cost["prompt_cache_saved"])
    if provider == "anthropic":  # written for an hour in batch, five minutes in real time
        hour = total["usage"]["cache_write_tokens"]
        assert hour > 0 and total["usage"]["cache_write_1h_tokens"] == hour
        assert realtime["usage"]["cache_write_tokens"] > 0
        assert realtime["usage"]["cache_write_1h_tokens"] == 0
    else:  # implicit caching: writes are not billed
        assert total["usage"]["cache_write_tokens"] == realtime["usage"]["cache_write_tokens"] == 0


def test_protocol_batch_round_goes_on_only_with_interviews_that_answered(
    block, data_dir: Path, control, tmp_path: Path
) -> None:
    protocol = tmp_path / "protocol.json"
    protocol.write_text(
        '{"questions": ["How has your health been lately?", "What worries you most?"]}'
    )
    control.set_faults(
        lines=line_faults(
            {"interview_1": {"type": "errored", "error_type": "invalid_request_error"}}
        )
    )
    summary = batch_interviews(_params("anthropic", block, data_dir, protocol, max_rounds=0))

    assert [q["requests"] for q in summary["questions"]] == [COUNT, COUNT - 1]
    records = _records(data_dir)
    assert records["interview_1"]["status"] == "errored"
    assert len(records["interview_1"]["transcript"]) == 1  # asked, never answered
    assert all(len(records[f"interview_{i}"]["transcript"]) == 4 for i in (0, 2, 3))
    ledger = Ledger.open(data_dir)
    assert ledger.get_run("proto-q2")["request_count"] == COUNT - 1
    # a re-run resumes both questions and sends nothing again
    batches = control.stats()["anthropic"]["batches_created"]
    again = batch_interviews(_params("anthropic", block, data_dir, protocol, max_rounds=0))
    assert again["ok"] and control.stats()["anthropic"]["batches_created"] == batches
    assert _records(data_dir) == records


def test_a_detached_protocol_moves_on_one_question_per_collect(
    block, data_dir: Path, control, tmp_path: Path
) -> None:
    from flows.collect_flow import collect_batches

    protocol = tmp_path / "protocol.json"
    protocol.write_text('{"questions": ["How are you?", "How do you sleep?", "Why?"]}')
    control.configure(processing_seconds=3600)
    first = batch_interviews(_params("gemini", block, data_dir, protocol, detach=True))
    assert first["detached"] and first["run_id"] == "proto"
    for question in ("proto-q2", "proto-q3"):
        control.advance(3601)
        [moved] = collect_batches(str(data_dir))  # finishes one question, submits the next
        assert moved["detached"] and moved["run_id"] == question
    control.advance(3601)
    [done] = collect_batches(str(data_dir))
    assert done["ok"] and [q["run_id"] for q in done["questions"]][-1] == "proto-q3"
    assert collect_batches(str(data_dir)) == []
    records = _records(data_dir)
    assert len(records) == COUNT
    assert all(len(record["transcript"]) == 6 for record in records.values())
    assert control.stats()["gemini"]["batches_created"] == 3
