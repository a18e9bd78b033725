"""Benchmark: converting raw results into interview records, against its floor and the guide.

For N interviews (Anthropic result lines, shuffled, with a chunk index) it times:
- ours: `write_records` (parse, join on custom_id, cost, per-interview JSON files + run JSONL);
- ours without per-interview files (run JSONL only: `--no-record-files`);
- the floor: a bare orjson loop doing the same reads and the same writes;
- the guide's snippet: `json.loads` per line and `json.dump(indent=2)` per file.

    uv run python bench/bench_convert.py [N ...]      # default: 10000

Writes only under bench/out/ (git-ignored). Prints a table and peak RSS.
"""

from __future__ import annotations

import json
import random
import resource
import shutil
import sys
import time
from pathlib import Path

import orjson

from interviews.catalog import get_model
from interviews.jsonl import atomic_writer, dumps_line
from interviews.providers.anthropic_batches import AnthropicBatchAdapter
from interviews.records import RecordContext, load_index, write_records

OUT = Path(__file__).resolve().parent / "out"
ANSWER = (
    "Well, I'm 67 and I've been managing my diabetes for a few years now. The metformin "
    "upsets my stomach some mornings, but my last HbA1c was better than the one before. "
) * 3


def make_inputs(n: int, work: Path) -> tuple[Path, Path]:
    """A results file (shuffled) and the chunk index for `n` interviews."""
    order = list(range(n))
    random.Random(7).shuffle(order)
    results, index = work / "results.jsonl", work / "index.jsonl"
    with results.open("wb") as res, index.open("wb") as idx:
        for i in range(n):
            idx.write(
                dumps_line(
                    {
                        "custom_id": f"interview_{i}",
                        "persona_id": i,
                        "question": "How has your health been lately?",
                    }
                )
            )
        for i in order:
            res.write(
                dumps_line(
                    {
                        "custom_id": f"interview_{i}",
                        "result": {
                            "type": "succeeded",
                            "message": {
                                "id": f"msg_{i}",
                                "type": "message",
                                "role": "assistant",
                                "model": "claude-sonnet-5-5",
                                "content": [{"type": "text", "text": ANSWER}],
                                "stop_reason": "end_turn",
                                "stop_sequence": None,
                                "usage": {"input_tokens": 900, "output_tokens": 120},
                            },
                        },
                    }
                )
            )
    return results, index


def ours(results: Path, index: Path, out: Path, files: bool) -> float:
    started = time.perf_counter()
    context = RecordContext("anthropic", get_model("anthropic", "claude-sonnet-5-5"), "b", "b")
    with atomic_writer(out / "run.jsonl") as sink:
        write_records(
            AnthropicBatchAdapter.parse_results(results),
            index=load_index(index),
            context=context,
            interviews_dir=out / "interviews" if files else None,
            on_record=lambda record: sink.write(dumps_line(record)),
        )
    return time.perf_counter() - started


def floor(results: Path, index: Path, out: Path, files: bool) -> float:
    """The same reads and writes, nothing else."""
    started = time.perf_counter()
    questions = {v["custom_id"]: v["question"] for v in map(orjson.loads, index.open("rb"))}
    (out / "interviews").mkdir(parents=True, exist_ok=True)
    with results.open("rb") as source, (out / "run.jsonl").open("wb") as sink:
        for line in source:
            value = orjson.loads(line)
            record = {
                "custom_id": value["custom_id"],
                "q": questions[value["custom_id"]],
                "a": value["result"]["message"]["content"][0]["text"],
            }
            sink.write(dumps_line(record))
            if files:
                (out / "interviews" / f"{value['custom_id']}.json").write_bytes(
                    orjson.dumps(record, option=orjson.OPT_INDENT_2)
                )
    return time.perf_counter() - started


def seed(results: Path, out: Path) -> float:
    """The guide's conversion snippet, as written (per-interview files only)."""
    started = time.perf_counter()
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
    return time.perf_counter() - started


def timed(n: int) -> dict[str, float]:
    work = OUT / f"convert_{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    results, index = make_inputs(n, work)
    times = {}
    for name, call in (
        ("ours_files", lambda o: ours(results, index, o, True)),
        ("floor_files", lambda o: floor(results, index, o, True)),
        ("seed_files", lambda o: seed(results, o)),
        ("ours_jsonl", lambda o: ours(results, index, o, False)),
        ("floor_jsonl", lambda o: floor(results, index, o, False)),
    ):
        target = work / name
        times[name] = call(target)
        shutil.rmtree(target)
    shutil.rmtree(work)
    return times


def main() -> None:
    sizes = [int(arg) for arg in sys.argv[1:]] or [10_000]
    print(
        f"{'interviews':>10} {'ours+files':>10} {'floor+files':>11} {'seed':>8} "
        f"{'ours/floor':>10} {'seed/ours':>9} {'jsonl only':>10} {'floor':>7} {'seed/jsonl':>10}"
    )
    for n in sizes:
        t = timed(n)
        ratio_floor = t["ours_files"] / t["floor_files"]
        ratio_seed = t["seed_files"] / t["ours_files"]
        print(
            f"{n:>10,} {t['ours_files']:>10.2f} {t['floor_files']:>11.2f} "
            f"{t['seed_files']:>8.2f} {ratio_floor:>9.2f}× {ratio_seed:>8.2f}× "
            f"{t['ours_jsonl']:>10.2f} {t['floor_jsonl']:>7.2f} "
            f"{t['seed_files'] / t['ours_jsonl']:>9.1f}×"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
