"""Cancel a run: its open provider batches, and any retry round that would send them again.

One implementation for `interviews cancel` and for a flow run cancelled in the Prefect UI.
"""

from __future__ import annotations

from interviews.batch_types import BatchStatus
from interviews.errors import InputError
from interviews.ledger import Ledger


def cancel_run(ledger: Ledger, run_id: str, credentials_block: str | None) -> list[str]:
    """Mark the run (each target of a compare run, each question of a protocol) canceled, and
    cancel its open batches at the provider; finished requests keep their results.

    Returns:
        One line per batch canceled, or per run that had none open.

    Raises:
        InputError: no such run in the ledger.
    """
    from blocks.credentials import resolve_credentials
    from interviews.settings import require_credentials

    rows = ledger.runs_matching(run_id)
    if not rows:
        raise InputError(f"no run {run_id!r} in the ledger at {ledger.url}")
    for run in rows:
        require_credentials(run["provider"], credentials_block)
    said = []
    for run in rows:
        ledger.mark_canceled(run["run_id"])  # first: no retry round may start from here on
        open_batches = [
            batch
            for _, batch, _ in ledger.chunk_batches(run["run_id"])
            if batch is not None and batch.batch_id and not BatchStatus(batch.status).is_terminal
        ]
        if not open_batches:
            said.append(f"Run {run['run_id']} has no open batch.")
            continue
        adapter = resolve_credentials(run["provider"], credentials_block).get_adapter()
        for batch in open_batches:
            job = adapter.cancel(batch.batch_id)
            ledger.update_batch(job)
            said.append(f"Canceled {batch.batch_id}: now {job.provider_status}")
    return said
