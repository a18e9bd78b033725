"""Benchmark: whole runs through the emulator, and Prefect task runs per run.

1. End to end: N interviews (default 100,000) through `batch-interviews` with the real SDK
   against the local emulator: prepare, submit, wait, download, convert (per-interview files
   and the run's JSONL), report. Prints the wall time of each phase as the run records it.
2. Task runs per run: several runs of different sizes and chunk counts; prints how many
   Prefect task runs each recorded, to show they follow chunks, not interviews.

    uv run python bench/bench_end_to_end.py [--interviews N] [--provider P] [--skip-e2e]

Prefect runs on its test harness (a real API server in a subprocess, fresh database), so task
runs are recorded in full; the emulator runs in a process of its own, so the peak RSS printed
is the pipeline's (flow, tasks, Prefect client). Writes only under bench/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="bench-prefect-"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ["INTERVIEWS_POLL_INITIAL_SECONDS"] = "0.5"
os.environ["INTERVIEWS_POLL_MAX_SECONDS"] = "1"


class EmulatorUrls:
    """The base URLs of an emulator serving in another process."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.url = urls["url"]
        self.anthropic_base_url = urls["anthropic"]
        self.openai_base_url = urls["openai"]
        self.vertex_base_url = urls["vertex"]
        self.gemini_base_url = urls["gemini"]
        self.gcs_url = urls["gcs"]


def _serve_emulator(conn, stop, gcs_dir: Path | None) -> None:
    """Child process: serve the emulator until `stop` is set."""
    from interviews.emulator import EmulatorServer

    with EmulatorServer(gcs_dir=gcs_dir) as emulator:
        conn.send(
            {
                "url": emulator.url,
                "anthropic": emulator.anthropic_base_url,
                "openai": emulator.openai_base_url,
                "vertex": emulator.vertex_base_url,
                "gemini": emulator.gemini_base_url,
                "gcs": emulator.gcs_url,
            }
        )
        stop.wait()


@contextmanager
def emulator_process(gcs_dir: Path | None = None) -> Iterator[EmulatorUrls]:
    """The emulator serving in a process of its own (so the pipeline's peak RSS is its own),
    its GCS objects in memory or, given `gcs_dir`, in that folder."""
    spawn = multiprocessing.get_context("spawn")
    parent_conn, child_conn = spawn.Pipe()
    stop = spawn.Event()
    server = spawn.Process(target=_serve_emulator, args=(child_conn, stop, gcs_dir), daemon=True)
    server.start()
    while not parent_conn.poll(0.5):  # a child that died before answering must not hang us
        if not server.is_alive():
            raise RuntimeError(f"the emulator process exited with code {server.exitcode}")
    try:
        yield EmulatorUrls(parent_conn.recv())
    finally:
        stop.set()
        server.join(30)


def save_blocks(emulator, name: str = "bench") -> str:
    """Credentials blocks pointing at the emulator, one per provider."""
    from blocks.credentials import (
        AnthropicCredentials,
        GeminiCredentials,
        OpenAICredentials,
        VertexBatchSettings,
    )

    AnthropicCredentials(api_key="bench", base_url=emulator.anthropic_base_url).save(
        name, overwrite=True
    )
    OpenAICredentials(api_key="bench", base_url=emulator.openai_base_url).save(name, overwrite=True)
    VertexBatchSettings(
        project="bench",
        bucket="interviews-emulator",
        access_token="bench",
        api_endpoint=emulator.vertex_base_url,
        storage_endpoint=emulator.gcs_url,
    ).save(name, overwrite=True)
    GeminiCredentials(api_key="bench", base_url=emulator.gemini_base_url).save(name, overwrite=True)
    return name


def run_once(
    personas: Path, data_dir: Path, provider: str, count: int, chunk_size: int | None, block: str
) -> tuple[dict, str]:
    """One batch run; returns its summary and the parent flow run's id."""
    from flows.batch_flows import batch_interviews
    from interviews.spec import BatchRunParameters

    params = BatchRunParameters(
        provider=provider,
        personas=str(personas),
        count=count,
        chunk_size=chunk_size,
        credentials_block=block,
        data_dir=str(data_dir),
    )
    state = batch_interviews(params, return_state=True)
    return state.result(), str(state.state_details.flow_run_id)


def count_task_runs(parent_flow_run_id: str, settle_seconds: float = 60.0) -> int:
    """Task runs recorded for the flow run and its subflows, once the count stops growing
    (up to 200, the API's page size: far more than a run of chunk tasks makes)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterParentFlowRunId,
    )

    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent_flow_run_id])
            )
        )
        ids = [parent_flow_run_id, *(str(run.id) for run in children)]
        deadline, last, stable_since = time.monotonic() + settle_seconds, -1, time.monotonic()
        while time.monotonic() < deadline:
            count = len(
                client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)), limit=200
                )
            )
            if count != last:
                last, stable_since = count, time.monotonic()
            elif time.monotonic() - stable_since > 3:
                break
            time.sleep(0.5)
        return last


def end_to_end(emulator, block: str, provider: str, n: int) -> None:
    """Time one run of `n` interviews end to end."""
    from interviews.sample_data import write_sample_personas

    work = OUT / f"e2e_{provider}_{n}"
    shutil.rmtree(work, ignore_errors=True)
    personas = work / "personas.jsonl"
    write_sample_personas(personas, n, seed=3)
    started = time.perf_counter()
    summary, flow_run_id = run_once(personas, work / "data", provider, n, None, block)
    elapsed = time.perf_counter() - started
    answered = summary["statuses"].get("succeeded", 0)
    records = sum(1 for _ in (work / "data" / "interviews").glob("*.json"))
    print(f"\nEnd to end, {provider}, {n:,} interviews: {elapsed:.1f} s wall")
    batches = len(summary["batches"])
    print(f"  answered {answered:,}; per-interview files {records:,}; batches {batches}")
    print(f"  task runs recorded: {count_task_runs(flow_run_id)}")
    shutil.rmtree(work, ignore_errors=True)


def task_runs_table(emulator, block: str, provider: str) -> None:
    """Task runs per run for runs of different sizes and chunk counts."""
    from interviews.sample_data import write_sample_personas

    work = OUT / "task_runs"
    shutil.rmtree(work, ignore_errors=True)
    personas = work / "personas.jsonl"
    write_sample_personas(personas, 10_000, seed=4)
    print(f"\n{'interviews':>10} {'chunks':>6} {'task runs':>9}")
    for n, chunk_size in ((1_000, None), (1_000, 100), (10_000, None), (10_000, 1_000)):
        data = work / f"data_{n}_{chunk_size}"
        summary, flow_run_id = run_once(personas, data, provider, n, chunk_size, block)
        print(f"{n:>10,} {len(summary['batches']):>6} {count_task_runs(flow_run_id):>9}")
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interviews", type=int, default=100_000)
    parser.add_argument("--provider", default="anthropic")
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--skip-task-runs", action="store_true")
    args = parser.parse_args()

    from prefect.testing.utilities import prefect_test_harness

    from interviews.emulator import EmulatorControl

    with emulator_process() as emulator, prefect_test_harness(server_startup_timeout=120):
        with EmulatorControl(emulator.url) as control:
            control.configure(processing_seconds=1.0)
        block = save_blocks(emulator)
        if not args.skip_e2e:
            end_to_end(emulator, block, args.provider, args.interviews)
        if not args.skip_task_runs:
            task_runs_table(emulator, block, args.provider)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of the pipeline process (flows, tasks, Prefect client) {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
