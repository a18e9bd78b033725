"""The Gemini API adapter on google-genai against the emulator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from google.genai import types

from interviews.batch_types import BatchStatus, OutcomeStatus
from interviews.errors import PermanentProviderError
from interviews.providers import gemini_batches
from interviews.providers.base import BatchTag
from interviews.providers.gemini_batches import _STATUS_MAP, GeminiBatchAdapter
from interviews.requests import CanonicalRequest
from tests.providers.support import finish

MODEL = "gemini-3.8-flash"


def make_adapter(emu) -> GeminiBatchAdapter:
    return GeminiBatchAdapter(api_key="test-key", base_url=emu.gemini_base_url, attempts=1)


def lines_file(tmp_path: Path, n: int) -> Path:
    path = tmp_path / f"gemini_{n}.jsonl"
    with path.open("wb") as handle:
        for i in range(n):
            request = CanonicalRequest(
                f"interview_{i}", i, {}, {}, f"- Name: Person {i}\n- Age: {50 + i}", "How are you?"
            )
            line = GeminiBatchAdapter.build_line(request, model=MODEL, max_tokens=256)
            handle.write(orjson.dumps(line) + b"\n")
    return path


# One intent instant for the module: a chunk's ownership tag is derived from it.
INTENT_AT = datetime.now(UTC)


def tag(n: int, chunk: str = "run:r0:c0") -> BatchTag:
    return BatchTag("run", MODEL, chunk, "b" * 64, n, INTENT_AT)


def test_status_map_covers_every_job_state() -> None:
    assert set(_STATUS_MAP) == {state.value for state in types.JobState}


@pytest.mark.parametrize("inline", [True, False])
def test_full_batch_inline_and_file(emu, control, tmp_path, monkeypatch, inline: bool) -> None:
    if not inline:  # force the Files API path with a tiny threshold
        monkeypatch.setattr(gemini_batches, "INLINE_LIMIT", 1)
    control.set_faults(lines={"interview_2": {"type": "errored", "message": "blocked"}})
    adapter = make_adapter(emu)
    job = finish(adapter, control, adapter.create(lines_file(tmp_path, 6), tag=tag(6)).batch_id)
    assert job.status is BatchStatus.SUCCEEDED
    dest = tmp_path / "raw.jsonl"
    adapter.download_results(job.batch_id, dest)
    by_id = {o.custom_id: o for o in adapter.parse_results(dest)}
    assert sorted(by_id) == sorted(f"interview_{i}" for i in range(6))
    assert "Person 4" in by_id["interview_4"].text
    assert by_id["interview_2"].status is OutcomeStatus.ERRORED
    assert control.stats()["gemini"]["files_uploaded"] == (0 if inline else 1)


def test_cancel_and_find(emu, control, tmp_path: Path) -> None:
    control.configure(processing_seconds=100)
    adapter = make_adapter(emu)
    job = adapter.create(lines_file(tmp_path, 3), tag=tag(3, "run:r0:c7"))
    assert [f.job.batch_id for f in adapter.find_batches(tag(3, "run:r0:c7"))] == [job.batch_id]
    adapter.cancel(job.batch_id)
    assert finish(adapter, control, job.batch_id).status is BatchStatus.CANCELED


def test_unknown_batch_is_permanent(emu) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        make_adapter(emu).retrieve("batches/nope")
    assert caught.value.status_code == 404
