"""Commands that talk to a provider through Prefect flows: run, demo."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from interviews.cli.data_commands import (
    PROVIDER_CHOICES,
    DataDir,
    OpenAIEndpoint,
    ProtocolOpt,
    Provider,
    QuestionTemplate,
    SystemTemplate,
    run_parameters,
)
from interviews.cli.output import console, print_rows, print_table
from interviews.errors import InputError, InterviewsError

SAMPLE_PERSONAS = Path(__file__).resolve().parents[2] / "data" / "sample" / "matched_personas.jsonl"


class _BriefExpectedErrors(logging.Formatter):
    """Console formatter that leaves out tracebacks of our own, expected errors.

    Prefect logs a failing task with its traceback; for an `InterviewsError` the message
    already names the problem and the fix, so the terminal shows just that. Only the console
    is affected: the Prefect API still receives the full traceback.
    """

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and isinstance(record.exc_info[1], InterviewsError):
            saved = record.exc_info, record.exc_text
            record.exc_info, record.exc_text = None, None
            try:
                return self.inner.format(record)
            finally:
                record.exc_info, record.exc_text = saved
        return self.inner.format(record)


def _brief_console_errors() -> None:
    """Install `_BriefExpectedErrors` on Prefect's console handler."""
    from prefect.logging.configuration import setup_logging
    from prefect.logging.handlers import PrefectConsoleHandler

    setup_logging()  # creates the handlers now; later calls only update levels
    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler) and not isinstance(
            handler.formatter, _BriefExpectedErrors
        ):
            handler.setFormatter(_BriefExpectedErrors(handler.formatter or logging.Formatter()))


def _prepare_then_flow(params: Any, mode: str = "batch") -> dict[str, Any]:
    """Prepare the run (every target of a compare run) here, then hand it to the Prefect flow.

    Preparing first means bad input fails in well under a second, with one clear message and
    before Prefect starts; the flow then resumes the prepared runs by their ids.
    """
    from interviews.fanout import compare_run_id, target_runs
    from interviews.leases import run_lease
    from interviews.preparation import new_run_id, open_data_dir
    from interviews.settings import get_settings, require_credentials

    command = "interviews run" + (" --realtime" if mode == "realtime" else "")

    settings = get_settings()
    data_dir = params.data_dir or settings.data_dir
    params = params.model_copy(update={"data_dir": data_dir})
    if params.targets:
        params = params.model_copy(update={"run_id": compare_run_id(params.run_id)})
    elif not params.run_id:
        params = params.model_copy(update={"run_id": new_run_id(params.provider)})
    runs = target_runs(params) if params.targets else [params]
    for run in runs:
        require_credentials(run.provider, run.credentials_block)
    ledger = open_data_dir(data_dir).open_ledger(settings.ledger_url)
    with contextlib.ExitStack() as held:
        # one process per run: a second `run`, a `collect` or a UI Retry of this run id waits
        # its turn instead of creating a second batch (interviews/leases.py)
        for run in runs:
            held.enter_context(
                run_lease(ledger, run.run_id, command=command, seconds=settings.lease_seconds)
            )
        return _prepare_and_run(params, runs, ledger, data_dir, mode)


def _prepare_and_run(
    params: Any, runs: list[Any], ledger: Any, data_dir: str, mode: str
) -> dict[str, Any]:
    """`_prepare_then_flow` once the runs are held."""
    from interviews.cli.interrupt import run_interruptibly
    from interviews.cli.progress import watch_progress
    from interviews.pipeline import prepare_runs
    from interviews.preparation import open_data_dir

    run_ids = []
    dirs = open_data_dir(data_dir)
    for plan in prepare_runs(runs, ledger=ledger, dirs=dirs, mode=mode):
        requests = sum(chunk.request_count for chunk in plan.chunks)
        verb = "Resuming" if plan.resumed else "Prepared"
        console.print(
            f"{verb} run [bold]{plan.run_id}[/bold]: {requests} interviews with "
            f"{plan.model.label()} in {len(plan.chunks)} batch(es); request file "
            f"{dirs.shown(plan.requests_path)}",
            highlight=False,
        )
        if plan.model.note:
            console.print(f"[yellow]note:[/yellow] {plan.model.name}: {plan.model.note}")
        if plan.records_note:
            console.print(f"[yellow]note:[/yellow] {plan.records_note}", highlight=False)
        run_ids.append(plan.run_id)
        if not params.targets:
            params = params.model_copy(update={"run_id": plan.run_id})

    from interviews.prefect_server import ensure_prefect_api

    ensure_prefect_api()  # before Prefect is imported: a server that dies with this process
    from blocks.credentials import resolve_credentials

    for run in runs:
        resolve_credentials(run.provider, run.credentials_block)  # fail before the flow
    _brief_console_errors()
    resume = f"re-run with --run-id {params.run_id}"
    if mode == "realtime":
        from flows.realtime_flow import realtime_interviews

        return run_interruptibly(lambda: realtime_interviews(params), resume=resume)
    from flows.batch_flows import batch_interviews

    with watch_progress(ledger, run_ids):
        return run_interruptibly(lambda: batch_interviews(params), resume=resume)


def run(
    personas: Annotated[Path, typer.Option("--personas", help="Matched-personas file.")],
    provider: Provider = "anthropic",
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model id.")] = None,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            "-t",
            help="Compare: PROVIDER or PROVIDER:MODEL, repeatable; replaces --provider/--model. "
            "Each target is its own run; records go to interviews/PROVIDER/MODEL/.",
        ),
    ] = None,
    count: Annotated[int | None, typer.Option(help="How many personas (default: all).")] = None,
    start_index: Annotated[int, typer.Option(help="Index of the first persona.")] = 0,
    chunk_size: Annotated[
        int | None,
        typer.Option(help="Requests per batch (default: as many as the provider allows)."),
    ] = None,
    batch: Annotated[
        bool, typer.Option("--batch/--realtime", help="Batch API (50 % cheaper) or real-time.")
    ] = True,
    run_id: Annotated[
        str | None, typer.Option(help="Run id; re-using one resumes that run.")
    ] = None,
    credentials_block: Annotated[
        str | None,
        typer.Option(help="Saved credentials block (default: the provider's API key env var)."),
    ] = None,
    max_tokens: Annotated[int, typer.Option(help="Longest answer in tokens.")] = 2048,
    system_template: SystemTemplate = None,
    question_template: QuestionTemplate = None,
    protocol: ProtocolOpt = None,
    prompt_cache: Annotated[
        bool,
        typer.Option(
            "--prompt-cache/--no-prompt-cache",
            help="With a protocol, mark each question's repeated prefix for the provider's "
            "prompt cache (the report shows the saving).",
        ),
    ] = True,
    openai_endpoint: OpenAIEndpoint = "/v1/chat/completions",
    max_rounds: Annotated[
        int, typer.Option(help="Retry rounds for requests that failed for a passing reason.")
    ] = 2,
    detach: Annotated[
        bool, typer.Option(help="End after submitting; finish later with `interviews collect`.")
    ] = False,
    cleanup: Annotated[
        bool,
        typer.Option(help="After download, delete the provider's copies (inputs, results)."),
    ] = False,
    max_cost: Annotated[
        float | None,
        typer.Option(help="Refuse to submit if the estimated batch cost (USD) is higher."),
    ] = None,
    record_files: Annotated[
        bool,
        typer.Option(
            "--record-files/--no-record-files",
            help="One JSON file per interview (the guide's layout); off: only the run's JSONL.",
        ),
    ] = True,
    refetch_results: Annotated[
        bool,
        typer.Option(
            "--refetch-results",
            help="With --run-id: download the ended batches' results again (after a bad "
            "results line); earlier files are kept as ….replaced-N.jsonl.",
        ),
    ] = False,
    retry_canceled: Annotated[
        bool,
        typer.Option(
            "--retry-canceled",
            help="With --run-id of a canceled run: send its canceled requests again in retry "
            "rounds (a cancel is otherwise final).",
        ),
    ] = False,
    retry_flagged: Annotated[
        bool,
        typer.Option(
            "--retry-flagged",
            help="Batch: send answers flagged refusal, breaks_character, empty or "
            "contradicts_record again in the next retry round (at most --max-rounds).",
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Run interviews end to end: prepare, submit, wait, download, convert, report.

    --batch (default) uses the provider's batch API at half price; --realtime its ordinary API
    (answers in seconds, full price; for small runs and debugging). Uses the real API when a
    key is configured (`ANTHROPIC_API_KEY` or a credentials block). Interrupted? Run the same
    command with the same --run-id: it resumes and never pays twice.
    """
    from interviews.catalog import check_provider

    check_provider(provider)
    for name in target or []:
        check_provider(name.partition(":")[0])
    if not batch and target:
        raise InputError("compare runs (--target) use the batch APIs; drop --realtime")
    params = run_parameters(
        provider=provider,
        model=model,
        targets=target or [],
        personas=str(personas),
        count=count,
        start_index=start_index,
        chunk_size=chunk_size,
        max_tokens=max_tokens,
        system_template=str(system_template) if system_template else None,
        question_template=str(question_template) if question_template else None,
        protocol=str(protocol) if protocol else None,
        prompt_cache=prompt_cache,
        run_id=run_id,
        credentials_block=credentials_block,
        data_dir=str(data_dir) if data_dir else None,
        openai_endpoint=openai_endpoint,
        max_cost_usd=max_cost,
        max_rounds=max_rounds,
        detach=detach,
        cleanup=cleanup,
        record_files=record_files,
        refetch_results=refetch_results,
        retry_canceled=retry_canceled,
        retry_flagged=retry_flagged,
    )
    if retry_canceled and not run_id:
        raise InputError("--retry-canceled needs the --run-id of the canceled run")
    if refetch_results and not run_id:
        raise InputError("--refetch-results needs the --run-id of the run to fetch again")
    if not batch:  # prepared here as the flow prepares it, so the flow resumes it
        from interviews.realtime import with_realtime_defaults

        params = with_realtime_defaults(params)
    from interviews.diskfull import disk_full_is_clear
    from interviews.settings import get_settings

    with disk_full_is_clear(data_dir or get_settings().data_dir, run_id):
        summary = _prepare_then_flow(params, mode="batch" if batch else "realtime")
    _print_summary(summary)


def _records_shown(summary: dict[str, Any], data_dir: Path) -> str:
    """Where a compare run put its records: `…/interviews/PROVIDER/MODEL/`, with the run's own
    folder after it when an earlier run's records were there (see `pipeline`)."""
    moved = any(
        Path(target.get("interviews_dir") or "").name == target.get("run_id")
        for target in summary.get("targets", [])
    )
    return f"{data_dir / 'interviews'}/PROVIDER/MODEL/" + ("RUN/" if moved else "")


def _print_summary(summary: dict[str, Any]) -> None:
    """The run's table (a comparison for a compare run), or what a detached run waits for."""
    from interviews.report import comparison_rows, protocol_rows, summary_rows

    if "targets" in summary:
        print_table(f"Compare run {summary['run_id']}", comparison_rows(summary["targets"]))
        if summary.get("report_html"):
            console.print(f"Report with charts: {summary['report_html']}", highlight=False)
    elif summary.get("detached"):
        waiting = ", ".join(summary["waiting_batches"])
        console.print(
            f"Run {summary['run_id']} is waiting on {waiting}; {summary['next']}", highlight=False
        )
    elif "error" in summary:
        console.print(f"Run {summary['run_id']}: {summary['error']}", highlight=False)
    elif summary.get("left_alone"):
        console.print(
            f"Run {summary['run_id']}: left alone, {summary['left_alone']} is working on it",
            highlight=False,
        )
    elif "protocol" in summary:  # an interview protocol in batch: one run per question
        print_rows(
            f"Interview protocol: run {summary['run_id']}", protocol_rows(summary["protocol"])
        )
        console.print(f"Whole transcripts: {summary['transcripts']}", highlight=False)
    else:
        print_rows(f"Run summary: {summary['run_id']}", summary_rows(summary))


def collect(data_dir: DataDir = None) -> None:
    """Finish every open run whose batches have ended (download, convert, retry rounds,
    report); runs still waiting are left for the next call. Schedule it for detached runs."""
    from interviews.prefect_server import ensure_prefect_api

    ensure_prefect_api()  # before Prefect is imported: a server that dies with this process
    _brief_console_errors()
    from flows.collect_flow import collect_batches
    from interviews.cli.interrupt import run_interruptibly

    summaries = run_interruptibly(
        lambda: collect_batches(str(data_dir) if data_dir else None),
        resume="run `interviews collect` again",
    )
    if not summaries:
        console.print("No open runs.")
    for summary in summaries:
        _print_summary(summary)


DEMO_PROVIDERS = ("anthropic", "openai", "vertex", "gemini")


def demo(
    data_dir: Annotated[Path, typer.Option("--data-dir", help="Where the demo writes.")] = Path(
        "data/demo"
    ),
    personas: Annotated[
        Path, typer.Option("--personas", help="Personas file (default: the sample).")
    ] = SAMPLE_PERSONAS,
    provider: Annotated[
        list[str] | None,
        typer.Option(
            "--provider", "-p", metavar=PROVIDER_CHOICES, help="Provider(s) to run (default: all)."
        ),
    ] = None,
    processing_seconds: Annotated[
        float, typer.Option(help="How long each emulated batch takes.")
    ] = 1.5,
) -> None:
    """Run the whole batch pipeline on the sample personas against the local emulator.

    Starts the emulator in-process on 127.0.0.1, saves an `emulator` credentials block per
    provider pointing at it, and runs the `batch-interviews` flow once, comparing the
    providers side by side. No network, no API key.
    """
    started = time.perf_counter()
    providers = provider or list(DEMO_PROVIDERS)
    for name in providers:
        if name not in DEMO_PROVIDERS:
            raise InputError(f"the demo runs {', '.join(DEMO_PROVIDERS)}; not {name!r}")
    # the demo polls briskly; a real run polls every 30 s and up to 10 min (settings)
    os.environ.setdefault("INTERVIEWS_POLL_INITIAL_SECONDS", "0.25")
    os.environ.setdefault("INTERVIEWS_POLL_MAX_SECONDS", "0.5")
    if not personas.exists():
        raise InputError("sample personas not found; pass --personas FILE", path=str(personas))
    from interviews.prefect_server import start_prefect_api

    # a server that dies with this process; a first start migrates a fresh database (~18 s
    # here), so it is waited for (up to 90 s) only after the emulator has started
    prefect_ready = start_prefect_api()

    # Prefect is imported here, before the warm-up thread: importing it from two threads at
    # once made one of them see a half-initialised `prefect.blocks.core`, which Prefect
    # reported as "Failed to initialize plugins: cannot import name 'Block'".
    import prefect.client.orchestration  # noqa: F401

    import blocks.credentials
    from interviews.emulator.control import EmulatorControl
    from interviews.emulator.server import EmulatorServer

    warm_up = threading.Thread(target=_warm_up, args=(providers,), daemon=True)
    warm_up.start()  # Prefect's first start and the SDK imports overlap the emulator's start
    with EmulatorServer() as emulator:
        with EmulatorControl(emulator.url) as control:
            control.configure(processing_seconds=processing_seconds)
        console.print(f"Emulator serving the providers' batch APIs on {emulator.url}")

        from blocks.credentials import emulator_blocks

        blocks = emulator_blocks(emulator.url, emulator.gcs_url)
        if prefect_ready is not None:
            prefect_ready(90)
        warm_up.join()
        for name in providers:
            blocks[name].save("emulator", overwrite=True)
        # one compare run: the providers' batches run side by side, as they would for real
        params = run_parameters(
            targets=providers,
            personas=str(personas),
            credentials_block="emulator",
            data_dir=str(data_dir),
        )
        from interviews.diskfull import disk_full_is_clear

        with disk_full_is_clear(data_dir):
            summary = _prepare_then_flow(params)

    _print_summary(summary)
    console.print(
        f"Demo finished in {time.perf_counter() - started:.1f} s; records in "
        f"{_records_shown(summary, data_dir)} and one JSONL per run in {data_dir / 'runs'}",
        highlight=False,
    )


def _warm_up(providers: list[str]) -> None:
    """Start the ephemeral Prefect API and import the providers' SDK adapters."""
    from prefect.client.orchestration import get_client

    from interviews.providers import get_adapter_class

    with get_client(sync_client=True) as client:
        client.api_healthcheck()
    for name in providers:
        get_adapter_class(name)
    import anthropic  # noqa: F401 - the slowest SDK imports, loaded ahead of their first use
    import google.cloud.aiplatform_v1
    import google.genai  # noqa: F401
    import openai  # noqa: F401


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(run)
    app.command()(collect)
    app.command()(demo)
