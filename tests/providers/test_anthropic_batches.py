"""The Anthropic adapter on the real SDK against the emulator."""

from __future__ import annotations

import typing
from datetime import UTC, datetime
from pathlib import Path

import anthropic
import orjson
import pydantic
import pytest
from anthropic.types.messages import MessageBatch
from anthropic.types.messages.batch_create_params import Request

from interviews.batch_types import BatchStatus, OutcomeStatus
from interviews.errors import (
    ForeignBatchError,
    PermanentProviderError,
    ResultParseError,
    TransientProviderError,
)
from interviews.providers.anthropic_batches import _STATUS_MAP, AnthropicBatchAdapter
from interviews.providers.base import BatchTag
from interviews.requests import CanonicalRequest
from tests.conftest import line_faults


def make_adapter(emu, **kwargs) -> AnthropicBatchAdapter:
    # strict mode: any drift between emulator shapes and the SDK's types fails these tests
    return AnthropicBatchAdapter(
        api_key="test-key", base_url=emu.anthropic_base_url, strict_responses=True, **kwargs
    )


def lines_file(tmp_path: Path, n: int, *, model: str = "claude-sonnet-5-5") -> Path:
    path = tmp_path / "lines.jsonl"
    with path.open("wb") as handle:
        for i in range(n):
            request = CanonicalRequest(
                f"interview_{i}", i, {}, {}, f"- Name: Person {i}\n- Age: {30 + i}", "How are you?"
            )
            line = AnthropicBatchAdapter.build_line(request, model=model, max_tokens=512)
            handle.write(orjson.dumps(line) + b"\n")
    return path


# One intent instant for the module: a chunk's ownership tag is derived from it.
INTENT_AT = datetime.now(UTC)


def tag(n: int, chunk: str = "run:r0:c0") -> BatchTag:
    return BatchTag("run", "claude-sonnet-5-5", chunk, "sha", n, INTENT_AT)


def test_status_map_covers_every_sdk_literal() -> None:
    literal = MessageBatch.model_fields["processing_status"].annotation
    assert set(_STATUS_MAP) == set(typing.get_args(literal))


def test_build_line_is_an_sdk_request_without_sampling_params() -> None:
    request = CanonicalRequest("interview_1", 1, {}, {}, "sys", "q?")
    line = AnthropicBatchAdapter.build_line(request, model="claude-sonnet-5-5", max_tokens=100)
    pydantic.TypeAdapter(Request).validate_python(line, strict=True)
    assert not {"temperature", "top_p", "top_k"} & line["params"].keys()


def test_full_cycle_out_of_order(emu, control, tmp_path: Path) -> None:
    adapter = make_adapter(emu)
    job = adapter.create(lines_file(tmp_path, 20), tag=tag(20))
    assert job.status is BatchStatus.RUNNING or job.status.is_terminal
    job = adapter.retrieve(job.batch_id)
    assert job.status is BatchStatus.SUCCEEDED and job.counts.succeeded == 20
    dest = tmp_path / "raw.jsonl"
    assert adapter.download_results(job.batch_id, dest) == dest.stat().st_size
    outcomes = list(adapter.parse_results(dest))
    ids = [o.custom_id for o in outcomes]
    assert sorted(ids) == sorted(f"interview_{i}" for i in range(20))
    assert ids != [f"interview_{i}" for i in range(20)]  # shuffled, like the real API
    first = next(o for o in outcomes if o.custom_id == "interview_3")
    assert first.status is OutcomeStatus.SUCCEEDED and "Person 3" in first.text
    assert first.usage.input_tokens > 0 and first.usage.output_tokens > 0


def test_errored_and_expired_lines_are_kept_as_such(emu, control, tmp_path: Path) -> None:
    control.set_faults(
        lines=line_faults(
            {
                "interview_1": {
                    "type": "errored",
                    "error_type": "overloaded_error",
                    "message": "busy",
                },
                "interview_2": {
                    "type": "errored",
                    "error_type": "invalid_request_error",
                    "message": "no",
                },
                "interview_3": {"type": "expired"},
            }
        )
    )
    adapter = make_adapter(emu)
    job = adapter.retrieve(adapter.create(lines_file(tmp_path, 5), tag=tag(5)).batch_id)
    assert job.status is BatchStatus.PARTIALLY_SUCCEEDED
    dest = tmp_path / "raw.jsonl"
    adapter.download_results(job.batch_id, dest)
    by_id = {o.custom_id: o for o in adapter.parse_results(dest)}
    assert by_id["interview_1"].error.kind == "overloaded_error"
    assert by_id["interview_1"].error.transient
    assert not by_id["interview_2"].error.transient
    assert by_id["interview_3"].status is OutcomeStatus.EXPIRED
    assert by_id["interview_0"].status is OutcomeStatus.SUCCEEDED


def test_cancel_keeps_finished_answers(emu, control, tmp_path: Path) -> None:
    control.configure(processing_seconds=100)
    adapter = make_adapter(emu)
    job = adapter.create(lines_file(tmp_path, 10), tag=tag(10))
    control.advance(55)
    assert adapter.cancel(job.batch_id).status is BatchStatus.CANCELING
    job = adapter.retrieve(job.batch_id)
    assert job.status is BatchStatus.PARTIALLY_SUCCEEDED
    assert job.counts.canceled and job.counts.succeeded


def test_reads_survive_500_but_create_is_never_retried_by_the_sdk(
    emu, control, tmp_path: Path
) -> None:
    control.set_faults(
        http=[
            {"provider": "anthropic", "method": "POST", "path": "/batches$", "status": 429},
            {"provider": "anthropic", "method": "GET", "path": "/batches/", "status": 500},
        ]
    )
    adapter = make_adapter(emu, max_retries=2)
    with pytest.raises(TransientProviderError) as caught:
        adapter.create(lines_file(tmp_path, 2), tag=tag(2))
    assert caught.value.status_code == 429 and caught.value.retry_after == pytest.approx(0.01)
    job = adapter.retrieve(adapter.create(lines_file(tmp_path, 2), tag=tag(2)).batch_id)
    assert job.status is BatchStatus.SUCCEEDED  # the GET's 500 was retried by the SDK
    stats = control.stats()["anthropic"]
    assert stats["batches_created"] == 1 and stats["faults_fired"] == 2


def test_errors_are_classified_by_status(emu, control, tmp_path: Path) -> None:
    adapter = make_adapter(emu, max_retries=0)
    with pytest.raises(PermanentProviderError) as caught:
        adapter.retrieve("msgbatch_doesnotexist")
    assert caught.value.status_code == 404
    assert isinstance(caught.value.__cause__, anthropic.NotFoundError)
    control.set_faults(http=[{"provider": "anthropic", "status": 529, "path": "", "count": 1}])
    with pytest.raises(TransientProviderError):
        adapter.retrieve("msgbatch_doesnotexist")


def test_ids_carry_the_chunk_tag_at_the_provider_and_come_back_without_it(
    emu, control, tmp_path: Path
) -> None:
    control.configure(processing_seconds=0)
    adapter = make_adapter(emu)
    job = adapter.create(lines_file(tmp_path, 3), tag=tag(3))
    dest = tmp_path / "raw.jsonl"
    adapter.download_results(adapter.retrieve(job.batch_id).batch_id, dest)
    raw_ids = sorted(orjson.loads(line)["custom_id"] for line in dest.read_bytes().splitlines())
    owner = tag(3).owner
    assert len(owner) == 8 and owner.isupper()
    assert raw_ids == [f"interview_{i}-{owner}" for i in range(3)]
    outcomes = list(AnthropicBatchAdapter.parse_results(dest))
    assert sorted(o.custom_id for o in outcomes) == ["interview_0", "interview_1", "interview_2"]
    adapter.check_owner(dest, tag(3))  # ours: no error
    with pytest.raises(ForeignBatchError, match="another run's batch"):
        adapter.check_owner(dest, tag(3, chunk="other:r0:c0"))


def test_find_batches_proves_ended_batches_by_their_results(emu, control, tmp_path: Path) -> None:
    """Same size, same minute: only the results' tag tells a chunk's batch from another's."""
    control.configure(processing_seconds=0)
    adapter = make_adapter(emu)
    ours = adapter.create(lines_file(tmp_path, 3), tag=tag(3))
    adapter.create(lines_file(tmp_path, 3), tag=tag(3, chunk="another-run:r0:c0"))
    adapter.create(lines_file(tmp_path, 4), tag=tag(4))  # another size: not even a candidate
    control.advance(1)  # all three end
    found = adapter.find_batches(tag(3))
    assert [(f.job.batch_id, f.proven) for f in found] == [(ours.batch_id, True)]
    # another chunk's view: the foreign ended batch is proven its own, ours is left out
    other = adapter.find_batches(tag(3, chunk="another-run:r0:c0"))
    assert len(other) == 1 and other[0].proven and other[0].job.batch_id != ours.batch_id


def test_find_batches_returns_running_batches_unproven(emu, control, tmp_path: Path) -> None:
    control.configure(processing_seconds=600)
    adapter = make_adapter(emu)
    running = adapter.create(lines_file(tmp_path, 3), tag=tag(3, chunk="another-run:r0:c0"))
    found = adapter.find_batches(tag(3))
    assert [(f.job.batch_id, f.proven) for f in found] == [(running.batch_id, False)]


def test_cut_off_results_file_is_a_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    path.write_text('{"custom_id": "interview_0", "result": {"type": "succ')
    with pytest.raises(ResultParseError, match=":1:"):
        list(AnthropicBatchAdapter.parse_results(path))
