"""Benchmark: `prepare` (validate, render, canonical file, provider chunks) against its floor.

The floor is a bare orjson loop doing the same reads and writes: read every persona line, write
one canonical line and one provider line per persona. Run:

    uv run python bench/bench_prepare.py [N ...]      # default: 10000

Prints a table; writes only under bench/out/ (git-ignored).
"""

from __future__ import annotations

import resource
import shutil
import sys
import time
from pathlib import Path

import orjson

from interviews.preparation import DataDirs, prepare_requests
from interviews.sample_data import write_sample_personas
from interviews.spec import BatchRunParameters

OUT = Path(__file__).resolve().parent / "out"


def floor(personas: Path, out: Path) -> float:
    """Same bytes in and out, no validation and no templates."""
    started = time.perf_counter()
    with (
        personas.open("rb") as src,
        (out / "canon.jsonl").open("wb") as canon,
        (out / "lines.jsonl").open("wb") as lines,
    ):
        for index, raw in enumerate(src):
            record = orjson.loads(raw)
            system = orjson.dumps(record["persona"]).decode()
            canon.write(orjson.dumps({"custom_id": f"interview_{index}", **record}) + b"\n")
            lines.write(orjson.dumps({"custom_id": f"interview_{index}", "s": system}) + b"\n")
    return time.perf_counter() - started


def measure(n: int) -> tuple[int, float, float]:
    work = OUT / f"prepare_{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    personas = work / "personas.jsonl"
    write_sample_personas(personas, n, seed=1)
    base = floor(personas, work)
    params = BatchRunParameters(personas=str(personas))
    started = time.perf_counter()
    prepare_requests(params, dirs=DataDirs(work / "data"), chunk_dir=work / "chunks")
    ours = time.perf_counter() - started
    shutil.rmtree(work)
    return n, ours, base


def main() -> None:
    sizes = [int(arg) for arg in sys.argv[1:]] or [10_000]
    print(f"{'interviews':>10} {'prepare s':>10} {'floor s':>8} {'ratio':>6} {'per 1k s':>9}")
    for n, ours, base in map(measure, sizes):
        print(f"{n:>10,} {ours:>10.2f} {base:>8.2f} {ours / base:>5.1f}× {1000 * ours / n:>9.3f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
