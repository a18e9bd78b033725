"""Task: the checks of `interviews check`, before a run spends anything (the nightly run)."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from interviews.errors import PreflightError
from interviews.preflight import run_checks
from interviews.spec import BatchRunParameters


@task(cache_policy=NO_CACHE)
def preflight(params: BatchRunParameters) -> list[str]:
    """Check credentials, the key and model at the provider, batch support, the staging bucket
    (Vertex AI) and, when the run has a count and a budget, the estimate against it.

    Args:
        params: the run about to start.

    Returns:
        One line per check (all passed).

    Raises:
        PreflightError: a check failed; its message has every failed check's line.
    """
    checks = run_checks(
        params.provider,
        params.model_id,
        credentials_block=params.credentials_block,
        count=params.count or 1,
        # without a count the budget is checked at prepare time, against the real count
        max_cost=params.max_cost_usd if params.count else None,
    )
    logger = get_run_logger()
    for check in checks:
        (logger.info if check.ok else logger.error)("%s", check.line())
    failed = [check.line() for check in checks if not check.ok]
    if failed:
        raise PreflightError("checks before the run failed, nothing was sent: " + "; ".join(failed))
    return [check.line() for check in checks]
