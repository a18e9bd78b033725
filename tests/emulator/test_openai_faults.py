"""Fault injection and stats on the OpenAI routes, seen through the real SDK."""

import openai
import orjson
import pytest

from interviews.emulator import EmulatorControl
from tests.emulator.builders import chat_lines
from tests.emulator.openai_support import download, run_to_end, submit, upload

CREATE = "POST /v1/batches"
RETRIEVE = "GET /v1/batches/{batch_id}"


def test_429_is_survived_by_sdk_retries_and_counted(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    file_id = upload(openai_client, chat_lines(2))
    control.set_faults(
        http=[{"provider": "openai", "method": "POST", "path": "^/v1/batches$", "status": 429}]
    )
    batch = openai_client.with_options(max_retries=2).batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert batch.status == "validating"

    stats = control.stats()["openai"]
    assert stats["calls"][CREATE] == 2
    assert stats["faults_fired"] == 1
    assert (stats["batches_created"], stats["files_uploaded"], stats["requests_received"]) == (
        1,
        1,
        2,
    )
    assert control.stats()["anthropic"]["faults_fired"] == 0


def test_429_without_retries_raises_rate_limit_error(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    control.set_faults(http=[{"provider": "openai", "status": 429, "retry_after": 0.25}])
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client.batches.list()
    assert caught.value.response.headers["retry-after-ms"] == "250"
    assert caught.value.code == "rate_limit_exceeded"
    openai_client.batches.list()  # the fault fired its one time


def test_500_is_survived_by_sdk_retries(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    batch = submit(openai_client, chat_lines(1))
    control.set_faults(
        http=[
            {
                "provider": "openai",
                "method": "GET",
                "path": r"^/v1/batches/[^/]+$",
                "status": 500,
                "retry_after": 0.01,
            }
        ]
    )
    assert openai_client.with_options(max_retries=2).batches.retrieve(batch.id).id == batch.id
    stats = control.stats()["openai"]
    assert stats["calls"][RETRIEVE] == 2 and stats["faults_fired"] == 1


def test_500_envelope_without_retries(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    control.set_faults(http=[{"provider": "openai", "path": "/files", "status": 500}])
    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.files.list()
    assert caught.value.body["type"] == "server_error"  # type: ignore[index]


def test_line_faults_by_custom_id(openai_client: openai.OpenAI, control: EmulatorControl) -> None:
    control.configure(processing_seconds=0)
    batch = submit(openai_client, chat_lines(5))
    control.set_faults(
        lines={
            "interview_0": {"type": "errored", "error_type": "server_error", "message": "boom"},
            "interview_1": {"type": "errored", "error_type": "rate_limit_error"},
            "interview_2": {"type": "expired"},
            "interview_3": {"type": "canceled"},
        }
    )
    ended = run_to_end(openai_client, batch.id)
    assert ended.status == "completed"
    assert ended.request_counts is not None
    assert (ended.request_counts.completed, ended.request_counts.failed) == (1, 4)
    assert [line["custom_id"] for line in download(openai_client, ended.output_file_id)] == [
        "interview_4"
    ]
    errors = {line["custom_id"]: line for line in download(openai_client, ended.error_file_id)}
    server = errors["interview_0"]["response"]
    assert server["status_code"] == 500 and errors["interview_0"]["error"] is None
    assert server["body"]["error"]["type"] == "server_error"
    assert server["body"]["error"]["message"] == "boom"
    assert errors["interview_1"]["response"]["status_code"] == 429
    assert errors["interview_2"]["error"]["code"] == "batch_expired"
    assert errors["interview_3"]["error"]["code"] == "batch_cancelled"
    assert errors["interview_3"]["response"] is None


def test_truncated_output_download_then_recovers(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    control.configure(processing_seconds=0)
    input_id = upload(openai_client, chat_lines(6))
    batch = openai_client.batches.create(
        input_file_id=input_id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    output_id = run_to_end(openai_client, batch.id).output_file_id
    assert output_id is not None
    control.set_faults(truncate_results=2)

    # The client's own upload is never cut; it does not use up a truncation.
    assert openai_client.files.content(input_id).content.endswith(b"\n")
    cut = openai_client.files.content(output_id).content
    *complete, partial = cut.split(b"\n")
    assert len(complete) == 3 and partial
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(partial)
    openai_client.files.content(output_id)  # the second truncation
    full = openai_client.files.content(output_id).content
    assert full.endswith(b"\n") and len(full.splitlines()) == 6


def test_should_retry_false_stops_sdk_retries(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    control.set_faults(
        http=[{"provider": "openai", "status": 503, "should_retry": False, "count": 3}]
    )
    with pytest.raises(openai.InternalServerError):
        openai_client.with_options(max_retries=2).batches.list()
    assert control.stats()["openai"]["calls"]["GET /v1/batches"] == 1
