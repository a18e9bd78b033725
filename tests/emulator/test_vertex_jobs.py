"""Vertex AI batch prediction jobs through the real SDKs: GAPIC `JobServiceClient` and genai."""

import httpx
import orjson
import pytest
from google.api_core import exceptions
from google.cloud import aiplatform_v1, storage
from google.genai import Client as GenaiClient
from google.genai import types
from google.protobuf import json_format

from interviews.emulator import DEFAULT_BUCKET, EmulatorControl, EmulatorServer
from tests.emulator.builders import NAMES
from tests.emulator.google_support import (
    MODEL,
    PARENT,
    create_job,
    line_custom_id,
    output_files,
    prediction_lines,
    run_genai,
    run_job,
    state_name,
    upload_input,
    vertex_lines,
)


@pytest.fixture(autouse=True)
def _instant(control: EmulatorControl) -> None:
    control.configure(processing_seconds=0)


def test_genai_full_job_writes_shuffled_predictions(
    vertex_genai: GenaiClient, gcs_client: storage.Client, control: EmulatorControl
) -> None:
    source = upload_input(gcs_client, vertex_lines(10))
    job = vertex_genai.batches.create(
        model="gemini-2.5-flash",
        src=source,
        config={"dest": f"gs://{DEFAULT_BUCKET}/out", "display_name": "interviews-r1"},
    )
    assert job.state == types.JobState.JOB_STATE_PENDING
    assert job.name.startswith(PARENT + "/batchPredictionJobs/")
    assert job.name.rsplit("/", 1)[1].isdigit()
    running = vertex_genai.batches.get(name=job.name)
    assert running.state == types.JobState.JOB_STATE_RUNNING and running.start_time

    done = run_genai(vertex_genai, job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED and done.end_time
    assert done.model == MODEL and done.display_name == "interviews-r1"
    assert done.completion_stats.successful_count == 10
    assert done.completion_stats.failed_count == 0
    directory = done.output_info.gcs_output_directory
    assert directory.startswith(f"gs://{DEFAULT_BUCKET}/out/prediction-model-")
    assert list(output_files(gcs_client, directory)) == [
        directory.removeprefix(f"gs://{DEFAULT_BUCKET}/") + "/predictions.jsonl"
    ]

    lines = prediction_lines(gcs_client, directory)
    ids = [line_custom_id(line) for line in lines]
    expected = [f"interview_{i}" for i in range(10)]
    assert sorted(ids) == sorted(expected) and ids != expected
    for line in lines:
        assert line["status"] == "" and line["processed_time"].endswith("+00:00")
        index = int(line_custom_id(line).split("_")[1])
        assert line["request"] == vertex_lines(10)[index]["request"]
        # extra="forbid": the response has only fields the SDK knows.
        response = types.GenerateContentResponse.model_validate(line["response"])
        assert response.candidates[0].finish_reason == types.FinishReason.STOP
        assert response.model_version == "gemini-2.5-flash" and response.response_id
        usage = response.usage_metadata
        assert usage.total_token_count == (
            usage.prompt_token_count + usage.candidates_token_count + usage.thoughts_token_count
        )
        assert NAMES[index % len(NAMES)] in response.text  # the persona answers

    stats = control.stats()["vertex"]
    # The input upload counts; the predictions the emulator wrote do not.
    assert (stats["batches_created"], stats["requests_received"], stats["files_uploaded"]) == (
        1,
        10,
        1,
    )


def test_gapic_job_resource_is_strict_proto_json(
    job_client: aiplatform_v1.JobServiceClient,
    gcs_client: storage.Client,
    emulator: EmulatorServer,
) -> None:
    source = upload_input(gcs_client, vertex_lines(3))
    job = create_job(job_client, source, labels={"run": "r1", "provider": "vertex"})
    assert state_name(job) == "PENDING" and job.labels["run"] == "r1"
    done = run_job(job_client, job.name)
    assert state_name(done) == "SUCCEEDED"
    assert done.completion_stats.successful_count == 3
    assert done.input_config.gcs_source.uris == [source]
    assert done.output_config.gcs_destination.output_uri_prefix == f"gs://{DEFAULT_BUCKET}/out"
    assert done.output_info.gcs_output_directory.startswith(f"gs://{DEFAULT_BUCKET}/out/")

    # The raw JSON parses with unknown fields rejected; enums are names, int64 are strings.
    raw = httpx.get(
        f"{emulator.vertex_base_url}/v1/{job.name}",
        params={"$alt": "json;enum-encoding=int"},
        headers={"Authorization": "Bearer test"},
        trust_env=False,
    )
    body = raw.json()
    assert body["state"] == "JOB_STATE_SUCCEEDED"
    assert body["completionStats"]["successfulCount"] == "3"
    json_format.Parse(raw.content, aiplatform_v1.BatchPredictionJob.pb()())


def test_list_pages_and_filters(
    job_client: aiplatform_v1.JobServiceClient, gcs_client: storage.Client
) -> None:
    source = upload_input(gcs_client, vertex_lines(1))
    names = [
        create_job(job_client, source, display_name=f"job-{i}", labels={"run": f"r{i % 2}"}).name
        for i in range(3)
    ]

    def listed(parent: str = PARENT, **query: object) -> list[aiplatform_v1.BatchPredictionJob]:
        request = aiplatform_v1.ListBatchPredictionJobsRequest(parent=parent, **query)
        return list(job_client.list_batch_prediction_jobs(request=request, retry=None, timeout=10))

    # Newest first, across two pages.
    assert [job.name for job in listed(page_size=2)] == names[::-1]
    assert [job.display_name for job in listed(filter="labels.run=r0")] == ["job-2", "job-0"]
    both = listed(filter='display_name="job-1" AND labels.run=r1')
    assert [job.name for job in both] == [names[1]]
    assert listed(parent="projects/other/locations/us-central1") == []
    with pytest.raises(exceptions.BadRequest, match="Unsupported filter"):
        listed(filter="create_time>1")


def test_genai_list_cancel_and_delete(
    vertex_genai: GenaiClient, gcs_client: storage.Client, control: EmulatorControl
) -> None:
    control.configure(processing_seconds=100)
    source = upload_input(gcs_client, vertex_lines(4))
    job = vertex_genai.batches.create(model="gemini-2.5-flash", src=source)
    assert [j.name for j in vertex_genai.batches.list(config={"page_size": 10})] == [job.name]
    vertex_genai.batches.get(name=job.name)  # starts it
    control.advance(60)
    vertex_genai.batches.cancel(name=job.name)
    cancelled = vertex_genai.batches.get(name=job.name.rsplit("/", 1)[1])  # numeric id works
    assert cancelled.state == types.JobState.JOB_STATE_CANCELLED
    assert cancelled.error.code == 1
    stats = cancelled.completion_stats
    # 60 of 100 seconds: requests ranked 1-2 of 4 finished (done at 25 s and 50 s).
    assert (stats.successful_count, stats.incomplete_count) == (2, 2)
    lines = prediction_lines(gcs_client, cancelled.output_info.gcs_output_directory)
    assert len(lines) == 2 and all(line["status"] == "" for line in lines)

    deleted = vertex_genai.batches.delete(name=job.name)
    assert deleted.done is True
    with pytest.raises(Exception, match="404"):
        vertex_genai.batches.get(name=job.name)


def test_cancel_before_start_writes_nothing_and_ended_jobs_refuse_cancel(
    job_client: aiplatform_v1.JobServiceClient, gcs_client: storage.Client
) -> None:
    job = create_job(job_client, upload_input(gcs_client, vertex_lines(2)))
    job_client.cancel_batch_prediction_job(name=job.name, retry=None, timeout=10)
    done = run_job(job_client, job.name)
    assert state_name(done) == "CANCELLED" and not done.output_info.gcs_output_directory
    with pytest.raises(exceptions.BadRequest) as caught:
        job_client.cancel_batch_prediction_job(name=job.name, retry=None, timeout=10)
    assert caught.value.response.json()["error"]["status"] == "FAILED_PRECONDITION"


def test_delete_answers_a_finished_operation(
    job_client: aiplatform_v1.JobServiceClient, gcs_client: storage.Client
) -> None:
    job = create_job(job_client, upload_input(gcs_client, vertex_lines(1)))
    operation = job_client.delete_batch_prediction_job(name=job.name, retry=None, timeout=10)
    assert operation.done()
    operation.result(timeout=10)  # google.protobuf.Empty, no polling
    with pytest.raises(exceptions.NotFound):
        job_client.get_batch_prediction_job(name=job.name, retry=None, timeout=10)


def test_other_project_cannot_see_the_job(
    job_client: aiplatform_v1.JobServiceClient, gcs_client: storage.Client
) -> None:
    job = create_job(job_client, upload_input(gcs_client, vertex_lines(1)))
    other = job.name.replace(PARENT, "projects/other/locations/us-central1")
    with pytest.raises(exceptions.NotFound):
        job_client.get_batch_prediction_job(name=other, retry=None, timeout=10)


def test_max_output_tokens_truncates(vertex_genai: GenaiClient, gcs_client: storage.Client) -> None:
    source = upload_input(gcs_client, vertex_lines(2, maxOutputTokens=5))
    job = vertex_genai.batches.create(model="gemini-2.5-flash", src=source)
    done = run_genai(vertex_genai, job.name)
    for line in prediction_lines(gcs_client, done.output_info.gcs_output_directory):
        response = types.GenerateContentResponse.model_validate(line["response"])
        assert response.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
        assert response.usage_metadata.candidates_token_count == 5
        assert len(response.text) <= 20


def test_bad_create_requests_are_rejected(job_client: aiplatform_v1.JobServiceClient) -> None:
    job = aiplatform_v1.BatchPredictionJob(
        display_name="bad",
        model="gemini-2.5-flash",  # not a resource name
        input_config={"instances_format": "jsonl", "gcs_source": {"uris": ["gs://b/in.jsonl"]}},
        output_config={"predictions_format": "jsonl", "gcs_destination": {"output_uri_prefix": "gs://b/o"}},
    )  # fmt: skip
    with pytest.raises(exceptions.BadRequest, match="Invalid model"):
        job_client.create_batch_prediction_job(
            parent=PARENT, batch_prediction_job=job, retry=None, timeout=10
        )
    job.model, job.labels = MODEL, {"Bad Key": "x"}
    with pytest.raises(exceptions.BadRequest, match="label"):
        job_client.create_batch_prediction_job(
            parent=PARENT, batch_prediction_job=job, retry=None, timeout=10
        )


def test_raw_envelope_and_v1beta1_path(emulator: EmulatorServer) -> None:
    response = httpx.get(
        f"{emulator.vertex_base_url}/v1beta1/{PARENT}/batchPredictionJobs/123",
        headers={"Authorization": "Bearer test"},
        trust_env=False,
    )
    assert response.status_code == 404
    assert orjson.loads(response.content)["error"]["status"] == "NOT_FOUND"
