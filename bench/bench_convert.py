"""Benchmark: converting raw results into interview records, against its floor and the guide.

Reproduce the table (10k and 100k run 3 times each, 1M once; about 40 minutes, most of it the
1M per-interview files; needs ~25 GB free under bench/out/, as a size's output is kept until
its last run):

    uv run -q python bench/bench_convert.py 10000 100000 1000000

Sizes default to 10000. For N interviews (Anthropic result lines, all succeeded, shuffled, with
the chunk index) every mode runs in its own subprocess (so each row's peak RSS is its own, and
imports and the model catalog load before the clock starts), interleaved and repeated; the table
shows median wall seconds, the ratio of median CPU seconds (user + system: less sensitive to
other users of a shared machine), and the largest peak RSS; under it, each run's ratio and the
ratio of the best (fastest) runs, the figure least disturbed by the file system's moods. Modes:

- ours: `load_index` + `write_records` (parse, join on custom_id, cost, summary tallies),
  writing per-interview JSON files and the run JSONL ("files"), or the run JSONL only
  ("jsonl", as `--no-record-files`);
- floor: the least code that writes the same bytes: orjson loads per line, the same record dict
  built inline (the cost with the same Decimal arithmetic), orjson dumps, a buffered JSONL and
  one os.open/os.write/os.close per interview file, written in place;
- atomic: the floor, but each interview file written to `{id}.json.partial` and renamed into
  place, as ours does so that a crash never leaves half a record under its real name (the one
  thing ours does to its files that the floor does not);
- seed: the guide's snippet as written (`json.loads` per line, `json.dump(indent=2)` per file;
  its records are smaller than ours: no question, usage, cost or status).

The bench checks that the floor's and the atomic floor's run JSONL and interview files (names
and bytes) have the same sha256 as ours, and stops with an error if they do not.
Writes only under bench/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
MODES = ("ours_files", "floor_files", "atomic_files", "seed_files", "ours_jsonl", "floor_jsonl")
MODEL = "claude-sonnet-5-5"
ENDED = datetime(2026, 11, 27, 14, 30, 22, tzinfo=UTC)  # the batch's end: records' timestamp
WRITE_BUFFER = 1 << 20
ANSWER = (
    "Well, I'm 67 and I've been managing my diabetes for a few years now. The metformin "
    "upsets my stomach some mornings, but my last HbA1c was better than the one before. "
) * 3


def make_inputs(n: int, work: Path) -> tuple[Path, Path]:
    """A results file (shuffled) and the chunk index for `n` interviews."""
    import orjson

    def line(value: dict) -> bytes:
        return orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE)

    order = list(range(n))
    random.Random(7).shuffle(order)
    results, index = work / "results.jsonl", work / "index.jsonl"
    with results.open("wb") as res, index.open("wb") as idx:
        for i in range(n):
            question = "How has your health been lately?"
            idx.write(line({"custom_id": f"interview_{i}", "persona_id": i, "question": question}))
        for i in order:
            message = {
                "id": f"msg_{i}",
                "type": "message",
                "role": "assistant",
                "model": MODEL,
                "content": [{"type": "text", "text": ANSWER}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 900 + i % 97, "output_tokens": 120 + i % 1013},
            }
            res.write(
                line(
                    {
                        "custom_id": f"interview_{i}",
                        "result": {"type": "succeeded", "message": message},
                    }
                )
            )
    return results, index


def run_ours(results: Path, index: Path, out: Path, files: bool) -> None:
    from interviews.catalog import get_model
    from interviews.jsonl import atomic_writer, dumps_line
    from interviews.providers.anthropic_batches import AnthropicBatchAdapter
    from interviews.records import RecordContext, load_index, write_records

    model = get_model("anthropic", MODEL)
    context = RecordContext("anthropic", model, "run-1", "batch-1", timestamp=ENDED)
    with atomic_writer(out / "run.jsonl") as sink:
        write_records(
            AnthropicBatchAdapter.parse_results(results),
            index=load_index(index),
            context=context,
            interviews_dir=out / "interviews" if files else None,
            on_record=lambda record: sink.write(dumps_line(record)),
        )


def run_floor(results: Path, index: Path, out: Path, files: bool, atomic: bool = False) -> None:
    """The same reads and writes, nothing else (`atomic`: each file written to `.partial`,
    then renamed into place, as ours does)."""
    from decimal import Decimal

    import orjson

    from interviews.catalog import get_model
    from interviews.costs import prices

    model = get_model("anthropic", MODEL)
    rates = prices(model, batch=True, at=ENDED)
    batch_input, batch_output, million = rates.input, rates.output, Decimal(10**6)
    timestamp = ENDED.isoformat(timespec="seconds")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    folder = out / "interviews"
    folder.mkdir(parents=True, exist_ok=True)
    with index.open("rb") as source:
        questions = {}
        for raw in source:
            value = orjson.loads(raw)
            questions[value["custom_id"]] = (value["persona_id"], value["question"])
    with results.open("rb") as source, (out / "run.jsonl").open("wb", WRITE_BUFFER) as sink:
        for raw in source:
            value = orjson.loads(raw)
            custom_id = value["custom_id"]
            message = value["result"]["message"]
            usage = message["usage"]
            persona_id, question = questions[custom_id]
            text = "".join(b["text"] for b in message["content"] if b["type"] == "text")
            cost = (
                usage["input_tokens"] * batch_input + usage["output_tokens"] * batch_output
            ) / million
            record = {
                "persona_id": persona_id,
                "timestamp": timestamp,
                "provider": "anthropic",
                "model": model.id,
                "transcript": [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": text},
                ],
                "custom_id": custom_id,
                "run_id": "run-1",
                "batch_id": "batch-1",
                "mode": "batch",
                "round": 0,
                "status": "succeeded",
                "finish_reason": message["stop_reason"],
                "usage": {
                    "input_tokens": usage["input_tokens"],
                    "output_tokens": usage["output_tokens"],
                    "cache_read_tokens": 0,
                    "cache_write_tokens": 0,
                    "reasoning_tokens": 0,
                },
                "cost_usd": float(round(cost, 8)),
                "error": None,
            }
            sink.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
            if files:
                path = f"{folder}/{custom_id}.json"
                fd = os.open(path + ".partial" if atomic else path, flags, 0o644)
                os.write(fd, orjson.dumps(record, option=orjson.OPT_INDENT_2))
                os.close(fd)
                if atomic:
                    os.replace(path + ".partial", path)


def run_seed(results: Path, index: Path, out: Path, files: bool) -> None:
    """The guide's conversion snippet, as written (per-interview files only)."""
    (out / "interviews").mkdir(parents=True, exist_ok=True)
    with open(results) as f:
        for line in f:
            result = json.loads(line)
            interview_id = result["custom_id"]
            response = result["result"]["message"]["content"][0]["text"]
            interview = {
                "persona_id": int(interview_id.split("_")[1]),
                "timestamp": "2025-01-05T14:30:22",
                "provider": "anthropic",
                "model": "claude-sonnet-4-5-20250929",
                "transcript": [{"role": "assistant", "content": response}],
            }
            with open(out / "interviews" / f"{interview_id}.json", "w") as handle:
                json.dump(interview, handle, indent=2)


def digests(out: Path) -> dict[str, str]:
    """sha256 of the run JSONL, and of every interview file's name and bytes (sorted)."""
    found = {}
    run = out / "run.jsonl"
    if run.exists():
        found["run.jsonl"] = hashlib.sha256(run.read_bytes()).hexdigest()
    folder = out / "interviews"
    names = sorted(os.listdir(folder)) if folder.exists() else []
    if names:
        sha = hashlib.sha256()
        for name in names:
            sha.update(name.encode() + b"\0" + (folder / name).read_bytes())
        found["interviews"] = f"{len(names)} files {sha.hexdigest()}"
    return found


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(mode: str, results: Path, index: Path, out: Path) -> None:
    """Run one mode in this process and print `{seconds, cpu, peak_mb, digests}` as JSON."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    name, _, kind = mode.partition("_")
    run = {
        "ours": run_ours,
        "floor": run_floor,
        "atomic": lambda *args: run_floor(*args, atomic=True),
        "seed": run_seed,
    }[name]
    # imports and the model catalog are loaded before the clock starts, for every mode
    from interviews.catalog import get_model
    from interviews.providers.anthropic_batches import AnthropicBatchAdapter  # noqa: F401
    from interviews.records import write_records  # noqa: F401

    get_model("anthropic", MODEL)
    started, cpu = time.perf_counter(), cpu_seconds()
    run(results, index, out, kind == "files")
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    found = digests(out) if name != "seed" else {}
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak_mb, "digests": found}))


def spawn(mode: str, results: Path, index: Path, out: Path) -> dict:
    os.sync()  # start each run without the previous run's dirty pages still being written
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(results), str(index), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(n: int, repeat: int, modes: tuple[str, ...]) -> dict[str, list[dict]]:
    work = OUT / f"convert_{n}"
    _remove(work)
    work.mkdir(parents=True)
    results, index = make_inputs(n, work)
    runs: dict[str, list[dict]] = {mode: [] for mode in modes}
    for round_ in range(repeat):
        # interleaved, so load from other users spreads over all modes, and rotated, so no
        # mode always runs right after the same other one
        shift = round_ % len(modes)
        for mode in modes[shift:] + modes[:shift]:
            # a fresh folder each run, all removed at the end: on ext4, creating files shortly
            # after deleting many is several times slower, which made runs wildly uneven
            runs[mode].append(spawn(mode, results, index, work / f"{mode}_{round_}"))
    _remove(work)
    for ours, floor in (
        ("ours_files", "floor_files"),
        ("ours_files", "atomic_files"),
        ("ours_jsonl", "floor_jsonl"),
    ):
        if runs[ours][0]["digests"] != runs[floor][0]["digests"]:
            sys.exit(f"{floor} output differs from {ours} at {n:,}: {runs[ours]} {runs[floor]}")
    return runs


def _remove(folder: Path) -> None:
    """Delete `folder` and let the file system settle before anything else is timed."""
    shutil.rmtree(folder, ignore_errors=True)
    os.sync()
    time.sleep(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000])
    parser.add_argument(
        "--repeat",
        type=int,
        help="runs per mode, median shown (default: 3, or 1 from 1M interviews on)",
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, results, index, out = args.child
        child(mode, Path(results), Path(index), Path(out))
        return
    print(
        f"{'interviews':>10} {'mode':>5} {'ours s':>7} {'floor s':>7} {'ratio':>6} "
        f"{'cpu ratio':>9} {'atomic s':>8} {'ratio':>6} {'seed s':>7} {'seed/ours':>9} "
        f"{'ours MB':>7} {'floor MB':>8} {'seed MB':>7} {'same bytes':>10}"
    )
    for n in args.sizes:
        runs = measure(n, args.repeat or (1 if n >= 1_000_000 else 3), MODES)
        med = {mode: statistics.median(r["seconds"] for r in runs[mode]) for mode in MODES}
        cpu = {mode: statistics.median(r["cpu"] for r in runs[mode]) for mode in MODES}
        mb = {mode: max(r["peak_mb"] for r in runs[mode]) for mode in MODES}
        for kind in ("files", "jsonl"):
            ours, floor, seed = f"ours_{kind}", f"floor_{kind}", "seed_files"
            atomic = (
                f"{med['atomic_files']:>8.2f} {med[ours] / med['atomic_files']:>5.2f}×"
                if kind == "files"
                else f"{'-':>8} {'-':>6}"
            )
            print(
                f"{n:>10,} {kind:>5} {med[ours]:>7.2f} {med[floor]:>7.2f} "
                f"{med[ours] / med[floor]:>5.2f}× {cpu[ours] / cpu[floor]:>8.2f}× {atomic} "
                f"{med[seed]:>7.2f} {med[seed] / med[ours]:>8.2f}× {mb[ours]:>7.0f} "
                f"{mb[floor]:>8.0f} {mb[seed]:>7.0f} {'yes':>10}",
                flush=True,
            )
            ratios = [
                o["seconds"] / f["seconds"] for o, f in zip(runs[ours], runs[floor], strict=True)
            ]
            best = min(r["seconds"] for r in runs[ours]) / min(r["seconds"] for r in runs[floor])
            print(
                f"{'':>16} ours/floor per run: {', '.join(f'{r:.2f}' for r in ratios)}; "
                f"best of each: {best:.2f}×"
            )


if __name__ == "__main__":
    main()
