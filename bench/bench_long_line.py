"""Benchmark: peak memory of converting a results file with one 2 GiB line.

Before issue 12, results were read with `for line in file`, so one 2 GiB line was held whole
(and parsed: ~6 GB). Now every results reader goes through `interviews.jsonl.read_lines`, which
skips a line longer than INTERVIEWS_MAX_LINE_BYTES (64 MiB) in 1 MiB pieces and reports it.

    uv run python bench/bench_long_line.py            # 2 GiB line, sparse file (no disk used)
    uv run python bench/bench_long_line.py --dense    # the line written in 16 MiB pieces
    uv run python bench/bench_long_line.py --naive    # also the old whole-line read, for contrast

The file is an Anthropic results file: a good line, the long line (an answer whose text is
2 GiB; sparse: NUL bytes), a good line. Each conversion runs in its own subprocess (`interviews
convert`, the real CLI), so its peak RSS (ru_maxrss) is its own. Writes only under bench/out/.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out" / "long_line"
PIECE = 16 << 20


def line(custom_id: str, text: str) -> bytes:
    """One Anthropic succeeded result line."""
    message = {
        "model": "claude-sonnet-5-5",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }
    value = {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}
    return json.dumps(value).encode() + b"\n"


def write_results(path: Path, size: int, *, sparse: bool) -> None:
    """The results file, with a line of `size` bytes between two good ones."""
    head, tail = line("interview_2", "@").split(b"@")
    body = size - len(head) - len(tail)
    with path.open("wb") as handle:
        handle.write(line("interview_1", "A short answer."))
        handle.write(head)
        if sparse:  # a hole: reads as NUL bytes, takes no disk
            handle.truncate(handle.tell() + body)
            handle.seek(0, os.SEEK_END)
        else:
            for start in range(0, body, PIECE):
                handle.write(b"a" * min(PIECE, body - start))
        handle.write(tail)
        handle.write(line("interview_3", "Another answer."))


NAIVE = """
import sys
with open(sys.argv[1], "rb") as handle:
    for raw in handle:  # the old reader: every line held whole
        pass
"""


def measure(args: list[str]) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall seconds and peak RSS (MB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest of any child so far; each mode runs once, smallest
    # first, so a larger figure is this child's
    return seconds, max(peak, before) // 1024, result


def main() -> None:
    """Write the file, convert it, print time and peak RSS."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=2.0, help="Size of the long line in GiB.")
    parser.add_argument("--dense", action="store_true", help="Write the line (uses disk).")
    parser.add_argument("--naive", action="store_true", help="Also time the old whole-line read.")
    options = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results = OUT / "batch_output_anthropic_long.jsonl"
    size = int(options.gib * (1 << 30))
    started = time.perf_counter()
    write_results(results, size, sparse=not options.dense)
    print(f"wrote {results} ({results.stat().st_size:,} bytes, one line of {size:,}) "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    data = OUT / "data"
    seconds, peak, result = measure(
        [sys.executable, "-m", "interviews", "convert", "--results", str(results),
         "--data-dir", str(data)]
    )  # fmt: skip
    records = sorted(p.name for p in (data / "interviews").glob("*.json"))
    print(f"convert: exit {result.returncode}, {seconds:.1f} s, peak RSS {peak} MB, records "
          f"{records}")  # fmt: skip
    print("  " + "\n  ".join(result.stderr.strip().splitlines()))
    if options.naive:
        seconds, peak, _ = measure([sys.executable, "-c", NAIVE, str(results)])
        print(f"old reader (`for line in file`, no parse): {seconds:.1f} s, peak RSS {peak} MB")
    results.unlink()


if __name__ == "__main__":
    main()
