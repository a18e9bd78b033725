"""Helpers for the OpenAI emulator tests: upload, create, poll to the end, download."""

from typing import Any

import openai
import orjson
from openai.types import Batch

from tests.emulator.builders import CHAT, jsonl

ENDED = ("completed", "failed", "expired", "cancelled")


def upload(client: openai.OpenAI, lines: list[Any], name: str = "in.jsonl") -> str:
    """Upload `lines` as a batch input file and return its id."""
    return client.files.create(file=(name, jsonl(lines)), purpose="batch").id


def submit(client: openai.OpenAI, lines: list[Any], endpoint: str = CHAT, **kwargs: Any) -> Batch:
    """Upload `lines` and create a batch over them."""
    return client.batches.create(
        input_file_id=upload(client, lines),
        endpoint=endpoint,  # type: ignore[arg-type]
        completion_window="24h",
        **kwargs,
    )


def run_to_end(client: openai.OpenAI, batch_id: str, reads: int = 10) -> Batch:
    """Poll until the batch is in a terminal state (each read advances it one step)."""
    for _ in range(reads):
        batch = client.batches.retrieve(batch_id)
        if batch.status in ENDED:
            return batch
    raise AssertionError(f"batch {batch_id} did not end within {reads} reads")


def download(client: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    """The parsed JSONL lines of a file (an empty list for None)."""
    if file_id is None:
        return []
    return [orjson.loads(line) for line in client.files.content(file_id).content.splitlines()]
