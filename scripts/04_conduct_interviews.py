"""The guide's `04_conduct_interviews.py`, kept as a thin wrapper of the `interviews` CLI.

    python scripts/04_conduct_interviews.py --provider anthropic \\
        --model claude-sonnet-4-5-20250929 --count 5000 --start-index 0 --batch

With `--batch` it creates the batch request file instead of running interviews (as the guide
says) and prints the `interviews run` command that submits it: nothing is sent, nothing is
spent. `--batch --submit` submits and waits straight away (`interviews run --batch`). Without
`--batch` it runs the interviews now at real-time prices (`interviews run --realtime`).
"""

from __future__ import annotations

import argparse

from _interviews_cli import run_cli

DEFAULT_PERSONAS = "data/sample/matched_personas.jsonl"


def translate(argv: list[str] | None = None) -> list[str]:
    """The `interviews` arguments for the guide's options."""
    parser = argparse.ArgumentParser(
        prog="04_conduct_interviews.py",
        description="Conduct interviews (wrapper of the `interviews` command line).",
    )
    parser.add_argument("--provider", default="anthropic")
    parser.add_argument("--model", help="model id or alias (default: the provider's default)")
    parser.add_argument("--count", type=int, help="how many interviews (default: all)")
    parser.add_argument("--start-index", type=int, default=0)
    parser.add_argument("--personas", default=DEFAULT_PERSONAS, help="matched-personas file")
    parser.add_argument(
        "--batch", action="store_true", help="prepare a batch request file (nothing is sent)"
    )
    parser.add_argument(
        "--submit", action="store_true", help="with --batch: submit the batch and wait for it"
    )
    parser.add_argument("--credentials-block", help="saved credentials block")
    parser.add_argument("--data-dir", help="root of written files (default: ./data)")
    args = parser.parse_args(argv)
    if args.submit and not args.batch:
        parser.error("--submit goes with --batch")

    common = ["--provider", args.provider, "--personas", args.personas]
    common += ["--start-index", str(args.start_index)]
    if args.model:
        common += ["--model", args.model]
    if args.count is not None:
        common += ["--count", str(args.count)]
    if args.credentials_block:
        common += ["--credentials-block", args.credentials_block]
    if args.data_dir:
        common += ["--data-dir", args.data_dir]
    if args.batch and not args.submit:
        # the launcher's batch path: files and a prepared run, then the command to submit it
        return ["launch", *common, "--batch", "--yes"]
    return ["run", *common, "--batch" if args.batch else "--realtime"]


if __name__ == "__main__":
    run_cli(translate())
