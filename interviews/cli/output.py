"""Terminal output helpers (Rich)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


def print_error(message: str) -> None:
    """One clear error line on stderr (the message is text, never Rich markup)."""
    err_console.print(
        f"[bold red]error:[/bold red] {escape(message)}", highlight=False, soft_wrap=True
    )


def print_rows(title: str, rows: list[tuple[str, str]]) -> None:
    """A two-column table of labels and values."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(escape(label), escape(value))
    console.print(table)


def print_table(title: str, rows: list[dict[str, str]]) -> None:
    """A table with a header row, one column per key of the rows."""
    table = Table(title=title, title_justify="left")
    for column in rows[0] if rows else []:
        table.add_column(escape(column), overflow="fold")  # ids are never cut short
    for row in rows:
        table.add_row(*(escape(value) for value in row.values()))
    console.print(table)
