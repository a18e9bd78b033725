"""The one body shared by every provider's batch flow: prepare → submit → wait → download →
convert → report. Composition only; each step is a task in `tasks/`, run once per chunk.

Chunks move through their steps side by side on the flow's bounded thread pool: every chunk is
submitted before any is waited on, and each chunk is downloaded and converted as soon as its
own batch ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_progress_artifact
from prefect.futures import PrefectFuture
from prefect.utilities.annotations import unmapped

from flows.run_identity import holding_run, tag_flow_run
from interviews.batch_types import BatchJob
from interviews.costs import prices
from interviews.datastore import local_input
from interviews.errors import RunFailedError
from interviews.ledger import ChunkRow
from interviews.pipeline import (
    RunPlan,
    consolidate_protocol,
    consolidate_records,
    settle_status,
)
from interviews.preparation import new_run_id
from interviews.progress import run_progress
from interviews.protocol import load_protocol
from interviews.realtime import summarize_records
from interviews.records import ConvertSummary
from interviews.report import RunReport
from interviews.spec import BatchRunParameters
from interviews.stopping import install_sigterm_stop
from tasks.check import check_batch
from tasks.cleanup import cleanup_batch
from tasks.context import RunContext, make_context
from tasks.convert import convert_results
from tasks.download import download_results
from tasks.preflight import preflight
from tasks.prepare import prepare_batch, prepare_question
from tasks.report import publish_protocol_total, publish_report
from tasks.retry import plan_retry
from tasks.submit import submit_batch
from tasks.wait import wait_batch


@dataclass
class RoundOutcome:
    """What one round of chunks came to."""

    summary: ConvertSummary = field(default_factory=ConvertSummary)
    ended: list[BatchJob] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    pending: list[BatchJob] = field(default_factory=list)


def run_batch(params: BatchRunParameters) -> dict[str, Any]:
    """Run (or resume) one batch interview run and return its summary.

    With an interview protocol of several questions, each question is its own batch run
    (`{run_id}-q{n}` from the second on) that carries the conversation so far; each starts when
    the one before has ended, and only the interviews that answered go on.

    Raises:
        RunFailedError: the run (or one question of its protocol) ended with no interview
            answered.
    """
    install_sigterm_stop()  # a Cancel in the UI stops the wait at once
    context = make_context(params)
    if params.preflight:  # the nightly run: stop here, spending nothing, if a check fails
        preflight(params)
    if not params.run_id:  # outside a flow run, where none is derived (see run_identity)
        params = params.model_copy(update={"run_id": new_run_id(params.provider)})
    tag_flow_run(f"provider:{params.provider}", f"model:{params.model_id}", f"run:{params.run_id}")
    with holding_run(context.ledger(), params.run_id):
        return _run_batch(params, context)


def _run_batch(params: BatchRunParameters, context: RunContext) -> dict[str, Any]:
    """`run_batch` under the run's lease."""
    if params.retry_canceled:  # asked for once, by this invocation
        context.ledger().clear_canceled(params.run_id)
    plan = prepare_batch(params, context)
    # records may go to a folder of their own (another run's are in the way): every question
    # of the run, and every later resume, uses the folder the run was prepared with
    params = params.model_copy(update={"records_subdir": plan.records_subdir})
    context = context.model_copy(update={"records_subdir": plan.records_subdir})
    result = _run_plan(plan, params, context)
    turns = len(load_protocol(local_input(params.protocol)).turns) if params.protocol else 1
    if turns == 1 or result.get("detached"):
        return result
    params = params.model_copy(update={"run_id": plan.run_id})
    questions = [result]
    for turn in range(2, turns + 1):
        if context.ledger().is_canceled(plan.run_id):  # canceled: no further question is sent
            break
        next_plan = prepare_question(params, turn, context)
        if next_plan is None:
            break
        result = _run_plan(next_plan, params, context)
        if result.get("detached"):  # `collect` (or a re-run) finishes it and goes on
            return result
        questions.append(result)
    transcripts = consolidate_protocol(plan.run_id, turns, context.dirs)
    return {
        **result,
        "run_id": plan.run_id,
        "questions": questions,
        "protocol": publish_protocol_total(plan.run_id, questions, context),
        "transcripts": context.dirs.shown(transcripts),
    }


def _run_plan(plan: RunPlan, params: BatchRunParameters, context: RunContext) -> dict[str, Any]:
    """Take one prepared run through its rounds to its report (or leave it detached)."""
    progress = run_progress(context.ledger(), plan.run_id)
    artifact_id = create_progress_artifact(
        progress=progress.percent,
        description=f"Run {plan.run_id} ({plan.provider} / {plan.model.id}): requests finished",
    )
    context = context.model_copy(
        update={"run_id": plan.run_id, "progress_artifact_id": str(artifact_id)}
    )
    summary = ConvertSummary()
    ended, results = [], []
    chunks, round_ = plan.chunks, 0
    while True:
        outcome = _run_round(chunks, plan, params, context)
        summary.add(outcome.summary)
        ended += outcome.ended
        results += outcome.results
        if outcome.pending:
            return _detached(plan, outcome.pending, context)
        if not outcome.summary.retryable or round_ >= params.max_rounds:
            break
        if context.ledger().is_canceled(plan.run_id):  # the user's cancel is final
            get_run_logger().info(
                "Run %s was canceled: no retry round (re-run with --retry-canceled to send "
                "the canceled requests again)",
                plan.run_id,
            )
            break
        round_ += 1
        retry_ids = summary.retryable
        summary.supersede_retryable()  # their records are replaced by the next round's
        chunks = plan_retry(chunks, retry_ids, round_, context)
    return report_run(plan, params, context, summary=summary, batches=ended, results=results)


def _run_round(
    chunks: list[ChunkRow], plan: RunPlan, params: BatchRunParameters, context: RunContext
) -> RoundOutcome:
    """Submit every chunk, then take each through wait, download, convert (and cleanup).

    Every chunk's steps run to their end even when another chunk fails, so no answer that
    arrived is left unconverted; the first failure is raised afterwards.
    """
    outcome, failures = RoundOutcome(), []
    submitted = submit_batch.map([chunk.id for chunk in chunks], context=unmapped(context))
    ready = _settled(zip(chunks, submitted, strict=True), failures)
    if params.detach:  # look once; `collect` comes back for batches still running
        checks = [(chunk, check_batch.submit(job, context)) for chunk, job in ready]
        checked = _settled(checks, failures)
        ready = [(chunk, job) for chunk, job in checked if job.status.is_terminal]
        outcome.pending = [job for _, job in checked if not job.status.is_terminal]
    chains = []
    for chunk, job in ready:
        waited = job if params.detach else wait_batch.submit(job, context)
        path = download_results.submit(chunk.id, waited, context, params.refetch_results)
        converted = convert_results.submit(
            chunk.id, path, waited, plan.model.id, context, params.record_files
        )
        cleaned = (
            cleanup_batch.submit(waited, context, wait_for=[converted]) if params.cleanup else None
        )
        chains.append((waited, path, converted, cleaned))
    for waited, path, converted, cleaned in chains:
        try:
            # in step order, so the error kept is the chunk's first failure, not a follower's
            finished = waited.result() if isinstance(waited, PrefectFuture) else waited
            results_path = path.result()
            chunk_summary = converted.result()
            if cleaned is not None:
                cleaned.result()
        except Exception as exc:
            failures.append(exc)
            continue
        outcome.summary.add(chunk_summary)
        outcome.ended.append(settle_status(finished, chunk_summary))
        outcome.results.append(context.dirs.shown(results_path))
    if failures:
        raise failures[0]
    return outcome


def _settled(
    pairs: Iterable[tuple[ChunkRow, PrefectFuture]], failures: list[Exception]
) -> list[tuple[ChunkRow, Any]]:
    """The chunks whose step succeeded, with its result; failures are appended to `failures`
    (and raised once every chunk is done)."""
    done = []
    for chunk, future in pairs:
        try:
            done.append((chunk, future.result()))
        except Exception as exc:
            failures.append(exc)
    return done


def report_run(
    plan: RunPlan,
    params: BatchRunParameters,
    context: RunContext,
    *,
    summary: ConvertSummary | None = None,
    batches: list[BatchJob] | None = None,
    results: list[str] | None = None,
    mode: str = "batch",
) -> dict[str, Any]:
    """Consolidate the records, publish the report, and fail a run with no answer.

    `summary` holds the tallies gathered while converting; without one (real time, whose
    answers may come from several sessions) they are counted from the consolidated records.
    """
    consolidated = consolidate_records(plan.run_id, context.dirs)
    if summary is None:
        summary = summarize_records(consolidated, prices(plan.model, batch=mode == "batch"))
    report = RunReport(
        run_id=plan.run_id,
        provider=plan.provider,
        model=plan.model.id,
        requests=sum(chunk.request_count for chunk in plan.chunks),
        requests_path=context.dirs.shown(plan.requests_path),
        estimate_batch=Decimal(plan.estimate_usd or 0),
        summary=summary,
        batches=batches or [],
        results_paths=results or [],
        interviews_dir=context.dirs.shown(context.records_dir) if params.record_files else "",
        records_jsonl=context.dirs.shown(consolidated),
        mode=mode,
    )
    result = publish_report(report, context)
    if not report.ok:
        raise RunFailedError(
            f"run {plan.run_id} ended with no interview answered "
            f"({', '.join(f'{k} {v}' for k, v in summary.statuses.items())}); "
            f"see {context.dirs.shown(context.dirs.run(plan.run_id) / 'summary.json')}"
        )
    return result


def _detached(plan: RunPlan, pending: list[BatchJob], context: RunContext) -> dict[str, Any]:
    """Leave a detached run waiting: its batches run on at the provider."""
    run_id = plan.run_id
    context.ledger().update_run(run_id, status="waiting")
    return {
        "run_id": run_id,
        "provider": plan.provider,
        "model": plan.model.id,
        "ok": True,
        "detached": True,
        "waiting_batches": [job.batch_id for job in pending],
        "next": f"run `interviews collect` (or re-run --run-id {run_id}) once they end",
    }
