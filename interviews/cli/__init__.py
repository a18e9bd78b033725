"""The `interviews` command line (Typer + Rich).

Heavy imports (provider SDKs, Prefect) happen inside the commands that need them, so
`--help`, `estimate`, `prepare` and input errors answer at once.
"""

from __future__ import annotations

import sys

import typer

from interviews import clock
from interviews.cli import (
    data_commands,
    emulator_commands,
    launch_commands,
    ledger_commands,
    run_commands,
    setup_commands,
)
from interviews.cli.output import print_error
from interviews.errors import InterviewsError

app = typer.Typer(
    name="interviews",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Batch persona interviews for health research: Anthropic batches on Prefect.",
)
run_commands.register(app)
launch_commands.register(app)
data_commands.register(app)
ledger_commands.register(app)
setup_commands.register(app)
app.add_typer(emulator_commands.app, name="emulator")


def main() -> None:
    """Console entry point: expected errors print one line and exit 1, no traceback."""
    try:
        clock.now()  # a bad INTERVIEWS_NOW stops every command before it starts, not mid-run
        app()
    except InterviewsError as exc:
        print_error(str(exc))
        sys.exit(1)
