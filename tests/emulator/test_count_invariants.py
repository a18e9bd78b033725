"""The emulator's request tallies follow each provider's documented invariants while batches run.

Adoption after a lost create call matches batches on their size, so tallies that stop summing
to the batch's size while it runs (as the emulator once let Anthropic's do) make a lost batch
unfindable. Each test reads a batch through the real SDK (or, for a field the SDK does not
surface, the wire) at every step of its life, with a faulted line, and checks the invariants.
"""

from __future__ import annotations

import httpx
import openai
import pytest
from google.cloud import aiplatform_v1, storage
from google.genai import Client as GenaiClient

from interviews.emulator import EmulatorControl, EmulatorServer
from tests.emulator.builders import chat_lines, make_requests
from tests.emulator.google_support import (
    create_job,
    inline_requests,
    state_name,
    upload_input,
    vertex_lines,
)
from tests.emulator.openai_support import submit

SIZE = 12
STEPS = 14  # reads, 10 s apart, across a 100 s batch: before, during and after the end
FAULTS = {"interview_3": {"type": "errored", "error_type": "api_error"}}


@pytest.fixture(autouse=True)
def _slow_batches(control: EmulatorControl) -> None:
    control.configure(processing_seconds=100)


def test_anthropic_tallies_always_sum_to_the_batch_size(client, control: EmulatorControl) -> None:
    """Every request is `processing` until the whole batch ends (SDK docstring of
    MessageBatchRequestCounts); the five tallies always sum to the number of requests."""
    control.set_faults(lines=FAULTS)
    batch = client.messages.batches.create(requests=make_requests(SIZE))
    seen_statuses = []
    for _ in range(STEPS):
        read = client.messages.batches.retrieve(batch.id)
        counts = read.request_counts
        values = (counts.processing, counts.succeeded, counts.errored, counts.canceled)
        assert sum(values) + counts.expired == SIZE, read
        if read.processing_status != "ended":
            assert counts.processing == SIZE, read
        else:
            assert counts.processing == 0 and (counts.succeeded, counts.errored) == (11, 1)
        seen_statuses.append(read.processing_status)
        control.advance(10)
    assert seen_statuses[0] == "in_progress" and seen_statuses[-1] == "ended"


def test_openai_counts_grow_within_the_total(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    """`total` is the input's line count once validated; completed + failed never exceed it,
    never go down, and equal it when the batch completes."""
    control.set_faults(lines=FAULTS)
    batch = submit(openai_client, chat_lines(SIZE))
    finished_before = 0
    statuses = []
    for _ in range(STEPS):
        read = openai_client.batches.retrieve(batch.id)
        counts = read.request_counts
        assert counts is not None
        if read.status != "validating":
            assert counts.total == SIZE, read
        finished = counts.completed + counts.failed
        assert finished_before <= finished <= counts.total, read
        if read.status == "completed":
            assert (counts.completed, counts.failed) == (SIZE - 1, 1)
        finished_before = finished
        statuses.append(read.status)
        control.advance(10)
    assert "in_progress" in statuses and statuses[-1] == "completed"


def test_gemini_batch_stats_always_sum_to_the_request_count(
    gemini_client: GenaiClient, emulator: EmulatorServer, control: EmulatorControl
) -> None:
    """`batchStats`: successful + failed + pending == requestCount at every read (the
    google-genai SDK does not surface batchStats, so they are read from the wire)."""
    control.set_faults(lines=FAULTS)
    job = gemini_client.batches.create(
        model="gemini-2.5-flash",
        src=inline_requests(SIZE),  # type: ignore[arg-type]
    )
    url = f"{emulator.gemini_base_url}/v1beta/{job.name}"
    done_before = 0
    states = []
    for _ in range(STEPS):
        wire = httpx.get(url, headers={"x-goog-api-key": "test"}, timeout=10).json()
        stats = {k: int(v) for k, v in wire["metadata"]["batchStats"].items()}
        assert stats["requestCount"] == SIZE, wire
        done = stats["successfulRequestCount"] + stats["failedRequestCount"]
        assert done + stats["pendingRequestCount"] == SIZE, wire
        assert done >= done_before
        done_before = done
        states.append(wire["metadata"]["state"])
        control.advance(10)
    assert "BATCH_STATE_RUNNING" in states and states[-1] == "BATCH_STATE_SUCCEEDED"
    assert done_before == SIZE


def test_vertex_completion_stats_never_exceed_the_instances(
    job_client: aiplatform_v1.JobServiceClient, gcs_client: storage.Client, control
) -> None:
    """`completionStats`: successful + failed + incomplete == the input's instance count
    once the job has started, and finished counts never go down."""
    control.set_faults(lines=FAULTS)
    job = create_job(job_client, upload_input(gcs_client, vertex_lines(SIZE)))
    done_before = 0
    states = []
    for _ in range(STEPS):
        read = job_client.get_batch_prediction_job(name=job.name, retry=None, timeout=10)
        stats = read.completion_stats
        done = stats.successful_count + stats.failed_count
        if state_name(read) not in ("QUEUED", "PENDING"):
            assert done + stats.incomplete_count == SIZE, read
        assert done >= done_before
        done_before = done
        states.append(state_name(read))
        control.advance(10)
    assert "RUNNING" in states and states[-1] in ("SUCCEEDED", "PARTIALLY_SUCCEEDED")
    assert done_before == SIZE
