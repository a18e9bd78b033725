"""Benchmark: a large batch run (default 1,000,000 interviews in chunks of 100,000) through the
emulator, on local SQLite + disk and on PostgreSQL + a gs:// data directory.

    uv run python bench/bench_scale.py [--interviews N] [--chunk-size C] [--provider P]
        [--configs local,remote]

Each configuration runs in a process of its own (so its peak RSS is its own), under one
Prefect test-harness server; the emulator (with its GCS) runs in another process, and a
throwaway PostgreSQL server (Debian's packages, as in the tests) holds the remote ledger. Per
configuration it prints the wall time, the pipeline process's peak RSS and the Prefect task
runs the run recorded. Per-interview files are off (`record_files=False`): at this size the
run's `interviews.jsonl` is the record store, and a million objects would time the emulator's
GCS rather than the pipeline. Writes only under bench/out/ (git-ignored) and the emulator.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_end_to_end import (  # noqa: E402
    OUT,
    count_task_runs,
    emulator_process,
    save_blocks,
)


def child(config: dict) -> None:
    """One run in this process; prints `{seconds, peak_mb, ...}` as JSON on the last line."""
    os.environ.update(config["env"])
    from flows.batch_flows import batch_interviews
    from interviews.spec import BatchRunParameters

    params = BatchRunParameters(
        provider=config["provider"],
        personas=config["personas"],
        count=config["interviews"],
        chunk_size=config["chunk_size"],
        credentials_block=config["block"],
        data_dir=config["data_dir"],
        record_files=False,
    )
    started = time.perf_counter()
    state = batch_interviews(params, return_state=True)
    seconds = time.perf_counter() - started
    summary = state.result()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": peak,
                "answered": summary["statuses"].get("succeeded", 0),
                "batches": len(summary["batches"]),
                "flow_run_id": str(state.state_details.flow_run_id),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interviews", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=100_000)
    parser.add_argument("--provider", default="anthropic")
    parser.add_argument("--configs", default="local,remote")
    args = parser.parse_args()

    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    from interviews.emulator import EmulatorControl
    from interviews.sample_data import write_sample_personas
    from tests.postgres import create_database, running_postgres

    work = OUT / f"scale_{args.provider}_{args.interviews}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    personas = work / "personas.jsonl"
    made = time.perf_counter()
    write_sample_personas(personas, args.interviews, seed=5)
    print(f"{args.interviews:,} sample personas written in {time.perf_counter() - made:.0f} s")

    rows = []
    try:
        with (
            emulator_process(gcs_dir=work / "gcs") as emulator,
            running_postgres() as postgres,
            prefect_test_harness(server_startup_timeout=120),
        ):
            with EmulatorControl(emulator.url) as control:
                control.configure(processing_seconds=1.0)
            block = save_blocks(emulator)
            for name in args.configs.split(","):
                env = {
                    "PREFECT_API_URL": PREFECT_API_URL.value(),
                    "INTERVIEWS_POLL_INITIAL_SECONDS": "0.5",
                    "INTERVIEWS_POLL_MAX_SECONDS": "1",
                }
                if name == "remote":
                    data_dir = f"gs://interviews-emulator/scale-{uuid.uuid4().hex[:8]}/data"
                    env |= {
                        "INTERVIEWS_LEDGER_URL": create_database(postgres, "bench"),
                        "STORAGE_EMULATOR_HOST": emulator.gcs_url,
                        "INTERVIEWS_WORKSPACE_DIR": str(work / "workspace"),
                    }
                else:
                    data_dir = str(work / "data")
                config = {
                    "env": env,
                    "provider": args.provider,
                    "personas": str(personas),
                    "interviews": args.interviews,
                    "chunk_size": args.chunk_size,
                    "block": block,
                    "data_dir": data_dir,
                }
                done = subprocess.run(
                    [sys.executable, __file__, "--child", json.dumps(config)],
                    capture_output=True, text=True, cwd=ROOT,
                )  # fmt: skip
                if done.returncode != 0:
                    raise SystemExit(
                        f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
                    )
                result = json.loads(done.stdout.strip().splitlines()[-1])
                result["task_runs"] = count_task_runs(result["flow_run_id"])
                rows.append((name, result))
                print(name, json.dumps(result), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"\n{args.interviews:,} interviews, {args.provider}, chunks of {args.chunk_size:,}"
        f"\n{'config':<34} {'wall s':>8} {'peak RSS MB':>12} {'batches':>8} {'task runs':>10}"
    )
    labels = {"local": "SQLite ledger + local disk", "remote": "PostgreSQL ledger + gs:// bucket"}
    for name, result in rows:
        print(
            f"{labels.get(name, name):<34} {result['seconds']:>8.0f} {result['peak_mb']:>12.0f} "
            f"{result['batches']:>8} {result['task_runs']:>10}"
        )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(json.loads(sys.argv[2]))
    else:
        main()
