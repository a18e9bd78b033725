"""Fault injection and stats, seen through the real Anthropic SDK."""

import concurrent.futures
import time

import anthropic
import httpx
import orjson
import pytest

from interviews.emulator import EmulatorControl, EmulatorServer
from tests.emulator.builders import make_requests

CREATE = "POST /v1/messages/batches"
RETRIEVE = "GET /v1/messages/batches/{batch_id}"


def test_429_is_survived_by_sdk_retries_and_counted(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    control.set_faults(
        http=[{"provider": "anthropic", "method": "POST", "path": "/batches$", "status": 429}]
    )
    batch = client.with_options(max_retries=2).messages.batches.create(requests=make_requests(2))
    assert batch.processing_status == "in_progress"

    stats = control.stats()["anthropic"]
    assert stats["calls"][CREATE] == 2
    assert stats["faults_fired"] == 1
    assert stats["batches_created"] == 1
    assert stats["requests_received"] == 2


def test_429_without_retries_raises_with_retry_after(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    control.set_faults(http=[{"status": 429, "retry_after": 0.25, "count": 1}])
    with pytest.raises(anthropic.RateLimitError) as caught:
        client.messages.batches.list()
    headers = caught.value.response.headers
    assert headers["retry-after"] == "0.25" and headers["retry-after-ms"] == "250"
    assert caught.value.body["error"]["type"] == "rate_limit_error"
    client.messages.batches.list()  # the fault fired its one time


def test_500_is_survived_by_sdk_retries(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    batch = client.messages.batches.create(requests=make_requests(1))
    control.set_faults(
        http=[{"method": "GET", "path": r"/batches/[^/]+$", "status": 500, "retry_after": 0.01}]
    )
    retrieved = client.with_options(max_retries=2).messages.batches.retrieve(batch.id)
    assert retrieved.id == batch.id
    assert control.stats()["anthropic"]["calls"][RETRIEVE] == 2


def test_500_and_529_envelopes(client: anthropic.Anthropic, control: EmulatorControl) -> None:
    control.set_faults({"http": [{"status": 500, "count": 1}, {"status": 529, "count": 1}]})
    with pytest.raises(anthropic.InternalServerError) as server_error:
        client.messages.batches.list()
    assert server_error.value.status_code == 500
    assert server_error.value.body["error"]["type"] == "api_error"
    with pytest.raises(anthropic.OverloadedError) as overloaded:
        client.messages.batches.list()
    assert overloaded.value.body["error"]["type"] == "overloaded_error"


def test_faults_filter_by_provider(client: anthropic.Anthropic, control: EmulatorControl) -> None:
    control.set_faults(http=[{"provider": "openai", "status": 500}])
    client.messages.batches.list()
    assert control.stats()["anthropic"]["faults_fired"] == 0


def test_line_faults_apply_when_the_batch_ends(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    control.configure(processing_seconds=100)
    batch = client.messages.batches.create(requests=make_requests(4))
    control.set_faults(
        lines={
            "interview_0": {"type": "errored", "error_type": "overloaded_error", "message": "busy"},
            "interview_1": {"type": "expired"},
        }
    )
    control.advance(200)

    counts = client.messages.batches.retrieve(batch.id).request_counts
    assert (counts.succeeded, counts.errored, counts.expired) == (2, 1, 1)
    by_id = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    assert by_id["interview_0"].type == "errored"
    assert by_id["interview_0"].error.error.type == "overloaded_error"
    assert by_id["interview_0"].error.error.message == "busy"
    assert by_id["interview_1"].type == "expired"
    assert by_id["interview_2"].type == by_id["interview_3"].type == "succeeded"


def test_truncated_download_is_cut_mid_line_then_recovers(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    batch = client.messages.batches.create(requests=make_requests(6))
    control.advance(5)
    url = client.messages.batches.retrieve(batch.id).results_url
    assert url is not None
    control.set_faults(truncate_results=1)

    def download() -> bytes:
        response = httpx.get(url, headers={"x-api-key": "test"}, trust_env=False)
        response.raise_for_status()
        return response.content

    cut = download()
    *complete, partial = cut.split(b"\n")
    assert len(complete) == 3 and partial
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(partial)
    full = download()
    assert full.endswith(b"\n") and len(full.splitlines()) == 6


@pytest.mark.parametrize(
    "faults",
    [
        {"http": [{"status": 200}]},
        {"http": [{"status": 429, "path": "("}]},
        {"http": [{"status": 429, "colour": "red"}]},
        {"lines": {"a": {"type": "exploded"}}},
        {"truncate_results": "yes"},
        {"surprise": True},
        [],
    ],
)
def test_malformed_faults_are_rejected(emulator: EmulatorServer, faults: object) -> None:
    response = httpx.post(f"{emulator.url}/_emulator/faults", json=faults, trust_env=False)
    assert response.status_code == 400
    assert response.json()["error"]


def test_empty_object_clears_faults(client: anthropic.Anthropic, control: EmulatorControl) -> None:
    control.set_faults(http=[{"status": 500, "count": 5}])
    control.clear_faults()
    client.messages.batches.list()


def test_should_retry_false_stops_sdk_retries(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    control.set_faults(http=[{"status": 529, "should_retry": False, "count": 3}])
    with pytest.raises(anthropic.OverloadedError) as caught:
        client.with_options(max_retries=2).messages.batches.list()
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert control.stats()["anthropic"]["calls"]["GET /v1/messages/batches"] == 1


def _wait_for(condition, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("after", [False, True])
def test_a_held_call_is_let_go_when_the_faults_are_replaced(
    client: anthropic.Anthropic, control: EmulatorControl, after: bool
) -> None:
    control.set_faults(
        http=[{"method": "GET", "path": "/batches$", "delay": 600, "delay_after": after}]
    )
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        listed = pool.submit(client.messages.batches.list)
        _wait_for(lambda: control.stats()["anthropic"]["faults_fired"] == 1, "the held call")
        assert not listed.done()
        control.clear_faults()
        assert listed.result(timeout=30).data == []  # answered normally, long before 600 s


def test_a_call_held_before_handling_is_dropped_when_its_client_hangs_up(
    emulator: EmulatorServer, control: EmulatorControl
) -> None:
    control.set_faults(http=[{"method": "POST", "path": "/batches$", "delay": 600}])
    with pytest.raises(httpx.ReadTimeout):  # the client gives up and closes the connection
        httpx.post(
            f"{emulator.anthropic_base_url}/v1/messages/batches",
            json={"requests": make_requests(1)},
            headers={"x-api-key": "test", "anthropic-version": "2023-06-01"},
            timeout=httpx.Timeout(10, read=0.5),
        )
    assert control.stats()["anthropic"]["faults_fired"] == 1
    control.clear_faults()
    # Let go, the call would be handled within a tick; a dropped one never creates the batch.
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        assert control.stats()["anthropic"]["batches_created"] == 0
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("provider", "path", "headers"),
    [
        ("anthropic", "/anthropic/v1/messages/batches", {"x-api-key": "the-presented-key"}),
        ("openai", "/openai/v1/batches", {"authorization": "Bearer the-presented-key"}),
        ("gemini", "/gemini/v1beta/batches", {"x-goog-api-key": "the-presented-key"}),
        (
            "vertex",
            "/vertex/v1/projects/p/locations/us-central1/batchPredictionJobs",
            {"authorization": "Bearer the-presented-key"},
        ),
    ],
)
def test_echo_key_fault_repeats_the_presented_key(
    emulator: EmulatorServer, control: EmulatorControl, provider: str, path: str, headers: dict
) -> None:
    control.set_faults(http=[{"provider": provider, "status": 401, "echo_key": True}])
    response = httpx.get(emulator.url + path, headers=headers, trust_env=False)
    assert response.status_code == 401
    assert "Incorrect API key provided: the-presented-key." in response.text
    control.clear_faults()
