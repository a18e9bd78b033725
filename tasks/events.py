"""Prefect events the pipeline emits, for automations and the UI's event feed.

`interviews.batch.ended` when a provider batch reaches a terminal state, and
`interviews.run.completed` / `interviews.run.failed` when a run's report is published. Payloads
hold ids, states and counts only: never prompts, answers or credentials.
"""

from __future__ import annotations

import re

from prefect.events import emit_event

from interviews.batch_types import BatchJob


def _resource_id(batch_id: str) -> str:
    """Resource ids are dotted names; provider ids may hold slashes (Vertex, Gemini)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", batch_id)


def emit_batch_ended(job: BatchJob, run_id: str | None) -> None:
    """Announce that a batch ended (whatever its outcome)."""
    counts = job.counts
    emit_event(
        event="interviews.batch.ended",
        resource={
            "prefect.resource.id": f"interviews.batch.{job.provider}.{_resource_id(job.batch_id)}",
            "prefect.resource.name": job.batch_id,
        },
        payload={
            "provider": job.provider,
            "run_id": run_id,
            "status": str(job.status),
            "provider_status": job.provider_status,
            "succeeded": counts.succeeded,
            "errored": counts.errored,
            "expired": counts.expired,
            "canceled": counts.canceled,
        },
    )


def emit_run_finished(run_id: str, ok: bool, statuses: dict[str, int], cost_usd: str) -> None:
    """Announce that a run's report is out: `interviews.run.completed` or `...failed`."""
    emit_event(
        event=f"interviews.run.{'completed' if ok else 'failed'}",
        resource={
            "prefect.resource.id": f"interviews.run.{run_id}",
            "prefect.resource.name": run_id,
        },
        payload={"run_id": run_id, "statuses": statuses, "cost_usd": cost_usd},
    )
