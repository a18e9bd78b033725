"""Normalized outcomes → interview records (the seed's standard format, extended).

A record is `data/interviews/{custom_id}.json` with the seed's fields `persona_id, timestamp,
provider, model, transcript` plus `custom_id, run_id, batch_id, mode, status, finish_reason,
usage, cost_usd, error`. Every request gets a record: answered, errored, canceled, expired, or
missing from the provider's results. A succeeded record is never replaced by a failed one.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from interviews.batch_types import OutcomeStatus, RequestError, RequestOutcome
from interviews.catalog import ModelInfo
from interviews.costs import Usage, usage_cost
from interviews.jsonl import iter_jsonl

MISSING = "missing"


@dataclass(frozen=True)
class RecordContext:
    """What every record of one batch shares."""

    provider: str
    model: ModelInfo
    run_id: str | None
    batch_id: str | None
    mode: str = "batch"
    timestamp: datetime | None = None
    round: int = 0


@dataclass
class ConvertSummary:
    """Tallies of one conversion: statuses, tokens, cost at batch and real-time prices."""

    statuses: Counter = field(default_factory=Counter)
    usage: Usage = field(default_factory=Usage)
    cost: Decimal = Decimal(0)
    cost_realtime: Decimal = Decimal(0)
    unexpected_ids: list[str] = field(default_factory=list)
    kept_earlier_answers: int = 0
    retryable: list[str] = field(default_factory=list)
    retryable_statuses: Counter = field(default_factory=Counter)

    def add(self, other: ConvertSummary) -> None:
        """Fold another summary into this one."""
        self.statuses.update(other.statuses)
        self.usage = self.usage + other.usage
        self.cost += other.cost
        self.cost_realtime += other.cost_realtime
        self.unexpected_ids.extend(other.unexpected_ids)
        self.kept_earlier_answers += other.kept_earlier_answers
        self.retryable.extend(other.retryable)
        self.retryable_statuses.update(other.retryable_statuses)

    def supersede_retryable(self) -> None:
        """Forget the outcomes that a retry round is about to replace (they get new records)."""
        self.statuses.subtract(self.retryable_statuses)
        self.statuses = +self.statuses  # drop zero counts
        self.retryable = []
        self.retryable_statuses = Counter()

    @property
    def total(self) -> int:
        """Number of records."""
        return sum(self.statuses.values())


def persona_id_from_custom_id(custom_id: str) -> int | str:
    """Recover the persona id from `interview_{persona_id}` (as the seed's snippet did)."""
    tail = custom_id.removeprefix("interview_")
    return int(tail) if tail.isdigit() else tail


def build_record(
    outcome: RequestOutcome,
    *,
    persona_id: int | str,
    question: str | None,
    context: RecordContext,
    cost: Decimal | None = None,
) -> dict[str, Any]:
    """The interview record for one outcome (`cost` if already computed)."""
    transcript = []
    if question is not None:
        transcript.append({"role": "user", "content": question})
    if outcome.status is OutcomeStatus.SUCCEEDED:
        transcript.append({"role": "assistant", "content": outcome.text or ""})
    if cost is None:
        cost = usage_cost(context.model, outcome.usage, batch=context.mode == "batch")
    when = context.timestamp or datetime.now(UTC)
    return {
        "persona_id": persona_id,
        "timestamp": when.isoformat(timespec="seconds"),
        "provider": context.provider,
        "model": context.model.id,
        "transcript": transcript,
        "custom_id": outcome.custom_id,
        "run_id": context.run_id,
        "batch_id": context.batch_id,
        "mode": context.mode,
        "round": context.round,
        "status": str(outcome.status),
        "finish_reason": outcome.finish_reason,
        "usage": outcome.usage.as_dict(),
        "cost_usd": float(round(cost, 8)),
        "error": outcome.error.as_dict() if outcome.error else None,
    }


def _keeps_earlier_answer(path: str, record: dict[str, Any]) -> bool:
    """True if `path` holds a succeeded record and `record` did not succeed."""
    if record["status"] == OutcomeStatus.SUCCEEDED or not os.path.exists(path):
        return False
    try:
        with open(path, "rb") as handle:
            return orjson.loads(handle.read()).get("status") == OutcomeStatus.SUCCEEDED
    except orjson.JSONDecodeError:
        return False


def _write_record(path: str, record: dict[str, Any]) -> None:
    """Write one record file so that it appears whole or not at all (write, then rename).

    Lean on purpose: a run writes one file per interview, so each syscall counts here.
    """
    partial = path + ".partial"
    with open(partial, "wb") as handle:
        handle.write(orjson.dumps(record, option=orjson.OPT_INDENT_2))
    os.replace(partial, path)


def load_index(index_path: Path) -> dict[str, tuple[int | str, str]]:
    """Read a chunk index file: `custom_id → (persona_id, question)`."""
    return {
        value["custom_id"]: (value["persona_id"], value["question"])
        for _, value in iter_jsonl(index_path)
    }


def write_records(
    outcomes: Iterable[RequestOutcome],
    *,
    index: dict[str, tuple[int | str, str]] | None,
    context: RecordContext,
    interviews_dir: Path | None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
    missing_error: RequestError | None = None,
) -> ConvertSummary:
    """Write one record per outcome, plus a `missing` record per indexed request without one.

    Args:
        outcomes: normalized outcomes, in any order.
        index: `custom_id → (persona_id, question)` of the requests sent, or None when
            converting a results file with no request file at hand.
        context: provider, model, run and batch of these outcomes.
        interviews_dir: where `{custom_id}.json` files go; None writes no per-interview files
            (very large runs keep only the run's consolidated JSONL, via `on_record`).
        on_record: called with each record written (e.g. to append it to a run file).
        missing_error: the error recorded for requests without a result line (default: the
            provider's results had no line for it).
    """
    summary = ConvertSummary()
    seen: set[str] = set()
    batch = context.mode == "batch"
    if interviews_dir is not None:
        interviews_dir.mkdir(parents=True, exist_ok=True)
        folder = str(interviews_dir)

    def emit(outcome: RequestOutcome, persona_id: int | str, question: str | None) -> None:
        cost = usage_cost(context.model, outcome.usage, batch=batch)
        record = build_record(
            outcome, persona_id=persona_id, question=question, context=context, cost=cost
        )
        if interviews_dir is not None:
            path = f"{folder}/{outcome.custom_id}.json"
            if _keeps_earlier_answer(path, record):
                summary.kept_earlier_answers += 1
            else:
                _write_record(path, record)
        if on_record is not None:
            on_record(record)
        summary.statuses[record["status"]] += 1
        summary.usage = summary.usage + outcome.usage
        summary.cost += cost
        summary.cost_realtime += (
            usage_cost(context.model, outcome.usage, batch=False) if batch else cost
        )
        if outcome.error is not None and outcome.error.transient:
            summary.retryable.append(outcome.custom_id)
            summary.retryable_statuses[record["status"]] += 1

    for outcome in outcomes:
        if index is not None and outcome.custom_id not in index:
            # a line we never asked for: report it, never turn it into a record
            summary.unexpected_ids.append(outcome.custom_id)
            continue
        if outcome.custom_id in seen:
            summary.unexpected_ids.append(outcome.custom_id)
            continue
        seen.add(outcome.custom_id)
        if index is not None:
            persona_id, question = index[outcome.custom_id]
        else:
            persona_id, question = persona_id_from_custom_id(outcome.custom_id), None
        emit(outcome, persona_id, question)

    for custom_id in _missing(index, seen):
        persona_id, question = index[custom_id]  # type: ignore[index]
        missing = RequestOutcome(
            custom_id=custom_id,
            status=OutcomeStatus.ERRORED,
            error=missing_error
            or RequestError(
                kind=MISSING,
                message="the provider's results had no line for this request",
                transient=True,
            ),
        )
        emit(missing, persona_id, question)
    return summary


def _missing(index: dict[str, Any] | None, seen: set[str]) -> Iterator[str]:
    if index is None:
        return iter(())
    return (custom_id for custom_id in index if custom_id not in seen)
