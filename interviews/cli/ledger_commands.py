"""Commands that read or act on the run ledger: status, cancel."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from interviews.cli.data_commands import DataDir
from interviews.cli.output import console
from interviews.errors import InputError


def _ledger(data_dir: Path | None):
    from interviews.ledger import Ledger
    from interviews.settings import get_settings

    settings = get_settings()
    return Ledger.open(data_dir or settings.data_dir, settings.ledger_url)


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
    rows = ledger.runs(run_id)
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
    run_id: Annotated[str, typer.Argument(help="The run whose open batches to cancel.")],
    credentials_block: Annotated[
        str | None, typer.Option(help="Credentials block (default: the provider's env vars).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Cancel every open batch of a run; finished requests keep their results.

    Re-run the run id afterwards to collect what finished (canceled requests are retried only
    if you allow retry rounds).
    """
    from interviews.batch_types import BatchStatus
    from interviews.settings import require_credentials

    ledger = _ledger(data_dir)
    rows = ledger.runs(run_id)
    if not rows:
        raise InputError(f"no run {run_id!r} in the ledger at {ledger.url}")
    provider = rows[0]["provider"]
    require_credentials(provider, credentials_block)
    open_batches = [
        batch
        for _, batch, _ in ledger.chunk_batches(run_id)
        if batch is not None and batch.batch_id and not BatchStatus(batch.status).is_terminal
    ]
    if not open_batches:
        console.print(f"Run {run_id} has no open batch.")
        return
    from blocks.credentials import resolve_credentials

    adapter = resolve_credentials(provider, credentials_block).get_adapter()
    for batch in open_batches:
        job = adapter.cancel(batch.batch_id)
        ledger.update_batch(job)
        console.print(f"Canceled {batch.batch_id}: now {job.provider_status}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(status)
    app.command()(cancel)
