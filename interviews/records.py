"""Normalized outcomes → interview records (the seed's standard format, extended).

A record is `data/interviews/{custom_id}.json` with the seed's fields `persona_id, timestamp,
provider, model, transcript` plus `custom_id, run_id, batch_id, mode, status, finish_reason,
usage, cost_usd, error`. Every request gets a record: answered, errored, canceled, expired, or
missing from the provider's results. A succeeded record is never replaced by a failed one.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from interviews import clock
from interviews.batch_types import Conversation, OutcomeStatus, RequestError, RequestOutcome
from interviews.catalog import ModelInfo
from interviews.costs import Usage, prices
from interviews.errors import InputError
from interviews.jsonl import atomic_writer, iter_jsonl
from interviews.quality import answer_flags
from interviews.result_lines import ResultProblems, shown, valid_custom_id

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
    # when the requests were made (a batch's creation): prices are those of that moment;
    # None means now
    priced_at: datetime | None = None


@dataclass
class ConvertSummary:
    """Tallies of one conversion: statuses, tokens, cost at batch and real-time prices."""

    statuses: Counter = field(default_factory=Counter)
    usage: Usage = field(default_factory=Usage)
    cost: Decimal = Decimal(0)
    cost_realtime: Decimal = Decimal(0)
    # the same usage at the same prices had nothing been read from or written to the prompt
    # cache: `cost_uncached - cost` is what caching saved (negative: writes never read back)
    cost_uncached: Decimal = Decimal(0)
    unexpected_ids: list[str] = field(default_factory=list)
    kept_earlier_answers: int = 0
    retryable: list[str] = field(default_factory=list)
    retryable_statuses: Counter = field(default_factory=Counter)
    # answers whose usage was unusable: their cost is unknown, so `cost` is a lower bound
    usage_unknown: int = 0
    problems: ResultProblems = field(default_factory=ResultProblems)
    # answers per quality flag (interviews/quality.py)
    flags: Counter = field(default_factory=Counter)
    # flagged answers sent again in a retry round (--retry-flagged); those of `retryable`
    # (until a retry round sends them), and their flags, which that round replaces
    flagged_retries: int = 0
    retryable_flagged: int = 0
    retryable_flags: Counter = field(default_factory=Counter)

    def add(self, other: ConvertSummary) -> None:
        """Fold another summary into this one."""
        self.statuses.update(other.statuses)
        self.usage = self.usage + other.usage
        self.cost += other.cost
        self.cost_realtime += other.cost_realtime
        self.cost_uncached += other.cost_uncached
        self.unexpected_ids.extend(other.unexpected_ids)
        self.kept_earlier_answers += other.kept_earlier_answers
        self.retryable.extend(other.retryable)
        self.retryable_statuses.update(other.retryable_statuses)
        self.usage_unknown += other.usage_unknown
        self.problems.add(other.problems)
        self.flags.update(other.flags)
        self.flagged_retries += other.flagged_retries
        self.retryable_flagged += other.retryable_flagged
        self.retryable_flags.update(other.retryable_flags)

    def supersede_retryable(self) -> None:
        """Forget the outcomes that a retry round is about to replace (they get new records)."""
        self.statuses.subtract(self.retryable_statuses)
        self.statuses = +self.statuses  # drop zero counts
        self.flags.subtract(self.retryable_flags)
        self.flags = +self.flags
        self.flagged_retries += self.retryable_flagged
        self.retryable = []
        self.retryable_statuses = Counter()
        self.retryable_flags = Counter()
        self.retryable_flagged = 0

    @property
    def total(self) -> int:
        """Number of records."""
        return sum(self.statuses.values())


def record_path(folder: str | Path, custom_id: str) -> str:
    """The path of the record file of `custom_id` in `folder`: the one place such a path is
    built, so an id from an untrusted results file can never name a file elsewhere.

    Raises:
        InputError: `custom_id` is not a valid id (`^[a-z0-9_-]{1,63}$`).
    """
    if not valid_custom_id(custom_id):
        raise InputError(f"custom_id {shown(custom_id)} is not a valid id; no record written")
    return f"{folder}/{custom_id}.json"


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
) -> dict[str, Any]:
    """The interview record for one outcome."""
    return RecordMaker(context)(outcome, persona_id, question)


class RecordMaker:
    """Builds the records of one batch: what they share is worked out once, so that each of a
    million records costs one dict and one price computation."""

    def __init__(self, context: RecordContext) -> None:
        self.context = context
        self.prices = prices(context.model, batch=context.mode == "batch", at=context.priced_at)
        # a batch's records share its end time; without one each record is stamped when made
        self._timestamp = _timestamp(context) if context.timestamp else None

    def _cost(self, usage: Usage, outcome: RequestOutcome) -> Decimal:
        """The interview's cost: this request's (at its long-context tier, if over one) plus
        the earlier turns' of a protocol, at base prices (a record keeps only their sum)."""
        if outcome.usage is None or outcome.usage is usage:
            return self.prices.cost(usage)
        return self.prices.flat_cost(usage) + self.prices.surcharge(outcome.usage)

    def __call__(
        self,
        outcome: RequestOutcome,
        persona_id: int | str,
        question: str | None,
        conversation: Conversation | None = None,
        facts: str | None = None,
    ) -> dict[str, Any]:
        """The record of `outcome`, asked `question` (None: the question is not known); an
        answer gets its quality flags, checked against `facts` where known.

        In an interview protocol, `conversation` (or the outcome's own) holds the turns before
        this answer and the question it answers: the record carries the whole transcript, and
        the usage and cost of the whole interview.
        """
        context, usage, error = self.context, outcome.usage, outcome.error
        conversation = conversation or outcome.conversation
        if conversation is not None:
            transcript = [*conversation.turns, {"role": "user", "content": conversation.question}]
            # one unknown turn makes the whole interview's usage unknown
            usage = (
                None if usage is None or conversation.usage is None else conversation.usage + usage
            )
        elif question is None:
            transcript = []
        else:
            transcript = [{"role": "user", "content": question}]
        answered = outcome.status is OutcomeStatus.SUCCEEDED
        if answered:
            transcript.append({"role": "assistant", "content": outcome.text or ""})
        # a literal in record order: the seed's fields first
        return {
            "persona_id": persona_id,
            "timestamp": self._timestamp or _timestamp(context),
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
            # null: the provider's token counts were unusable, so usage and cost are unknown
            "usage": None
            if usage is None
            else {
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "cache_read_tokens": usage.cache_read_tokens,
                "cache_write_tokens": usage.cache_write_tokens,
                "reasoning_tokens": usage.reasoning_tokens,
                "cache_write_1h_tokens": usage.cache_write_1h_tokens,
            },
            "cost_usd": None if usage is None else float(round(self._cost(usage, outcome), 8)),
            "error": None if error is None else error.as_dict(),
            # what the interview came to, without reading the transcript: the last question
            # asked and its answer (null unless answered)
            "question": conversation.question if conversation is not None else question,
            "answer": (outcome.text or "") if answered else None,
            "flags": answer_flags(outcome.text, outcome.finish_reason, facts) if answered else [],
        }


def _timestamp(context: RecordContext) -> str:
    """The record's timestamp: the batch's end, or now."""
    return (context.timestamp or clock.now()).isoformat(timespec="seconds")


def _keeps_earlier_answer(path: str, record: dict[str, Any]) -> bool:
    """True if `path` holds a succeeded record that `record`, which did not succeed, must not
    replace: one with at least as long a transcript (a failed later question of a protocol
    does replace the earlier answer, since its transcript carries that answer on)."""
    if record["status"] == OutcomeStatus.SUCCEEDED or not os.path.exists(path):
        return False
    try:
        with open(path, "rb") as handle:
            earlier = orjson.loads(handle.read())
    except orjson.JSONDecodeError:
        return False
    return earlier.get("status") == OutcomeStatus.SUCCEEDED and len(
        earlier.get("transcript") or ()
    ) >= len(record["transcript"])


def copy_answered(source: Path, dest: Path) -> dict[str, int]:
    """Copy the answered records of the JSONL `source` to `dest` (which may be `source`
    itself: it is replaced whole); return each one's byte offset in `dest`, by custom id.

    Lines that do not parse (the last one, cut off by a crash) are dropped.
    """
    offsets: dict[str, int] = {}
    position = 0
    with source.open("rb") as lines, atomic_writer(dest) as sink:
        for raw in lines:
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if record.get("status") != OutcomeStatus.SUCCEEDED:
                continue
            line = raw if raw.endswith(b"\n") else raw + b"\n"
            offsets[record["custom_id"]] = position
            sink.write(line)
            position += len(line)
    return offsets


def _write_record(path: str, record: dict[str, Any]) -> None:
    """Write one record file so that it appears whole or not at all (write, then rename).

    Lean on purpose: a run writes one file per interview, so each syscall counts here.
    """
    partial = path + ".partial"
    # os.open/os.write: no buffered file object for a single write of the whole record
    fd = os.open(partial, _CREATE_FLAGS, 0o644)
    try:
        data = orjson.dumps(record, option=orjson.OPT_INDENT_2)
        while data:  # os.write may write less than asked
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)
    os.replace(partial, path)


_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


IndexEntry = tuple[int | str, str, int | None, str | None]


def load_index(index_path: Path) -> dict[str, IndexEntry]:
    """Read a chunk index file: `custom_id → (persona_id, question, history, facts)`, where
    history is the byte offset of the conversation so far in the run's `history.jsonl` (a
    later question of an interview protocol) or None, and facts the person's checkable facts
    for quality flags (`quality.record_facts`) or None.

    Every request of a chunk usually asks the same question, so equal questions share one
    string: a million-request index stays under 200 MB.
    """
    questions: dict[str, str] = {}
    index = {}
    for _, value in iter_jsonl(index_path):
        question = value["question"]
        shared = questions.get(question)
        if shared is None:
            shared = question
            if len(questions) < _SHARED_QUESTIONS:  # per-persona questions: no point sharing
                questions[question] = question
        index[value["custom_id"]] = (
            value["persona_id"],
            shared,
            value.get("history"),
            value.get("facts"),
        )
    return index


_SHARED_QUESTIONS = 1024


def write_records(
    outcomes: Iterable[RequestOutcome],
    *,
    index: dict[str, IndexEntry] | None,
    context: RecordContext,
    interviews_dir: Path | None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
    missing_error: RequestError | None = None,
    history: Path | None = None,
    previous: Path | Sequence[Path] | None = None,
    retry_flags: frozenset[str] = frozenset(),
) -> ConvertSummary:
    """Write one record per outcome, plus a `missing` record per indexed request without one.

    A request with several result lines gets one record: its first answer if it has one, else
    its first failure (so failures are written after the answers); the other lines are
    reported in `unexpected_ids`.

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
        history: the run's `history.jsonl` that index entries point into (a later question of
            an interview protocol), or None.
        previous: records JSONL(s) of earlier conversions of the same requests (a re-run,
            results fetched again, or the earlier rounds of a request sent again because its
            answer was flagged), latest first: an answer there is kept, and passed on, for a
            request that has no answer now.
        retry_flags: quality flags that send an answer again in the next round (an answer
            with one of them is retryable, as a passing failure is).
    """
    summary = ConvertSummary()
    make_record = RecordMaker(context)
    if interviews_dir is not None:
        interviews_dir.mkdir(parents=True, exist_ok=True)
        folder = str(interviews_dir)
    # Tallies as plain ints, folded into the summary at the end: Counter and Usage arithmetic
    # per record would cost more than building the record.
    tokens = [0, 0, 0, 0, 0, 0]
    statuses: dict[str, int] = {}
    flags: dict[str, int] = {}
    # long-context tiers are chosen per request: what requests over one pay beyond base prices,
    # at the run's prices (batch or real time) and at real-time prices (for the comparison)
    run_prices = make_record.prices
    realtime_prices = prices(context.model, batch=False, at=context.priced_at)
    tiered = bool(run_prices.tiers or realtime_prices.tiers)
    surcharges = [Decimal(0), Decimal(0), Decimal(0)]  # the run's, real time, uncached
    files = [previous] if isinstance(previous, Path) else list(previous or ())
    wanted = set(index) if index is not None else None
    answered_before: dict[str, tuple[int, int]] = {}  # custom_id → (file, offset)
    for number, path in enumerate(files):
        for custom_id, offset in _answered_offsets(path).items():
            if wanted is None or custom_id in wanted:
                answered_before.setdefault(custom_id, (number, offset))  # the latest wins

    # all closed below
    earlier = open(history, "rb") if history is not None else None  # noqa: SIM115
    befores = []
    if answered_before:
        befores = [open(path, "rb") if path.exists() else None for path in files]  # noqa: SIM115

    def emit(
        outcome: RequestOutcome,
        persona_id: int | str,
        question: str | None,
        history_at: int | None = None,
        facts: str | None = None,
    ) -> None:
        at = answered_before.get(outcome.custom_id) if answered_before else None
        if at is not None and outcome.status is not OutcomeStatus.SUCCEEDED:
            before = befores[at[0]]
            before.seek(at[1])  # an answer from an earlier conversion is never replaced
            record = orjson.loads(before.readline())
            usage_dict = record.get("usage")
            usage = None if usage_dict is None else Usage(**usage_dict)
            summary.kept_earlier_answers += 1
        else:
            conversation = None
            if history_at is not None and earlier is not None:
                conversation = _conversation_at(earlier, history_at, question or "")
            record = make_record(outcome, persona_id, question, conversation, facts)
            usage = outcome.usage
            if retry_flags and retry_flags.intersection(record["flags"]):
                summary.retryable.append(outcome.custom_id)  # asked again in the next round
                summary.retryable_statuses[record["status"]] += 1
                summary.retryable_flags.update(record["flags"])
                summary.retryable_flagged += 1
        if interviews_dir is not None:
            path = record_path(folder, record["custom_id"])
            if _keeps_earlier_answer(path, record):
                summary.kept_earlier_answers += 1
            else:
                _write_record(path, record)
        if on_record is not None:
            on_record(record)
        status = record["status"]
        statuses[status] = statuses.get(status, 0) + 1
        for flag in record.get("flags") or ():
            flags[flag] = flags.get(flag, 0) + 1
        if usage is None:
            summary.usage_unknown += 1
        else:
            tokens[0] += usage.input_tokens
            tokens[1] += usage.output_tokens
            tokens[2] += usage.cache_read_tokens
            tokens[3] += usage.cache_write_tokens
            tokens[4] += usage.reasoning_tokens
            tokens[5] += usage.cache_write_1h_tokens
            if tiered:
                surcharges[0] += run_prices.surcharge(usage)
                surcharges[1] += realtime_prices.surcharge(usage)
                surcharges[2] += run_prices.surcharge(usage.uncached())
        error = outcome.error
        if status != OutcomeStatus.SUCCEEDED and error is not None and error.transient:
            summary.retryable.append(outcome.custom_id)
            summary.retryable_statuses[status] += 1

    # Requests not answered yet. Popping from a copy of the index (not a set of seen ids)
    # keeps a million-request conversion small: the copy shares every key and value.
    pending = dict(index) if index is not None else None
    seen: set[str] = set()  # without an index: the ids met so far

    def first_line(custom_id: str) -> tuple | None:
        """The request's index entry at its first result line; None for a repeated line or
        one we never asked for."""
        if pending is not None:
            return pending.pop(custom_id, None)
        if custom_id in seen:
            return None
        seen.add(custom_id)
        return (persona_id_from_custom_id(custom_id), None)

    # failures wait until every line is read: a later line for the same request may answer it
    failed: dict[str, tuple[RequestOutcome, tuple]] = {}
    try:
        for outcome in outcomes:
            custom_id = outcome.custom_id
            entry = first_line(custom_id)
            if entry is None:  # a second line for a request, or one we never asked for:
                summary.unexpected_ids.append(custom_id)  # reported; no record of its own
                if outcome.status is OutcomeStatus.SUCCEEDED and custom_id in failed:
                    emit(outcome, *failed.pop(custom_id)[1])  # the answer wins
                continue
            if outcome.status is OutcomeStatus.SUCCEEDED:
                emit(outcome, *entry)
            else:
                failed[custom_id] = (outcome, entry)
        for outcome, entry in failed.values():
            emit(outcome, *entry)
        for custom_id, entry in (pending or {}).items():
            emit(_missing_outcome(custom_id, missing_error), *entry)
    finally:
        for handle in (earlier, *befores):
            if handle is not None:
                handle.close()

    summary.usage = Usage(*tokens)
    summary.statuses.update(statuses)
    summary.flags.update(flags)
    # base prices are per token, so the total usage's base cost is the sum of the requests'
    # (exact in Decimal, computed once here rather than once per record), plus the tiers'
    summary.cost = run_prices.flat_cost(summary.usage) + surcharges[0]
    summary.cost_realtime = realtime_prices.flat_cost(summary.usage) + surcharges[1]
    summary.cost_uncached = run_prices.flat_cost(summary.usage.uncached()) + surcharges[2]
    return summary


def _answered_offsets(path: Path) -> dict[str, int]:
    """`custom_id → byte offset` of the answered records in a records JSONL (none if there is
    no such file; a line cut off by a crash is skipped)."""
    offsets: dict[str, int] = {}
    if not path.exists():
        return offsets
    position = 0
    with path.open("rb") as lines:
        for raw in lines:
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                record = None
            if record is not None and record.get("status") == OutcomeStatus.SUCCEEDED:
                offsets[record["custom_id"]] = position
            position += len(raw)
    return offsets


def _conversation_at(history: BinaryIO, offset: int, question: str) -> Conversation:
    """The conversation before a protocol question: the earlier record at `offset` of the
    run's history file (its transcript and usage), going on with `question`."""
    history.seek(offset)
    earlier = orjson.loads(history.readline())
    usage = earlier["usage"]
    return Conversation(earlier["transcript"], None if usage is None else Usage(**usage), question)


def _missing_outcome(custom_id: str, error: RequestError | None) -> RequestOutcome:
    """The outcome of a request the provider's results had no line for."""
    return RequestOutcome(
        custom_id=custom_id,
        status=OutcomeStatus.ERRORED,
        error=error
        or RequestError(
            kind=MISSING,
            message="the provider's results had no line for this request",
            transient=True,
        ),
    )


def another_runs_record(
    folder: Path, custom_ids: Iterable[str], run_id: str, *, fetch: Callable[[Path], bool]
) -> tuple[Path, str] | None:
    """The first answered record in `folder` for one of `custom_ids` that another run wrote,
    as (path, its run id), or None. The same run (a re-run, a retry round, a protocol's later
    question `{run_id}-qN`) is not another run, and a record without an answer holds nothing
    to lose. `fetch(path)` brings a record from the data directory's bucket and tells whether
    it exists."""
    for custom_id in custom_ids:
        path = Path(record_path(folder, custom_id))
        if not fetch(path):
            continue
        try:
            record = orjson.loads(path.read_bytes())
            other, answered = record.get("run_id"), record.get("status") == OutcomeStatus.SUCCEEDED
        except (orjson.JSONDecodeError, OSError, AttributeError):
            continue  # not a record of ours: nothing of a run's to lose
        mine = other == run_id or (isinstance(other, str) and other.startswith(f"{run_id}-q"))
        if answered and isinstance(other, str) and not mine:
            return path, other
    return None
