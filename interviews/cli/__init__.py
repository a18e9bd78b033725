"""The `interviews` command line (Typer + Rich).

Heavy imports (provider SDKs, Prefect) happen inside the commands that need them, so
`--help`, `estimate`, `prepare` and input errors answer at once.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from interviews import clock
from interviews.cli import (
    data_commands,
    emulator_commands,
    launch_commands,
    ledger_commands,
    manifest_commands,
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
    # docstrings are paragraphs: reflowed to the terminal, so help reads well at 80 columns
    rich_markup_mode="markdown",
    help="Batch persona interviews for health research: the batch APIs of Anthropic, "
    "OpenAI and Google, on Prefect.",
)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"interviews {version('interviews')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Options for every command."""


run_commands.register(app)
launch_commands.register(app)
data_commands.register(app)
manifest_commands.register(app)
ledger_commands.register(app)
setup_commands.register(app)
app.add_typer(emulator_commands.app, name="emulator")


# Health-data posture: nothing this tool starts reports usage anywhere unless the user asks.
# DO_NOT_TRACK is Prefect's client switch (the first-run banner and its usage events, read at
# `import prefect` and before each event); PREFECT_SERVER_ANALYTICS_ENABLED is the server's
# (the temporary server's hourly heartbeat to sens-o-matic.prefect.io, and the client's check
# before sending). Child processes (the temporary server, `serve`'s flow runs) inherit them.
TELEMETRY_OFF = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def telemetry_off_by_default(environ: dict[str, str] | None = None) -> None:
    """Turn Prefect's analytics off unless the user set them: in the environment, or (for the
    server setting) in the active Prefect profile. Must run before anything imports prefect."""
    environ = os.environ if environ is None else environ
    profile = _active_prefect_profile(environ)
    for name, value in TELEMETRY_OFF.items():
        if name not in environ and name not in profile:
            environ[name] = value


def _active_prefect_profile(environ: dict[str, str]) -> dict[str, object]:
    """The settings of the active profile in Prefect's profiles.toml (empty if none), read
    without importing prefect (which would start its analytics first)."""
    import tomllib
    from pathlib import Path

    home = Path(environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    name = environ.get("PREFECT_PROFILE") or data.get("active")
    profile = data.get("profiles", {}).get(name, {}) if isinstance(name, str) else {}
    return profile if isinstance(profile, dict) else {}


def main() -> None:
    """Console entry point: expected errors print one line and exit 1, no traceback."""
    telemetry_off_by_default()
    try:
        clock.now()  # a bad INTERVIEWS_NOW stops every command before it starts, not mid-run
        app()
    except InterviewsError as exc:
        print_error(str(exc))
        sys.exit(1)
    except Exception as exc:  # a full disk outside a run's own handling: still one line
        from interviews.diskfull import disk_full_message, is_disk_full

        if not is_disk_full(exc):
            raise
        from interviews.settings import get_settings

        print_error(disk_full_message(get_settings().data_dir))
        sys.exit(1)
