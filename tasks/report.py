"""Tasks: publish a run's report, and a compare run's comparison (Prefect artifacts and JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from interviews.diskfull import disk_full_is_clear_in_task
from interviews.jsonl import atomic_writer, write_json
from interviews.preparation import open_data_dir
from interviews.report import (
    RunReport,
    comparison_markdown,
    comparison_rows,
    protocol_rows,
    protocol_total,
)
from interviews.settings import get_settings
from tasks.context import RunContext
from tasks.events import emit_run_finished


def _artifact_key(prefix: str, run_id: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    return (prefix + "".join(c if c.isalnum() else "-" for c in run_id.lower()))[:100]


@task(cache_policy=NO_CACHE)
@disk_full_is_clear_in_task
def publish_report(report: RunReport, context: RunContext) -> dict:
    """Write `runs/{run_id}/summary.json`, a markdown report and a table artifact.

    Args:
        report: the finished run's report.
        context: where the run's files live.

    Returns:
        The summary as a dict.
    """
    dirs = context.dirs
    summary_path = dirs.run(report.run_id) / "summary.json"
    report.write(summary_path)
    dirs.publish(summary_path)
    context.ledger().update_run(
        report.run_id,
        status="completed" if report.ok else "failed",
        cost_usd=str(report.summary.cost),
    )
    create_markdown_artifact(
        key=_artifact_key("batch-report-", report.run_id),
        markdown=report.markdown(),
        description="Run report",
    )
    create_table_artifact(
        table=[{"item": label, "value": value} for label, value in report.rows()],
        description=f"Summary of run {report.run_id}",
    )
    summary = report.as_dict()
    summary["report_html"] = dirs.shown(_write_html(report.run_id, [summary], dirs))
    emit_run_finished(report.run_id, report.ok, summary["statuses"], str(report.summary.cost))
    return summary


def _write_html(run_id: str, summaries: list[dict[str, Any]], dirs: Any) -> Path:
    """`runs/{run_id}/report.html`: the run's (or compare run's) figures as charts."""
    from interviews.html_report import answer_lengths, render

    lengths = {}
    for summary in summaries:
        records = dirs.run(summary["run_id"]) / "interviews.jsonl"
        if "cost_usd" in summary and records.exists():
            lengths[f"{summary['provider']} / {summary['model']}"] = answer_lengths(records)
    path = dirs.run(run_id) / "report.html"
    with atomic_writer(path) as sink:
        sink.write(render(run_id, summaries, lengths).encode())
    dirs.publish(path)
    return path


@task(cache_policy=NO_CACHE)
@disk_full_is_clear_in_task
def publish_comparison(
    run_id: str, summaries: list[dict[str, Any]], data_dir: str | None
) -> dict[str, Any]:
    """Write `runs/{run_id}/comparison.json` and a table comparing the compare run's targets.

    Args:
        run_id: the compare run's id.
        summaries: each target's summary (or its error).
        data_dir: the data directory (default: settings).

    Returns:
        `{"run_id", "ok", "targets": summaries}`.
    """
    dirs = open_data_dir(data_dir or get_settings().data_dir)
    result = {
        "run_id": run_id,
        "ok": all(summary.get("ok") for summary in summaries),
        "targets": summaries,
    }
    comparison = dirs.run(run_id) / "comparison.json"
    write_json(comparison, result)
    dirs.publish(comparison)
    result["report_html"] = dirs.shown(_write_html(run_id, summaries, dirs))
    create_markdown_artifact(
        key=_artifact_key("compare-report-", run_id),
        markdown=comparison_markdown(run_id, summaries),
        description="Compare run report",
    )
    create_table_artifact(
        table=comparison_rows(summaries), description=f"Targets of compare run {run_id}"
    )
    return result


@task(cache_policy=NO_CACHE)
@disk_full_is_clear_in_task
def publish_protocol_total(
    run_id: str, questions: list[dict[str, Any]], context: RunContext
) -> dict[str, Any]:
    """Write `runs/{run_id}/protocol_summary.json` and a table artifact: the whole batch
    protocol in one summary (each question's outcome; tokens, prompt cache and cost summed).

    Args:
        run_id: the protocol's run id (its first question's).
        questions: each question's run summary, in order.
        context: where the run's files live.

    Returns:
        The protocol's summary (see `interviews.report.protocol_total`).
    """
    total = protocol_total(run_id, questions)
    path = context.dirs.run(run_id) / "protocol_summary.json"
    write_json(path, total)
    context.dirs.publish(path)
    create_table_artifact(
        key=_artifact_key("protocol-report-", run_id),
        table=[{"item": label, "value": value} for label, value in protocol_rows(total)],
        description=f"Interview protocol {run_id}: every question, one total",
    )
    return total
