"""A lost create call: adopt only a batch that is provably the chunk's, never another run's.

Two ledgers run the same run id over the same personas, so their chunks have the same key, the
same size and the same content, and their batches are created within the same minute: the
strongest look-alike there is. Run B dies before its create call leaves (an intent with no
batch id). Its re-run must not take run A's batch (nor its answers): on OpenAI, Gemini and
Vertex the batch's metadata, display name or labels carry the chunk's ownership tag; on
Anthropic only the results do, so an ended batch is checked at once and a running one when its
results arrive. Each case is driven through the real SDKs against the emulator.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from google.oauth2.credentials import Credentials

from interviews.emulator import DEFAULT_BUCKET
from interviews.errors import ForeignBatchError
from interviews.ledger import Ledger
from interviews.pipeline import (
    convert_chunk,
    download_chunk,
    prepare_run,
    submit_chunk,
    wait_chunk,
)
from interviews.polling import Backoff
from interviews.preparation import DataDirs
from interviews.providers.anthropic_batches import AnthropicBatchAdapter
from interviews.providers.gemini_batches import GeminiBatchAdapter
from interviews.providers.openai_batches import OpenAIBatchAdapter
from interviews.providers.vertex_batches import VertexBatchAdapter
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE

PROVIDERS = ["anthropic", "openai", "gemini", "vertex"]


def make_adapter(provider: str, emu):
    """The provider's adapter on its real SDK, pointed at the emulator, without retries."""
    if provider == "anthropic":
        return AnthropicBatchAdapter(
            api_key="k", base_url=emu.anthropic_base_url, max_retries=0, strict_responses=True
        )
    if provider == "openai":
        return OpenAIBatchAdapter(
            api_key="k", base_url=emu.openai_base_url, max_retries=0, strict_responses=True
        )
    if provider == "gemini":
        return GeminiBatchAdapter(api_key="k", base_url=emu.gemini_base_url, attempts=1)
    return VertexBatchAdapter(
        project="proj",
        location="us-central1",
        bucket=DEFAULT_BUCKET,
        credentials=Credentials(token="test-token"),
        api_endpoint=emu.vertex_base_url,
        storage_endpoint=emu.gcs_url,
        timeout=10,
    )


def finish(chunk, job, plan, *, adapter, ledger, dirs, control):
    """Wait (moving the emulator's clock), download and convert one chunk."""
    job = wait_chunk(
        job,
        adapter=adapter,
        ledger=ledger,
        backoff=Backoff(0, 0, 1),
        sleep=lambda _s: control.advance(120),
    )
    chunk = ledger.get_chunk(chunk.id)
    path = download_chunk(chunk, job, adapter=adapter, ledger=ledger, dirs=dirs)
    convert_chunk(
        chunk, path, job, model=plan.model, ledger=ledger, dirs=dirs, records_dir=dirs.interviews
    )
    return job


def records(dirs: DataDirs) -> dict[str, dict]:
    return {path.stem: orjson.loads(path.read_bytes()) for path in dirs.interviews.glob("*.json")}


@pytest.mark.parametrize("other_batch", ["ended", "running"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_another_runs_look_alike_batch_is_never_adopted(
    emu, control, data_dir: Path, provider: str, other_batch: str
) -> None:
    control.configure(processing_seconds=0 if other_batch == "ended" else 600)
    adapter = make_adapter(provider, emu)
    params = BatchRunParameters(provider=provider, personas=str(SAMPLE), run_id="nightly", count=3)

    # run A (another data dir, so another ledger) submits its batch
    ledger_a, dirs_a = Ledger.open(data_dir / "a"), DataDirs(data_dir / "a")
    chunk_a = prepare_run(params, ledger=ledger_a, dirs=dirs_a).chunks[0]
    theirs = submit_chunk(chunk_a, adapter=adapter, ledger=ledger_a)
    if other_batch == "ended":
        control.advance(1)
        adapter.retrieve(theirs.batch_id)  # Google batches start, and end, when read

    # run B committed its intent and died before its create call left
    ledger_b, dirs_b = Ledger.open(data_dir / "b"), DataDirs(data_dir / "b")
    plan_b = prepare_run(params, ledger=ledger_b, dirs=dirs_b)
    chunk_b = plan_b.chunks[0]
    assert (chunk_b.key, chunk_b.sha256) == (chunk_a.key, chunk_a.sha256)  # a perfect look-alike
    ledger_b.record_intent(chunk_b.id, provider)

    job = submit_chunk(chunk_b, adapter=adapter, ledger=ledger_b)
    kw = {"adapter": adapter, "ledger": ledger_b, "dirs": dirs_b, "control": control}
    if provider == "anthropic" and other_batch == "running":
        # nothing can show whose a running Anthropic batch is: adopted on condition ...
        assert job.batch_id == theirs.batch_id
        with pytest.raises(ForeignBatchError, match="is not this run's") as caught:
            finish(chunk_b, job, plan_b, **kw)
        assert "Re-run with --run-id nightly" in str(caught.value)
        # ... and released when its results show another chunk's tag: nothing of it was used
        assert ledger_b.get_batch(chunk_b.id).batch_id is None
        assert not list(dirs_b.interviews.glob("*.json"))
        assert not list(dirs_b.results.glob("*.jsonl"))
        job = submit_chunk(chunk_b, adapter=adapter, ledger=ledger_b)  # the re-run
    assert job.batch_id != theirs.batch_id
    finish(chunk_b, job, plan_b, **kw)

    assert control.stats()[provider]["batches_created"] == 2  # A's and B's, no more
    mine = records(dirs_b)
    assert sorted(mine) == ["interview_0", "interview_1", "interview_2"]
    assert {record["batch_id"] for record in mine.values()} == {job.batch_id}
    assert all(record["status"] == "succeeded" for record in mine.values())
