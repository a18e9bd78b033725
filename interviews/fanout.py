"""Compare runs: the same personas through several providers or models at once.

Each target becomes an ordinary run of its own, so everything a run does (ledger, resume,
retry rounds, status, cancel, collect) holds per target. Names are derived, never random, so
re-running a compare run resumes every target:

- run id `{run_id}-{provider}-{model}`;
- records in `interviews/{provider}/{model}/{custom_id}.json` (the guide's flat folder cannot
  hold two answers of one persona), plus each run's consolidated JSONL as always.
"""

from __future__ import annotations

import re

from interviews.catalog import get_model
from interviews.errors import InputError
from interviews.spec import BatchRunParameters, parse_target

MAX_RUN_ID = 100  # the run-id field's limit


def compare_run_id(run_id: str | None) -> str:
    """The compare run's own id: the one given, or a fresh `compare-...` id."""
    if run_id:
        return run_id
    from interviews.preparation import new_run_id

    return new_run_id("compare")


def target_runs(params: BatchRunParameters) -> list[BatchRunParameters]:
    """One run's parameters per target of `params.targets` (run id required).

    Raises:
        InputError: a model unknown to the catalog, two targets naming the same model, or a
            run id too long to extend.
    """
    assert params.run_id, "compare runs need their run id first (compare_run_id)"
    runs, seen = [], set()
    for target in params.targets:
        provider, model = parse_target(target)
        model_id = get_model(provider, model).id if model else None
        resolved = model_id or params.model_copy(update={"provider": provider}).model_id
        if (provider, resolved) in seen:
            raise InputError(f"target {target!r} names a model already listed; list it once")
        seen.add((provider, resolved))
        run_id = f"{params.run_id}-{provider}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', resolved)}"
        if len(run_id) > MAX_RUN_ID:
            raise InputError(
                f"run id {run_id!r} of target {target!r} is longer than {MAX_RUN_ID} "
                "characters; choose a shorter --run-id"
            )
        subdir = f"{provider}/{resolved}"
        if params.records_subdir:
            subdir = f"{params.records_subdir}/{subdir}"
        # validated again, so a derived name obeys the same rules as a typed one
        runs.append(
            BatchRunParameters.model_validate(
                params.model_dump()
                | {
                    "provider": provider,
                    "model": resolved,
                    "run_id": run_id,
                    "targets": [],
                    "records_subdir": subdir,
                }
            )
        )
    return runs
