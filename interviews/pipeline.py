"""The steps of a batch run as plain functions: prepare (with the ledger), submit, wait,
download, convert.

Prefect tasks (`tasks/`) wrap each step one-to-one; the steps themselves know nothing of
Prefect, so they run the same from a flow, the CLI or a test. Every step is safe to repeat:
re-running a run id resumes from the ledger at whatever step it stopped.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from interviews.batch_types import BatchJob, BatchStatus, RequestError
from interviews.catalog import ModelInfo, check_batch_model, get_model
from interviews.chunking import index_entry, write_chunk_lines
from interviews.clock import wall_now
from interviews.costs import estimate, estimate_tokens, money
from interviews.datastore import local_input
from interviews.errors import (
    AmbiguousBatchError,
    BudgetError,
    ForeignBatchError,
    InputError,
    LedgerError,
    PermanentProviderError,
    TransientProviderError,
)
from interviews.jsonl import OverlongLine, atomic_writer, dumps_line, read_lines
from interviews.leases import ensure_held
from interviews.ledger import BatchRow, ChunkRow, Ledger
from interviews.polling import Backoff, server_wait, wait_for_batch
from interviews.preparation import (
    DataDirs,
    Prepared,
    estimate_prepared,
    file_sha256,
    new_run_id,
    prepare_requests,
)
from interviews.protocol import turn_run_id
from interviews.providers import BatchAdapter, BatchTag, get_adapter_class
from interviews.records import (
    ConvertSummary,
    RecordContext,
    another_runs_record,
    copy_answered,
    load_index,
    record_path,
    write_records,
)
from interviews.redaction import redact_file
from interviews.result_lines import ResultProblems
from interviews.spec import BatchRunParameters


@dataclass(frozen=True)
class RunPlan:
    """A prepared (or resumed) run: its id, model and round-0 chunks."""

    run_id: str
    provider: str
    model: ModelInfo
    chunks: list[ChunkRow]
    resumed: bool
    requests_path: Path
    estimate_usd: str
    # what --max-cost was checked against when the run was prepared (a whole protocol, at the
    # mode's prices); None for a resumed run, whose stored estimate stands in
    expected_usd: str | None = None
    # where its per-interview records go under data/interviews/ (None: there), as stored
    records_subdir: str | None = None
    # said once, when the run is prepared: why its records go elsewhere than asked
    records_note: str | None = None

    @property
    def budgeted_usd(self) -> Decimal:
        """The run's share of a command's --max-cost."""
        return Decimal(self.expected_usd or self.estimate_usd or 0)


def prepare_run(
    params: BatchRunParameters,
    *,
    ledger: Ledger,
    dirs: DataDirs,
    now: datetime | None = None,
    mode: str = "batch",
) -> RunPlan:
    """Prepare a run, or resume it when its run id is already in the ledger.

    `mode` is "batch" or "realtime": it decides the prices of the estimate and the budget
    check, and a run id keeps its mode (a batch run never resumes as a real-time one).

    Raises:
        InputError, CatalogError: bad input or model (before anything is sent).
        LedgerError: the run id exists with different settings.
    """
    realtime = mode == "realtime"
    if realtime:
        model = get_model(params.provider, params.model_id)
    else:
        model = check_batch_model(params.provider, params.model_id, now=now)
    run_id = params.run_id or new_run_id(params.provider, now)
    spec = params.spec(_personas_sha(params, run_id, ledger))
    if realtime:  # only then, so batch runs keep their fingerprints
        spec["mode"] = mode
    if params.protocol and local_input(params.protocol).exists():  # editing it: a new run
        spec["protocol_sha256"] = file_sha256(local_input(params.protocol))
    if ledger.check_run(run_id, spec):
        return _stored_plan(ledger, run_id, model, resumed=True)
    prepared = prepare_requests(params, dirs=dirs, chunk_dir=dirs.run(run_id), now=now, mode=mode)
    est = estimate_prepared(model, prepared, params.max_tokens)
    expected = est.realtime if realtime else est.batch
    budget = None if params.max_cost_usd is None else Decimal(str(params.max_cost_usd))
    if budget is not None and expected > budget:
        dirs.remove_tree(dirs.run(run_id))  # nothing of the run stays behind
        asks = f" ({prepared.turns} questions each)" if prepared.turns > 1 else ""
        raise BudgetError(
            f"the estimated {'real-time' if realtime else 'batch'} cost {money(expected)} of "
            f"{prepared.request_count:,} "
            f"interviews{asks} with {model.id} exceeds --max-cost {money(budget)}; "
            "raise --max-cost, lower --count or --max-tokens, or choose a cheaper model "
            f"(`interviews models --provider {params.provider}`). Request file kept for "
            f"inspection: {dirs.shown(prepared.requests_path)}"
        )
    note = None
    if params.record_files:
        params, note = _beside_another_runs_records(params, run_id, prepared, dirs)
    budgeted = expected
    if prepared.turns > 1 and not realtime:
        # the budget covers the whole protocol; this run is its first question (each later
        # question's run carries its own estimate, so the report compares like with like)
        first = estimate_prepared(model, dataclasses.replace(prepared, turns=1), params.max_tokens)
        expected = first.batch
    ledger.create_run(
        run_id,
        provider=params.provider,
        model=model.id,
        spec=spec,
        requests_path=prepared.requests_path,
        request_count=prepared.request_count,
        estimate_usd=str(expected),
        files=prepared.chunks,
        params_json=_stored_params(params, run_id),
    )
    _write_manifest(params, run_id, model, prepared, spec, dirs, now)
    plan = _stored_plan(ledger, run_id, model, resumed=False)
    return dataclasses.replace(plan, expected_usd=str(budgeted), records_note=note)


def _write_manifest(
    params: BatchRunParameters,
    run_id: str,
    model: ModelInfo,
    prepared: Prepared,
    spec: dict[str, Any],
    dirs: DataDirs,
    now: datetime | None,
) -> None:
    """Write the new run's reproducibility manifest, `runs/{run_id}/manifest.json`."""
    from interviews import clock
    from interviews.costs import prices
    from interviews.jsonl import write_json
    from interviews.manifest import build_manifest, describe_prices

    at = now or clock.now()
    manifest = build_manifest(
        params,
        run_id,
        model,
        prepared,
        personas_sha256=str(spec["personas_sha256"]),
        prices=describe_prices(
            prices(model, batch=True, at=at), prices(model, batch=False, at=at), at
        ),
        created_at=at,
    )
    path = dirs.run(run_id) / "manifest.json"
    write_json(path, manifest)
    dirs.publish(path)


def prepare_runs(
    runs: list[BatchRunParameters],
    *,
    ledger: Ledger,
    dirs: DataDirs,
    mode: str = "batch",
) -> list[RunPlan]:
    """Prepare (or resume) every run of one command, its --max-cost capping them together.

    A compare run's targets share the command's one budget: each is prepared without a cap
    of its own, then the sum of their estimates is checked, and if it is over, the runs this
    call prepared are removed again (ledger rows and files; nothing was sent) before the
    BudgetError.

    Raises:
        BudgetError: the runs together are estimated above --max-cost.
    """
    if len(runs) == 1 or runs[0].max_cost_usd is None:
        return [prepare_run(run, ledger=ledger, dirs=dirs, mode=mode) for run in runs]
    budget = Decimal(str(runs[0].max_cost_usd))
    plans = [
        prepare_run(
            run.model_copy(update={"max_cost_usd": None}), ledger=ledger, dirs=dirs, mode=mode
        )
        for run in runs
    ]
    total = sum((plan.budgeted_usd for plan in plans), Decimal(0))
    if total <= budget:
        return plans
    for plan in plans:
        if not plan.resumed:
            ledger.forget_run(plan.run_id)  # only prepared: no batch, nothing paid
            dirs.remove_tree(dirs.run(plan.run_id))
    parts = ", ".join(f"{plan.run_id} {money(plan.budgeted_usd)}" for plan in plans)
    prices = "real-time" if mode == "realtime" else "batch"
    raise BudgetError(
        f"the estimated {prices} cost {money(total)} of the {len(plans)} targets ({parts}) "
        f"exceeds --max-cost {money(budget)}, which caps the whole command; raise --max-cost, "
        "lower --count or --max-tokens, or compare fewer or cheaper models. Nothing was sent."
    )


def _personas_sha(params: BatchRunParameters, run_id: str, ledger: Ledger) -> str:
    """The personas file's sha256, which the run's spec holds (editing the file makes a new
    run). Resuming a run does not need the file: its prepared chunks hold every request, so a
    worker that lacks it (another machine finishing the run) takes the stored hash."""
    try:
        path: Path | None = local_input(params.personas)
    except InputError:  # a URL with nothing behind it
        path = None
    if path is not None and path.exists():
        return file_sha256(path)
    run = ledger.get_run(run_id)
    if run is not None:
        return str(orjson.loads(run["spec_json"]).get("personas_sha256", ""))
    return ""


def _stored_params(params: BatchRunParameters, run_id: str) -> str:
    """The parameters `collect` resumes the run with (a refetch is for one invocation only)."""
    once = {"refetch_results": False, "retry_canceled": False}  # for one invocation only
    return params.model_copy(update={"run_id": run_id, **once}).model_dump_json()


def _stored_plan(ledger: Ledger, run_id: str, model: ModelInfo, *, resumed: bool) -> RunPlan:
    """The plan of a run as the ledger holds it (round-0 chunks)."""
    run = ledger.get_run(run_id)
    assert run is not None
    stored = orjson.loads(run["params_json"]) if run.get("params_json") else {}
    return RunPlan(
        run_id,
        run["provider"],
        model,
        ledger.chunks(run_id, 0),
        resumed,
        ledger.local(run["requests_path"]),
        run["estimate_usd"],
        records_subdir=stored.get("records_subdir"),
    )


# How many of a new run's first requests are checked for another run's records: a second run
# of the same personas collides from its first interview; a bucket costs a read per check.
RECORD_CHECKS, RECORD_CHECKS_IN_A_BUCKET = 1000, 20


def _beside_another_runs_records(
    params: BatchRunParameters, run_id: str, prepared: Prepared, dirs: DataDirs
) -> tuple[BatchRunParameters, str | None]:
    """A new run's parameters with its per-interview records moved to a folder of their own
    (`data/interviews/{run_id}/`, under any subfolder asked for) when another run's records of
    the same personas are where its own would go, so a second run never overwrites them; and
    the note that says so (None when nothing moved)."""
    folder = dirs.interviews / params.records_subdir if params.records_subdir else dirs.interviews
    limit = RECORD_CHECKS_IN_A_BUCKET if dirs.mirror is not None else RECORD_CHECKS
    with prepared.chunks[0].index_path.open("rb") as index:
        ids = [orjson.loads(line)["custom_id"] for line in itertools.islice(index, limit)]
    found = another_runs_record(folder, ids, run_id, fetch=dirs.fetch)
    if found is None:
        return params, None
    path, other = found
    subdir = f"{params.records_subdir}/{run_id}" if params.records_subdir else run_id
    note = (
        f"{dirs.shown(path.parent)}/ holds run {other}'s answers; this run's records go to "
        f"{dirs.shown(dirs.interviews / subdir)}/ (to add to run {other} instead: "
        f"--run-id {other})"
    )
    return params.model_copy(update={"records_subdir": subdir}), note


def prepare_turn(
    params: BatchRunParameters, *, turn: int, ledger: Ledger, dirs: DataDirs
) -> RunPlan | None:
    """Prepare (or resume) the batch run of an interview protocol's question `turn` (from 2):
    run `{run_id}-q{turn}`, whose lines are the previous question's lines carried one turn
    further (`continue_line`) for every interview that answered it.

    The previous run's answered records are copied to this run's `history.jsonl`, and each
    index entry points at its interview's record there: converting this run then builds
    records with the whole transcript without holding the conversations in memory.

    Returns:
        The plan, or None when no interview goes on to this question.
    """
    base = params.run_id
    assert base is not None, "the first question's run names the protocol's runs"
    run_id, previous = turn_run_id(base, turn), turn_run_id(base, turn - 1)
    earlier = ledger.get_run(previous)
    if earlier is None:
        raise LedgerError(f"run {previous} is not in the ledger; run question {turn - 1} first")
    spec = {"protocol_of": base, "turn": turn, "previous_spec": earlier["spec_sha256"]}
    model = get_model(params.provider, params.model_id)
    if ledger.check_run(run_id, spec):
        return _stored_plan(ledger, run_id, model, resumed=True)
    adapter_cls = get_adapter_class(params.provider)
    run_dir = dirs.run(run_id)
    history_path = run_dir / "history.jsonl"
    answered = dirs.run(previous) / "interviews.jsonl"
    dirs.fetch(answered)
    offsets = copy_answered(answered, history_path)
    previous_chunks = ledger.chunks(previous, 0)
    for chunk in previous_chunks:
        dirs.fetch(chunk.path)
        dirs.fetch(chunk.index_path)

    def lines() -> Iterator[tuple[str, bytes, bytes]]:
        with history_path.open("rb") as history:
            for chunk in previous_chunks:
                with chunk.path.open("rb") as lines_file, chunk.index_path.open("rb") as index:
                    for line, index_line in zip(lines_file, index, strict=True):
                        entry = orjson.loads(index_line)
                        custom_id, later = entry["custom_id"], entry.get("then") or []
                        offset = offsets.get(custom_id)
                        if not later or offset is None:  # finished, or stopped by an error
                            continue
                        history.seek(offset)
                        answer = orjson.loads(history.readline())["transcript"][-1]["content"]
                        carried = adapter_cls.continue_line(
                            orjson.loads(line), answer, later[0], last=len(later) == 1
                        )
                        yield (
                            custom_id,
                            dumps_line(carried),
                            dumps_line(
                                index_entry(
                                    custom_id,
                                    entry["persona_id"],
                                    later[0],
                                    later[1:],
                                    offset,
                                    entry.get("facts"),
                                )
                            ),
                        )

    files = write_chunk_lines(
        lines(),
        directory=run_dir,
        stem=f"{params.provider}_r0",
        max_requests=min(adapter_cls.max_requests, params.chunk_size or adapter_cls.max_requests),
        max_bytes=adapter_cls.max_bytes,
    )
    if not files:
        return None
    dirs.publish(history_path, *(f for chunk in files for f in (chunk.path, chunk.index_path)))
    count = sum(chunk.request_count for chunk in files)
    # the line bytes stand in for the input tokens (the conversation so far dominates them)
    est = estimate(
        model,
        count,
        estimate_tokens(sum(chunk.byte_count for chunk in files)),
        min(params.max_tokens, 2000) * count,
    )
    ledger.create_run(
        run_id,
        provider=params.provider,
        model=model.id,
        spec=spec,
        requests_path=ledger.local(earlier["requests_path"]),
        request_count=count,
        estimate_usd=str(est.batch),
        files=files,
        params_json=_stored_params(params, run_id),
    )
    return _stored_plan(ledger, run_id, model, resumed=False)


def consolidate_protocol(run_id: str, turns: int, dirs: DataDirs) -> Path:
    """Join the final records of a batch protocol run into `runs/{run_id}/transcripts.jsonl`:
    each interview's record from the last question it reached, with the whole transcript."""
    dest = dirs.run(run_id) / "transcripts.jsonl"
    seen: set[str] = set()
    with atomic_writer(dest) as sink:
        for turn in range(turns, 0, -1):  # latest first: a later question's record wins
            records = dirs.run(turn_run_id(run_id, turn)) / "interviews.jsonl"
            if not dirs.fetch(records):
                continue
            with records.open("rb") as source:
                for raw in source:
                    custom_id = orjson.loads(raw)["custom_id"]
                    if custom_id not in seen:
                        seen.add(custom_id)
                        sink.write(raw)
    dirs.publish(dest)
    return dest


def _tag(chunk: ChunkRow, intent_at: datetime) -> BatchTag:
    return BatchTag(
        run_id=chunk.run_id,
        model=chunk.model,
        chunk_key=chunk.key,
        fingerprint=chunk.sha256,
        request_count=chunk.request_count,
        intent_at=intent_at,
    )


def _adopt_lost_batch(
    chunk: ChunkRow,
    intent: BatchRow,
    adapter: BatchAdapter,
    ledger: Ledger,
    log: Callable[[str], None] | None = None,
) -> BatchJob | None:
    """Find the batch an interrupted create may have made; None if there is none.

    Only a batch the provider's own data shows to be this chunk's is adopted outright. A
    single candidate that cannot show it yet (a running Anthropic batch) is adopted on
    condition: its results are checked when downloaded (`download_chunk`), and used only if
    they prove it this chunk's. Several candidates that cannot be told apart stop the run.
    """
    claimed = ledger.claimed_batch_ids(adapter.provider)
    found = [
        candidate
        for candidate in adapter.find_batches(_tag(chunk, intent.intent_at))
        if candidate.job.batch_id not in claimed
    ]
    proven = [candidate.job for candidate in found if candidate.proven]
    unproven = [candidate.job for candidate in found if not candidate.proven]
    if len(proven) > 1 or (not proven and len(unproven) > 1):
        several = proven if len(proven) > 1 else unproven
        ids = ", ".join(job.batch_id for job in several)
        later = (
            ""
            if proven
            else " Once they have ended, a re-run with the same --run-id tells them apart by "
            "their results and adopts the right one."
        )
        raise AmbiguousBatchError(
            f"chunk {chunk.key} was being submitted when the run stopped, and {len(several)} "
            f"{adapter.provider} batches match it ({ids}). Not submitting again, to avoid paying "
            f"twice.{later} Check them in the provider console; cancel none that may be this "
            "run's."
        )
    adopted = proven[0] if proven else unproven[0] if unproven else None
    if adopted is None:
        return None
    if log is not None:
        how = "" if proven else " (its results are checked to be this chunk's when they arrive)"
        log(f"chunk {chunk.key}: adopted batch {adopted.batch_id}, created before the stop{how}")
    ledger.record_batch(chunk.id, adopted)
    ledger.update_chunk(chunk.id, status="submitted")
    return adopted


# Attempts at a create call within one submit step (see `submit_chunk`).
CREATE_ATTEMPTS = 3


def submit_chunk(
    chunk: ChunkRow,
    *,
    adapter: BatchAdapter,
    ledger: Ledger,
    dirs: DataDirs | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_hint: float = 300.0,
    log: Callable[[str], None] | None = None,
) -> BatchJob:
    """Create the chunk's batch exactly once (`dirs`: where to fetch the chunk's file from,
    when the data directory is in an object store).

    A chunk that already has a batch is resumed (one status read, no create). A chunk whose
    intent has no batch id (the process died around the create call) is first looked up at the
    provider and adopted; only when nothing matches is it created.

    The create call is the one call the SDKs must not retry: if an answer is lost, a blind retry
    creates a second batch. So this step owns its retries: a 429 was refused outright and is
    simply tried again after the server's hint; after any other transient failure the provider
    is searched for the batch first, and only if none is found is the create tried again.

    Raises:
        AmbiguousBatchError: several provider batches could be the lost one.
        ProviderError: the create call failed (a refused create leaves no intent behind; an
            unsettled one leaves its intent, for the lookup on the next run).
    """
    existing = ledger.get_batch(chunk.id)
    if existing is not None and existing.batch_id is not None:
        return adapter.retrieve(existing.batch_id)
    if existing is not None:
        adopted = _adopt_lost_batch(chunk, existing, adapter, ledger, log)
        if adopted is not None:
            return adopted
        intent = existing
        if dirs is not None:
            dirs.fetch(chunk.path)
    else:
        ensure_held(ledger, chunk.run_id)  # a process that lost its run's lease sends nothing
        if dirs is not None:
            dirs.fetch(chunk.path)  # before the intent: a missing file must cost nothing
        intent = ledger.record_intent(chunk.id, adapter.provider)
    tag = _tag(chunk, intent.intent_at)
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            job = adapter.create(chunk.path, tag=tag)
            break
        except PermanentProviderError:
            ledger.drop_intent(chunk.id)  # refused: nothing exists at the provider, nothing billed
            raise
        except TransientProviderError as exc:
            if attempt == CREATE_ATTEMPTS:
                raise
            wait = server_wait(
                exc.retry_after,
                fallback=2.0**attempt,
                cap=max_hint,
                what=f"creating the batch of chunk {chunk.key} again (HTTP {exc.status_code})",
                log=log,
            )
            if log is not None:
                log(f"creating the batch of chunk {chunk.key} again in {wait:g} s: {exc}")
            sleep(wait)
            if exc.status_code != 429:  # the create may have happened: look before retrying
                adopted = _adopt_lost_batch(chunk, intent, adapter, ledger, log)
                if adopted is not None:
                    return adopted
    ledger.record_batch(chunk.id, job)
    ledger.update_chunk(chunk.id, status="submitted")
    return job


def wait_chunk(
    job: BatchJob,
    *,
    adapter: BatchAdapter,
    ledger: Ledger,
    backoff: Backoff,
    margin: timedelta = timedelta(hours=2),
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
    on_poll: Callable[[BatchJob], None] | None = None,
    on_transient_error: Callable[[TransientProviderError], None] | None = None,
    max_hint: float = 300.0,
    log: Callable[[str], None] | None = None,
) -> BatchJob:
    """Wait for a batch to end, recording each status in the ledger.

    The deadline is the batch's creation time plus the provider's window plus `margin`, so a
    resumed wait keeps the original deadline.
    """
    created = job.created_at or wall_now()  # real time, as `clock` below and the provider's
    deadline = (created + adapter.window + margin).timestamp()

    def record(polled: BatchJob) -> None:
        ledger.update_batch(polled)
        if on_poll is not None:
            on_poll(polled)

    kwargs = {}
    if sleep is not None:
        kwargs["sleep"] = sleep
    if clock is not None:
        kwargs["clock"] = clock
    if job.status.is_terminal:
        record(job)
        return job
    return wait_for_batch(
        lambda: adapter.retrieve(job.batch_id),
        deadline=deadline,
        backoff=backoff,
        on_poll=record,
        on_transient_error=on_transient_error,
        max_hint=max_hint,
        log=log,
        **kwargs,
    )


def _count_result_lines(path: Path) -> int:
    """Number of complete, parseable lines; a cut-off last line does not count (an over-long
    line does: it is reported when converting, never read whole)."""
    count = 0
    with path.open("rb") as handle:
        for _, raw in read_lines(handle):
            if isinstance(raw, OverlongLine):
                count += 1
                continue
            if not raw.strip():
                continue
            if not raw.endswith(b"\n"):
                try:
                    orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue
            count += 1
    return count


def download_chunk(
    chunk: ChunkRow,
    job: BatchJob,
    *,
    adapter: BatchAdapter,
    ledger: Ledger,
    dirs: DataDirs,
    refetch: bool = False,
) -> Path:
    """Download the batch's raw results to `batch_results/`, once, and check they are whole.

    The file is kept as returned, except that secrets in it are redacted (`redact_file`).

    A batch the provider refused as a whole (input validation failed) has no results; an
    empty file stands for them, and the batch's own errors go into every record.

    With `refetch`, results downloaded before are fetched again (after a bad results line):
    the old file is kept, renamed `….replaced-N.jsonl`, never deleted.

    Raises:
        TransientProviderError: fewer complete lines than the provider says finished (a
            cut-off download); the partial file is removed so a retry downloads again.
    """
    # Vertex and Gemini ids are resource paths; the last segment names the batch
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", job.batch_id.rsplit("/", 1)[-1])
    dest = dirs.results / f"batch_output_{adapter.provider}_{name}.jsonl"
    if chunk.results_path is not None and dirs.fetch(chunk.results_path):
        if not refetch:
            return chunk.results_path
        set_aside(chunk.results_path, dirs)
        ledger.update_chunk(chunk.id, results_path=None)  # a failed download fetches again
    if job.status is BatchStatus.FAILED and (job.errors or not job.counts.total):
        with atomic_writer(dest):  # refused as a whole: there are no results to fetch
            pass
    else:
        adapter.download_results(job.batch_id, dest)
        _check_owner(chunk, job, dest, adapter=adapter, ledger=ledger)
        redact_file(dest)  # an error line may echo the key; nothing else is changed
        lines = _count_result_lines(dest)
        finished = job.counts.total - job.counts.processing if job.counts.total else None
        expected = chunk.request_count if finished is None else finished
        if lines < expected:
            dest.unlink()
            raise TransientProviderError(
                f"results of batch {job.batch_id} had {lines} complete lines for {expected} "
                "finished requests (download cut short); downloading again",
                provider=adapter.provider,
            )
    dirs.publish(dest)  # in the bucket before the ledger says so: another worker reads it
    ledger.update_chunk(chunk.id, status="downloaded", results_path=dest)
    return dest


def _check_owner(
    chunk: ChunkRow, job: BatchJob, dest: Path, *, adapter: BatchAdapter, ledger: Ledger
) -> None:
    """Use downloaded results only if they are this chunk's batch's.

    A batch adopted while still running (see `_adopt_lost_batch`) could not show it then; if
    its results now prove it someone else's, they are deleted unused, the batch is released
    (the chunk's intent stays, so the next run looks again, finds nothing of its own and
    submits once), and the run stops.

    Raises:
        ForeignBatchError: the results are another run's.
    """
    batch = ledger.get_batch(chunk.id)
    if batch is None:
        return
    try:
        adapter.check_owner(dest, _tag(chunk, batch.intent_at))
    except ForeignBatchError as exc:
        dest.unlink()
        ledger.release_batch(chunk.id)
        raise ForeignBatchError(
            f"batch {job.batch_id}, adopted for chunk {chunk.key} after its create call was "
            f"lost, is not this run's: {exc}. Its results were not used and the batch is no "
            f"longer tied to this run. Re-run with --run-id {chunk.run_id} to submit the chunk "
            "(it was never created, so it is paid once)."
        ) from None


def set_aside(path: Path, dirs: DataDirs) -> Path:
    """Rename `path` to the first free `{stem}.replaced-N{suffix}` beside it (nothing is
    deleted: the earlier download stays for inspection); return the new path."""
    number = 1
    while True:
        kept = path.with_name(f"{path.stem}.replaced-{number}{path.suffix}")
        if not dirs.fetch(kept):
            if dirs.mirror is not None:  # the bucket keeps its copy under the new name
                dirs.mirror.copy(path, kept)
                dirs.remove(path)
            else:
                path.rename(kept)
            return kept
        number += 1


def convert_chunk(
    chunk: ChunkRow,
    results_path: Path,
    job: BatchJob,
    *,
    model: ModelInfo,
    ledger: Ledger,
    dirs: DataDirs,
    records_dir: Path | None,
    retry_flags: frozenset[str] = frozenset(),
) -> ConvertSummary:
    """Turn a chunk's raw results into interview records, one per request sent.

    Every record goes into the chunk's part of the run's consolidated JSONL
    (`runs/{run_id}/records/`), and into `records_dir/{custom_id}.json` unless it is None.
    Bad result lines are skipped and reported in the summary's `problems` (their requests get
    `missing` records); an answer in the chunk's earlier part (a re-run, or results fetched
    again) is never replaced by a failure; nor, in a retry round, is an earlier round's
    answer (one sent again because `retry_flags` flagged it). An answer with one of
    `retry_flags` is retryable.
    """
    adapter_cls = get_adapter_class(job.provider)
    context = RecordContext(
        provider=job.provider,
        model=model,
        run_id=chunk.run_id,
        batch_id=job.batch_id,
        timestamp=job.ended_at,
        round=chunk.round,
        priced_at=job.created_at or job.ended_at,  # the prices of the day it was submitted
    )
    missing_error = None
    if job.status is BatchStatus.FAILED and (job.errors or not job.counts.total):
        reasons = "; ".join(job.errors[:5]) or "no reason given"
        missing_error = RequestError(
            kind="batch_failed",
            message=f"the provider refused the batch: {reasons}",
            transient=False,
        )
    part = dirs.run(chunk.run_id) / "records" / f"r{chunk.round}_c{chunk.chunk_index:03d}.jsonl"
    history = dirs.run(chunk.run_id) / "history.jsonl"  # a later question of a protocol
    for needed in (results_path, chunk.index_path, part):
        dirs.fetch(needed)
    has_history = dirs.fetch(history)
    problems = ResultProblems()
    # per-interview files to upload, when the data directory is in a bucket
    written: list[str] | None = [] if dirs.mirror is not None and records_dir else None

    def on_record(record: dict[str, Any]) -> None:
        sink.write(dumps_line(record))
        if written is not None:
            written.append(record["custom_id"])

    with atomic_writer(part) as sink:
        summary = write_records(
            adapter_cls.parse_results(results_path, problems),
            index=load_index(chunk.index_path),
            context=context,
            interviews_dir=records_dir,
            missing_error=missing_error,
            on_record=on_record,
            history=history if has_history else None,
            previous=[part, *_earlier_parts(dirs, chunk)],
            retry_flags=retry_flags,
        )
    summary.problems = problems
    if written and records_dir is not None:
        dirs.publish_many([Path(record_path(records_dir, custom_id)) for custom_id in written])
    dirs.publish(part)  # before the ledger says converted: another worker reads the part
    ledger.update_chunk(chunk.id, status="converted")
    return summary


def consolidate_records(run_id: str, dirs: DataDirs) -> Path:
    """Join the run's per-chunk record files into `runs/{run_id}/interviews.jsonl`, one line
    per interview: its final record (a request retried in a later round keeps only that
    round's line). Streamed; only the ids of retried requests are held in memory.
    """
    rounds: dict[int, list[Path]] = {}
    dirs.fetch_tree(dirs.run(run_id) / "records")  # parts converted by another worker too
    for part in (dirs.run(run_id) / "records").glob("r*_c*.jsonl"):
        rounds.setdefault(_part_round(part), []).append(part)
    dest = dirs.run(run_id) / "interviews.jsonl"
    superseded: set[str] = set()
    with atomic_writer(dest) as sink:
        for round_ in sorted(rounds, reverse=True):  # latest first: later rounds win
            ids_here: set[str] = set()
            for part in sorted(rounds[round_]):
                with part.open("rb") as source:
                    if not superseded and round_ == 0 and len(rounds) == 1:
                        shutil.copyfileobj(source, sink, 1 << 20)  # nothing to filter
                        continue
                    for line in source:
                        custom_id = orjson.loads(line)["custom_id"]
                        if custom_id not in superseded:
                            sink.write(line)
                            if round_ > 0:  # round 0 is read last: its ids need no memory
                                ids_here.add(custom_id)
            superseded |= ids_here
    dirs.publish(dest)
    return dest


def _earlier_parts(dirs: DataDirs, chunk: ChunkRow) -> list[Path]:
    """The record parts of the run's rounds before the chunk's, latest round first (none for
    round 0): where the answers of requests sent again are."""
    if chunk.round == 0:
        return []
    folder = dirs.run(chunk.run_id) / "records"
    dirs.fetch_tree(folder)  # parts converted by another worker too
    parts = [part for part in folder.glob("r*_c*.jsonl") if _part_round(part) < chunk.round]
    return sorted(parts, key=lambda part: (-_part_round(part), part.name))


def _part_round(part: Path) -> int:
    """The round of a record part `r{round}_c{chunk}.jsonl`."""
    return int(part.name[1:].split("_", 1)[0])


def settle_status(job: BatchJob, summary: ConvertSummary) -> BatchJob:
    """The batch's status as its records show it.

    Some providers call a batch succeeded although some of its requests failed (the Gemini API
    reports per-request errors only inside the results); the records decide.
    """
    if job.status is BatchStatus.SUCCEEDED and summary.total > summary.statuses.get("succeeded", 0):
        return dataclasses.replace(job, status=BatchStatus.PARTIALLY_SUCCEEDED)
    return job


def plan_retry_round(
    previous: list[ChunkRow],
    retry_ids: set[str],
    *,
    round_: int,
    ledger: Ledger,
    dirs: DataDirs,
) -> list[ChunkRow]:
    """The chunks of retry round `round_`: the requests of `retry_ids`, taken from the previous
    round's provider lines (so they are sent exactly as before).

    Idempotent: a round already in the ledger is returned as it is.
    """
    if not previous or not retry_ids:
        return []
    first = previous[0]
    existing = ledger.chunks(first.run_id, round_)
    if existing:
        return existing
    adapter_cls = get_adapter_class(first.provider)
    for chunk in previous:
        dirs.fetch(chunk.path)
        dirs.fetch(chunk.index_path)

    def lines():
        for chunk in previous:
            with chunk.path.open("rb") as lines_file, chunk.index_path.open("rb") as index_file:
                for line, index_line in zip(lines_file, index_file, strict=True):
                    custom_id = adapter_cls.line_custom_id(orjson.loads(line))
                    if custom_id in retry_ids:
                        yield custom_id, line, index_line

    files = write_chunk_lines(
        lines(),
        directory=dirs.run(first.run_id),
        stem=f"{first.provider}_r{round_}",
        max_requests=adapter_cls.max_requests,
        max_bytes=adapter_cls.max_bytes,
    )
    dirs.publish(*(f for chunk in files for f in (chunk.path, chunk.index_path)))
    return ledger.add_chunks(first.run_id, first.provider, first.model, round_, files)
