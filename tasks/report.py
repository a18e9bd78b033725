"""Task: publish the run report (Prefect artifacts and the summary JSON)."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from interviews.report import RunReport
from tasks.context import RunContext


@task(cache_policy=NO_CACHE)
def publish_report(report: RunReport, context: RunContext) -> dict:
    """Write `runs/{run_id}/summary.json`, a markdown report and a table artifact.

    Args:
        report: the finished run's report.
        context: where the run's files live.

    Returns:
        The summary as a dict.
    """
    report.write(context.dirs.run(report.run_id) / "summary.json")
    context.ledger().update_run(
        report.run_id,
        status="completed" if report.ok else "failed",
        cost_usd=str(report.summary.cost),
    )
    key = "batch-report-" + "".join(c if c.isalnum() else "-" for c in report.run_id.lower())
    create_markdown_artifact(key=key[:100], markdown=report.markdown(), description="Run report")
    create_table_artifact(
        table=[{"item": label, "value": value} for label, value in report.rows()],
        description=f"Summary of run {report.run_id}",
    )
    return report.as_dict()
