"""The run report: counts, tokens and cost (estimated vs actual, batch vs real-time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from interviews.batch_types import BatchJob, OutcomeStatus
from interviews.costs import money
from interviews.jsonl import write_json
from interviews.quality import FLAGS
from interviews.records import ConvertSummary


@dataclass
class RunReport:
    """Everything a person wants to know when a run ends."""

    run_id: str
    provider: str
    model: str
    requests: int
    requests_path: str
    estimate_batch: Decimal
    summary: ConvertSummary
    batches: list[BatchJob] = field(default_factory=list)
    results_paths: list[str] = field(default_factory=list)
    interviews_dir: str = ""
    records_jsonl: str = ""
    mode: str = "batch"  # "realtime": `estimate_batch` and the cost are at real-time prices

    @property
    def succeeded(self) -> int:
        """Interviews answered."""
        return self.summary.statuses.get(OutcomeStatus.SUCCEEDED, 0)

    @property
    def ok(self) -> bool:
        """A run with zero answers is a failure, whatever the provider called it."""
        return self.succeeded > 0

    def as_dict(self) -> dict[str, Any]:
        """The JSON summary (money as strings with full precision, plus rounded USD)."""
        s = self.summary
        ratio = (s.cost / self.estimate_batch) if self.estimate_batch else None
        return {
            "run_id": self.run_id,
            "provider": self.provider,
            "model": self.model,
            "mode": self.mode,
            "ok": self.ok,
            "requests": self.requests,
            "statuses": {str(k): v for k, v in sorted(s.statuses.items())},
            "kept_earlier_answers": s.kept_earlier_answers,
            "unexpected_result_ids": s.unexpected_ids,
            # answers whose token counts were unusable: kept, cost unknown (cost is a floor)
            "usage_unknown": s.usage_unknown,
            "cost_complete": not s.usage_unknown,
            "skipped_result_lines": s.problems.skipped,
            "result_line_problems": s.problems.lines(),
            "usage": s.usage.as_dict(),
            # answers per quality flag (interviews/quality.py), flags in their fixed order
            "flags": {flag: s.flags[flag] for flag in FLAGS if s.flags.get(flag)},
            "flagged_retries": s.flagged_retries,
            "cost_usd": self._costs(ratio),
            "batches": [
                {
                    "batch_id": b.batch_id,
                    "status": str(b.status),
                    "provider_status": b.provider_status,
                    "errors": list(b.errors),
                }
                for b in self.batches
            ],
            "requests_path": self.requests_path,
            "results_paths": self.results_paths,
            "interviews_dir": self.interviews_dir,
            "records_jsonl": self.records_jsonl,
        }

    def _costs(self, ratio: Decimal | None) -> dict[str, Any]:
        """Money as strings with full precision: actual, estimate and their ratio."""
        s, rounded = self.summary, None if ratio is None else round(float(ratio), 4)
        cache = {
            "without_prompt_cache": str(s.cost_uncached),
            "prompt_cache_saved": str(s.cost_uncached - s.cost),
        }
        if self.mode == "realtime":
            return {
                "actual_realtime": str(s.cost),
                "estimate_realtime": str(self.estimate_batch),
                "actual_over_estimate": rounded,
                **cache,
            }
        return {
            "actual_batch": str(s.cost),
            "same_usage_at_realtime_prices": str(s.cost_realtime),
            "saved": str(s.cost_realtime - s.cost),
            "estimate_batch": str(self.estimate_batch),
            "actual_over_estimate": rounded,
            **cache,
        }

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs for tables: terminal, markdown and Prefect artifacts."""
        return summary_rows(self.as_dict())

    def markdown(self) -> str:
        """A markdown report for the Prefect UI."""
        verdict = "completed" if self.ok else "FAILED: no interview was answered"
        lines = [f"# Batch interviews {self.run_id}: {verdict}", "", "| | |", "|---|---|"]
        lines += [f"| {label} | {value} |" for label, value in self.rows()]
        for batch in self.batches:
            if batch.errors:
                lines += ["", f"Batch {batch.batch_id} was refused by the provider:"]
                lines += [f"- {error}" for error in batch.errors[:20]]
        if self.summary.retryable:
            lines += ["", f"{len(self.summary.retryable)} request(s) may succeed if run again."]
        return "\n".join(lines) + "\n"

    def write(self, path: Path) -> None:
        """Write the JSON summary."""
        write_json(path, self.as_dict())


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs of a summary dict (as written to `summary.json`)."""
    cost = summary["cost_usd"]
    statuses = ", ".join(f"{k} {v}" for k, v in summary["statuses"].items()) or "none"
    answered = summary["statuses"].get(str(OutcomeStatus.SUCCEEDED), 0)
    ratio = cost["actual_over_estimate"]
    usage = summary["usage"]
    return [
        ("Run", summary["run_id"]),
        ("Provider / model", f"{summary['provider']} / {summary['model']}"),
        ("Interviews", f"{summary['requests']:,} requested, {answered:,} answered"),
        ("Outcomes", statuses),
        ("Quality flags", flag_counts(summary.get("flags") or {})),
        *(
            [("Flagged answers sent again", f"{summary['flagged_retries']:,}")]
            if summary.get("flagged_retries")
            else []
        ),
        (
            ("Mode", "real-time API")
            if summary.get("mode") == "realtime"
            else (
                "Batches",
                ", ".join(f"{b['batch_id']} ({b['status']})" for b in summary["batches"]),
            )
        ),
        ("Tokens in / out", f"{usage['input_tokens']:,} / {usage['output_tokens']:,}"),
        *_cache_rows(usage, cost),
        *_cost_rows(cost),
        *_problem_rows(summary),
        ("Actual / estimate", "n/a" if ratio is None else f"{ratio:.2f}×"),
        ("Records", summary["interviews_dir"] or "(per-interview files off)"),
        ("All records (JSONL)", summary.get("records_jsonl", "")),
        *([("Report with charts", summary["report_html"])] if summary.get("report_html") else []),
    ] + [
        (f"Errors of {b['batch_id']}", "; ".join(b["errors"][:5]))
        for b in summary["batches"]
        if b.get("errors")
    ]


def _problem_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """Rows for untrusted results that were not whole: unknown usage, skipped lines."""
    rows = []
    if summary.get("usage_unknown"):
        unknown = summary["usage_unknown"]
        rows.append(
            (
                "Cost incomplete",
                (
                    f"{unknown:,} answer(s) had unusable token counts (usage and cost null in "
                    "their records); the cost above leaves them out"
                ),
            )
        )
    if summary.get("skipped_result_lines"):
        skipped = summary["skipped_result_lines"]
        rows.append(
            (
                "Skipped result lines",
                (
                    f"{skipped:,}: their requests are recorded as missing, the raw files are "
                    "kept; see result_line_problems in summary.json, or re-run with "
                    "--refetch-results"
                ),
            )
        )
    return rows


def flag_counts(flags: dict[str, int]) -> str:
    """`refusal 2, truncated 1`, or `none` (answers per quality flag)."""
    return (
        ", ".join(f"{name.replace('_', ' ')} {count:,}" for name, count in flags.items()) or "none"
    )


def _cache_rows(usage: dict[str, Any], cost: dict[str, Any]) -> list[tuple[str, str]]:
    """The prompt cache's lines, when it was used: tokens read and written, and what it saved
    against the same usage with no cache (negative: writes that were never read back)."""
    read, written = usage.get("cache_read_tokens", 0), usage.get("cache_write_tokens", 0)
    if not (read or written) or "without_prompt_cache" not in cost:
        return []
    saved = Decimal(cost["prompt_cache_saved"])
    uncached = money(Decimal(cost["without_prompt_cache"]), small=True)
    verdict = (
        f"saved {money(saved, small=True)}"
        if saved >= 0
        else f"cost {money(-saved, small=True)} more"
    )
    return [
        ("Prompt cache", f"{read:,} tokens read, {written:,} written"),
        ("Prompt cache saving", f"{verdict} (without caching: {uncached})"),
    ]


def _cost_rows(cost: dict[str, Any]) -> list[tuple[str, str]]:
    """The cost lines of a summary: batch runs also show what real time would have cost."""
    if "actual_realtime" in cost:
        return [
            ("Cost (real-time prices)", money(Decimal(cost["actual_realtime"]), small=True)),
            ("Estimate before the run", money(Decimal(cost["estimate_realtime"]), small=True)),
        ]
    return [
        ("Cost (batch prices)", money(Decimal(cost["actual_batch"]), small=True)),
        (
            "Same usage at real-time prices",
            money(Decimal(cost["same_usage_at_realtime_prices"]), small=True),
        ),
        ("Estimate before the run", money(Decimal(cost["estimate_batch"]), small=True)),
    ]


def comparison_rows(summaries: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One row per target of a compare run: who, how many answered (and how the others
    ended), tokens and cost. Each target's run id is `{compare run id}-{provider}-{model}`."""
    rows = []
    for summary in summaries:
        target = (
            f"{summary['provider']} / {summary['model']}"
            if summary.get("provider")
            else summary["run_id"]
        )
        if "error" in summary or summary.get("detached"):
            state = summary.get("error") or "waiting: " + ", ".join(summary["waiting_batches"])
            rows.append(
                {
                    "target": target,
                    "answered": state,
                    "tokens in / out": "",
                    "flags": "",
                    "cost": "",
                    "estimate": "",
                }
            )
            continue
        cost, usage, statuses = summary["cost_usd"], summary["usage"], summary["statuses"]
        answered = statuses.get(str(OutcomeStatus.SUCCEEDED), 0)
        others = ", ".join(
            f"{k} {v}" for k, v in statuses.items() if k != str(OutcomeStatus.SUCCEEDED)
        )
        rows.append(
            {
                "target": target,
                "answered": f"{answered:,} of {summary['requests']:,}"
                + (f"; {others}" if others else ""),
                "tokens in / out": f"{usage['input_tokens']:,} / {usage['output_tokens']:,}",
                "flags": flag_counts(summary.get("flags") or {}),
                "cost": money(Decimal(cost["actual_batch"]), small=True),
                "estimate": money(Decimal(cost["estimate_batch"]), small=True),
            }
        )
    return rows


def comparison_markdown(run_id: str, summaries: list[dict[str, Any]]) -> str:
    """A markdown table comparing the targets of a compare run."""
    rows = comparison_rows(summaries)
    columns = list(rows[0]) if rows else []
    lines = [f"# Compare run {run_id}", ""]
    lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row[c] for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


_COST_FIELDS = (
    "actual_batch",
    "same_usage_at_realtime_prices",
    "saved",
    "estimate_batch",
    "without_prompt_cache",
    "prompt_cache_saved",
)


def protocol_total(run_id: str, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary of a batch protocol run from its questions' summaries (one run, and one
    set of batches, per question): each question's outcome, and the tokens and costs summed
    over the whole protocol."""
    usage: dict[str, int] = {}
    cost = dict.fromkeys(_COST_FIELDS, Decimal(0))
    rows = []
    for number, question in enumerate(questions, start=1):
        for key, value in question["usage"].items():
            usage[key] = usage.get(key, 0) + value
        for key in _COST_FIELDS:
            cost[key] += Decimal(question["cost_usd"].get(key, "0"))
        rows.append(
            {
                "question": number,
                "run_id": question["run_id"],
                "requests": question["requests"],
                "answered": question["statuses"].get(str(OutcomeStatus.SUCCEEDED), 0),
                "cost_usd": question["cost_usd"]["actual_batch"],
            }
        )
    estimate = cost["estimate_batch"]
    return {
        "run_id": run_id,
        "provider": questions[0]["provider"] if questions else "",
        "model": questions[0]["model"] if questions else "",
        "questions": rows,
        "usage": usage,
        "cost_usd": {
            **{key: str(value) for key, value in cost.items()},
            "actual_over_estimate": round(float(cost["actual_batch"] / estimate), 4)
            if estimate
            else None,
        },
    }


def protocol_rows(total: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs of a protocol's one summary: a line per question, then the whole
    protocol's tokens, prompt cache and cost."""
    usage, cost = total["usage"], total["cost_usd"]
    ratio = cost["actual_over_estimate"]
    return [
        ("Protocol run", total["run_id"]),
        ("Provider / model", f"{total['provider']} / {total['model']}"),
        *(
            (
                f"Question {row['question']}",
                (
                    f"{row['answered']:,} of {row['requests']:,} answered, "
                    f"{money(Decimal(row['cost_usd']), small=True)} ({row['run_id']})"
                ),
            )
            for row in total["questions"]
        ),
        (
            "Tokens in / out",
            f"{usage.get('input_tokens', 0):,} / {usage.get('output_tokens', 0):,}",
        ),
        *_cache_rows(usage, cost),
        *_cost_rows(cost),
        ("Actual / estimate", "n/a" if ratio is None else f"{ratio:.2f}×"),
    ]
