"""`interviews check`: what must hold before a run spends anything, one line per check.

Every check is a read (or, for a bucket, one tiny object written and deleted): nothing is
submitted, nothing is billed. Without credentials nothing else can be asked; a model the
catalog does not know is still looked up at the provider, but has no price to check.

1. credentials: a credentials block, or the provider's standard environment variable;
2. catalog (only when it fails): the model is one `interviews` knows and prices;
3. key and model: the provider's model lookup accepts the key and serves the model;
4. batch: the catalog says the model takes batches, and it is not retiring inside the batch
   window;
5. storage (Vertex AI): the staging bucket is writable;
6. cost: the run's estimate is under `--max-cost`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from interviews.errors import CatalogError, ConfigurationError, ProviderError


@dataclass(frozen=True)
class Check:
    """One check's outcome: `name`, whether it passed, and one line saying what was found."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        """`✓ name: detail` or `✗ name: detail`."""
        return f"{'✓' if self.ok else '✗'} {self.name}: {self.detail}"


def run_checks(
    provider: str,
    model_id: str,
    *,
    credentials_block: str | None,
    credentials: Any = None,
    count: int,
    max_cost: float | None,
    now: datetime | None = None,
) -> list[Check]:
    """Run the checks for a batch run of `count` interviews of `model_id` at `provider`.

    Args:
        credentials: a credentials block object to use instead of `credentials_block` (or the
            environment).

    Returns:
        The checks made, in order; the run may go ahead if all passed.
    """
    from blocks.credentials import resolve_credentials
    from interviews import clock
    from interviews.catalog import check_batch_model, get_model
    from interviews.costs import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS, estimate, money

    now = now or clock.now()
    checks: list[Check] = []
    source = (
        f"block {credentials_block!r}"
        if credentials_block
        else ("given" if credentials is not None else "environment")
    )
    try:
        credentials = credentials or resolve_credentials(provider, credentials_block)
        adapter = credentials.get_adapter()
    except ConfigurationError as exc:
        return [Check("credentials", False, str(exc))]
    checks.append(Check("credentials", True, f"found ({source})"))

    try:
        model = get_model(provider, model_id)
    except CatalogError as exc:
        model = None
        checks.append(Check("catalog", False, str(exc)))
    asked_for = model.id if model is not None else model_id
    try:
        asked = adapter.check_access(asked_for)
        checks.append(Check("key and model", True, f"{asked_for} is served ({asked})"))
    except ProviderError as exc:
        checks.append(Check("key and model", False, _access_problem(exc, asked_for)))
    if model is None:  # not priced, and its batch support unknown: nothing more to tell
        return checks

    try:
        check_batch_model(provider, model.id, now=now)
        checks.append(Check("batch", True, f"{model.name} takes batches"))
    except CatalogError as exc:
        checks.append(Check("batch", False, str(exc)))

    try:
        wrote = adapter.check_storage()
        if wrote is not None:
            checks.append(Check("storage", True, wrote))
    except ProviderError as exc:
        checks.append(Check("storage", False, f"the staging bucket is not writable: {exc}"))

    est = estimate(model, count, count * DEFAULT_INPUT_TOKENS, count * DEFAULT_OUTPUT_TOKENS, now)
    said = f"{count:,} interviews estimated at {money(est.batch)} (batch)"
    if max_cost is None:
        checks.append(Check("cost", True, f"{said}; no --max-cost set"))
    else:
        under = est.batch <= max_cost
        verb = "under" if under else "over"
        checks.append(Check("cost", under, f"{said}, {verb} --max-cost ${max_cost:,.2f}"))
    return checks


def _access_problem(exc: ProviderError, model: str) -> str:
    """What a failed model lookup means, by its status."""
    if exc.status_code in (401, 403):
        return f"the key was refused (HTTP {exc.status_code}): {exc}"
    if exc.status_code == 404:
        return (
            f"the provider does not serve {model} (HTTP 404); check the model id, and that "
            "the base URL is the provider's"
        )
    return str(exc)
