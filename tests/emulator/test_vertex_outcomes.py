"""Vertex job outcomes: partial success, failed input, expiry, several files, faults, auth."""

import httpx
import pytest
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.auth.exceptions import InvalidOperation
from google.cloud import aiplatform_v1, storage
from google.genai import Client as GenaiClient
from google.genai import errors, types

from interviews.emulator import DEFAULT_BUCKET, EmulatorControl, EmulatorServer
from tests.emulator.google_support import (
    PARENT,
    create_job,
    line_custom_id,
    output_files,
    prediction_lines,
    run_job,
    state_name,
    upload_input,
    vertex_lines,
)

VALID = b'{"request": {"contents": [{"parts": [{"text": "hi"}]}]}}\n'
CREATE = "POST /v1/projects/{project}/locations/{location}/batchPredictionJobs"


@pytest.fixture(autouse=True)
def _instant(control: EmulatorControl) -> None:
    control.configure(processing_seconds=0)


def test_failure_lines_make_a_partially_succeeded_job(
    job_client: aiplatform_v1.JobServiceClient,
    gcs_client: storage.Client,
    control: EmulatorControl,
) -> None:
    lines = vertex_lines(5)
    lines[3]["request"]["generationConfig"]["maxOutputTokens"] = 0  # the endpoint rejects it
    control.set_faults(lines={"interview_1": {"type": "errored", "message": "Internal error."}})
    job = run_job(job_client, create_job(job_client, upload_input(gcs_client, lines)).name)

    assert state_name(job) == "PARTIALLY_SUCCEEDED"
    stats = job.completion_stats
    assert (stats.successful_count, stats.failed_count, stats.incomplete_count) == (3, 2, 0)
    by_id = {
        line_custom_id(line): line
        for line in prediction_lines(gcs_client, job.output_info.gcs_output_directory)
    }
    assert len(by_id) == 5
    assert by_id["interview_1"]["status"] == "Internal error."
    assert "maxOutputTokens value of 0" in by_id["interview_3"]["status"]
    for failed in ("interview_1", "interview_3"):
        assert "response" not in by_id[failed] and by_id[failed]["request"]
    assert by_id["interview_0"]["status"] == "" and "response" in by_id["interview_0"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        (VALID + b"not json\n", "Invalid JSON at line 2"),
        (b'{"request": {"contents": []}}\n', "no `contents`"),
        (VALID + b'{"instance": {}}\n', "Line 2 of"),
        (b"\n", "no requests"),
    ],
)
def test_unusable_input_fails_the_job(
    job_client: aiplatform_v1.JobServiceClient,
    gcs_client: storage.Client,
    content: bytes | None,
    message: str,
) -> None:
    uri = f"gs://{DEFAULT_BUCKET}/in/missing.jsonl"
    if content is not None:
        gcs_client.bucket(DEFAULT_BUCKET).blob("in/bad.jsonl").upload_from_string(
            content, retry=None
        )
        uri = f"gs://{DEFAULT_BUCKET}/in/bad.jsonl"
    job = create_job(job_client, uri)
    assert state_name(job) == "PENDING"
    failed = run_job(job_client, job.name)
    assert state_name(failed) == "FAILED"
    assert failed.error.code == 3 and message in failed.error.message
    assert not failed.output_info.gcs_output_directory


def test_an_unfinished_request_expires_the_job_after_24_hours(
    job_client: aiplatform_v1.JobServiceClient,
    gcs_client: storage.Client,
    control: EmulatorControl,
) -> None:
    control.set_faults(lines={"interview_2": {"type": "expired"}})
    job = create_job(job_client, upload_input(gcs_client, vertex_lines(4)))
    for _ in range(3):
        running = job_client.get_batch_prediction_job(name=job.name, retry=None, timeout=10)
        assert state_name(running) == "RUNNING"
    assert running.completion_stats.successful_count == 3
    assert running.completion_stats.incomplete_count == 1

    control.advance(24 * 3600)
    expired = run_job(job_client, job.name)
    assert state_name(expired) == "EXPIRED" and expired.error.code == 4
    assert expired.completion_stats.incomplete_count == 1
    lines = prediction_lines(gcs_client, expired.output_info.gcs_output_directory)
    assert sorted(line_custom_id(line) for line in lines) == [
        "interview_0", "interview_1", "interview_3",
    ]  # fmt: skip


def test_several_output_files_hold_every_line_once(
    job_client: aiplatform_v1.JobServiceClient,
    gcs_client: storage.Client,
    control: EmulatorControl,
) -> None:
    control.configure(vertex_output_files=3)
    job = create_job(job_client, upload_input(gcs_client, vertex_lines(7)))
    job = run_job(job_client, job.name)
    directory = job.output_info.gcs_output_directory
    names = sorted(name.rsplit("/", 1)[1] for name in output_files(gcs_client, directory))
    assert names == [f"predictions_0000{k}.jsonl" for k in (1, 2, 3)]
    ids = [line_custom_id(line) for line in prediction_lines(gcs_client, directory)]
    assert sorted(ids) == sorted(f"interview_{i}" for i in range(7))


def test_truncation_fault_cuts_the_last_prediction_file(
    job_client: aiplatform_v1.JobServiceClient,
    gcs_client: storage.Client,
    control: EmulatorControl,
) -> None:
    control.set_faults(truncate_results=1)
    job = create_job(job_client, upload_input(gcs_client, vertex_lines(4)))
    job = run_job(job_client, job.name)
    (content,) = output_files(gcs_client, job.output_info.gcs_output_directory).values()
    assert not content.endswith(b"\n") and content.count(b"\n") == 2


def test_429_and_500_faults_reach_both_sdks(
    job_client: aiplatform_v1.JobServiceClient,
    vertex_genai: GenaiClient,
    gcs_client: storage.Client,
    control: EmulatorControl,
) -> None:
    source = upload_input(gcs_client, vertex_lines(1))
    control.set_faults(
        http=[
            {"provider": "vertex", "method": "POST", "path": "/batchPredictionJobs$",
             "status": 429, "count": 1},
            {"provider": "vertex", "method": "GET", "status": 500, "count": 1},
        ]
    )  # fmt: skip
    with pytest.raises(exceptions.TooManyRequests) as caught:
        create_job(job_client, source)
    assert caught.value.response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    job = create_job(job_client, source)  # the fault fired its one time
    with pytest.raises(errors.ServerError) as server_error:
        vertex_genai.batches.get(name=job.name)
    assert server_error.value.code == 500 and server_error.value.status == "INTERNAL"
    assert vertex_genai.batches.get(name=job.name).state == types.JobState.JOB_STATE_RUNNING

    stats = control.stats()["vertex"]
    assert stats["faults_fired"] == 2 and stats["calls"][CREATE] == 2
    assert stats["batches_created"] == 1


def test_genai_retries_survive_a_transient_fault(
    emulator: EmulatorServer,
    google_credentials: object,
    gcs_client: storage.Client,
    control: EmulatorControl,
) -> None:
    control.set_faults(http=[{"provider": "vertex", "status": 503, "count": 1}])
    client = GenaiClient(
        vertexai=True,
        project=PARENT.split("/")[1],
        location=PARENT.split("/")[3],
        credentials=google_credentials,  # type: ignore[arg-type]
        http_options=types.HttpOptions(
            base_url=emulator.vertex_base_url,
            retry_options=types.HttpRetryOptions(attempts=2, initial_delay=0.01, jitter=0),
        ),
    )
    with client:
        assert list(client.batches.list()) == []
    assert control.stats()["vertex"]["faults_fired"] == 1


def test_missing_bearer_token_is_401(emulator: EmulatorServer, control: EmulatorControl) -> None:
    anonymous = aiplatform_v1.JobServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=emulator.vertex_base_url),
    )
    # google-auth refreshes credentials after a 401, which anonymous ones cannot do.
    with pytest.raises(InvalidOperation, match="cannot be refreshed"):
        anonymous.get_batch_prediction_job(
            name=f"{PARENT}/batchPredictionJobs/1", retry=None, timeout=10
        )
    for version, headers in (("v1", {}), ("v1beta1", {"Authorization": "Basic abc"})):
        response = httpx.get(
            f"{emulator.vertex_base_url}/{version}/{PARENT}/batchPredictionJobs",
            headers=headers,
            trust_env=False,
        )
        assert response.status_code == 401
        assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    assert control.stats()["vertex"]["batches_created"] == 0
