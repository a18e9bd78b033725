"""Builders and helpers for the Vertex and Gemini emulator tests."""

from typing import Any

import orjson
from google.cloud import aiplatform_v1, storage
from google.genai import Client as GenaiClient
from google.genai import types

from interviews.emulator import DEFAULT_BUCKET
from tests.emulator.builders import QUESTION, jsonl, system_prompt

PROJECT, LOCATION = "emulator-project", "us-central1"
PARENT = f"projects/{PROJECT}/locations/{LOCATION}"
MODEL = "publishers/google/models/gemini-2.5-flash"
ENDED = {"SUCCEEDED", "PARTIALLY_SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED"}


def generate_request(index: int, **config: Any) -> dict[str, Any]:
    """A camelCase GenerateContentRequest for interview `index` (`config` → generationConfig)."""
    return {
        "contents": [{"role": "user", "parts": [{"text": QUESTION}]}],
        "systemInstruction": {"parts": [{"text": system_prompt(index)}]},
        "generationConfig": {"temperature": 0.7, "maxOutputTokens": 2048, **config},
    }


def vertex_lines(count: int, **config: Any) -> list[dict[str, Any]]:
    """Vertex input lines with `request.labels.custom_id` = `interview_<i>`."""
    return [
        {"request": {**generate_request(i, **config), "labels": {"custom_id": f"interview_{i}"}}}
        for i in range(count)
    ]


def upload_input(gcs: storage.Client, lines: list[Any], name: str = "in/input.jsonl") -> str:
    """Write `lines` as JSONL to the emulator bucket and return the gs:// URI."""
    gcs.bucket(DEFAULT_BUCKET).blob(name).upload_from_string(jsonl(lines), retry=None)
    return f"gs://{DEFAULT_BUCKET}/{name}"


def output_files(gcs: storage.Client, directory: str) -> dict[str, bytes]:
    """Every object under a `gs://bucket/dir` output directory, by object name."""
    bucket, _, prefix = directory.removeprefix("gs://").partition("/")
    return {
        blob.name: blob.download_as_bytes(retry=None)
        for blob in gcs.list_blobs(bucket, prefix=prefix + "/", retry=None)
    }


def prediction_lines(gcs: storage.Client, directory: str) -> list[dict[str, Any]]:
    """The parsed lines of every prediction file in `directory`, file by file."""
    return [
        orjson.loads(line)
        for _, content in sorted(output_files(gcs, directory).items())
        for line in content.splitlines()
    ]


def line_custom_id(line: dict[str, Any]) -> str:
    """The custom id an output line carries in its echoed request."""
    return str(line["request"]["labels"]["custom_id"])


def create_job(
    client: aiplatform_v1.JobServiceClient, input_uri: str, **fields: Any
) -> aiplatform_v1.BatchPredictionJob:
    """Create a job over `input_uri` through GAPIC, output under `gs://<bucket>/out`."""
    job = aiplatform_v1.BatchPredictionJob(
        display_name=fields.pop("display_name", "interviews-test"),
        model=MODEL,
        input_config={"instances_format": "jsonl", "gcs_source": {"uris": [input_uri]}},
        output_config={
            "predictions_format": "jsonl",
            "gcs_destination": {"output_uri_prefix": f"gs://{DEFAULT_BUCKET}/out"},
        },
        **fields,
    )
    return client.create_batch_prediction_job(
        parent=PARENT, batch_prediction_job=job, retry=None, timeout=10
    )


def state_name(job: aiplatform_v1.BatchPredictionJob) -> str:
    """`SUCCEEDED` for `JobState.JOB_STATE_SUCCEEDED`."""
    return job.state.name.removeprefix("JOB_STATE_")


def run_job(
    client: aiplatform_v1.JobServiceClient, name: str, reads: int = 5
) -> aiplatform_v1.BatchPredictionJob:
    """Poll through GAPIC until the job ends (each read advances it one step)."""
    for _ in range(reads):
        job = client.get_batch_prediction_job(name=name, retry=None, timeout=10)
        if state_name(job) in ENDED:
            return job
    raise AssertionError(f"job {name} did not end within {reads} reads")


def run_genai(client: GenaiClient, name: str, reads: int = 5) -> types.BatchJob:
    """Poll through google-genai until the batch ends (`done`, or PARTIALLY_SUCCEEDED)."""
    for _ in range(reads):
        job = client.batches.get(name=name)
        if job.done or job.state == types.JobState.JOB_STATE_PARTIALLY_SUCCEEDED:
            return job
    raise AssertionError(f"batch {name} did not end within {reads} reads")


def inline_requests(count: int, **config: Any) -> list[dict[str, Any]]:
    """Gemini inline requests (SDK dict form) with `metadata.key` = `interview_<i>`."""
    return [
        {
            "contents": [{"role": "user", "parts": [{"text": QUESTION}]}],
            "config": {"system_instruction": system_prompt(i), **config},
            "metadata": {"key": f"interview_{i}", "persona": str(i)},
        }
        for i in range(count)
    ]


def gemini_file_lines(count: int, **config: Any) -> list[dict[str, Any]]:
    """Gemini file-input lines `{"key", "request"}` with keys `interview_<i>`."""
    return [
        {"key": f"interview_{i}", "request": generate_request(i, **config)} for i in range(count)
    ]
