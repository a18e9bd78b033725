"""The Vertex adapter on google-cloud-aiplatform + google-cloud-storage against the emulator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from google.cloud.aiplatform_v1 import JobState
from google.oauth2.credentials import Credentials

from interviews.batch_types import BatchStatus, OutcomeStatus
from interviews.errors import PermanentProviderError, TransientProviderError
from interviews.providers.base import BatchTag
from interviews.providers.vertex_batches import _STATUS_MAP, VertexBatchAdapter
from interviews.requests import CanonicalRequest
from tests.providers.support import finish

BUCKET = "interviews-emulator"
MODEL = "gemini-3.5-flash"


def make_adapter(emu) -> VertexBatchAdapter:
    return VertexBatchAdapter(
        project="proj",
        location="us-central1",
        bucket=BUCKET,
        credentials=Credentials(token="test-token"),
        api_endpoint=emu.vertex_base_url,
        storage_endpoint=emu.gcs_url,
        timeout=10,
    )


def lines_file(tmp_path: Path, n: int) -> Path:
    path = tmp_path / f"vertex_{n}.jsonl"
    with path.open("wb") as handle:
        for i in range(n):
            request = CanonicalRequest(
                f"interview_{i}", i, {}, {}, f"- Name: Person {i}\n- Age: {40 + i}", "How are you?"
            )
            line = VertexBatchAdapter.build_line(request, model=MODEL, max_tokens=256)
            handle.write(orjson.dumps(line) + b"\n")
    return path


# One intent instant for the module: a chunk's ownership tag is derived from it.
INTENT_AT = datetime.now(UTC)


def tag(n: int, chunk: str = "run:r0:c0") -> BatchTag:
    return BatchTag("run", MODEL, chunk, "a" * 64, n, INTENT_AT)


def download(adapter, job, tmp_path: Path):
    dest = tmp_path / "raw.jsonl"
    adapter.download_results(job.batch_id, dest)
    return list(adapter.parse_results(dest))


def test_status_map_covers_every_job_state() -> None:
    assert set(_STATUS_MAP) == {state.name for state in JobState}
    assert not _STATUS_MAP["JOB_STATE_PAUSED"].is_terminal
    assert _STATUS_MAP["JOB_STATE_PARTIALLY_SUCCEEDED"].is_terminal


def test_full_job_out_of_order(emu, control, tmp_path: Path) -> None:
    adapter = make_adapter(emu)
    job = finish(adapter, control, adapter.create(lines_file(tmp_path, 12), tag=tag(12)).batch_id)
    assert job.status is BatchStatus.SUCCEEDED
    outcomes = download(adapter, job, tmp_path)
    ids = [o.custom_id for o in outcomes]
    assert sorted(ids) == sorted(f"interview_{i}" for i in range(12))
    assert ids != [f"interview_{i}" for i in range(12)]
    third = next(o for o in outcomes if o.custom_id == "interview_3")
    assert "Person 3" in third.text and third.usage.output_tokens > 0


def test_partially_succeeded_with_failure_lines(emu, control, tmp_path: Path) -> None:
    control.set_faults(lines={"interview_1": {"type": "errored", "message": "quota"}})
    adapter = make_adapter(emu)
    job = finish(adapter, control, adapter.create(lines_file(tmp_path, 4), tag=tag(4)).batch_id)
    assert job.status is BatchStatus.PARTIALLY_SUCCEEDED
    by_id = {o.custom_id: o for o in download(adapter, job, tmp_path)}
    assert by_id["interview_1"].status is OutcomeStatus.ERRORED
    assert by_id["interview_0"].status is OutcomeStatus.SUCCEEDED


def test_several_output_files_are_all_read(emu, control, tmp_path: Path) -> None:
    control.configure(vertex_output_files=3)
    adapter = make_adapter(emu)
    job = finish(adapter, control, adapter.create(lines_file(tmp_path, 9), tag=tag(9)).batch_id)
    assert len(download(adapter, job, tmp_path)) == 9


def test_expired_job_keeps_completed_answers(emu, control, tmp_path: Path) -> None:
    control.configure(processing_seconds=48 * 3600)
    adapter = make_adapter(emu)
    job = adapter.create(lines_file(tmp_path, 6), tag=tag(6))
    adapter.retrieve(job.batch_id)
    control.advance(30 * 3600)
    job = finish(adapter, control, job.batch_id)
    assert job.provider_status == "JOB_STATE_EXPIRED" and job.status is BatchStatus.EXPIRED
    outcomes = download(adapter, job, tmp_path)
    assert any(o.status is OutcomeStatus.SUCCEEDED for o in outcomes)


def test_cancel(emu, control, tmp_path: Path) -> None:
    control.configure(processing_seconds=100)
    adapter = make_adapter(emu)
    job = adapter.create(lines_file(tmp_path, 6), tag=tag(6))
    adapter.retrieve(job.batch_id)
    control.advance(50)
    adapter.cancel(job.batch_id)
    job = finish(adapter, control, job.batch_id)
    assert job.status is BatchStatus.CANCELED


def test_find_by_labels(emu, control, tmp_path: Path) -> None:
    adapter = make_adapter(emu)
    made = adapter.create(lines_file(tmp_path, 2), tag=tag(2, "run:r0:c0"))
    adapter.create(lines_file(tmp_path, 3), tag=tag(3, "run:r0:c1"))
    assert [f.job.batch_id for f in adapter.find_batches(tag(2, "run:r0:c0"))] == [made.batch_id]


def test_faults_and_errors(emu, control, tmp_path: Path) -> None:
    adapter = make_adapter(emu)
    control.set_faults(http=[{"provider": "vertex", "method": "GET", "status": 503, "count": 1}])
    job = adapter.create(lines_file(tmp_path, 2), tag=tag(2))
    assert finish(adapter, control, job.batch_id).status.is_terminal  # the 503 was retried
    with pytest.raises(PermanentProviderError) as caught:
        adapter.retrieve("projects/proj/locations/us-central1/batchPredictionJobs/999")
    assert caught.value.status_code == 404
    control.set_faults(http=[{"provider": "vertex", "method": "POST", "status": 500, "count": 1}])
    with pytest.raises(TransientProviderError):
        adapter.create(lines_file(tmp_path, 2), tag=tag(2))
