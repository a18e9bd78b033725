"""Run progress from the ledger: the numbers behind the progress artifact and the terminal bar."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from interviews.batch_types import BatchJob, BatchStatus, RequestCounts
from interviews.chunking import ChunkFile
from interviews.cli.progress import watch_progress
from interviews.ledger import Ledger
from interviews.progress import run_progress


def _run(tmp_path: Path, sizes: list[int]) -> Ledger:
    ledger = Ledger.open(tmp_path / "data")
    files = [
        ChunkFile(i, tmp_path / f"c{i}.jsonl", tmp_path / f"c{i}.idx", n, 10, "ab")
        for i, n in enumerate(sizes)
    ]
    ledger.create_run(
        "r",
        provider="anthropic",
        model="m",
        spec={"n": sum(sizes)},
        requests_path=tmp_path / "req.jsonl",
        request_count=sum(sizes),
        estimate_usd="1",
        files=files,
    )
    return ledger


def _batch(ledger: Ledger, chunk_index: int, status: BatchStatus, counts: RequestCounts) -> None:
    chunk = ledger.chunks("r")[chunk_index]
    if ledger.get_batch(chunk.id) is None:
        ledger.record_intent(chunk.id, "anthropic")
        ledger.record_batch(chunk.id, BatchJob("anthropic", f"b{chunk_index}", status, "x", counts))
    else:
        ledger.update_batch(BatchJob("anthropic", f"b{chunk_index}", status, "x", counts))


def test_progress_counts_finished_requests_of_every_batch(tmp_path: Path) -> None:
    ledger = _run(tmp_path, [4, 3, 3])
    assert run_progress(ledger, "r").finished == 0
    _batch(ledger, 0, BatchStatus.RUNNING, RequestCounts(processing=1, succeeded=3))
    # a provider that reports no tallies until the end (Anthropic) counts nothing yet
    _batch(ledger, 1, BatchStatus.RUNNING, RequestCounts())
    ledger.record_intent(ledger.chunks("r")[2].id, "anthropic")  # create in flight: no batch
    progress = run_progress(ledger, "r")
    assert (progress.requests, progress.finished, progress.batches) == (10, 3, 2)
    assert progress.batches_ended == 0 and progress.percent == 30.0
    _batch(ledger, 1, BatchStatus.SUCCEEDED, RequestCounts())  # ended: all of it counts
    assert run_progress(ledger, "r").finished == 6
    assert (
        "6 of 10 requests finished, 1 of 2 batch(es) ended" in run_progress(ledger, "r").describe()
    )


def test_progress_follows_the_latest_retry_round(tmp_path: Path) -> None:
    ledger = _run(tmp_path, [4])
    _batch(ledger, 0, BatchStatus.PARTIALLY_SUCCEEDED, RequestCounts(succeeded=3, errored=1))
    retry = ChunkFile(0, tmp_path / "r1.jsonl", tmp_path / "r1.idx", 1, 10, "cd")
    ledger.add_chunks("r", "anthropic", "m", 1, [retry])
    progress = run_progress(ledger, "r")
    assert (progress.round, progress.requests, progress.finished) == (1, 1, 0)


def test_terminal_bar_shows_the_ledger_progress(tmp_path: Path) -> None:
    ledger = _run(tmp_path, [4])
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with watch_progress(ledger, ["r"], console=console, interval=0.01):
        _batch(ledger, 0, BatchStatus.SUCCEEDED, RequestCounts(succeeded=4))
    assert "4/4" in out.getvalue() and "1/1 batches ended" in out.getvalue()


def test_no_bar_when_output_is_not_a_terminal(tmp_path: Path) -> None:
    ledger = _run(tmp_path, [4])
    out = io.StringIO()
    with watch_progress(ledger, ["r"], console=Console(file=out), interval=0.01):
        _batch(ledger, 0, BatchStatus.SUCCEEDED, RequestCounts(succeeded=4))
    assert out.getvalue() == ""
