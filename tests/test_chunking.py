"""Chunking by request count and by bytes; all-or-nothing files."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from interviews.chunking import write_chunks
from interviews.errors import InputError
from interviews.requests import CanonicalRequest


def requests(n: int, text: str = "q") -> list[CanonicalRequest]:
    return [CanonicalRequest(f"interview_{i}", i, {}, {}, "system", text) for i in range(n)]


def line(request: CanonicalRequest) -> dict:
    return {"custom_id": request.custom_id, "q": request.first_question}


def test_split_by_count(tmp_path: Path) -> None:
    chunks = write_chunks(
        requests(25),
        build_line=line,
        directory=tmp_path,
        stem="c",
        max_requests=10,
        max_bytes=10**9,
    )
    assert [c.request_count for c in chunks] == [10, 10, 5]
    ids = [orjson.loads(x)["custom_id"] for c in chunks for x in c.path.read_bytes().splitlines()]
    assert ids == [f"interview_{i}" for i in range(25)]
    index = [orjson.loads(x) for x in chunks[2].index_path.read_bytes().splitlines()]
    assert index[0] == {"custom_id": "interview_20", "persona_id": 20, "question": "q"}


def test_split_by_bytes(tmp_path: Path) -> None:
    text = "x" * 1000
    chunks = write_chunks(
        requests(10, text),
        build_line=line,
        directory=tmp_path,
        stem="c",
        max_requests=100,
        max_bytes=1024 + 3 * 1050,
    )
    assert all(c.byte_count <= 3 * 1050 for c in chunks)
    assert sum(c.request_count for c in chunks) == 10 and len(chunks) == 4
    for chunk in chunks:
        assert chunk.byte_count == chunk.path.stat().st_size


def test_oversized_request_is_refused_and_nothing_stays(tmp_path: Path) -> None:
    items = requests(5) + requests(1, "y" * 5000)
    with pytest.raises(InputError, match="more than one batch may hold"):
        write_chunks(
            items, build_line=line, directory=tmp_path, stem="c", max_requests=2, max_bytes=2048
        )
    assert list(tmp_path.iterdir()) == []


def test_sixty_thousand_openai_requests_make_two_chunks_within_limits(tmp_path: Path) -> None:
    from interviews.providers.openai_batches import OpenAIBatchAdapter as Adapter

    chunks = write_chunks(
        requests(60_000),
        build_line=lambda r: Adapter.build_line(r, model="gpt-6.1-terra", max_tokens=100),
        directory=tmp_path,
        stem="openai",
        max_requests=Adapter.max_requests,
        max_bytes=Adapter.max_bytes,
    )
    assert [c.request_count for c in chunks] == [50_000, 10_000]
    for chunk in chunks:
        assert chunk.path.stat().st_size <= Adapter.max_bytes
        assert len(chunk.path.read_bytes().splitlines()) == chunk.request_count
