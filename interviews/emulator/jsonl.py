"""JSONL helpers shared by the providers' output files."""

from typing import Any

import orjson


def encode(lines: list[dict[str, Any]]) -> bytes:
    """JSONL bytes, one object per line, each ending in a newline."""
    return b"".join(orjson.dumps(line) + b"\n" for line in lines)


def truncated(content: bytes) -> bytes:
    """The first half of the lines, then half of the next one: a download cut mid-line."""
    lines = content.splitlines(keepends=True)
    if not lines:
        return content
    keep = len(lines) // 2
    cut = lines[keep].rstrip(b"\n")
    return b"".join(lines[:keep]) + cut[: len(cut) // 2]


def split_evenly(items: list[Any], parts: int) -> list[list[Any]]:
    """`items` cut into at most `parts` consecutive, non-empty chunks whose sizes differ by ≤ 1."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    chunks, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        chunks.append(items[start:end])
        start = end
    return chunks
