"""Benchmark: `prepare` (validate, render, canonical file, provider chunks) against its floors.

Reproduce the table (10k and 100k run 3 times each, 1M once; about 15 minutes; needs ~15 GB
free under bench/out/):

    uv run -q python bench/bench_prepare.py 10000 100000 1000000

Sizes default to 10000. Each size gets a personas file from `interviews sample-data` (seed 1),
then every mode runs in its own subprocess (so each row's peak RSS is its own, and imports and
the model catalog load before the clock starts), interleaved and repeated; the table shows
median wall seconds, the ratio of median CPU seconds (user + system: less sensitive to other
users of a shared machine) and the largest peak RSS. Modes:

- ours: `prepare_requests` for Anthropic with the default templates and model (validation,
  templates, canonical request file, provider chunk files with their index files, sha256).
- floor: the least code that writes the same bytes: orjson loads per line, the system message
  built by plain string joins of the template's own text around `label`/`describe` (the
  prompt's content), orjson dumps, buffered writes; no Jinja, no validation, no chunk
  bookkeeping (one provider file and one index file, compared with our chunks concatenated).
  The bench checks that the floor's canonical, provider and index bytes have the same sha256
  as ours and stops with an error if they do not.
- io: the earlier I/O-only floor (reads the same lines, writes a canonical line and a provider
  line that hold the persona JSON instead of a rendered prompt); shown as "vs I/O only".

Writes only under bench/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
MODES = ("ours", "floor", "io")
WRITE_BUFFER = 1 << 20


class Clock:
    """Wall and CPU (user + system) seconds of a `with` block; CPU time is less sensitive to
    other users of a shared machine."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), _cpu_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, _cpu_seconds() - self.cpu


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def digest(paths: list[Path]) -> str:
    """sha256 of the files' bytes, concatenated in order."""
    sha = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                sha.update(block)
    return sha.hexdigest()


def run_ours(personas: Path, out: Path, clock: Clock) -> dict[str, str]:
    from interviews.catalog import get_model
    from interviews.preparation import DataDirs, prepare_requests
    from interviews.providers import get_adapter_class
    from interviews.spec import DEFAULT_MODEL, BatchRunParameters

    # one-time costs (module imports, the model catalog) before the clock starts, as for the
    # floor, whose template text and model id are read before it too

    get_adapter_class("anthropic")
    get_model("anthropic", DEFAULT_MODEL["anthropic"])
    params = BatchRunParameters(provider="anthropic", personas=str(personas))
    with clock:
        prepared = prepare_requests(params, dirs=DataDirs(out / "data"), chunk_dir=out / "chunks")
    return {
        "canonical": digest([prepared.requests_path]),
        "provider": digest([chunk.path for chunk in prepared.chunks]),
        "index": digest([chunk.index_path for chunk in prepared.chunks]),
    }


def _template_text(name: str) -> str:
    from importlib import resources

    return resources.files("interviews.templates").joinpath(name).read_text("utf-8")


def run_floor(personas: Path, out: Path, clock: Clock) -> dict[str, str]:
    import orjson

    from interviews.catalog import get_model
    from interviews.prompts import describe, label
    from interviews.spec import DEFAULT_MAX_TOKENS, DEFAULT_MODEL

    # The default system template is literal text around two field loops; take the text from
    # the template file itself, so a changed template shows up as a digest mismatch.
    loop_body = "\n- {{ key | label }}: {{ value | describe }}\n{% endfor %}"
    source = _template_text("system_message.j2").removesuffix("\n")
    intro, rest = source.split("{% for key, value in persona.items() -%}" + loop_body)
    middle, tail = rest.split("{% for key, value in health_record.items() -%}" + loop_body)
    question = _template_text("first_question.j2").strip()
    model = get_model("anthropic", DEFAULT_MODEL["anthropic"]).id
    newline = orjson.OPT_APPEND_NEWLINE

    with (
        clock,
        personas.open("rb") as source_file,
        (out / "canonical.jsonl").open("wb", buffering=WRITE_BUFFER) as canonical,
        (out / "provider.jsonl").open("wb", buffering=WRITE_BUFFER) as provider,
        (out / "index.jsonl").open("wb", buffering=WRITE_BUFFER) as index_file,
    ):
        for index, raw in enumerate(source_file):
            record = orjson.loads(raw)
            persona, health = record["persona"], record["health_record"]
            persona_id = record.get("persona_id", index)
            custom_id = f"interview_{persona_id}"
            system = "".join(
                [
                    intro,
                    *[f"- {label(k)}: {describe(v)}\n" for k, v in persona.items()],
                    middle,
                    *[f"- {label(k)}: {describe(v)}\n" for k, v in health.items()],
                    tail,
                ]
            ).strip()
            canonical.write(
                orjson.dumps(
                    {
                        "custom_id": custom_id,
                        "persona_id": persona_id,
                        "persona": persona,
                        "health_record": health,
                        "system_message": system,
                        "first_question": question,
                    },
                    option=newline,
                )
            )
            provider.write(
                orjson.dumps(
                    {
                        "custom_id": custom_id,
                        "params": {
                            "model": model,
                            "max_tokens": DEFAULT_MAX_TOKENS,
                            "system": system,
                            "messages": [{"role": "user", "content": question}],
                        },
                    },
                    option=newline,
                )
            )
            index_file.write(
                orjson.dumps(
                    {"custom_id": custom_id, "persona_id": persona_id, "question": question},
                    option=newline,
                )
            )
    return {
        "canonical": digest([out / "canonical.jsonl"]),
        "provider": digest([out / "provider.jsonl"]),
        "index": digest([out / "index.jsonl"]),
    }


def run_io(personas: Path, out: Path, clock: Clock) -> dict[str, str]:
    """The earlier floor: same reads, and writes of about the same size, but no prompt."""
    import orjson

    with (
        clock,
        personas.open("rb") as src,
        (out / "canon.jsonl").open("wb") as canon,
        (out / "lines.jsonl").open("wb") as lines,
    ):
        for index, raw in enumerate(src):
            record = orjson.loads(raw)
            system = orjson.dumps(record["persona"]).decode()
            canon.write(orjson.dumps({"custom_id": f"interview_{index}", **record}) + b"\n")
            lines.write(orjson.dumps({"custom_id": f"interview_{index}", "s": system}) + b"\n")
    return {}


def child(mode: str, personas: Path, out: Path) -> None:
    """Run one mode in this process and print `{seconds, peak_mb, digests}` as JSON."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    run = {"ours": run_ours, "floor": run_floor, "io": run_io}[mode]
    clock = Clock()
    digests = run(personas, out, clock)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    shutil.rmtree(out)
    result = {"seconds": clock.wall, "cpu": clock.cpu, "peak_mb": peak_mb, "digests": digests}
    print(json.dumps(result))


def spawn(mode: str, personas: Path, out: Path) -> dict:
    os.sync()  # start each run without the previous run's dirty pages still being written
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(personas), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(n: int, repeat: int) -> dict[str, list[dict]]:
    from interviews.sample_data import write_sample_personas

    work = OUT / f"prepare_{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    personas = work / "personas.jsonl"
    write_sample_personas(personas, n, seed=1)
    runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
    for _ in range(repeat):
        for mode in MODES:  # interleaved, so load from other users spreads over all modes
            runs[mode].append(spawn(mode, personas, work / mode))
    shutil.rmtree(work)
    ours, floor = runs["ours"][0]["digests"], runs["floor"][0]["digests"]
    if ours != floor:
        sys.exit(f"floor output differs from ours at {n:,}: ours {ours}, floor {floor}")
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000])
    parser.add_argument(
        "--repeat",
        type=int,
        help="runs per mode, median shown (default: 3, or 1 from 1M interviews on)",
    )
    parser.add_argument(
        "--child", nargs=3, metavar=("MODE", "PERSONAS", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        mode, personas, out = args.child
        child(mode, Path(personas), Path(out))
        return
    print(
        f"{'interviews':>10} {'ours s':>8} {'floor s':>8} {'ratio':>6} {'cpu ratio':>9} "
        f"{'I/O s':>7} {'vs I/O only':>11} {'ours MB':>8} {'floor MB':>9} {'I/O MB':>7} "
        f"{'same bytes':>10}"
    )
    for n in args.sizes:
        runs = measure(n, args.repeat or (1 if n >= 1_000_000 else 3))
        t = {mode: statistics.median(r["seconds"] for r in runs[mode]) for mode in MODES}
        cpu = {mode: statistics.median(r["cpu"] for r in runs[mode]) for mode in MODES}
        mb = {mode: max(r["peak_mb"] for r in runs[mode]) for mode in MODES}
        print(
            f"{n:>10,} {t['ours']:>8.2f} {t['floor']:>8.2f} {t['ours'] / t['floor']:>5.2f}× "
            f"{cpu['ours'] / cpu['floor']:>8.2f}× "
            f"{t['io']:>7.2f} {t['ours'] / t['io']:>10.2f}× {mb['ours']:>8.0f} "
            f"{mb['floor']:>9.0f} {mb['io']:>7.0f} {'yes':>10}",
            flush=True,
        )
        all_ratios = [
            o["seconds"] / f["seconds"] for o, f in zip(runs["ours"], runs["floor"], strict=True)
        ]
        print(f"{'':>10} ratio per run: {', '.join(f'{r:.2f}' for r in all_ratios)}", flush=True)


if __name__ == "__main__":
    main()
