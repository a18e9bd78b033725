"""`interviews launch`: the interactive launcher (successor of the guide's
`scripts/interactive_interviews.py`).

It asks for the provider, the model, the personas file, the count and the start index, shows
the cost at real-time and batch prices, offers the batch API where the model has it, and then
either prepares the batch (request files and a ledger entry, nothing sent) or runs the
interviews now through `interviews run --realtime`. Every question has a flag, and `--yes`
accepts the defaults, so scripts can skip them all.

Only typer and rich are imported at module level: questionary, the ledger and Prefect load
when the command runs, so `interviews --help` stays fast.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from interviews import clock
from interviews.cli.data_commands import PROVIDER_CHOICES, DataDir, same_run_command
from interviews.cli.output import console
from interviews.errors import CatalogError, InputError

if TYPE_CHECKING:
    from interviews.catalog import ModelInfo

DEFAULT_PERSONAS = Path("data/sample/matched_personas.jsonl")
# the guide: the batch API is "ideal for large volumes (100+ interviews)"
BATCH_SUGGESTED_FROM = 100
BATCH_MARK = "🔄 BATCH"
PROVIDER_TITLES = {
    "anthropic": "anthropic  Anthropic (Message Batches)",
    "openai": "openai     OpenAI (Batch API)",
    "vertex": "vertex     Google Vertex AI (batch prediction)",
    "gemini": "gemini     Google Gemini API (batch mode)",
}


class DialogueCancelledError(Exception):
    """The person left the dialogue (Ctrl-C)."""


class Asker:
    """Asks one question at a time on the terminal, or takes the default under `--yes`.

    Without a terminal (and without `--yes`) a question that has no flag answer is an error
    naming the flag, so a script never hangs on a prompt it cannot see.
    """

    def __init__(self, *, yes: bool) -> None:
        self.yes = yes
        self.terminal = sys.stdin.isatty() and sys.stdout.isatty()

    def _can_ask(self, flag: str) -> bool:
        if self.yes:
            return False
        if not self.terminal:
            raise InputError(f"no terminal to ask on: pass {flag}, or --yes to accept the defaults")
        return True

    @staticmethod
    def _answer(question) -> object:
        try:
            answer = question.unsafe_ask()
        except KeyboardInterrupt:
            raise DialogueCancelledError from None
        if answer is None:  # Esc/Ctrl-C in some prompt_toolkit versions
            raise DialogueCancelledError
        return answer

    def select(self, message: str, choices: list[tuple[str, str]], default: str, flag: str) -> str:
        """One of `choices` (value, title): arrow keys, or the number shown before it."""
        if not self._can_ask(flag):
            return default
        import questionary

        question = questionary.select(
            message,
            choices=[questionary.Choice(title, value=value) for value, title in choices],
            default=default,
            use_shortcuts=True,  # typing the number shown moves to that line
            use_jk_keys=False,  # j/k may be shortcut keys in long lists
            instruction="(arrow keys or its number, then Enter)",
        )
        return str(self._answer(question))

    def text(
        self,
        message: str,
        default: str,
        check: Callable[[str], str | None],
        flag: str,
        *,
        path: bool = False,
    ) -> str:
        """A typed answer; Enter alone takes `default`. `check` returns an error or None."""
        if not self._can_ask(flag):
            return default
        import questionary

        def validate(value: str) -> bool | str:
            value = value.strip()
            return True if not value else (check(value) or True)

        # the default is shown, not pre-filled, so typing replaces it without deleting first
        prompt = questionary.path if path else questionary.text
        question = prompt(f"{message} (Enter: {default})", validate=validate)
        return str(self._answer(question)).strip() or default

    def confirm(self, message: str, default: bool, flag: str) -> bool:
        """yes/no: typing `yes` or `no` (or just y/n) and Enter; Enter alone takes `default`."""
        if not self._can_ask(flag):
            return default
        import questionary

        hint = "yes" if default else "no"
        question = questionary.confirm(
            message, default=default, auto_enter=False, instruction=f"(yes/no, Enter: {hint}) "
        )
        return bool(self._answer(question))


def batch_refusal(model: ModelInfo, now: datetime | None = None) -> str | None:
    """Why a batch of `model` submitted now would be refused (the catalog's message), or None."""
    from interviews.catalog import check_batch_model

    try:
        check_batch_model(model.provider, model.id, now=now)
    except CatalogError as exc:
        return str(exc)
    return None


def retirement_note(model: ModelInfo) -> str:
    """When a retiring model still takes batches and real-time calls, and its successor."""
    from datetime import timedelta

    from interviews.catalog import BATCH_WINDOW

    assert model.retires is not None
    # `check_batch_model` refuses once (now + window).date() reaches the retirement date
    window = BATCH_WINDOW[model.provider]
    last_batch_day = model.retires - timedelta(days=window.days + 1)
    return (
        f"{model.name} ({model.id}) retires on {model.retires.isoformat()}: batches are "
        f"accepted through {last_batch_day.isoformat()} (the {window.total_seconds() / 3600:.0f}"
        f" h batch window), real-time calls until retirement"
        + (f"; successor: {model.successor}" if model.successor else "")
    )


def model_title(model: ModelInfo, now: datetime | None = None) -> str:
    """One line of the model list: id, name, prices, batch support and retirement."""
    from interviews.costs import money, prices

    standard = prices(model, batch=False, at=now)
    prices_text = f"{money(standard.input)} / {money(standard.output)}"
    parts = [f"{model.id:<28} {model.name:<18}", f"{prices_text:<16} per 1M"]
    if model.batch and batch_refusal(model, now) is None:
        parts.append(BATCH_MARK)
    elif model.batch:
        parts.append("no batch now")
    if model.retires:  # the launcher never lists retired models: this one is retiring
        use = f", use {model.successor}" if model.successor else ""
        parts.append(f"retires {model.retires.isoformat()}{use}")
    return "  ".join(parts)


def _choose_model(asker: Asker, provider: str, model: str | None) -> ModelInfo:
    from interviews.catalog import get_model, models_for
    from interviews.spec import DEFAULT_MODEL

    if model is not None:
        info = get_model(provider, model)
        if info.is_retired():
            raise CatalogError(
                f"{info.name} ({info.id}) retired on {info.retires} and is no longer served; "
                f"use {info.successor or 'a current model'} "
                f"(`interviews models --provider {provider}`)"
            )
        return info
    today = clock.today()
    offered = [m for m in models_for(provider) if not m.is_retired(today)]
    chosen = asker.select(
        "Model:",
        [(m.id, model_title(m)) for m in offered],
        DEFAULT_MODEL[provider],
        "--model",
    )
    return get_model(provider, chosen)


def count_personas(path: Path) -> int:
    """How many valid records the personas file has (validates every one)."""
    from interviews.personas import iter_personas

    return sum(1 for _ in iter_personas(path))


def _int_check(low: int, high: int) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if not value.isdigit() or not low <= int(value) <= high:
            return f"a whole number from {low} to {high}"
        return None

    return check


def _check_personas(value: str) -> str | None:
    return None if Path(value).is_file() else f"no file at {value}"


def _print_batch_offer(model: ModelInfo) -> None:
    """The guide's batch block, with this model's discount and this provider's window."""
    from interviews.catalog import BATCH_WINDOW
    from interviews.costs import prices

    saving = 1 - prices(model, batch=True).input / prices(model, batch=False).input
    hours = BATCH_WINDOW[model.provider].total_seconds() / 3600
    window = "" if hours == 24 else f" (at most {hours:.0f} h at {model.provider})"
    console.print(
        "\n💡 Batch API Available!\n"
        f"   - {saving:.0%} cost savings\n"
        f"   - ~24 hour turnaround time{window}\n"
        f"   - Ideal for large volumes ({BATCH_SUGGESTED_FROM}+ interviews)\n",
        highlight=False,
    )


def _prepare_batch(
    *,
    info: ModelInfo,
    personas: Path,
    count: int,
    start_index: int,
    credentials_block: str | None,
    data_dir: str | None,
) -> None:
    """Prepare the batch run (files and ledger, nothing sent) and say how to submit it.

    It is `interviews run --batch` up to the first send: the same checks (model, input,
    retirement) and the same run preparation, so the printed `interviews run --run-id` command
    resumes this very run and submits these files.
    """
    from interviews.cli.data_commands import run_parameters
    from interviews.pipeline import prepare_run
    from interviews.preparation import open_data_dir
    from interviews.settings import get_settings

    settings = get_settings()
    root = data_dir or settings.data_dir
    params = run_parameters(
        provider=info.provider,
        model=info.id,
        personas=str(personas),
        count=count,
        start_index=start_index,
        credentials_block=credentials_block,
        data_dir=str(root),
    )
    dirs = open_data_dir(root)
    plan = prepare_run(
        params, ledger=dirs.open_ledger(settings.ledger_url), dirs=dirs, mode="batch"
    )
    prepared = sum(chunk.request_count for chunk in plan.chunks)
    submit = same_run_command(
        provider=info.provider,
        model=info.id,
        personas=personas,
        count=count,
        start_index=start_index,
        run_id=plan.run_id,
        credentials_block=credentials_block,
        data_dir=data_dir,
    )
    status = "interviews status " + plan.run_id
    if data_dir:
        status += f" --data-dir {shlex.quote(str(data_dir))}"
    say = console.print
    say()
    say(
        f"✓ Created batch request file: {dirs.shown(plan.requests_path)}",
        highlight=False,
        soft_wrap=True,
    )
    say(f"✓ {prepared} interview requests prepared", highlight=False)
    say(
        f"✓ Run {plan.run_id} prepared in {len(plan.chunks)} batch(es); nothing has been sent",
        highlight=False,
    )
    say("\nNext steps:", highlight=False)
    say(
        f"  1. Submit batch file to {info.provider} API:\n     {submit}",
        highlight=False,
        soft_wrap=True,
    )
    say(f"  2. Wait for processing (~24 hours); follow it with:\n     {status}", highlight=False)
    say(
        f"  3. Download results when ready: the same run command finishes the run; records "
        f"appear in {dirs.shown(dirs.interviews)}/",
        highlight=False,
    )


def _run_realtime(
    *,
    info: ModelInfo,
    personas: Path,
    count: int,
    start_index: int,
    credentials_block: str | None,
    data_dir: str | None,
) -> None:
    """Run now, exactly as `interviews run --realtime` does (same function, same summary)."""

    from interviews.cli.run_commands import run

    run(
        personas=personas,
        provider=info.provider,
        model=info.id,
        count=count,
        start_index=start_index,
        batch=False,
        credentials_block=credentials_block,
        data_dir=data_dir,
    )


def launch(
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider", "-p", metavar=PROVIDER_CHOICES, help="Provider (asked if missing)."
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model id or alias (asked if missing).")
    ] = None,
    personas: Annotated[
        Path | None,
        typer.Option("--personas", help=f"Matched-personas file (default: {DEFAULT_PERSONAS})."),
    ] = None,
    count: Annotated[
        int | None, typer.Option(help="How many interviews (default: the rest of the file).")
    ] = None,
    start_index: Annotated[
        int | None, typer.Option(help="Index of the first persona (default: 0).")
    ] = None,
    batch: Annotated[
        bool | None,
        typer.Option(
            "--batch/--realtime",
            help="Prepare a batch (nothing sent) or run now in real time (default: asked; "
            f"with --yes, batch from {BATCH_SUGGESTED_FROM} interviews where the model has it).",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Accept the defaults; ask nothing.")
    ] = False,
    credentials_block: Annotated[
        str | None,
        typer.Option(help="Saved credentials block (default: the provider's API key env var)."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Choose provider, model, personas and count, see the cost real-time versus batch, then
    prepare a batch (nothing sent) or run the interviews now in real time.

    Lists work with the arrow keys or by typing the number shown; yes/no questions take
    `yes`/`no`. Every question has a flag; `--yes` accepts the defaults of the rest.
    """
    asker = Asker(yes=yes)
    try:
        choice = _dialogue(
            asker, provider, model, personas, count, start_index, batch, credentials_block
        )
    except DialogueCancelledError:
        console.print("Cancelled: nothing was prepared or sent.")
        raise typer.Exit(130) from None
    info, personas_path, count, start_index, use_batch = choice
    common = {
        "info": info,
        "personas": personas_path,
        "count": count,
        "start_index": start_index,
        "credentials_block": credentials_block,
        "data_dir": data_dir,
    }
    if use_batch:
        _prepare_batch(**common)
    else:
        _run_realtime(**common)


def _dialogue(
    asker: Asker,
    provider: str | None,
    model: str | None,
    personas: Path | None,
    count: int | None,
    start_index: int | None,
    batch: bool | None,
    credentials_block: str | None,
) -> tuple[ModelInfo, Path, int, int, bool]:
    """Every question, in the guide's order; returns (model, personas, count, start, batch)."""
    from interviews.catalog import PROVIDERS, check_provider
    from interviews.cli.data_commands import estimate
    from interviews.costs import money
    from interviews.estimation import estimate_sizes, measure_personas
    from interviews.settings import require_credentials
    from interviews.spec import DEFAULT_MAX_TOKENS

    if provider is None:
        provider = asker.select(
            "Provider:", [(p, PROVIDER_TITLES[p]) for p in PROVIDERS], "anthropic", "--provider"
        )
    check_provider(provider)
    info = _choose_model(asker, provider, model)
    refusal = batch_refusal(info)
    if batch and refusal:
        raise CatalogError(refusal)  # asked for a batch the catalog refuses: say why, stop
    if info.retires:
        console.print(f"[yellow]note:[/yellow] {retirement_note(info)}", highlight=False)

    if personas is None:
        default = DEFAULT_PERSONAS
        answer = asker.text(
            "Personas file:", str(default), _check_personas, "--personas", path=True
        )
        personas = Path(answer)
    if not personas.is_file():
        raise InputError("personas file not found; pass --personas FILE", path=str(personas))
    total = count_personas(personas)
    if count is None:
        count = int(
            asker.text(
                f"How many interviews? ({total} in the file)",
                str(total if start_index is None else max(total - start_index, 1)),
                _int_check(1, total),
                "--count",
            )
        )
    if start_index is None:
        start_index = int(
            asker.text(
                "Start at persona index:",
                "0",
                _int_check(0, max(total - count, 0)),
                "--start-index",
            )
        )
    if count < 1 or start_index < 0 or start_index + count > total:
        raise InputError(
            f"asks for {count} interviews from index {start_index}, but the file has {total}; "
            "lower --count or --start-index, or make a larger file with `interviews sample-data "
            "--count N --out FILE` and pass --personas FILE",
            path=str(personas),
        )

    console.print(
        f"Personas {start_index}–{start_index + count - 1} of {personas}, estimated from their "
        "prompts as `interviews estimate --personas` does",
        highlight=False,
    )
    # the same table and numbers as the command
    estimate(
        provider=provider, model=info.id, personas=personas, count=count, start_index=start_index
    )

    if batch is None:
        if refusal is None and info.batch:
            _print_batch_offer(info)
            batch = asker.confirm("Use Batch API?", count >= BATCH_SUGGESTED_FROM, "--batch")
        else:
            if refusal:
                console.print(f"Batch API not available: {refusal}", highlight=False)
            batch = False
        if not batch:
            require_credentials(provider, credentials_block)  # before asking to spend

            sizes = measure_personas(personas, count=count, start_index=start_index)
            est = estimate_sizes(info, sizes, max_tokens=DEFAULT_MAX_TOKENS)
            go = asker.confirm(
                f"Run {count} interviews now in real time (about {money(est.realtime)})?",
                True,
                "--realtime",
            )
            if not go:
                raise DialogueCancelledError
    return info, personas, count, start_index, bool(batch)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command()(launch)
