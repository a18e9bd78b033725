"""Task: validate input and write the run's request files (or resume them from the ledger)."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from interviews.diskfull import disk_full_is_clear_in_task
from interviews.pipeline import RunPlan, prepare_run, prepare_turn
from interviews.spec import BatchRunParameters
from tasks.context import RunContext


@task(cache_policy=NO_CACHE)
@disk_full_is_clear_in_task
def prepare_batch(params: BatchRunParameters, context: RunContext, mode: str = "batch") -> RunPlan:
    """Validate personas and templates, write the canonical file and provider chunks.

    Args:
        params: what the run asks for.
        context: where files and the ledger live.
        mode: "batch" or "realtime" (prices of the estimate and budget check).

    Returns:
        The run plan; on a re-run of a known run id, the plan stored in the ledger.

    Raises:
        InputError, CatalogError: bad input or model, before anything is sent.
    """
    plan = prepare_run(params, ledger=context.ledger(), dirs=context.dirs, mode=mode)
    logger = get_run_logger()
    verb = "Resuming" if plan.resumed else "Prepared"
    requests = sum(chunk.request_count for chunk in plan.chunks)
    logger.info(
        "%s run %s: %d requests in %d chunk(s); canonical file %s",
        verb,
        plan.run_id,
        requests,
        len(plan.chunks),
        plan.requests_path,
    )
    if plan.records_note:
        logger.warning("%s", plan.records_note)
    return plan


@task(cache_policy=NO_CACHE)
@disk_full_is_clear_in_task
def prepare_question(params: BatchRunParameters, turn: int, context: RunContext) -> RunPlan | None:
    """Write the batch of an interview protocol's question `turn` (from 2): the previous
    question's requests carried one turn further, for every interview that answered it.

    Args:
        params: the protocol run (its `run_id` names the first question's run).
        turn: the question's number in the protocol.
        context: where files and the ledger live.

    Returns:
        The plan of run `{run_id}-q{turn}`, or None when no interview goes on to it.
    """
    plan = prepare_turn(params, turn=turn, ledger=context.ledger(), dirs=context.dirs)
    if plan is None:
        get_run_logger().warning("Question %d: no interview answered the one before it", turn)
    else:
        get_run_logger().info(
            "%s question %d as run %s: %d requests in %d chunk(s)",
            "Resuming" if plan.resumed else "Prepared",
            turn,
            plan.run_id,
            sum(chunk.request_count for chunk in plan.chunks),
            len(plan.chunks),
        )
    return plan
