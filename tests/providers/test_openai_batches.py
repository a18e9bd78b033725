"""The OpenAI adapter on the real SDK against the emulator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import openai
import orjson
import pytest
from openai.types import Batch

from interviews.batch_types import BatchStatus, OutcomeStatus
from interviews.errors import PermanentProviderError
from interviews.providers.base import BatchTag
from interviews.providers.openai_batches import (
    _STATUS_MAP,
    CHAT,
    RESPONSES,
    OpenAIBatchAdapter,
    outcome_from_line,
)
from interviews.requests import CanonicalRequest
from tests.providers.support import finish


def make_adapter(emu, **kwargs) -> OpenAIBatchAdapter:
    return OpenAIBatchAdapter(
        api_key="test-key", base_url=emu.openai_base_url, strict_responses=True, **kwargs
    )


def lines_file(tmp_path: Path, n: int, *, endpoint: str = CHAT, model: str = "gpt-6.1-terra"):
    path = tmp_path / f"lines_{endpoint.strip('/').replace('/', '_')}_{n}.jsonl"
    with path.open("wb") as handle:
        for i in range(n):
            request = CanonicalRequest(
                f"interview_{i}", i, {}, {}, f"- Name: Person {i}\n- Age: {30 + i}", "How are you?"
            )
            line = OpenAIBatchAdapter.build_line(
                request, model=model, max_tokens=512, endpoint=endpoint
            )
            handle.write(orjson.dumps(line) + b"\n")
    return path


# One intent instant for the module: a chunk's ownership tag is derived from it.
INTENT_AT = datetime.now(UTC)


def tag(n: int, run: str = "run", chunk: str = "run:r0:c0") -> BatchTag:
    return BatchTag(run, "gpt-6.1-terra", chunk, "f" * 64, n, INTENT_AT)


def test_status_map_covers_every_sdk_literal() -> None:
    import typing

    literal = Batch.model_fields["status"].annotation
    assert set(_STATUS_MAP) == set(typing.get_args(literal))


@pytest.mark.parametrize("endpoint", [CHAT, RESPONSES])
def test_full_cycle_both_endpoints(emu, control, tmp_path: Path, endpoint: str) -> None:
    adapter = make_adapter(emu)
    job = adapter.create(lines_file(tmp_path, 12, endpoint=endpoint), tag=tag(12))
    job = finish(adapter, control, job.batch_id)
    assert job.status is BatchStatus.SUCCEEDED and job.counts.succeeded == 12
    dest = tmp_path / "raw.jsonl"
    adapter.download_results(job.batch_id, dest)
    outcomes = list(adapter.parse_results(dest))
    ids = [o.custom_id for o in outcomes]
    assert sorted(ids) == sorted(f"interview_{i}" for i in range(12))
    assert ids != [f"interview_{i}" for i in range(12)]
    third = next(o for o in outcomes if o.custom_id == "interview_3")
    assert "Person 3" in third.text and third.usage.output_tokens > 0


def test_output_and_error_files_both_consumed(emu, control, tmp_path: Path) -> None:
    control.set_faults(
        lines={
            "interview_1": {"type": "errored", "error_type": "rate_limit_error"},
            "interview_2": {"type": "expired"},
        }
    )
    adapter = make_adapter(emu)
    job = finish(adapter, control, adapter.create(lines_file(tmp_path, 5), tag=tag(5)).batch_id)
    assert job.status is BatchStatus.PARTIALLY_SUCCEEDED
    dest = tmp_path / "raw.jsonl"
    adapter.download_results(job.batch_id, dest)
    by_id = {o.custom_id: o for o in adapter.parse_results(dest)}
    assert len(by_id) == 5
    assert (
        by_id["interview_1"].status is OutcomeStatus.ERRORED
        and by_id["interview_1"].error.transient
    )
    assert by_id["interview_2"].status is OutcomeStatus.EXPIRED


def test_max_tokens_on_a_reasoning_model_is_a_permanent_line_error() -> None:
    line = {
        "id": "batch_req_1",
        "custom_id": "interview_0",
        "response": {
            "status_code": 400,
            "request_id": "req_1",
            "body": {
                "error": {
                    "message": "Use 'max_completion_tokens'",
                    "type": "invalid_request_error",
                    "param": "max_tokens",
                    "code": "unsupported_parameter",
                }
            },
        },
        "error": None,
    }
    outcome = outcome_from_line(line)
    assert outcome.status is OutcomeStatus.ERRORED
    assert outcome.error.kind == "unsupported_parameter" and not outcome.error.transient


def test_expired_batch_keeps_completed_answers(emu, control, tmp_path: Path) -> None:
    control.configure(processing_seconds=48 * 3600)
    adapter = make_adapter(emu)
    job = adapter.create(lines_file(tmp_path, 10), tag=tag(10))
    adapter.retrieve(job.batch_id)
    control.advance(25 * 3600)
    job = finish(adapter, control, job.batch_id)
    assert job.provider_status == "expired"
    assert job.status is BatchStatus.PARTIALLY_SUCCEEDED
    dest = tmp_path / "raw.jsonl"
    adapter.download_results(job.batch_id, dest)
    statuses = [o.status for o in adapter.parse_results(dest)]
    assert len(statuses) == 10
    assert OutcomeStatus.SUCCEEDED in statuses and OutcomeStatus.EXPIRED in statuses


def test_cancelled_batch_keeps_completed_answers(emu, control, tmp_path: Path) -> None:
    control.configure(processing_seconds=100)
    adapter = make_adapter(emu)
    job = adapter.create(lines_file(tmp_path, 10), tag=tag(10))
    adapter.retrieve(job.batch_id)
    control.advance(55)
    assert adapter.cancel(job.batch_id).status is BatchStatus.CANCELING
    job = finish(adapter, control, job.batch_id)
    assert job.provider_status == "cancelled"
    dest = tmp_path / "raw.jsonl"
    adapter.download_results(job.batch_id, dest)
    statuses = [o.status for o in adapter.parse_results(dest)]
    assert OutcomeStatus.SUCCEEDED in statuses and OutcomeStatus.CANCELED in statuses


def test_failed_batch_reports_the_offending_lines(emu, control, tmp_path: Path) -> None:
    path = lines_file(tmp_path, 3)
    lines = path.read_bytes().splitlines()
    bad = orjson.loads(lines[1])
    bad["url"] = RESPONSES  # mismatched endpoint
    path.write_bytes(lines[0] + b"\n" + orjson.dumps(bad) + b"\n" + b"{not json\n")
    adapter = make_adapter(emu)
    job = finish(adapter, control, adapter.create(path, tag=tag(3)).batch_id)
    assert job.status is BatchStatus.FAILED
    text = " ".join(job.errors)
    assert "line 2" in text and "line 3" in text


def test_429_and_500_survived(emu, control, tmp_path: Path) -> None:
    control.set_faults(
        http=[
            {"provider": "openai", "method": "POST", "path": "/files$", "status": 429},
            {"provider": "openai", "method": "GET", "path": "/batches/", "status": 500},
            {"provider": "openai", "method": "GET", "path": "/content$", "status": 503},
        ]
    )
    adapter = make_adapter(emu, max_retries=2)
    job = finish(adapter, control, adapter.create(lines_file(tmp_path, 2), tag=tag(2)).batch_id)
    adapter.download_results(job.batch_id, tmp_path / "raw.jsonl")
    stats = control.stats()["openai"]
    assert stats["batches_created"] == 1 and stats["files_uploaded"] == 1
    assert stats["faults_fired"] == 3


def test_find_batches_by_metadata_and_upload_reuse(emu, control, tmp_path: Path) -> None:
    adapter = make_adapter(emu)
    path = lines_file(tmp_path, 3)
    made = adapter.create(path, tag=tag(3, "run-a", "run-a:r0:c0"))
    adapter.create(lines_file(tmp_path, 4), tag=tag(4, "run-b", "run-b:r0:c0"))
    found = adapter.find_batches(tag(3, "run-a", "run-a:r0:c0"))
    assert [f.job.batch_id for f in found] == [made.batch_id]
    # a re-create of the same chunk (after a crash) reuses the uploaded file
    adapter.create(path, tag=tag(3, "run-a", "run-a:r0:c0"))
    assert control.stats()["openai"]["files_uploaded"] == 2


def test_unknown_batch_is_permanent_404(emu) -> None:
    adapter = make_adapter(emu, max_retries=0)
    with pytest.raises(PermanentProviderError) as caught:
        adapter.retrieve("batch_nope")
    assert caught.value.status_code == 404
    assert isinstance(caught.value.__cause__, openai.NotFoundError)
