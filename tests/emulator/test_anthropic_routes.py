"""The Anthropic Message Batches emulator, driven by the real SDK in strict mode."""

import anthropic
import httpx
import orjson
import pytest
from anthropic.types.messages import MessageBatchIndividualResponse

from interviews.emulator import EmulatorControl, EmulatorServer
from tests.emulator.builders import NAMES, make_requests


def _raw_results(client: anthropic.Anthropic, batch_id: str) -> list[dict]:
    """Result lines as sent, validated field by field (the SDK itself does not validate them)."""
    url = client.messages.batches.retrieve(batch_id).results_url
    assert url is not None
    response = httpx.get(url, headers={"authorization": "Bearer test"}, trust_env=False)
    response.raise_for_status()
    lines = [orjson.loads(line) for line in response.content.splitlines()]
    for line in lines:
        MessageBatchIndividualResponse.model_validate(line)
    return lines


def test_batch_lifecycle_from_create_to_results(
    client: anthropic.Anthropic, control: EmulatorControl, emulator: EmulatorServer
) -> None:
    control.configure(processing_seconds=100)
    requests = make_requests(20)

    created = client.messages.batches.create(requests=requests)
    assert created.id.startswith("msgbatch_") and len(created.id) == len("msgbatch_") + 24
    assert created.processing_status == "in_progress"
    assert created.request_counts.processing == 20
    assert created.results_url is None
    assert (created.expires_at - created.created_at).total_seconds() == 24 * 3600

    control.advance(50)
    halfway = client.messages.batches.retrieve(created.id)
    assert halfway.processing_status == "in_progress"
    counts = halfway.request_counts
    # Like the real API: every request is `processing` until the whole batch has ended, and
    # the tallies always sum to the batch's size.
    assert counts.processing == 20
    assert counts.succeeded == counts.errored == counts.canceled == counts.expired == 0

    control.advance(60)
    ended = client.messages.batches.retrieve(created.id)
    assert ended.processing_status == "ended"
    assert ended.ended_at is not None
    assert ended.request_counts.succeeded == 20 and ended.request_counts.processing == 0
    assert ended.results_url == (
        f"{emulator.anthropic_base_url}/v1/messages/batches/{created.id}/results"
    )

    results = list(client.messages.batches.results(created.id))
    ids = [r.custom_id for r in results]
    assert sorted(ids) == sorted(r["custom_id"] for r in requests)
    assert ids != [r["custom_id"] for r in requests], "results must not come in input order"
    for result in results:
        assert result.result.type == "succeeded"
        message = result.result.message
        index = int(result.custom_id.removeprefix("interview_"))
        text = message.content[0].text
        assert NAMES[index % len(NAMES)] in text
        assert message.model == "claude-sonnet-4-5-20250929"
        assert message.stop_reason == "end_turn"
        assert message.usage.service_tier == "batch"
        assert message.usage.output_tokens == -(-len(text) // 4)
        assert message.usage.input_tokens > 0
    _raw_results(client, created.id)


def test_results_are_shuffled_the_same_way_on_every_download(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    batch = client.messages.batches.create(requests=make_requests(8))
    control.advance(5)
    first = [r.custom_id for r in client.messages.batches.results(batch.id)]
    second = [r.custom_id for r in client.messages.batches.results(batch.id)]
    assert first == second


def test_same_request_gets_the_same_answer_in_another_batch(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    one = client.messages.batches.create(requests=make_requests(3))
    two = client.messages.batches.create(requests=make_requests(3))
    control.advance(5)

    def answers(batch_id: str) -> dict[str, str]:
        return {
            r.custom_id: r.result.message.content[0].text
            for r in client.messages.batches.results(batch_id)
            if r.result.type == "succeeded"
        }

    assert answers(one.id) == answers(two.id)


def test_results_before_the_end_are_refused(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    control.configure(processing_seconds=100)
    batch = client.messages.batches.create(requests=make_requests(2))
    with pytest.raises(anthropic.AnthropicError, match="results_url"):
        client.messages.batches.results(batch.id)


def test_list_pages_newest_first(client: anthropic.Anthropic) -> None:
    ids = [client.messages.batches.create(requests=make_requests(1)).id for _ in range(5)]
    newest_first = ids[::-1]

    page = client.messages.batches.list(limit=2)
    assert [b.id for b in page.data] == newest_first[:2]
    assert page.has_more is True
    assert page.first_id == newest_first[0] and page.last_id == newest_first[1]
    assert [b.id for b in client.messages.batches.list(limit=2)] == newest_first

    older = client.messages.batches.list(limit=2, after_id=newest_first[1])
    assert [b.id for b in older.data] == newest_first[2:4]
    newer = client.messages.batches.list(limit=2, before_id=newest_first[3])
    assert [b.id for b in newer.data] == newest_first[1:3]
    assert newer.has_more is True
    last = client.messages.batches.list(limit=10, after_id=newest_first[2])
    assert [b.id for b in last.data] == newest_first[3:] and last.has_more is False


def test_cancel_mid_way_keeps_finished_results(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    control.configure(processing_seconds=100)
    batch = client.messages.batches.create(requests=make_requests(20))
    control.advance(50)

    canceling = client.messages.batches.cancel(batch.id)
    assert canceling.processing_status == "canceling"
    assert canceling.cancel_initiated_at is not None
    assert canceling.results_url is None

    ended = client.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended"
    counts = ended.request_counts
    assert counts.succeeded > 0 and counts.canceled > 0
    assert counts.succeeded + counts.canceled == 20

    types = [r.result.type for r in client.messages.batches.results(batch.id)]
    assert types.count("succeeded") == counts.succeeded
    assert types.count("canceled") == counts.canceled
    with pytest.raises(anthropic.BadRequestError):
        client.messages.batches.cancel(batch.id)


def test_unfinished_requests_expire_after_24_hours(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    control.configure(processing_seconds=48 * 3600)
    batch = client.messages.batches.create(requests=make_requests(10))
    control.advance(25 * 3600)

    ended = client.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended"
    assert ended.ended_at == ended.expires_at
    assert ended.request_counts.expired > 0 and ended.request_counts.succeeded > 0
    types = {r.custom_id: r.result.type for r in client.messages.batches.results(batch.id)}
    assert set(types.values()) == {"succeeded", "expired"}


def test_params_are_validated_when_processed(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    requests = make_requests(3)
    requests[0]["params"]["temperature"] = 0.7
    del requests[1]["params"]["max_tokens"]
    batch = client.messages.batches.create(requests=requests)
    assert batch.processing_status == "in_progress"
    control.advance(5)

    by_id = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    assert by_id["interview_0"].type == "errored"
    assert by_id["interview_0"].error.error.type == "invalid_request_error"
    assert "temperature" in by_id["interview_0"].error.error.message
    assert by_id["interview_1"].type == "errored"
    assert "max_tokens" in by_id["interview_1"].error.error.message
    assert by_id["interview_2"].type == "succeeded"
    assert client.messages.batches.retrieve(batch.id).request_counts.errored == 2


def test_sampling_params_pass_under_the_old_api_version(
    emulator: EmulatorServer, control: EmulatorControl
) -> None:
    old = anthropic.Anthropic(
        base_url=emulator.anthropic_base_url,
        api_key="test",
        max_retries=0,
        default_headers={"anthropic-version": "2023-06-01"},
        _strict_response_validation=True,
    )
    batch = old.messages.batches.create(requests=make_requests(1, temperature=0.2))
    control.advance(5)
    assert [r.result.type for r in old.messages.batches.results(batch.id)] == ["succeeded"]


def test_small_max_tokens_truncates_the_answer(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    batch = client.messages.batches.create(requests=make_requests(1, max_tokens=5))
    control.advance(5)
    (line,) = client.messages.batches.results(batch.id)
    message = line.result.message
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 5
    assert len(message.content[0].text) == 20


@pytest.mark.parametrize(
    ("requests", "fragment"),
    [
        ([], "between 1 and 100000"),
        (make_requests(1) + make_requests(1), "Duplicate custom_id"),
        ([{**make_requests(1)[0], "custom_id": "has space"}], "pattern"),
        ([{**make_requests(1)[0], "custom_id": "x" * 65}], "pattern"),
        ([{"custom_id": "a"}], "params"),
    ],
)
def test_create_rejects_a_bad_envelope(
    client: anthropic.Anthropic, control: EmulatorControl, requests: list, fragment: str
) -> None:
    with pytest.raises(anthropic.BadRequestError, match=fragment) as caught:
        client.messages.batches.create(requests=requests)
    assert caught.value.body["error"]["type"] == "invalid_request_error"
    assert control.stats()["anthropic"]["batches_created"] == 0


def test_unknown_batch_is_not_found(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.batches.retrieve("msgbatch_01doesnotexist0000000000")
    body = caught.value.response.json()
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error"
    assert body["request_id"].startswith("req_")


def test_auth_is_required_and_both_headers_work(emulator: EmulatorServer) -> None:
    url = emulator.anthropic_base_url + "/v1/messages/batches"
    with httpx.Client(trust_env=False) as http:
        missing = http.get(url)
        assert missing.status_code == 401
        assert missing.json()["error"]["type"] == "authentication_error"
        assert http.get(url, headers={"x-api-key": "k"}).status_code == 200
        assert http.get(url, headers={"authorization": "Bearer k"}).status_code == 200


def test_delete_only_after_the_end(client: anthropic.Anthropic, control: EmulatorControl) -> None:
    control.configure(processing_seconds=100)
    batch = client.messages.batches.create(requests=make_requests(2))
    with pytest.raises(anthropic.BadRequestError):
        client.messages.batches.delete(batch.id)
    control.advance(200)
    deleted = client.messages.batches.delete(batch.id)
    assert deleted.id == batch.id and deleted.type == "message_batch_deleted"
    with pytest.raises(anthropic.NotFoundError):
        client.messages.batches.retrieve(batch.id)


def test_results_are_archived_after_29_days(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    batch = client.messages.batches.create(requests=make_requests(1))
    control.advance(30 * 24 * 3600)
    assert client.messages.batches.retrieve(batch.id).archived_at is not None
    with pytest.raises(anthropic.NotFoundError):
        list(client.messages.batches.results(batch.id))
