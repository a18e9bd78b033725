"""Commands that read or act on the run ledger: status, cancel."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer

from interviews.cli.data_commands import DataDir
from interviews.cli.output import console
from interviews.errors import InputError


def _ledger(data_dir: str | None):
    from interviews.preparation import open_data_dir
    from interviews.settings import get_settings

    settings = get_settings()
    return open_data_dir(data_dir or settings.data_dir).open_ledger(settings.ledger_url)


def status(
    run_id: Annotated[str | None, typer.Argument(help="A run id (default: every run).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Show runs, their batches, provider states, request tallies and cost so far.

    Reads only the ledger (states as last seen by a run or `collect`); it calls no provider.
    """
    from rich.table import Table

    from interviews.costs import money

    ledger = _ledger(data_dir)
    rows = ledger.runs_matching(run_id) if run_id else ledger.runs()
    if not rows:
        if run_id:
            raise InputError(f"no run {run_id!r} in the ledger at {ledger.url}")
        console.print("No runs yet.")
        return
    runs_table = Table(title="Runs", title_justify="left")
    runs_table.add_column("run", no_wrap=True)
    for column in ("provider / model", "status", "requests", "estimate", "cost", "created"):
        runs_table.add_column(column)
    for run in rows:
        runs_table.add_row(
            run["run_id"],
            f"{run['provider']} / {run['model']}",
            run["status"],
            f"{run['request_count'] or 0:,}",
            money(Decimal(run["estimate_usd"] or 0), small=True),
            money(Decimal(run["cost_usd"]), small=True) if run["cost_usd"] else "",
            run["created_at"].strftime("%Y-%m-%d %H:%M"),
        )
    console.print(runs_table)
    if run_id is None:
        return
    for run in rows:  # a compare run's targets, a protocol's questions: each its batches
        _print_batches(ledger, run["run_id"])


def _print_batches(ledger, run_id: str) -> None:
    """The table of one run's chunks and their batches."""
    from rich.table import Table

    batches_table = Table(title=f"Batches of {run_id}", title_justify="left")
    for column in ("round", "chunk", "requests"):
        batches_table.add_column(column)
    batches_table.add_column("batch", no_wrap=True)
    for column in ("provider state", "status", "tallies"):
        batches_table.add_column(column)
    for chunk, batch, counts in ledger.chunk_batches(run_id):
        tallies = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        batches_table.add_row(
            str(chunk.round),
            str(chunk.chunk_index),
            f"{chunk.request_count:,}",
            batch.batch_id if batch and batch.batch_id else ("(creating)" if batch else "-"),
            batch.provider_status or "" if batch else "",
            batch.status if batch else chunk.status,
            tallies,
        )
    console.print(batches_table)


def cancel(
    run_id: Annotated[
        str, typer.Argument(help="The run (or compare run) whose open batches to cancel.")
    ],
    credentials_block: Annotated[
        str | None, typer.Option(help="Credentials block (default: the provider's env vars).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Cancel every open batch of a run (each target of a compare run, each question of a
    protocol); finished requests keep their results.

    The cancel is final: `collect` or a re-run converts what finished and sends nothing more.
    To send the canceled requests after all, re-run the run id with --retry-canceled.
    """
    from interviews.cancel import cancel_run

    for line in cancel_run(_ledger(data_dir), run_id, credentials_block):
        console.print(line, highlight=False)
    console.print(
        f"Run {run_id} is canceled: `interviews collect` (or a re-run) converts what finished "
        "and sends nothing more; add --retry-canceled to a re-run to send the rest.",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(status)
    app.command()(cancel)
