"""Commands that work on files only (no network, no Prefect): prepare, convert, estimate,
sample-data, models."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from interviews import clock
from interviews.cli.output import console, err_console, print_rows
from interviews.errors import InputError

if TYPE_CHECKING:
    from interviews.preparation import DataDirs

# the choices, spelled out: a typo is still refused by `check_provider`, naming them
PROVIDER_CHOICES = "[anthropic|openai|vertex|gemini]"
Provider = Annotated[
    str,
    typer.Option(
        "--provider",
        "-p",
        metavar=PROVIDER_CHOICES,
        help="Batch API provider: anthropic, openai, vertex (Vertex AI) or gemini (Gemini API).",
    ),
]
# Optional inside the Annotated: `ModelOpt | None` would drop the option's -m and help
ModelOpt = Annotated[
    str | None, typer.Option("--model", "-m", help="Model id or alias (default: the provider's).")
]
OpenAIEndpoint = Annotated[
    str, typer.Option(help="OpenAI only: /v1/chat/completions or /v1/responses.")
]
DataDir = Annotated[
    str | None,
    typer.Option(
        "--data-dir",
        help="Root of written files: a folder (default: ./data) or gs://bucket/prefix "
        "(any fsspec URL; needs INTERVIEWS_LEDGER_URL).",
    ),
]
SystemTemplate = Annotated[
    Path | None, typer.Option("--system-template", help="Jinja2 system-message template.")
]
QuestionTemplate = Annotated[
    Path | None, typer.Option("--question-template", help="Jinja2 first-question template.")
]
ProtocolOpt = Annotated[
    Path | None,
    typer.Option(
        "--protocol",
        help="Interview protocol (YAML/JSON): several questions and follow-ups, asked as one "
        "conversation; replaces --question-template.",
    ),
]


def run_parameters(**values: Any) -> Any:
    """`BatchRunParameters` from CLI values; invalid values become one readable InputError."""
    from pydantic import ValidationError

    from interviews.spec import BatchRunParameters

    try:
        return BatchRunParameters(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"--{'-'.join(str(p) for p in err['loc']).replace('_', '-')}: {err['msg']}"
            for err in exc.errors()
        )
        raise InputError(f"invalid option(s): {problems}") from None


def _dirs(data_dir: str | None) -> DataDirs:
    """The data directory named by --data-dir, else by the settings."""
    from interviews.preparation import open_data_dir
    from interviews.settings import get_settings

    return open_data_dir(data_dir or get_settings().data_dir)


def prepare(
    personas: Annotated[Path, typer.Option("--personas", help="Matched-personas file.")],
    provider: Provider = "anthropic",
    model: ModelOpt = None,
    count: Annotated[int | None, typer.Option(help="How many personas (default: all).")] = None,
    start_index: Annotated[int, typer.Option(help="Index of the first persona.")] = 0,
    max_tokens: Annotated[int, typer.Option(help="Longest answer in tokens.")] = 2048,
    system_template: SystemTemplate = None,
    question_template: QuestionTemplate = None,
    protocol: ProtocolOpt = None,
    openai_endpoint: OpenAIEndpoint = "/v1/chat/completions",
    data_dir: DataDir = None,
) -> None:
    """Write the batch request file and provider-ready files, without sending anything.

    This is the guide's "verify the batch request file format" step.
    """
    from interviews.catalog import check_provider, get_model
    from interviews.preparation import prepare_requests

    check_provider(provider)
    params = run_parameters(
        provider=provider,
        model=model,
        personas=str(personas),
        count=count,
        start_index=start_index,
        max_tokens=max_tokens,
        system_template=str(system_template) if system_template else None,
        question_template=str(question_template) if question_template else None,
        protocol=str(protocol) if protocol else None,
        openai_endpoint=openai_endpoint,
    )
    info = get_model(provider, params.model_id)
    dirs = _dirs(data_dir)
    prepared = prepare_requests(
        params, dirs=dirs, chunk_dir=dirs.requests, chunk_stem="{request_stem}_ready"
    )
    console.print(f"✓ Created batch request file: {dirs.shown(prepared.requests_path)}")
    console.print(f"✓ {prepared.request_count} interview requests prepared")
    for chunk in prepared.chunks:
        console.print(
            f"✓ {provider}-ready file: {dirs.shown(chunk.path)} "
            f"({chunk.request_count} requests, {chunk.byte_count:,} bytes)"
        )
    if info.retires:
        successor = f"; successor: {info.successor}" if info.successor else ""
        console.print(f"[yellow]note:[/yellow] {info.label()}{successor}")
    if info.note:
        console.print(f"[yellow]note:[/yellow] {info.name}: {info.note}", highlight=False)
    if prepared.turns > 1:
        console.print(
            f"✓ Protocol: {prepared.turns} questions; this file asks the first, and each later "
            "question goes in its own batch with the conversation so far"
        )
    submit = same_run_command(
        provider=provider,
        model=info.id,
        personas=personas,
        count=count,
        start_index=start_index,
        max_tokens=max_tokens,
        system_template=system_template,
        question_template=question_template,
        protocol=protocol,
        openai_endpoint=openai_endpoint,
        data_dir=data_dir,
    )
    console.print("\nNext steps:\n  1. Submit exactly these requests:", highlight=False)
    console.print(f"     {submit}", highlight=False, soft_wrap=True, markup=False)
    console.print(
        "  2. Wait for processing (usually under an hour, at most ~24 hours)\n"
        f"  3. Records appear in {dirs.interviews}/",
        highlight=False,
    )


def same_run_command(
    *,
    provider: str,
    model: str,
    personas: Path,
    count: int | None,
    start_index: int,
    max_tokens: int = 2048,
    system_template: Path | None = None,
    question_template: Path | None = None,
    protocol: Path | None = None,
    openai_endpoint: str = "/v1/chat/completions",
    data_dir: str | Path | None = None,
    run_id: str | None = None,
    credentials_block: str | None = None,
) -> str:
    """The `interviews run --batch` command that sends what was prepared: every option that
    shapes the requests, and the data dir, so following it never sends more (or other); with
    `run_id`, the very run the ledger holds."""
    words = ["interviews", "run", "--provider", provider, "--model", model]
    words += ["--personas", str(personas)]
    if count is not None:  # with its start, as the guide writes a selection
        words += ["--count", str(count), "--start-index", str(start_index)]
    elif start_index:
        words += ["--start-index", str(start_index)]
    if max_tokens != 2048:
        words += ["--max-tokens", str(max_tokens)]
    for option, value in (
        ("--system-template", system_template),
        ("--question-template", question_template),
        ("--protocol", protocol),
    ):
        if value is not None:
            words += [option, str(value)]
    if provider == "openai" and openai_endpoint != "/v1/chat/completions":
        words += ["--openai-endpoint", openai_endpoint]
    words.append("--batch")
    if run_id is not None:
        words += ["--run-id", run_id]
    if credentials_block:
        words += ["--credentials-block", credentials_block]
    if data_dir is not None:
        words += ["--data-dir", str(data_dir)]
    return shlex.join(words)


def convert(
    results: Annotated[Path, typer.Option("--results", help="Results file downloaded by hand.")],
    provider: Provider = "anthropic",
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model (default: read from the results).")
    ] = None,
    requests: Annotated[
        Path | None,
        typer.Option("--requests", help="The batch request file, to add questions to records."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Turn a provider results file into interview records (data/interviews/{custom_id}.json).

    The file is untrusted: bad lines (an invalid custom_id, not JSON, over-long) are listed
    and skipped, the others converted, and the command then exits with status 1.
    """
    from interviews.catalog import get_model
    from interviews.providers import get_adapter_class
    from interviews.records import RecordContext, write_records
    from interviews.requests import read_requests
    from interviews.result_lines import ResultProblems

    if not results.exists():
        raise InputError("results file not found; pass the downloaded .jsonl", path=str(results))
    parse = get_adapter_class(provider).parse_results
    if model is None:
        # bad lines are reported by the conversion below, not by this look for the model
        model = next(
            (o.provider_model for o in parse(results, ResultProblems()) if o.provider_model),
            None,
        )
        if model is None:
            raise InputError("no answered line names its model; pass --model", path=str(results))
    info = get_model(provider, model)
    index = None
    if requests is not None:
        # interned: every request usually asks the same question, so a million-line index
        # holds one copy of it
        index = {
            r.custom_id: (r.persona_id, sys.intern(r.first_question))
            for r in read_requests(requests)
        }
    dirs = _dirs(data_dir)
    problems = ResultProblems()
    written: list[str] = []
    summary = write_records(
        parse(results, problems),
        index=index,
        context=RecordContext(provider=provider, model=info, run_id=None, batch_id=None),
        interviews_dir=dirs.interviews,
        on_record=(lambda record: written.append(record["custom_id"])) if dirs.mirror else None,
    )
    dirs.publish_many([dirs.interviews / f"{custom_id}.json" for custom_id in written])
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(summary.statuses.items()))
    console.print(
        f"✓ {summary.total} interview records written to {dirs.shown(dirs.interviews)} ({statuses})"
    )
    if summary.unexpected_ids:
        console.print(
            f"[yellow]note:[/yellow] {len(summary.unexpected_ids)} result line(s) matched no "
            "request or repeated one and were not turned into records (a request's answer "
            "wins over its failures)"
        )
    for message in problems.lines():
        err_console.print(f"warning: {message}", markup=False, highlight=False, soft_wrap=True)
    if summary.usage_unknown:
        console.print(
            f"[yellow]note:[/yellow] {summary.usage_unknown} answer(s) had unusable token "
            "counts: kept, with usage and cost_usd null; the cost of this file is incomplete"
        )
    if problems.skipped:
        raise InputError(
            f"{problems.skipped} line(s) skipped (listed above), the other lines were "
            "converted; fix or download the results file again and convert it again",
            path=str(results),
        )


def estimate(
    provider: Provider = "anthropic",
    model: ModelOpt = None,
    personas: Annotated[
        Path | None,
        typer.Option("--personas", help="Estimate from this personas file's rendered prompts."),
    ] = None,
    count: Annotated[
        int | None,
        typer.Option(
            help="Number of interviews (with --personas: the first N from --start-index)."
        ),
    ] = None,
    start_index: Annotated[int, typer.Option(help="With --personas: the first persona.")] = 0,
    input_tokens: Annotated[
        int | None,
        typer.Option(help="Input tokens per interview (default: measured, or 3000)."),
    ] = None,
    output_tokens: Annotated[
        int | None, typer.Option(help="Output tokens per answer (default: 2000).")
    ] = None,
    max_tokens: Annotated[int, typer.Option(help="Longest answer in tokens.")] = 2048,
    system_template: SystemTemplate = None,
    question_template: QuestionTemplate = None,
    protocol: ProtocolOpt = None,
    count_tokens: Annotated[
        bool,
        typer.Option(
            "--count-tokens",
            help="With --personas: have the provider's count-tokens endpoint count the first "
            "20 requests (free; needs the key) instead of 4 characters per token.",
        ),
    ] = False,
    credentials_block: Annotated[
        str | None,
        typer.Option(help="With --count-tokens: saved credentials block (default: env var)."),
    ] = None,
) -> None:
    """Estimate the cost of a run at real-time and batch prices.

    With --personas, input tokens come from the prompts the run would send (rendered from the
    templates or protocol; 4 characters per token, or counted by the provider with
    --count-tokens); with --count alone, 3,000 in per interview.
    """
    from dataclasses import replace

    from interviews import costs
    from interviews.catalog import check_provider, get_model
    from interviews.estimation import APPROXIMATION, estimate_sizes, measure_personas
    from interviews.spec import DEFAULT_MODEL

    check_provider(provider)
    info = get_model(provider, model or DEFAULT_MODEL[provider])
    if personas is None and count is None:
        raise InputError("pass --personas FILE (estimate from its prompts) or --count N")
    if count_tokens and personas is None:
        raise InputError("--count-tokens counts the prompts of --personas FILE; pass it too")
    if count is not None and count < 1:
        raise InputError(f"--count must be >= 1, got {count}")
    out_each = (
        min(max_tokens, costs.DEFAULT_OUTPUT_TOKENS) if output_tokens is None else output_tokens
    )
    if personas is not None:
        sizes = measure_personas(
            personas,
            count=count,
            start_index=start_index,
            system_template=system_template,
            question_template=question_template,
            protocol=protocol,
        )
        if input_tokens is not None:  # the user's own figure for each first prompt wins
            sizes = replace(sizes, input_chars=input_tokens * 4 * sizes.count)
        elif count_tokens:
            sizes = _provider_counts(sizes, provider, info.id, credentials_block, max_tokens)
        est = estimate_sizes(info, sizes, max_tokens=max_tokens, output_tokens=out_each)
        count = sizes.count
        asks = f", {sizes.turns} questions each" if sizes.turns > 1 else ""
        if input_tokens is not None:
            basis = f"{input_tokens:,} tokens in per interview (given)"
        elif count_tokens:
            scaled = "" if len(sizes.sample) == count else ", the rest scaled by characters"
            basis = f"{len(sizes.sample):,} first prompts counted by {provider}{scaled}"
        else:
            basis = APPROXIMATION
        source = f"{count:,} interviews from {personas}{asks}; input: {basis}"
    else:
        assert count is not None
        in_each = costs.DEFAULT_INPUT_TOKENS if input_tokens is None else input_tokens
        est = costs.estimate(info, count, count * in_each, count * out_each)
        source = f"{in_each:,} tokens in per interview ({'given' if input_tokens else 'assumed'})"
    share = f"{est.savings / est.realtime:.0%}" if est.realtime else "0%"
    print_rows(
        f"Estimate: {count:,} interviews with {info.label()}",
        [
            ("Tokens in / out", f"{est.input_tokens:,} / {est.output_tokens:,}"),
            ("Based on", f"{source}; {out_each:,} tokens out per answer"),
            ("Real-time", costs.money(est.realtime)),
            ("Batch", costs.money(est.batch)),
            ("Savings", f"{costs.money(est.savings)} ({share})"),
        ],
    )
    console.print(
        f"{costs.money(est.realtime)} real-time, {costs.money(est.batch)} batch", highlight=False
    )
    if info.retires:
        verb = "retired" if info.is_retired() else "retires"
        use = f"; use {info.successor} for new runs" if info.successor else ""
        console.print(f"[yellow]note:[/yellow] {info.name} {verb} on {info.retires}{use}")


def _provider_counts(
    sizes: Any, provider: str, model: str, credentials_block: str | None, max_tokens: int
) -> Any:
    """`sizes` with its first prompts counted by the provider's count-tokens endpoint."""
    from blocks.credentials import resolve_credentials
    from interviews.estimation import count_with_provider

    adapter = resolve_credentials(provider, credentials_block).get_adapter()
    return count_with_provider(sizes, adapter, model, max_tokens=max_tokens)


def export(
    run_id: Annotated[str, typer.Argument(help="The run to export (see `interviews status`).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="parquet, csv or jsonl.")] = "parquet",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="File to write (default: runs/RUN/export/interviews.FORMAT)."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Export a run, one row per interview: ids, provider, model, questions and answers,
    flags, usage and cost (Parquet for pandas, polars or duckdb; CSV; JSONL)."""
    from interviews.export import FORMATS, check_run_id, export_run, records_file

    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    dirs = _dirs(data_dir)
    run_dir = dirs.run(check_run_id(run_id))
    for name in ("transcripts.jsonl", "interviews.jsonl"):
        dirs.fetch(run_dir / name)  # from the bucket, for a data dir in one
    records = records_file(run_dir)
    dest = out or run_dir / "export" / f"interviews.{fmt}"
    count = export_run(records, dest, fmt)
    if out is None:
        dirs.publish(dest)
    console.print(f"✓ {count:,} interviews exported to {dirs.shown(dest) if out is None else dest}")


def fhir_personas(
    folder: Annotated[Path, typer.Argument(help="Folder of Synthea FHIR R4 bundles (*.json).")],
    out: Annotated[Path, typer.Option("--out", help="Matched-personas JSONL to write.")],
    as_of: Annotated[
        str | None, typer.Option(help="Ages on this day, YYYY-MM-DD (default: today).")
    ] = None,
) -> None:
    """Turn Synthea FHIR R4 patient bundles into a matched-personas file: demographics from
    Patient; conditions, active medications, allergies and the latest observations as the
    health record."""
    from datetime import date

    from interviews.fhir import write_personas

    try:
        day = date.fromisoformat(as_of) if as_of else clock.today()
    except ValueError:
        raise InputError(f"--as-of must be a date like 2026-12-07, got {as_of!r}") from None
    written = write_personas(folder, out, day)
    console.print(f"✓ {written:,} personas with their health records written to {out}")


def sample_data(
    out: Annotated[Path, typer.Option("--out", help="Output JSONL file.")],
    count: Annotated[int, typer.Option(help="How many personas.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same file).")] = 0,
) -> None:
    """Generate a synthetic matched-personas file (deterministic, streamed)."""
    from interviews.sample_data import write_sample_personas

    if count < 1:
        raise InputError(f"--count must be >= 1, got {count}")
    written = write_sample_personas(out, count, seed)
    console.print(f"✓ {written:,} synthetic personas written to {out}")


def models(
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider", "-p", metavar=PROVIDER_CHOICES, help="Only this provider (default: all)."
        ),
    ] = None,
) -> None:
    """List the catalog: models, batch support, prices and retirement dates."""
    from interviews.catalog import PROVIDERS, check_provider

    if provider is not None:
        check_provider(provider)
    for name in [provider] if provider else PROVIDERS:
        _models_table(name)


def _models_table(provider: str) -> None:
    """One provider's models, then their notes."""
    from rich.table import Table

    from interviews.catalog import models_for
    from interviews.costs import prices

    table = Table(title=f"{provider} models (USD per 1M tokens)", title_justify="left")
    table.add_column("model", no_wrap=True)
    for column in ("status", "batch", "real-time in/out", "batch in/out", "retires"):
        table.add_column(column)
    today = clock.today()
    for m in models_for(provider):
        standard, batch = prices(m, batch=False), prices(m, batch=True)
        table.add_row(
            m.id,
            m.status_on(today),
            "🔄 BATCH" if m.batch else "",
            f"${standard.input:g} / ${standard.output:g}",
            f"${batch.input:g} / ${batch.output:g}",
            str(m.retires or ""),
        )
    console.print(table)
    for m in models_for(provider):
        if m.note:
            console.print(f"{m.id}: {m.note}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(prepare)
    app.command()(convert)
    app.command()(estimate)
    app.command()(export)
    app.command("sample-data")(sample_data)
    app.command("fhir-personas")(fhir_personas)
    app.command()(models)
