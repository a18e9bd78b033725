"""The OpenAI Batch emulator, driven by the real SDK in strict mode."""

import openai
import pytest
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from interviews.emulator import EmulatorControl, openai_batches
from tests.emulator.builders import CHAT, NAMES, RESPONSES, chat_lines, responses_lines
from tests.emulator.openai_support import download, run_to_end, submit, upload


def _index(custom_id: str) -> int:
    return int(custom_id.removeprefix("interview_"))


def test_lifecycle_from_upload_to_output_file(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    control.configure(processing_seconds=100)
    lines = chat_lines(20)

    created = submit(openai_client, lines, metadata={"run_id": "r1"})
    assert created.id.startswith("batch_") and created.object == "batch"
    assert created.status == "validating"
    assert created.request_counts is not None and created.request_counts.total == 0
    assert created.metadata == {"run_id": "r1"}
    assert created.expires_at == created.created_at + 24 * 3600
    assert created.output_file_id is None and created.errors is None

    validated = openai_client.batches.retrieve(created.id)
    assert validated.status == "in_progress" and validated.in_progress_at is not None
    assert validated.model == "gpt-5-mini"
    counts = validated.request_counts
    assert counts is not None and (counts.total, counts.completed, counts.failed) == (20, 0, 0)

    control.advance(50)
    halfway = openai_client.batches.retrieve(created.id)
    assert halfway.status == "in_progress"
    assert halfway.request_counts is not None and 0 < halfway.request_counts.completed < 20

    control.advance(60)
    finalizing = openai_client.batches.retrieve(created.id)
    assert finalizing.status == "finalizing" and finalizing.finalizing_at is not None
    assert finalizing.request_counts is not None and finalizing.request_counts.completed == 20

    done = openai_client.batches.retrieve(created.id)
    assert done.status == "completed"
    assert done.completed_at is not None and done.in_progress_at is not None
    assert done.created_at <= done.in_progress_at <= done.finalizing_at <= done.completed_at
    assert done.request_counts is not None
    assert (done.request_counts.completed, done.request_counts.failed) == (20, 0)
    assert done.output_file_id is not None and done.error_file_id is None

    output_file = openai_client.files.retrieve(done.output_file_id)
    assert output_file.purpose == "batch_output"
    assert output_file.filename == f"{done.id}_output.jsonl"
    output = download(openai_client, done.output_file_id)
    ids = [line["custom_id"] for line in output]
    assert sorted(ids) == sorted(line["custom_id"] for line in lines)
    assert ids != [line["custom_id"] for line in lines], "output must not come in input order"
    input_tokens = output_tokens = 0
    for line in output:
        assert line["id"].startswith("batch_req_") and line["error"] is None
        assert line["response"]["status_code"] == 200 and line["response"]["request_id"]
        completion = ChatCompletion.model_validate(line["response"]["body"])
        assert completion.model == "gpt-5-mini"
        assert completion.choices[0].finish_reason == "stop"
        text = completion.choices[0].message.content
        assert text and NAMES[_index(line["custom_id"]) % len(NAMES)] in text
        usage = completion.usage
        assert usage is not None and usage.completion_tokens == -(-len(text) // 4)
        assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
        input_tokens += usage.prompt_tokens
        output_tokens += usage.completion_tokens
    assert done.usage is not None
    assert (done.usage.input_tokens, done.usage.output_tokens) == (input_tokens, output_tokens)


def test_output_is_stable_across_downloads_and_batches(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    control.configure(processing_seconds=0)
    one = run_to_end(openai_client, submit(openai_client, chat_lines(6)).id)
    two = run_to_end(openai_client, submit(openai_client, chat_lines(6)).id)
    first = download(openai_client, one.output_file_id)
    assert first == download(openai_client, one.output_file_id)

    def answers(lines: list[dict]) -> dict[str, str]:
        return {
            line["custom_id"]: line["response"]["body"]["choices"][0]["message"]["content"]
            for line in lines
        }

    assert answers(first) == answers(download(openai_client, two.output_file_id))


def test_responses_endpoint_batch(openai_client: openai.OpenAI, control: EmulatorControl) -> None:
    control.configure(processing_seconds=0)
    lines = responses_lines(3)
    lines[2]["body"]["max_output_tokens"] = 16
    batch = run_to_end(openai_client, submit(openai_client, lines, endpoint=RESPONSES).id)
    assert batch.status == "completed" and batch.endpoint == RESPONSES
    assert batch.request_counts is not None and batch.request_counts.completed == 3

    by_id = {
        line["custom_id"]: Response.model_validate(line["response"]["body"])
        for line in download(openai_client, batch.output_file_id)
    }
    full = by_id["interview_0"]
    assert full.object == "response" and full.status == "completed"
    assert full.model == "gpt-5-mini" and full.output[0].type == "message"
    assert NAMES[0] in full.output_text
    assert full.output[0].content[0].annotations == []  # type: ignore[union-attr]
    usage = full.usage
    assert usage is not None and usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    cut = by_id["interview_2"]
    assert cut.status == "incomplete" and cut.incomplete_details is not None
    assert cut.incomplete_details.reason == "max_output_tokens"
    assert cut.usage is not None and cut.usage.output_tokens == 16


def test_per_request_errors_go_to_the_error_file(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    control.configure(processing_seconds=0)
    lines = chat_lines(6, model="gpt-5")
    lines[0]["body"]["max_tokens"] = 500
    lines[1]["body"]["temperature"] = 0.7
    del lines[2]["body"]["messages"]
    lines[3]["body"]["temperature"] = 1  # the default is accepted
    lines[4]["body"]["max_completion_tokens"] = 5

    batch = run_to_end(openai_client, submit(openai_client, lines).id)
    assert batch.status == "completed"
    assert batch.request_counts is not None
    assert (batch.request_counts.completed, batch.request_counts.failed) == (3, 3)
    output = download(openai_client, batch.output_file_id)
    errors = download(openai_client, batch.error_file_id)
    ids = [line["custom_id"] for line in output + errors]
    assert sorted(ids) == sorted(line["custom_id"] for line in lines)

    failed = {line["custom_id"]: line for line in errors}
    assert set(failed) == {"interview_0", "interview_1", "interview_2"}
    for line in errors:
        assert line["error"] is None and line["response"]["status_code"] == 400
    error = failed["interview_0"]["response"]["body"]["error"]
    assert error == {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "unsupported_parameter",
    }
    assert failed["interview_1"]["response"]["body"]["error"]["code"] == "unsupported_value"
    assert failed["interview_2"]["response"]["body"]["error"]["param"] == "messages"

    truncated = next(line for line in output if line["custom_id"] == "interview_4")
    completion = ChatCompletion.model_validate(truncated["response"]["body"])
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 5


def test_counts_grow_with_failures_while_in_progress(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    control.configure(processing_seconds=100)
    batch = submit(openai_client, chat_lines(10, max_tokens=10))  # every request is rejected
    openai_client.batches.retrieve(batch.id)
    control.advance(55)
    counts = openai_client.batches.retrieve(batch.id).request_counts
    assert counts is not None and counts.completed == 0 and 0 < counts.failed < 10


def test_unfinished_requests_expire_after_24_hours(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    control.configure(processing_seconds=48 * 3600)
    batch = submit(openai_client, chat_lines(10))
    control.advance(25 * 3600)

    expired = openai_client.batches.retrieve(batch.id)
    assert expired.status == "expired"
    assert expired.expired_at == expired.expires_at
    counts = expired.request_counts
    assert counts is not None and counts.completed > 0 and counts.failed > 0
    assert counts.completed + counts.failed == 10
    assert len(download(openai_client, expired.output_file_id)) == counts.completed
    errors = download(openai_client, expired.error_file_id)
    assert len(errors) == counts.failed
    for line in errors:
        assert line["response"] is None
        assert line["error"] == {
            "code": "batch_expired",
            "message": "This request could not be executed before the completion window expired.",
        }


def test_cancel_keeps_finished_requests(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    control.configure(processing_seconds=100)
    batch = submit(openai_client, chat_lines(20))
    openai_client.batches.retrieve(batch.id)
    control.advance(50)

    cancelling = openai_client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
    assert cancelling.output_file_id is None

    cancelled = openai_client.batches.retrieve(batch.id)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    counts = cancelled.request_counts
    assert counts is not None and counts.completed > 0 and counts.failed > 0
    output = download(openai_client, cancelled.output_file_id)
    errors = download(openai_client, cancelled.error_file_id)
    assert len(output) == counts.completed and len(errors) == counts.failed
    assert {line["error"]["code"] for line in errors} == {"batch_cancelled"}
    with pytest.raises(openai.BadRequestError):
        openai_client.batches.cancel(batch.id)


def test_cancel_while_validating_runs_nothing(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    control.configure(processing_seconds=0)
    batch = submit(openai_client, chat_lines(3))
    assert openai_client.batches.cancel(batch.id).status == "cancelling"
    cancelled = openai_client.batches.retrieve(batch.id)
    assert cancelled.status == "cancelled" and cancelled.output_file_id is None
    assert len(download(openai_client, cancelled.error_file_id)) == 3


def test_invalid_input_fails_the_batch_with_line_errors(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    good = chat_lines(6)
    good[2]["url"] = RESPONSES
    del good[3]["custom_id"]
    good[4]["custom_id"] = good[0]["custom_id"]
    del good[5]["body"]["model"]
    lines = [good[0], "{not json", good[1], good[2], good[3], good[4], good[5]]

    created = submit(openai_client, lines)
    assert created.status == "validating"
    failed = openai_client.batches.retrieve(created.id)
    assert failed.status == "failed" and failed.failed_at is not None
    assert failed.output_file_id is None and failed.error_file_id is None
    assert failed.errors is not None and failed.errors.object == "list"
    found = [(e.line, e.code, e.param) for e in failed.errors.data or []]
    assert found == [
        (2, "invalid_json_line", None),
        (4, "url_mismatch", "url"),
        (5, "missing_required_parameter", "custom_id"),
        (6, "duplicate_custom_id", "custom_id"),
        (7, "missing_required_parameter", "body.model"),
    ]
    assert openai_client.batches.retrieve(created.id).status == "failed"


def test_one_model_per_batch(openai_client: openai.OpenAI) -> None:
    lines = chat_lines(2)
    lines[1]["body"]["model"] = "gpt-5-nano"
    batch = submit(openai_client, lines)
    errors = openai_client.batches.retrieve(batch.id).errors
    assert errors is not None and [(e.line, e.code) for e in errors.data or []] == [
        (2, "model_mismatch")
    ]


def test_size_limits_fail_the_batch(
    openai_client: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    too_many = submit(openai_client, ["{}"] * (openai_batches.MAX_REQUESTS + 1))
    errors = openai_client.batches.retrieve(too_many.id).errors
    assert errors is not None and [e.code for e in errors.data or []] == ["too_many_tasks"]

    # The server runs in this process, so a smaller limit stands in for 200 MB.
    monkeypatch.setattr(openai_batches, "MAX_INPUT_BYTES", 1000)
    too_big = submit(openai_client, chat_lines(3))
    errors = openai_client.batches.retrieve(too_big.id).errors
    assert errors is not None and [e.code for e in errors.data or []] == ["file_too_large"]


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"input_file_id": "file-doesnotexist"}, "input_file_id"),
        ({"completion_window": "48h"}, "completion_window"),
        ({"endpoint": "/v1/nope"}, "endpoint"),
        ({"endpoint": "/v1/embeddings"}, "endpoint"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"metadata": {"k": "v" * 513}}, "metadata"),
    ],
)
def test_create_rejects_a_bad_request(
    openai_client: openai.OpenAI, control: EmulatorControl, change: dict, param: str
) -> None:
    arguments = {
        "input_file_id": upload(openai_client, chat_lines(1)),
        "endpoint": CHAT,
        "completion_window": "24h",
        **change,
    }
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.batches.create(**arguments)
    assert caught.value.body["type"] == "invalid_request_error"  # type: ignore[index]
    assert caught.value.param == param
    assert control.stats()["openai"]["batches_created"] == 0


def test_input_file_needs_purpose_batch(openai_client: openai.OpenAI) -> None:
    other = openai_client.files.create(file=("notes.jsonl", b"{}\n"), purpose="user_data")
    with pytest.raises(openai.BadRequestError, match="purpose 'batch'"):
        openai_client.batches.create(input_file_id=other.id, endpoint=CHAT, completion_window="24h")


def test_unknown_batch_is_not_found(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client.batches.retrieve("batch_doesnotexist")
    body = caught.value.response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == "invalid_request_error"
    assert caught.value.request_id and caught.value.request_id.startswith("req_")


def test_list_pages_newest_first(openai_client: openai.OpenAI) -> None:
    file_id = upload(openai_client, chat_lines(1))
    ids = [
        openai_client.batches.create(
            input_file_id=file_id, endpoint=CHAT, completion_window="24h"
        ).id
        for _ in range(5)
    ]
    newest_first = ids[::-1]

    page = openai_client.batches.list(limit=2)
    assert [b.id for b in page.data] == newest_first[:2] and page.has_more is True
    assert [b.id for b in openai_client.batches.list(limit=2)] == newest_first
    older = openai_client.batches.list(limit=2, after=newest_first[1])
    assert [b.id for b in older.data] == newest_first[2:4]
    last = openai_client.batches.list(limit=10, after=newest_first[2])
    assert [b.id for b in last.data] == newest_first[3:] and last.has_more is False
    with pytest.raises(openai.BadRequestError):
        openai_client.batches.list(limit=101)
