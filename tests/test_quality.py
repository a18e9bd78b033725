"""Role-play quality flags: each rule on answers that should and should not trip it, the facts
carried in the chunk index, and the flags in records, summaries and reports."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from interviews.batch_types import OutcomeStatus, RequestError, RequestOutcome
from interviews.catalog import get_model
from interviews.chunking import write_chunks
from interviews.costs import Usage
from interviews.quality import answer_flags, record_facts
from interviews.records import RecordContext, load_index, write_records
from interviews.report import summary_rows
from interviews.requests import CanonicalRequest

PERSONA = {"name": "Maria", "age": 58, "gender": "Female"}
RECORD = {
    "conditions": [{"name": "Type 2 diabetes mellitus"}, {"name": "Essential hypertension"}],
    "medications": [{"name": "Metformin", "dose": "1000 mg"}, "Lisinopril 10 mg"],
}
FACTS = record_facts(PERSONA, RECORD)
SUCCEEDED = OutcomeStatus.SUCCEEDED


def test_the_facts_are_one_short_string() -> None:
    assert FACTS == (
        "58|female|type 2 diabetes mellitus;essential hypertension|metformin;lisinopril 10 mg"
    )
    assert record_facts({}, {}) == ""  # nothing to check: nothing carried


@pytest.mark.parametrize(
    ("answer", "finish", "expected"),
    [
        ("Well, my knees ache in the morning.", "end_turn", []),
        ("", "end_turn", ["empty"]),
        ("   \n", "stop", ["empty"]),
        ("Well, my knees ache and then", "max_tokens", ["truncated"]),
        ("Well, my knees", "length", ["truncated"]),
        ("Well, my knees", "MAX_TOKENS", ["truncated"]),
        ("I'm sorry, but I can't help with that request.", "end_turn", ["refusal"]),
        ("I cannot role-play as a patient.", "end_turn", ["refusal"]),
        ("I can't sleep well since my husband's surgery.", "end_turn", []),  # not a refusal
        (
            "As an AI, I don't have a body, but Maria might feel tired.",
            "stop",
            ["breaks_character"],
        ),
        ("I'm Claude, an assistant made by Anthropic.", "stop", ["breaks_character"]),
        ("My doctor says AI will read my scans one day.", "stop", []),
    ],
)
def test_each_rule_reads_the_answer(answer: str, finish: str, expected: list[str]) -> None:
    assert answer_flags(answer, finish, FACTS) == expected


@pytest.mark.parametrize(
    ("answer", "contradicts"),
    [
        ("I'm 58 and I still run the kitchen.", False),
        ("I am 59 years old next month, more or less.", False),  # within a year
        ("I'm 45 years old and healthy as a horse.", True),
        ("I'm 100% sure I took it.", False),  # a percentage, not an age
        ("As a man who works with his hands...", True),  # the record says female
        ("As a woman in my fifties...", False),
        ("I don't take metformin, I just watch my diet.", True),
        ("I didn't take my metformin this morning, I forgot.", False),  # a missed dose
        ("I've never had hypertension in my life.", True),
        ("I don't have diabetes, thank God.", True),  # `type 2 diabetes mellitus` listed
        ("I have no diabetes complications yet.", False),
        ("I don't take aspirin.", False),  # not on the record
    ],
)
def test_answers_that_contradict_the_record(answer: str, contradicts: bool) -> None:
    assert ("contradicts_record" in answer_flags(answer, "end_turn", FACTS)) is contradicts
    assert answer_flags(answer, "end_turn", None) == []  # no facts: nothing to contradict


def _request(i: int) -> CanonicalRequest:
    return CanonicalRequest(f"interview_{i}", i, PERSONA, RECORD, "You are Maria.", "How are you?")


def _index(folder: Path, count: int) -> dict:
    """The chunk index of `count` requests, as `write_chunks` writes it and convert reads it."""
    [chunk] = write_chunks(
        (_request(i) for i in range(count)),
        build_line=lambda r: {"custom_id": r.custom_id},
        directory=folder,
        stem="c",
        max_requests=10,
        max_bytes=10**9,
    )
    return load_index(chunk.index_path)


def test_flags_reach_records_summaries_and_the_report(tmp_path: Path) -> None:
    index = _index(tmp_path, 4)
    assert index["interview_0"][3] == FACTS  # the facts travel in the chunk index
    answers = ["Fine, thanks.", "I'm 30, you know.", "As an AI I can't say.", None]

    def outcome(i: int, text: str | None) -> RequestOutcome:
        if text is None:
            error = RequestError(kind="api_error", message="boom", transient=False)
            return RequestOutcome(f"interview_{i}", OutcomeStatus.ERRORED, error=error)
        usage = Usage(input_tokens=10, output_tokens=5)
        return RequestOutcome(f"interview_{i}", OutcomeStatus.SUCCEEDED, text, "end_turn", usage)

    records: list[dict] = []
    context = RecordContext("anthropic", get_model("anthropic", "claude-sonnet-5-5"), "r", "b")
    summary = write_records(
        [outcome(i, text) for i, text in enumerate(answers)],
        index=index,
        context=context,
        interviews_dir=tmp_path / "interviews",
        on_record=records.append,
    )
    by_id = {record["custom_id"]: record for record in records}
    assert by_id["interview_0"]["flags"] == []
    assert by_id["interview_1"]["flags"] == ["contradicts_record"]
    assert by_id["interview_2"]["flags"] == ["breaks_character"]
    assert by_id["interview_3"]["flags"] == [] and by_id["interview_3"]["answer"] is None
    assert by_id["interview_1"]["question"] == "How are you?"
    assert by_id["interview_1"]["answer"] == "I'm 30, you know."
    on_disk = orjson.loads((tmp_path / "interviews" / "interview_2.json").read_bytes())
    assert on_disk["flags"] == ["breaks_character"]
    assert dict(summary.flags) == {"contradicts_record": 1, "breaks_character": 1}

    flags = {"breaks_character": 1, "contradicts_record": 1}
    rows = dict(
        summary_rows(
            {
                "run_id": "r",
                "provider": "anthropic",
                "model": "m",
                "requests": 4,
                "statuses": {"succeeded": 3, "errored": 1},
                "flags": flags,
                "batches": [],
                "usage": {"input_tokens": 30, "output_tokens": 15},
                "cost_usd": {
                    "actual_batch": "0",
                    "same_usage_at_realtime_prices": "0",
                    "estimate_batch": "0",
                    "actual_over_estimate": None,
                },
                "interviews_dir": "",
            }
        )
    )
    assert rows["Quality flags"] == "breaks character 1, contradicts record 1"


def test_a_flagged_answer_is_retryable_and_a_failed_retry_keeps_it(tmp_path: Path) -> None:
    index = _index(tmp_path, 2)
    context = RecordContext("anthropic", get_model("anthropic", "claude-sonnet-5-5"), "r", "b")
    usage = Usage(input_tokens=10, output_tokens=5)
    round0 = tmp_path / "r0_c000.jsonl"
    with round0.open("wb") as part:
        first = write_records(
            [
                RequestOutcome("interview_0", OutcomeStatus.SUCCEEDED, "Fine.", "end_turn", usage),
                RequestOutcome(
                    "interview_1", OutcomeStatus.SUCCEEDED, "As an AI...", "stop", usage
                ),
            ],
            index=index,
            context=context,
            interviews_dir=None,
            on_record=lambda record: part.write(orjson.dumps(record) + b"\n"),
            retry_flags=frozenset({"breaks_character"}),
        )
    assert first.retryable == ["interview_1"] and first.retryable_flagged == 1
    first.supersede_retryable()  # a retry round is about to replace it
    assert dict(first.statuses) == {"succeeded": 1} and not first.flags
    assert first.flagged_retries == 1

    # the retry round: the provider fails the request; the flagged answer stays the record
    error = RequestError(kind="overloaded_error", message="busy", transient=True)
    records: list[dict] = []
    retry = write_records(
        [RequestOutcome("interview_1", OutcomeStatus.ERRORED, error=error)],
        index={"interview_1": index["interview_1"]},
        context=context,
        interviews_dir=None,
        on_record=records.append,
        previous=[tmp_path / "r1_c000.jsonl", round0],  # this round's part (none yet), then r0
    )
    assert retry.kept_earlier_answers == 1 and dict(retry.statuses) == {"succeeded": 1}
    assert records[0]["answer"] == "As an AI..." and records[0]["flags"] == ["breaks_character"]
