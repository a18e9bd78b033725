"""The run report as one self-contained HTML file (`runs/{run_id}/report.html`), with charts.

Charts are inline SVG drawn here (no script, no stylesheet or font from elsewhere: the file
opens offline and can be mailed): outcomes, cost at batch and real-time prices, tokens, quality
flags and answer lengths, per run, or per target of a compare run side by side. Every text
comes from the run's own summary and records and is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from interviews.costs import money
from interviews.jsonl import whole_records

_WIDTH, _BAR, _GAP, _LABEL = 640, 18, 6, 220
_COLORS = ("#3b6ea8", "#e08a2c", "#5b9b4a", "#b4463f", "#7a5ea8", "#888888", "#2a9d9a")
# outcomes keep their colors from run to run: answered green, failed red
_OUTCOME_COLORS = {"succeeded": "#5b9b4a", "errored": "#b4463f", "expired": "#888888"}
_LENGTH_BINS = (0, 25, 50, 100, 200, 400, 800)  # words per answer


def answer_lengths(records: Path) -> list[int]:
    """Words in each answer of a run's records JSONL (answered interviews only)."""
    return [
        len(str(record.get("answer") or _last_answer(record)).split())
        for record in whole_records(records)
        if record.get("status") == "succeeded"
    ]


def _last_answer(record: dict[str, Any]) -> str:
    turns = [t for t in record.get("transcript") or () if t.get("role") == "assistant"]
    return str(turns[-1]["content"]) if turns else ""


def render(title: str, summaries: list[dict[str, Any]], lengths: dict[str, list[int]]) -> str:
    """The report page of one run (one summary) or of a compare run's targets.

    Args:
        title: the page's heading (the run id).
        summaries: each run's summary (`RunReport.as_dict`); targets that failed are left out.
        lengths: answer lengths in words, by target label.
    """
    done = [s for s in summaries if "cost_usd" in s]
    labels = [f"{s['provider']} / {s['model']}" for s in done]
    sections = [
        _chart(
            "Interviews by outcome",
            [(label, _outcomes(s)) for label, s in zip(labels, done, strict=True)],
            series=_outcome_names(done),
            fmt=lambda v: f"{v:,.0f}",
            colors=_OUTCOME_COLORS,
        ),
        _chart(
            "Cost: batch vs real-time prices (USD)",
            [(label, _costs(s)) for label, s in zip(labels, done, strict=True)],
            series=["batch", "real time"],
            fmt=lambda v: money(Decimal(str(v)), small=True),
        ),
        _chart(
            "Tokens",
            [(label, _tokens(s)) for label, s in zip(labels, done, strict=True)],
            series=["input", "output", "cache read"],
            fmt=lambda v: f"{v:,.0f}",
        ),
        _chart(
            "Quality flags (answers)",
            [(label, dict(s.get("flags") or {})) for label, s in zip(labels, done, strict=True)],
            series=sorted({f for s in done for f in (s.get("flags") or {})}),
            fmt=lambda v: f"{v:,.0f}",
            empty="No answer was flagged.",
        ),
        _chart(
            "Answer lengths (words)",
            [(label, _histogram(lengths.get(label, []))) for label in labels],
            series=[_bin_name(i) for i in range(len(_LENGTH_BINS))],
            fmt=lambda v: f"{v:,.0f}",
        ),
        _table(done, labels),
    ]
    return _page(title, sections)


def _outcome_names(summaries: Iterable[dict[str, Any]]) -> list[str]:
    return sorted({name for s in summaries for name in s["statuses"]})


def _outcomes(summary: dict[str, Any]) -> dict[str, float]:
    return {name: float(count) for name, count in summary["statuses"].items()}


def _costs(summary: dict[str, Any]) -> dict[str, float]:
    cost = summary["cost_usd"]
    if "actual_realtime" in cost:  # a real-time run: no batch price was paid
        return {"real time": float(cost["actual_realtime"])}
    return {
        "batch": float(cost["actual_batch"]),
        "real time": float(cost["same_usage_at_realtime_prices"]),
    }


def _tokens(summary: dict[str, Any]) -> dict[str, float]:
    usage = summary["usage"]
    return {
        "input": float(usage.get("input_tokens", 0)),
        "output": float(usage.get("output_tokens", 0)),
        "cache read": float(usage.get("cache_read_tokens", 0)),
    }


def _bin_name(index: int) -> str:
    low = _LENGTH_BINS[index]
    if index + 1 < len(_LENGTH_BINS):
        return f"{low}–{_LENGTH_BINS[index + 1] - 1}"
    return f"{low}+"


def _histogram(lengths: list[int]) -> dict[str, float]:
    counts = [0] * len(_LENGTH_BINS)
    for words in lengths:
        index = max(i for i, low in enumerate(_LENGTH_BINS) if words >= low)
        counts[index] += 1
    return {_bin_name(i): float(n) for i, n in enumerate(counts) if n}


def _chart(
    title: str,
    rows: list[tuple[str, dict[str, float]]],
    *,
    series: list[str],
    fmt: Any,
    empty: str = "Nothing to show.",
    colors: dict[str, str] | None = None,
) -> str:
    """A horizontal grouped bar chart: one group per row, one bar per series (`colors` by
    series name, else the palette in order)."""

    def color(name: str) -> str:
        return (colors or {}).get(name) or _COLORS[series.index(name) % len(_COLORS)]

    top = max((v for _, values in rows for v in values.values()), default=0.0)
    if not series or top <= 0:
        return f"<section><h2>{html.escape(title)}</h2><p>{html.escape(empty)}</p></section>"
    scale = (_WIDTH - _LABEL - 90) / top
    bars, y = [], 0
    for label, values in rows:
        present = [name for name in series if values.get(name)]
        height = max(len(present), 1) * (_BAR + 2)
        bars.append(
            f'<text x="0" y="{y + height / 2 + 5:.0f}" class="label">{html.escape(label)}</text>'
        )
        for k, name in enumerate(present):
            value = values[name]
            top_y = y + k * (_BAR + 2)
            width = max(value * scale, 1)
            bars.append(
                f'<rect x="{_LABEL}" y="{top_y}" width="{width:.1f}" height="{_BAR}" '
                f'fill="{color(name)}">'
                f"<title>{html.escape(name)}: {html.escape(fmt(value))}</title></rect>"
                f'<text x="{_LABEL + width + 4:.1f}" y="{top_y + _BAR - 5}" class="value">'
                f"{html.escape(fmt(value))}</text>"
            )
        y += height + _GAP * 2
    legend = "".join(
        f'<span class="key"><i style="background:{color(name)}"></i>{html.escape(name)}</span>'
        for name in series
    )
    return (
        f'<section><h2>{html.escape(title)}</h2><div class="legend">{legend}</div>'
        f'<svg width="{_WIDTH}" height="{y}" role="img" aria-label="{html.escape(title)}">'
        f"{''.join(bars)}</svg></section>"
    )


def _table(summaries: list[dict[str, Any]], labels: list[str]) -> str:
    """The figures behind the charts, one row per run."""
    head = "".join(
        f"<th>{h}</th>"
        for h in ("run", "provider / model", "answered", "cost", "same at real time", "flags")
    )
    rows = []
    for summary, label in zip(summaries, labels, strict=True):
        cost = summary["cost_usd"]
        actual = cost.get("actual_batch") or cost.get("actual_realtime") or "0"
        realtime = cost.get("same_usage_at_realtime_prices") or actual
        flags = ", ".join(f"{k} {v}" for k, v in (summary.get("flags") or {}).items()) or "none"
        answered = summary["statuses"].get("succeeded", 0)
        cells = (
            summary["run_id"],
            label,
            f"{answered:,} of {summary['requests']:,}",
            money(Decimal(actual), small=True),
            money(Decimal(realtime), small=True),
            flags,
        )
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return f"<section><h2>Figures</h2><table><tr>{head}</tr>{''.join(rows)}</table></section>"


def _page(title: str, sections: list[str]) -> str:
    style = (
        "body{font-family:sans-serif;margin:24px;color:#222;max-width:760px}"
        "h1{font-size:22px}h2{font-size:16px;margin:24px 0 6px}"
        "svg text{font-size:12px;fill:#222}.legend{font-size:12px;margin-bottom:6px}"
        ".key{margin-right:12px}.key i{display:inline-block;width:10px;height:10px;"
        "margin-right:4px}table{border-collapse:collapse;font-size:12px}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{style}</style></head><body>"
        f"<h1>Interview run {html.escape(title)}</h1>{''.join(sections)}</body></html>\n"
    )
