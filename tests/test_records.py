"""Interview records: one per request, joined on custom_id, in the seed's format."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from interviews.batch_types import OutcomeStatus, RequestError, RequestOutcome
from interviews.catalog import get_model
from interviews.costs import Usage, usage_cost
from interviews.jsonl import dumps_line
from interviews.records import RecordContext, build_record, load_index, write_records

MODEL = get_model("anthropic", "claude-sonnet-5-5")
ENDED = datetime(2026, 11, 27, 14, 30, 22, tzinfo=UTC)
CONTEXT = RecordContext("anthropic", MODEL, "run-1", "batch-1", timestamp=ENDED, round=1)


def answered(i: int, text: str = "Fine, thanks.") -> RequestOutcome:
    return RequestOutcome(
        custom_id=f"interview_{i}",
        status=OutcomeStatus.SUCCEEDED,
        text=text,
        finish_reason="end_turn",
        usage=Usage(input_tokens=900 + i, output_tokens=120 + 7 * i, cache_read_tokens=i % 3),
    )


def failed(i: int, transient: bool = True) -> RequestOutcome:
    return RequestOutcome(
        custom_id=f"interview_{i}",
        status=OutcomeStatus.ERRORED,
        error=RequestError(kind="overloaded_error", message="busy", transient=transient),
    )


def write_index(path: Path, n: int, question: str = "How are you?") -> Path:
    with path.open("wb") as handle:
        for i in range(n):
            line = {"custom_id": f"interview_{i}", "persona_id": i, "question": question}
            handle.write(dumps_line(line))
    return path


def test_record_has_the_seed_fields_then_ours_in_order() -> None:
    outcome = answered(3)
    record = build_record(outcome, persona_id=3, question="How are you?", context=CONTEXT)
    cost = usage_cost(MODEL, outcome.usage, batch=True)
    assert list(record.items()) == [
        ("persona_id", 3),
        ("timestamp", "2026-11-27T14:30:22+00:00"),
        ("provider", "anthropic"),
        ("model", MODEL.id),
        (
            "transcript",
            [
                {"role": "user", "content": "How are you?"},
                {"role": "assistant", "content": "Fine, thanks."},
            ],
        ),
        ("custom_id", "interview_3"),
        ("run_id", "run-1"),
        ("batch_id", "batch-1"),
        ("mode", "batch"),
        ("round", 1),
        ("status", "succeeded"),
        ("finish_reason", "end_turn"),
        (
            "usage",
            {
                "input_tokens": 903,
                "output_tokens": 141,
                "cache_read_tokens": 0,
                "cache_write_tokens": 0,
                "reasoning_tokens": 0,
                "cache_write_1h_tokens": 0,
            },
        ),
        ("cost_usd", float(round(cost, 8))),
        ("error", None),
        ("question", "How are you?"),
        ("answer", "Fine, thanks."),
        ("flags", []),
    ]
    error = build_record(failed(4), persona_id=4, question=None, context=CONTEXT)
    assert error["transcript"] == [] and error["status"] == "errored"
    assert error["error"] == {"type": "overloaded_error", "message": "busy", "transient": True}


def test_records_for_every_request_with_unexpected_and_duplicate_lines_reported(
    tmp_path: Path,
) -> None:
    index = load_index(write_index(tmp_path / "index.jsonl", 6))
    before = dict(index)
    outcomes = [answered(4), failed(1), answered(9), answered(4, "again"), failed(0, False)]
    written: list[dict] = []
    summary = write_records(
        outcomes,
        index=index,
        context=CONTEXT,
        interviews_dir=tmp_path / "interviews",
        on_record=written.append,
    )
    assert index == before  # the caller's index is left alone
    # answers in result order, then the requests with no result line, in request order
    assert [r["custom_id"] for r in written] == [f"interview_{i}" for i in (4, 1, 0, 2, 3, 5)]
    assert [r["status"] for r in written] == ["succeeded"] + ["errored"] * 5
    assert written[3]["error"]["type"] == "missing"
    assert summary.unexpected_ids == ["interview_9", "interview_4"]
    assert summary.statuses == {"succeeded": 1, "errored": 5}
    assert summary.retryable == [f"interview_{i}" for i in (1, 2, 3, 5)]
    assert summary.usage == answered(4).usage
    assert summary.cost == usage_cost(MODEL, answered(4).usage, batch=True)
    assert summary.cost_realtime == usage_cost(MODEL, answered(4).usage, batch=False)
    on_disk = orjson.loads((tmp_path / "interviews" / "interview_4.json").read_bytes())
    assert on_disk == written[0]
    assert on_disk["transcript"][1]["content"] == "Fine, thanks."
    assert not list((tmp_path / "interviews").glob("*.partial"))


def test_a_failed_outcome_never_replaces_an_answer(tmp_path: Path) -> None:
    index = load_index(write_index(tmp_path / "index.jsonl", 2))
    folder = tmp_path / "interviews"
    write_records([answered(0), answered(1)], index=index, context=CONTEXT, interviews_dir=folder)
    summary = write_records(
        [failed(0), answered(1, "new")], index=index, context=CONTEXT, interviews_dir=folder
    )
    assert summary.kept_earlier_answers == 1
    assert orjson.loads((folder / "interview_0.json").read_bytes())["status"] == "succeeded"
    assert orjson.loads((folder / "interview_1.json").read_bytes())["transcript"][1] == {
        "role": "assistant",
        "content": "new",
    }


def test_without_an_index_ids_give_persona_ids_and_duplicates_are_reported() -> None:
    written: list[dict] = []
    summary = write_records(
        [answered(2), answered(2)],
        index=None,
        context=CONTEXT,
        interviews_dir=None,
        on_record=written.append,
    )
    assert [r["persona_id"] for r in written] == [2]
    assert summary.unexpected_ids == ["interview_2"]


@pytest.mark.parametrize("timestamp", [ENDED, None])
def test_sums_match_per_record_costs(timestamp: datetime | None) -> None:
    context = RecordContext("anthropic", MODEL, None, None, timestamp=timestamp)
    outcomes = [answered(i) for i in range(50)]
    written: list[dict] = []
    summary = write_records(
        outcomes, index=None, context=context, interviews_dir=None, on_record=written.append
    )
    expected = sum((usage_cost(MODEL, o.usage, batch=False) for o in outcomes), Decimal(0))
    assert str(summary.cost_realtime) == str(expected)
    assert summary.usage.input_tokens == sum(o.usage.input_tokens for o in outcomes)
    if timestamp is None:
        assert all(r["timestamp"].endswith("+00:00") for r in written)


def test_equal_questions_share_one_string(tmp_path: Path) -> None:
    index = load_index(write_index(tmp_path / "index.jsonl", 3, question="Same?"))
    questions = [question for _, question, _, _ in index.values()]
    assert questions[0] is questions[1] is questions[2]
