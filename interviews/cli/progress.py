"""The terminal's live progress bar for runs, read from the ledger while the flow works."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.default_styles import DEFAULT_STYLES
from rich.errors import MissingStyle
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.theme import Theme

from interviews.ledger import Ledger
from interviews.progress import run_progress


def _prefect_console() -> Console | None:
    """The Rich console Prefect logs to, so log lines print above the bar, not through it."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler):
            return handler.console
    return None


def _missing_default_styles(console: Console) -> Theme:
    """Rich's default styles that `console`'s theme lacks (the bars need `bar.back` & co.).

    Prefect's console handler builds its console with `Theme(styles, inherit=False)`: only
    its log-highlighting styles, none of Rich's defaults. A progress bar drawn on that console
    raised `MissingStyle: 'bar.back'` in a real terminal. Adding just the missing ones keeps
    Prefect's own colours (and any `logging.yml` overrides) for the log lines.
    """
    missing = {}
    for name, style in DEFAULT_STYLES.items():
        try:
            console.get_style(name)
        except MissingStyle:
            missing[name] = style
    return Theme(missing, inherit=False)


@contextmanager
def watch_progress(
    ledger: Ledger, run_ids: list[str], *, console: Console | None = None, interval: float = 1.0
) -> Iterator[None]:
    """Show one bar per run (requests finished at the provider) while the block runs.

    Only on a terminal: redirected output (logs, CI) gets the log lines and the final table.
    The bars read the ledger, the same source as `interviews status` and the Prefect
    progress artifact, so they show what the runs have recorded.
    """
    console = console or _prefect_console()
    if console is None or not console.is_terminal:
        yield
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[batches]}"),
        TimeElapsedColumn(),
    )
    # the bars share Prefect's console so log lines print above them, not through them
    with (
        console.use_theme(_missing_default_styles(console)),
        Progress(*columns, console=console) as progress,
    ):
        bars = {run_id: progress.add_task(run_id, total=None, batches="") for run_id in run_ids}
        stop = threading.Event()

        def refresh() -> None:
            for run_id, bar in bars.items():
                state = run_progress(ledger, run_id)
                progress.update(
                    bar,
                    total=state.requests or None,
                    completed=state.finished,
                    description=f"{run_id} (round {state.round})",
                    batches=f"{state.batches_ended}/{state.batches} batches ended",
                )

        def loop() -> None:
            while not stop.wait(interval):
                refresh()

        thread = threading.Thread(target=loop, name="progress-bar", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            refresh()
