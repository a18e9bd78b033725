"""Prices from genai-prices at the requests' moment, and the few the catalog keeps: the seed's
cost row and hand-computed cases per provider, batch and real time, caches, tiers and a dated
price change."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from interviews.catalog import get_model, parse_model
from interviews.costs import Usage, estimate, money, prices, usage_cost
from interviews.errors import CatalogError
from interviews.records import RecordContext, write_records
from tests.test_records import answered

DAY = datetime(2026, 11, 20, 9, tzinfo=UTC)  # after genai-prices' batch history begins
# one request: 100K input, 100K output, 50K cache reads, 50K cache writes (a 200K prompt, under
# every long-context tier)
REQUEST = Usage(
    input_tokens=100_000, output_tokens=100_000, cache_read_tokens=50_000, cache_write_tokens=50_000
)


def test_the_seed_row_through_the_library() -> None:
    """The guide's table: 10,000 interviews of 3,000 in / 2,000 out on Claude Sonnet 4.5."""
    model = get_model("anthropic", "claude-sonnet-4-5")
    est = estimate(model, 10_000, 30_000_000, 20_000_000, at=DAY)
    assert (money(est.realtime), money(est.batch)) == ("$390.00", "$195.00")
    assert prices(model, batch=True, at=DAY).source == "genai-prices"


@pytest.mark.parametrize(
    ("provider", "model_id", "batch", "expected"),
    [
        # 0.1 x $2 + 0.1 x $10 + 0.05 x $0.10 cache read + 0.05 x $2.50 cache write
        ("anthropic", "claude-sonnet-5-5", False, "1.33"),
        # every price halved, caches too (Anthropic stacks the discounts)
        ("anthropic", "claude-sonnet-5-5", True, "0.665"),
        # GPT-6.1 Terra: $1 / $5, $0.05 cached input, $1.25 cache writes (the catalog lacked them)
        ("openai", "gpt-6.1-terra", False, "0.665"),
        ("openai", "gpt-6.1-terra", True, "0.3325"),
        # Gemini 3.8 Flash: $0.75 / $3.75, $0.075 cache read; no cache-write price, so a write
        # (which Gemini never reports) is billed as input
        ("gemini", "gemini-3.8-flash", False, "0.49125"),
        ("gemini", "gemini-3.8-flash", True, "0.245625"),
        # Vertex AI Flash-Lite: batch $0.15 / $1.25, but cached tokens at the cache price alone
        # ($0.03; $0.30 input for a write): the discounts do not stack
        ("vertex", "gemini-3.5-flash-lite", True, "0.1565"),
    ],
)
def test_hand_computed_costs_per_provider(
    provider: str, model_id: str, batch: bool, expected: str
) -> None:
    model = get_model(provider, model_id)
    assert usage_cost(model, REQUEST, batch=batch, at=DAY) == Decimal(expected)


def test_a_batch_price_the_library_lacks_comes_from_the_catalog_with_its_source() -> None:
    # Vertex Gemini 3.5 Flash: genai-prices has no batch price, the catalog's is $0.75 / $4.50
    # (50 %, Vertex batch-inference page); cached tokens pay the cache price alone ($0.15)
    model = get_model("vertex", "gemini-3.5-flash")
    batch = prices(model, batch=True, at=DAY)
    assert (batch.input, batch.output, batch.cache_read) == (
        Decimal("0.75"),
        Decimal("4.50"),
        Decimal("0.15"),
    )
    assert batch.source == "models.toml" and model.price_source
    assert prices(model, batch=False, at=DAY).source == "genai-prices"


def test_a_dated_price_change_applies_from_its_day() -> None:
    model = get_model("gemini", "gemini-3.8-flash")
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    before = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    after = datetime(2027, 1, 1, 0, 1, tzinfo=UTC)
    assert usage_cost(model, usage, batch=False, at=before) == Decimal("4.50")
    assert usage_cost(model, usage, batch=False, at=after) == Decimal("9.00")
    assert usage_cost(model, usage, batch=True, at=before) == Decimal("2.25")
    assert usage_cost(model, usage, batch=True, at=after) == Decimal("4.50")


def test_a_long_prompt_pays_its_tier_per_request_and_sums_stay_exact() -> None:
    """Gemini 3.1 Pro: prompts over 200K tokens cost $4 / $18 per 1M (not $2 / $12), on all
    their tokens; a run's total is the sum of its requests', never the tier of the sum."""
    model = get_model("gemini", "gemini-3.1-pro-preview")
    long = Usage(input_tokens=250_000, output_tokens=1_000)
    short = Usage(input_tokens=1_000, output_tokens=1_000)
    assert usage_cost(model, long, batch=False, at=DAY) == Decimal("1.018")  # 0.25*4 + 0.001*18
    assert usage_cost(model, short, batch=False, at=DAY) == Decimal("0.014")  # 0.001*(2+12)
    outcomes = [answered(0), answered(1)]
    outcomes[0].usage, outcomes[1].usage = long, short
    context = RecordContext("gemini", model, None, None, mode="realtime", priced_at=DAY)
    written: list[dict] = []
    summary = write_records(
        outcomes, index=None, context=context, interviews_dir=None, on_record=written.append
    )
    assert summary.cost == Decimal("1.032")
    assert [record["cost_usd"] for record in written] == [1.018, 0.014]
    # an estimate of average interviews over the tier prices each at the tier
    est = estimate(model, 2, 500_000, 2_000, at=DAY)
    assert est.realtime == Decimal("2.036")


def test_a_model_priced_nowhere_is_an_error_not_a_guess() -> None:
    model = parse_model(
        {"provider": "openai", "id": "gpt-unknown-9", "name": "X", "lifecycle": "active",
         "batch": True}
    )  # fmt: skip
    with pytest.raises(CatalogError, match="no price for openai model gpt-unknown-9"):
        prices(model, batch=False, at=DAY)
    own = parse_model(
        {"provider": "openai", "id": "gpt-unknown-9", "name": "X", "lifecycle": "active",
         "batch": True, "input": 1, "output": 2, "price_source": "a page"}
    )  # fmt: skip
    assert prices(own, batch=False, at=DAY).input == Decimal(1)
    with pytest.raises(CatalogError, match="no batch price for openai model gpt-unknown-9"):
        prices(own, batch=True, at=DAY)


def test_a_catalog_price_without_its_source_is_refused() -> None:
    with pytest.raises(CatalogError, match="batch_input, batch_output without `price_source`"):
        parse_model(
            {"provider": "anthropic", "id": "claude-x", "name": "X", "lifecycle": "active",
             "batch": True, "batch_input": 1, "batch_output": 2}
        )  # fmt: skip


def test_real_time_tiers_count_in_the_summary_when_the_batch_prices_have_none() -> None:
    """Before 2026-10-14 genai-prices has no batch price for Sonnet 4.5, so the batch price is
    the catalog's (flat); the real-time comparison still pays the long-context tier."""
    model = parse_model(
        {"provider": "anthropic", "id": "claude-sonnet-4-5-20250929", "name": "X",
         "lifecycle": "active", "batch": True, "batch_input": 1.5, "batch_output": 7.5,
         "price_source": "a page"}
    )  # fmt: skip
    early = datetime(2026, 10, 1, 9, tzinfo=UTC)
    assert prices(model, batch=True, at=early).tiers == ()
    outcome = answered(0)
    outcome.usage = Usage(input_tokens=250_000, output_tokens=1_000)
    context = RecordContext("anthropic", model, None, None, priced_at=early)
    summary = write_records([outcome], index=None, context=context, interviews_dir=None)
    assert summary.cost == Decimal("0.3825")  # 0.25 x $1.50 + 0.001 x $7.50, flat
    assert summary.cost_realtime == Decimal("1.5225")  # 0.25 x $6 + 0.001 x $22.50: the tier
