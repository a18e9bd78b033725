"""Benchmark: what prompt caching saves on a 5-question interview protocol, per provider.

Each provider runs the same 5-question protocol over the same personas through
`batch-interviews` and the local emulator, which bills cache reads and writes as the providers
document (interviews/emulator/prompt_cache.py). Printed per provider: the whole protocol's cost,
the same usage without caching (the report's own figure: cache reads and writes as plain
input), the saving, and the cache's token counts. Anthropic, the one provider whose caching
the request turns on, also runs with `prompt_cache=False`: its real cost comes within a
fraction of a percent of the report's "without caching" figure (not exactly: the emulator
words each batch's answers by the batch's own tagged ids, so answer lengths differ a little).
The emulator's cache is emptied before each run.

Two system prompts: the package's default (about 800 tokens with the sample personas: below
every provider's minimum cacheable prefix of 1,024 tokens, so caching starts late in the
protocol) and the default plus about 1,500 tokens of interview guidance, as real studies
write them.

    uv run python bench/bench_protocol_cache.py [--interviews N] [--provider P ...]

Writes only under bench/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

from bench_end_to_end import emulator_process, save_blocks

OUT = Path(__file__).resolve().parent / "out" / "protocol_cache"

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="bench-prefect-"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ["INTERVIEWS_POLL_INITIAL_SECONDS"] = "0.5"
os.environ["INTERVIEWS_POLL_MAX_SECONDS"] = "1"

PROTOCOL = """\
name: five questions
questions:
  - How has your health been lately?
  - text: Which medicines do you take, and how do they suit you?
    follow_ups:
      - What would make taking them easier?
  - How do you get on with your doctors and nurses?
  - What worries you most about the coming year?
"""
PROVIDERS = ("anthropic", "openai", "vertex", "gemini")
GUIDANCE = """
Interview guidance (part {part}):
- Answer the way this person talks to someone they have just met: short sentences, plain words,
  sometimes unsure. Mention the people and routines of your daily life when they matter.
- Keep to what you know about your own health from the record above. If a question touches on a
  test or a treatment you have not had, say so plainly rather than guessing at results.
- When asked how you feel about your care, give an honest opinion, good or bad, with one concrete
  example from your own experience: a visit, a phone call, a prescription, a waiting room.
- Money, transport, work and family shape how you look after your health; bring them in when
  they explain why you do or do not do something your doctors asked.
"""


def run_protocol(
    provider: str,
    personas: Path,
    protocol: Path,
    template: Path | None,
    n: int,
    block: str,
    cache: bool,
) -> dict:
    """One batch protocol run; its summary."""
    from flows.batch_flows import batch_interviews
    from interviews.spec import BatchRunParameters

    label = "long" if template else "default"
    data = OUT / f"{provider}_{label}_{'cached' if cache else 'uncached'}"
    shutil.rmtree(data, ignore_errors=True)
    params = BatchRunParameters(
        provider=provider,
        personas=str(personas),
        count=n,
        protocol=str(protocol),
        system_template=str(template) if template else None,
        prompt_cache=cache,
        credentials_block=block,
        data_dir=str(data),
        record_files=False,
    )
    return batch_interviews(params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interviews", type=int, default=200)
    parser.add_argument("--provider", action="append", choices=PROVIDERS)
    args = parser.parse_args()

    from importlib import resources

    from prefect.testing.utilities import prefect_test_harness

    from interviews.emulator import EmulatorControl
    from interviews.sample_data import write_sample_personas

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    personas = write_sample_personas_file(write_sample_personas, args.interviews)
    protocol = OUT / "protocol.yaml"
    protocol.write_text(PROTOCOL)
    long_template = OUT / "system_long.j2"
    default = resources.files("interviews.templates").joinpath("system_message.j2").read_text()
    long_template.write_text(default + "".join(GUIDANCE.format(part=k) for k in (1, 2, 3)))
    results = []
    with emulator_process() as emulator, prefect_test_harness(server_startup_timeout=120):
        block = save_blocks(emulator)
        with EmulatorControl(emulator.url) as control:

            def run(provider: str, template: Path | None, cache: bool) -> dict:
                control.reset()  # an empty prompt cache (and the default processing time)
                control.configure(processing_seconds=1.0)
                summary = run_protocol(
                    provider, personas, protocol, template, args.interviews, block, cache
                )
                return summary["protocol"]

            for template in (None, long_template):
                for provider in args.provider or PROVIDERS:
                    cached = run(provider, template, True)
                    plain = run(provider, template, False) if provider == "anthropic" else None
                    results.append((template, provider, cached, plain))
    report(results, args.interviews)


def report(results: list, n: int) -> None:
    """The benchmark's table."""
    from interviews.costs import money

    print(f"\n5-question protocol, {n:,} interviews, batch prices, through the emulator")
    print(
        f"{'system prompt':<14} {'provider / model':<30} {'cost':>9} {'no cache':>9} "
        f"{'saved':>6}  cache read / written / all input tokens"
    )
    for template, provider, cached, plain in results:
        cost = Decimal(cached["cost_usd"]["actual_batch"])
        without = Decimal(cached["cost_usd"]["without_prompt_cache"])
        usage = cached["usage"]
        read, written = usage["cache_read_tokens"], usage["cache_write_tokens"]
        every = usage["input_tokens"] + read + written
        print(
            f"{'long' if template else 'default':<14} "
            f"{provider + ' / ' + cached['model']:<30} {money(cost, small=True):>9} "
            f"{money(without, small=True):>9} {(without - cost) / without:>6.1%}  "
            f"{read:,} / {written:,} / {every:,}"
        )
        if plain is not None:
            real = Decimal(plain["cost_usd"]["actual_batch"])
            print(f"{'':<14} {'  run with prompt_cache=False':<30} {money(real, small=True):>9}")


def write_sample_personas_file(write, n: int) -> Path:
    """The sample generator's personas, `n` of them."""
    path = OUT / "personas.jsonl"
    write(path, n, seed=5)
    return path


if __name__ == "__main__":
    main()
