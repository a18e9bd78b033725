"""Provider results files are untrusted input (issue 12, items 2, 6, 8 and 9): hostile custom
ids, duplicated lines, unusable token counts, over-long lines, and fetching results again."""

from __future__ import annotations

import io
import json
from pathlib import Path

import orjson
import pytest

from interviews.errors import TransientProviderError
from interviews.jsonl import OverlongLine, read_lines
from interviews.pipeline import convert_chunk, download_chunk, prepare_run
from tests.conftest import line_faults, write_jsonl
from tests.test_cli import cli
from tests.test_pipeline import params, run_all, setup  # noqa: F401 (fixture)

HOSTILE_IDS = [
    "../../victim/pwned",
    "/tmp/interviews-abs-pwned",
    "sub/dir/x",
    "a" * 300,
    "interview_9\n",
    "",
]


def answered(custom_id: object, usage: object = None, text: str = "My knee hurts.") -> str:
    """An Anthropic succeeded line."""
    return json.dumps(
        {
            "custom_id": custom_id,
            "result": {
                "type": "succeeded",
                "message": {
                    "model": "claude-sonnet-5-5",
                    "content": [{"type": "text", "text": text}],
                    "stop_reason": "end_turn",
                    "usage": usage or {"input_tokens": 100, "output_tokens": 10},
                },
            },
        }
    )


def errored(custom_id: str) -> str:
    """An Anthropic errored line."""
    return json.dumps(
        {
            "custom_id": custom_id,
            "result": {
                "type": "errored",
                "error": {"error": {"type": "overloaded_error", "message": "busy"}},
            },
        }
    )


def all_files(root: Path) -> set[str]:
    """Every file under `root`, relative."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def convert(tmp_path: Path, results: Path, *extra: str, env: dict[str, str] | None = None):
    """`interviews convert` run from inside the data dir, as a user would."""
    data = tmp_path / "work" / "data"
    data.mkdir(parents=True, exist_ok=True)
    return cli("convert", "--results", str(results), "--data-dir", ".", *extra, cwd=data, env=env)


@pytest.mark.parametrize("hostile", HOSTILE_IDS, ids=["parent", "abs", "subdir", "300", "nl", "e"])
def test_convert_skips_hostile_ids_and_writes_nothing_outside(tmp_path: Path, hostile) -> None:
    (tmp_path / "work" / "victim").mkdir(parents=True)  # what "../../victim/pwned" aims at
    results = write_jsonl(tmp_path / "results.jsonl", [answered("interview_1"), answered(hostile)])
    result = convert(tmp_path, results)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert f"{results}:2: custom_id " in result.stderr and "is not a valid id" in result.stderr
    assert "1 line(s) skipped" in result.stderr
    assert all_files(tmp_path) == {"results.jsonl", "work/data/interviews/interview_1.json"}
    assert not Path("/tmp/interviews-abs-pwned.json").exists()
    assert len(max(result.stderr.splitlines(), key=len)) < 400  # a 300-char id is cut


def test_pipeline_convert_skips_hostile_ids(setup, control) -> None:  # noqa: F811
    adapter, ledger, dirs = setup
    plan = prepare_run(params(count=2), ledger=ledger, dirs=dirs)
    run_all(plan, adapter, ledger, dirs)
    chunk = ledger.get_chunk(plan.chunks[0].id)
    with chunk.results_path.open("a") as raw:
        raw.writelines(answered(custom_id) + "\n" for custom_id in HOSTILE_IDS)
    before = all_files(dirs.root.parent)
    job = adapter.retrieve(ledger.get_batch(chunk.id).batch_id)
    summary = convert_chunk(
        chunk, chunk.results_path, job, model=plan.model, ledger=ledger, dirs=dirs,
        records_dir=dirs.interviews,
    )  # fmt: skip
    assert summary.statuses == {"succeeded": 2}
    assert summary.problems.skipped == len(HOSTILE_IDS)
    assert all("is not a valid id" in m for m in summary.problems.messages)
    assert all_files(dirs.root.parent) == before  # records rewritten in place, nothing new


@pytest.mark.parametrize("answer_first", [True, False], ids=["answer-first", "error-first"])
def test_duplicate_id_keeps_the_answered_line(tmp_path: Path, answer_first: bool) -> None:
    lines = [answered("interview_3"), errored("interview_3"), errored("interview_4")]
    if not answer_first:
        lines[0], lines[1] = lines[1], lines[0]
    results = write_jsonl(tmp_path / "results.jsonl", lines)
    result = convert(tmp_path, results)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "work" / "data" / "interviews"
    record = orjson.loads((folder / "interview_3.json").read_bytes())
    assert record["status"] == "succeeded"
    assert record["transcript"][-1]["content"] == "My knee hurts."
    assert orjson.loads((folder / "interview_4.json").read_bytes())["status"] == "errored"
    assert "1 result line(s) matched no request or repeated one" in result.stdout


@pytest.mark.parametrize("answer_first", [True, False], ids=["answer-first", "error-first"])
def test_pipeline_duplicate_id_keeps_the_answered_line(
    setup,  # noqa: F811
    control,
    answer_first: bool,
) -> None:
    adapter, ledger, dirs = setup
    control.set_faults(
        lines=line_faults({"interview_1": {"type": "errored", "error_type": "api_error"}})
    )
    plan = prepare_run(params(count=2, max_rounds=0), ledger=ledger, dirs=dirs)
    run_all(plan, adapter, ledger, dirs)
    chunk = ledger.get_chunk(plan.chunks[0].id)
    lines = chunk.results_path.read_bytes().splitlines()
    failure = next(line for line in lines if b"interview_1" in line)
    rest = [line for line in lines if line is not failure]
    answer = answered("interview_1", text="Late answer.").encode()
    both = [answer, failure] if answer_first else [failure, answer]
    chunk.results_path.write_bytes(b"\n".join([*both, *rest]) + b"\n")
    (dirs.interviews / "interview_1.json").unlink()  # as on a first conversion
    job = adapter.retrieve(ledger.get_batch(chunk.id).batch_id)
    summary = convert_chunk(
        chunk, chunk.results_path, job, model=plan.model, ledger=ledger, dirs=dirs,
        records_dir=dirs.interviews,
    )  # fmt: skip
    assert summary.statuses == {"succeeded": 2} and summary.retryable == []
    record = orjson.loads((dirs.interviews / "interview_1.json").read_bytes())
    assert record["transcript"][-1]["content"] == "Late answer."
    part = dirs.run("r1") / "records" / "r0_c000.jsonl"
    ids = [orjson.loads(line)["custom_id"] for line in part.read_bytes().splitlines()]
    assert sorted(ids) == ["interview_0", "interview_1"]


BAD_COUNTS = ["12", 12.5, -5, True, 10**30, [3]]


@pytest.mark.parametrize("bad", BAD_COUNTS, ids=["str", "float", "neg", "bool", "huge", "list"])
def test_bad_token_counts_keep_the_answer_with_unknown_cost(tmp_path: Path, bad) -> None:
    usage = {"input_tokens": 100, "output_tokens": bad}
    results = write_jsonl(
        tmp_path / "results.jsonl",
        [answered("interview_1"), answered("interview_2", usage, text="Kept answer.")],
    )
    result = convert(tmp_path, results)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "work" / "data" / "interviews"
    record = orjson.loads((folder / "interview_2.json").read_bytes())
    assert record["status"] == "succeeded"
    assert record["transcript"][-1]["content"] == "Kept answer."
    assert record["usage"] is None and record["cost_usd"] is None
    good = orjson.loads((folder / "interview_1.json").read_bytes())
    assert good["cost_usd"] > 0
    assert f"{results}:2: custom_id 'interview_2' has token counts" in result.stderr
    assert "cost of this file is incomplete" in result.stdout


OPENAI_BAD = {
    "custom_id": "interview_5",
    "response": {
        "status_code": 200,
        "body": {
            "model": "gpt-6.1-terra",
            "choices": [{"message": {"content": "Fine."}, "finish_reason": "stop"}],
            # more cached than prompt tokens would make a negative input count
            "usage": {
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "prompt_tokens_details": {"cached_tokens": 50},
            },
        },
    },
}
GEMINI_BAD = {
    "key": "interview_5",
    "response": {
        "candidates": [{"content": {"parts": [{"text": "Fine."}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": "10", "candidatesTokenCount": 5},
        "modelVersion": "gemini-3-flash",
    },
}


@pytest.mark.parametrize(("provider", "line"), [("openai", OPENAI_BAD), ("gemini", GEMINI_BAD)])
def test_bad_token_counts_of_other_providers(tmp_path: Path, provider: str, line: dict) -> None:
    from interviews.providers import get_adapter_class
    from interviews.result_lines import ResultProblems

    results = write_jsonl(tmp_path / "results.jsonl", [json.dumps(line)])
    problems = ResultProblems()
    [outcome] = get_adapter_class(provider).parse_results(results, problems)
    assert outcome.text == "Fine." and outcome.usage is None
    assert problems.usage_unknown == 1 and problems.skipped == 0
    assert problems.messages[0].startswith(f"{results}:1: custom_id 'interview_5'")


def test_read_lines_never_holds_an_over_long_line() -> None:
    data = b'{"a": 1}\n' + b"x" * 10_000 + b"\n" + b"y" * 5000 + b'{"b": 2}\n'
    lines = list(read_lines(io.BytesIO(data), limit=4096))
    assert lines == [(1, b'{"a": 1}\n'), (2, OverlongLine(10_001)), (3, OverlongLine(5009))]
    exact = b"z" * 4096 + b"\n"  # a line of exactly the limit is read
    assert list(read_lines(io.BytesIO(exact), limit=4096)) == [(1, exact)]


def test_over_long_line_is_reported_and_skipped(tmp_path: Path) -> None:
    results = write_jsonl(
        tmp_path / "results.jsonl",
        [
            answered("interview_1"),
            answered("interview_2", text="z" * 100_000),
            answered("interview_3"),
        ],
    )
    result = convert(
        tmp_path, results, "--model", "claude-sonnet-5-5", env={"INTERVIEWS_MAX_LINE_BYTES": "4096"}
    )
    assert result.returncode == 1
    assert f"{results}:2: line of " in result.stderr
    assert "bytes is longer than the 4,096-byte limit; line skipped" in result.stderr
    assert "the raw file is kept" in result.stderr
    folder = tmp_path / "work" / "data" / "interviews"
    assert sorted(p.name for p in folder.iterdir()) == ["interview_1.json", "interview_3.json"]
    assert results.stat().st_size > 100_000  # the raw file is untouched


def test_refetch_results_keeps_the_old_file_and_every_answer(setup, control) -> None:  # noqa: F811
    adapter, ledger, dirs = setup
    plan = prepare_run(params(count=3, max_rounds=0), ledger=ledger, dirs=dirs)
    chunk = plan.chunks[0]
    from interviews.pipeline import submit_chunk

    job = submit_chunk(chunk, adapter=adapter, ledger=ledger)
    job = adapter.retrieve(job.batch_id)
    path = download_chunk(chunk, job, adapter=adapter, ledger=ledger, dirs=dirs)
    good_bytes = path.read_bytes()
    # a bad saved file: one line garbled (the line count still matches, so it was kept)
    lines = good_bytes.splitlines()
    garbled = next(i for i, line in enumerate(lines) if b"interview_1" in line)
    lines[garbled] = b'{"custom_id": "interview_1", "result": {"type": "succ'
    path.write_bytes(b"\n".join(lines) + b"\n")

    def convert_now():
        return convert_chunk(
            ledger.get_chunk(chunk.id), ledger.get_chunk(chunk.id).results_path, job,
            model=plan.model, ledger=ledger, dirs=dirs, records_dir=dirs.interviews,
        )  # fmt: skip

    first = convert_now()
    assert first.problems.skipped == 1 and first.statuses == {"succeeded": 2, "errored": 1}
    assert f"{path}:{garbled + 1}: not a anthropic batch result line" in first.problems.messages[0]
    # a re-run without refetch reuses the bad file
    again = download_chunk(
        ledger.get_chunk(chunk.id), job, adapter=adapter, ledger=ledger, dirs=dirs
    )
    assert again == path and convert_now().problems.skipped == 1
    # refetch: the first new download is cut short by the emulator, through the real SDK
    control.set_faults(truncate_results=1)
    with pytest.raises(TransientProviderError, match="cut short"):
        download_chunk(
            ledger.get_chunk(chunk.id), job, adapter=adapter, ledger=ledger, dirs=dirs, refetch=True
        )
    kept = path.with_name(f"{path.stem}.replaced-1.jsonl")
    assert kept.exists() and b'"type": "succ\n' in kept.read_bytes()  # never deleted
    # the step's retry downloads again: the chunk no longer points at a saved file
    fresh = download_chunk(
        ledger.get_chunk(chunk.id), job, adapter=adapter, ledger=ledger, dirs=dirs, refetch=True
    )
    assert fresh == path and sorted(fresh.read_bytes().splitlines()) == sorted(
        good_bytes.splitlines()
    )
    second = convert_now()
    assert second.problems.skipped == 0 and second.statuses == {"succeeded": 3}
    # an answered record is never replaced by a failure: garble another line and refetch-less
    # convert again; interview_0 keeps its answer from the earlier conversion
    lines = fresh.read_bytes().splitlines()
    lines = [b"{}" if b"interview_0" in line else line for line in lines]
    fresh.write_bytes(b"\n".join(lines) + b"\n")
    third = convert_now()
    assert third.statuses == {"succeeded": 3} and third.kept_earlier_answers >= 1
    record = orjson.loads((dirs.interviews / "interview_0.json").read_bytes())
    assert record["status"] == "succeeded"
    assert sorted(p.name for p in dirs.results.iterdir()) == sorted([path.name, kept.name])


@pytest.mark.parametrize("bad_id", [*HOSTILE_IDS, 7])
def test_a_request_file_with_a_bad_custom_id_is_refused_naming_its_line(
    tmp_path: Path, bad_id: object
) -> None:
    # A request file may be hand-edited; its ids name record files, so each must be a whole
    # valid id (a trailing newline passed a `$` match) and a string.
    from interviews.errors import InputError
    from interviews.requests import CANONICAL_FIELDS, read_requests

    good = {name: {} for name in CANONICAL_FIELDS} | {"custom_id": "interview_1", "persona_id": 1}
    path = tmp_path / "requests.jsonl"
    write_jsonl(path, [json.dumps(good), json.dumps(good | {"custom_id": bad_id})])
    with pytest.raises(InputError) as caught:
        list(read_requests(path))
    assert f"{path}:2" in str(caught.value) and "custom_id" in str(caught.value)
