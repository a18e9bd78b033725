"""Gemini Developer API batch mode through google-genai: inline and file batches."""

import io

import httpx
import orjson
import pytest
from google.genai import Client as GenaiClient
from google.genai import errors, types

from interviews.emulator import EmulatorControl, EmulatorServer
from tests.emulator.builders import NAMES, jsonl
from tests.emulator.google_support import gemini_file_lines, inline_requests, run_genai

CREATE = "POST /v1beta/models/{model}:batchGenerateContent"


@pytest.fixture(autouse=True)
def _instant(control: EmulatorControl) -> None:
    control.configure(processing_seconds=0)


def upload_lines(client: GenaiClient, lines: list[object]) -> types.File:
    """Upload `lines` as a JSONL batch input file."""
    return client.files.upload(
        file=io.BytesIO(jsonl(lines)),
        config={"mime_type": "application/jsonl", "display_name": "input"},
    )


def test_inline_batch_answers_in_input_order(
    gemini_client: GenaiClient, control: EmulatorControl
) -> None:
    job = gemini_client.batches.create(
        model="gemini-2.5-flash",
        src=inline_requests(6),  # type: ignore[arg-type]
        config={"display_name": "interviews-inline"},
    )
    assert job.name.startswith("batches/") and job.state == types.JobState.JOB_STATE_PENDING
    assert job.display_name == "interviews-inline" and job.model == "models/gemini-2.5-flash"
    assert gemini_client.batches.get(name=job.name).state == types.JobState.JOB_STATE_RUNNING

    done = run_genai(gemini_client, job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED and done.done
    responses = done.dest.inlined_responses
    assert [r.metadata for r in responses] == [
        {"key": f"interview_{i}", "persona": str(i)} for i in range(6)
    ]
    for index, entry in enumerate(responses):
        assert entry.error is None
        assert NAMES[index % len(NAMES)] in entry.response.text
        assert entry.response.usage_metadata.total_token_count > 0
    stats = control.stats()["gemini"]
    assert (stats["batches_created"], stats["requests_received"], stats["calls"][CREATE]) == (
        1,
        6,
        1,
    )


def test_error_entries_keep_their_place(
    gemini_client: GenaiClient, control: EmulatorControl
) -> None:
    requests = inline_requests(4)
    requests[2]["config"]["max_output_tokens"] = 0
    control.set_faults(
        lines={"interview_0": {"type": "errored", "error_type": "rate_limit_error",
                               "message": "Quota exceeded."}}
    )  # fmt: skip
    job = gemini_client.batches.create(model="gemini-2.5-flash", src=requests)  # type: ignore[arg-type]
    done = run_genai(gemini_client, job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    entries = done.dest.inlined_responses
    assert entries[0].error.code == 8 and entries[0].error.message == "Quota exceeded."
    assert entries[2].error.code == 3 and "maxOutputTokens" in entries[2].error.message
    assert entries[0].response is None and entries[2].response is None
    assert entries[1].response.text and entries[3].response.text
    assert [e.metadata["key"] for e in entries] == [f"interview_{i}" for i in range(4)]


def test_file_batch_writes_a_shuffled_responses_file(
    gemini_client: GenaiClient, control: EmulatorControl
) -> None:
    uploaded = upload_lines(gemini_client, gemini_file_lines(10))
    job = gemini_client.batches.create(model="gemini-2.5-flash", src=uploaded.name)
    done = run_genai(gemini_client, job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    assert done.dest.file_name.startswith("files/batch-")
    generated = gemini_client.files.get(name=done.dest.file_name)
    assert generated.source == types.FileSource.GENERATED and generated.download_uri

    content = gemini_client.files.download(file=done.dest.file_name)
    lines = [orjson.loads(line) for line in content.splitlines()]
    keys = [line["key"] for line in lines]
    expected = [f"interview_{i}" for i in range(10)]
    assert sorted(keys) == sorted(expected) and keys != expected
    for line in lines:
        response = types.GenerateContentResponse.model_validate(line["response"])
        assert NAMES[int(line["key"].split("_")[1]) % len(NAMES)] in response.text
    stats = control.stats()["gemini"]
    assert (stats["files_uploaded"], stats["requests_received"]) == (1, 10)


def test_bad_input_file_fails_the_batch(gemini_client: GenaiClient) -> None:
    uploaded = upload_lines(gemini_client, [gemini_file_lines(1)[0], "{not json"])
    job = gemini_client.batches.create(model="gemini-2.5-flash", src=uploaded.name)
    failed = run_genai(gemini_client, job.name)
    assert failed.state == types.JobState.JOB_STATE_FAILED and failed.dest is None


def test_bad_create_bodies_are_400(emulator: EmulatorServer) -> None:
    url = f"{emulator.gemini_base_url}/v1beta/models/gemini-2.5-flash:batchGenerateContent"
    bodies = (
        {"batch": {"inputConfig": {"requests": {"requests": [{"request": {"contents": []}}]}}}},
        {"batch": {"inputConfig": {}}},
        {"batch": {"inputConfig": {"fileName": "files/missing"}}},
    )
    for body in bodies:
        response = httpx.post(url, json=body, headers={"x-goog-api-key": "k"}, trust_env=False)
        assert response.status_code in (400, 403), response.text
        assert response.json()["error"]["status"] in ("INVALID_ARGUMENT", "PERMISSION_DENIED")


def test_cancel_keeps_finished_work_and_marks_the_rest(
    gemini_client: GenaiClient, control: EmulatorControl
) -> None:
    control.configure(processing_seconds=100)
    job = gemini_client.batches.create(model="gemini-2.5-flash", src=inline_requests(4))  # type: ignore[arg-type]
    gemini_client.batches.get(name=job.name)  # starts it
    control.advance(60)
    gemini_client.batches.cancel(name=job.name)
    cancelled = gemini_client.batches.get(name=job.name)
    assert cancelled.state == types.JobState.JOB_STATE_CANCELLED and cancelled.done
    entries = cancelled.dest.inlined_responses
    assert sum(e.response is not None for e in entries) == 2
    assert {e.error.code for e in entries if e.error is not None} == {1}
    with pytest.raises(errors.ClientError, match="FAILED_PRECONDITION"):
        gemini_client.batches.cancel(name=job.name)


def test_an_unfinished_request_expires_the_batch_after_48_hours(
    gemini_client: GenaiClient, control: EmulatorControl
) -> None:
    control.set_faults(lines={"interview_1": {"type": "expired"}})
    job = gemini_client.batches.create(model="gemini-2.5-flash", src=inline_requests(3))  # type: ignore[arg-type]
    for _ in range(3):
        assert gemini_client.batches.get(name=job.name).state == types.JobState.JOB_STATE_RUNNING
    control.advance(48 * 3600)
    expired = gemini_client.batches.get(name=job.name)
    assert expired.state == types.JobState.JOB_STATE_EXPIRED
    entries = expired.dest.inlined_responses
    assert entries[1].error.code == 4 and entries[0].response and entries[2].response


def test_list_and_delete(gemini_client: GenaiClient) -> None:
    first = gemini_client.batches.create(model="gemini-2.5-flash", src=inline_requests(1))  # type: ignore[arg-type]
    second = gemini_client.batches.create(model="gemini-2.5-flash", src=inline_requests(1))  # type: ignore[arg-type]
    listed = list(gemini_client.batches.list(config={"page_size": 1}))
    assert [job.name for job in listed] == [second.name, first.name]
    gemini_client.batches.delete(name=first.name)
    with pytest.raises(errors.ClientError) as caught:
        gemini_client.batches.get(name=first.name)
    assert caught.value.code == 404


def test_v1_is_served_too(emulator: EmulatorServer) -> None:
    client = GenaiClient(
        api_key="test",
        http_options=types.HttpOptions(
            base_url=emulator.gemini_base_url,
            api_version="v1",
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    )
    with client:
        job = client.batches.create(model="gemini-2.5-flash", src=inline_requests(1))  # type: ignore[arg-type]
        assert run_genai(client, job.name).dest.inlined_responses[0].response.text


def test_faults_and_missing_key(
    gemini_client: GenaiClient, emulator: EmulatorServer, control: EmulatorControl
) -> None:
    control.set_faults(
        http=[
            {"provider": "gemini", "path": "batchGenerateContent", "status": 429},
            {"provider": "gemini", "method": "GET", "status": 500},
        ]
    )
    with pytest.raises(errors.ClientError) as rate_limited:
        gemini_client.batches.create(model="gemini-2.5-flash", src=inline_requests(1))  # type: ignore[arg-type]
    assert rate_limited.value.code == 429 and rate_limited.value.status == "RESOURCE_EXHAUSTED"
    job = gemini_client.batches.create(model="gemini-2.5-flash", src=inline_requests(1))  # type: ignore[arg-type]
    with pytest.raises(errors.ServerError):
        gemini_client.batches.get(name=job.name)
    assert control.stats()["gemini"]["faults_fired"] == 2

    response = httpx.get(f"{emulator.gemini_base_url}/v1beta/batches", trust_env=False)
    assert response.status_code == 403
    assert response.json()["error"]["status"] == "PERMISSION_DENIED"
