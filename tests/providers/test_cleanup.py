"""`cleanup` removes what each provider keeps of an ended batch, and is safe to repeat."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.providers import (
    test_anthropic_batches,
    test_gemini_batches,
    test_openai_batches,
    test_vertex_batches,
)
from tests.providers.support import finish

MODULES = {
    "anthropic": test_anthropic_batches,
    "openai": test_openai_batches,
    "vertex": test_vertex_batches,
    "gemini": test_gemini_batches,
}


@pytest.mark.parametrize("provider", list(MODULES))
def test_cleanup_deletes_provider_copies_once(emu, control, tmp_path: Path, provider) -> None:
    module = MODULES[provider]
    adapter = module.make_adapter(emu)
    job = adapter.create(module.lines_file(tmp_path, 3), tag=module.tag(3))
    job = finish(adapter, control, job.batch_id)
    adapter.download_results(job.batch_id, tmp_path / "raw.jsonl")
    assert adapter.cleanup(job.batch_id) >= 1
    assert (tmp_path / "raw.jsonl").stat().st_size > 0  # the local copy stays
    if provider == "openai":
        assert list(adapter._client.files.list()) == []
    if provider == "vertex":
        assert list(adapter._storage.list_blobs("interviews-emulator")) == []
    assert adapter.cleanup(job.batch_id) == 0  # nothing left to delete, and no error
