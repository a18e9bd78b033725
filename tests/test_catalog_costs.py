"""Catalog lookups, retirement checks and the seed's cost table."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from interviews.catalog import check_batch_model, get_model, models_for
from interviews.costs import Usage, estimate, money, usage_cost
from interviews.errors import CatalogError

SEED_MODEL = "claude-sonnet-4-5-20250929"


@pytest.mark.parametrize(
    ("count", "realtime", "batch"),
    [(100, "$3.90", "$1.95"), (1000, "$39.00", "$19.50"), (10000, "$390.00", "$195.00")],
)
def test_seed_cost_table(count: int, realtime: str, batch: str) -> None:
    est = estimate(get_model("anthropic", SEED_MODEL), count, count * 3000, count * 2000)
    assert (money(est.realtime), money(est.batch)) == (realtime, batch)


def test_unknown_model_lists_supported_models() -> None:
    with pytest.raises(CatalogError) as caught:
        get_model("anthropic", "claude-9")
    assert "claude-sonnet-5-5" in str(caught.value)
    assert "claude-opus-4-1" not in str(caught.value)  # retired models are not offered


def test_alias_resolves() -> None:
    assert get_model("anthropic", "claude-sonnet-4-5").id == SEED_MODEL


def test_batch_refused_when_window_reaches_retirement() -> None:
    before = datetime(2026, 11, 27, 12, tzinfo=UTC)
    assert check_batch_model("anthropic", SEED_MODEL, now=before).id == SEED_MODEL
    for now in (datetime(2026, 11, 29, 12, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC)):
        with pytest.raises(CatalogError, match="use claude-sonnet-5-5 instead"):
            check_batch_model("anthropic", SEED_MODEL, now=now)


def test_retired_model_is_refused() -> None:
    with pytest.raises(CatalogError, match="retired on 2026-08-05"):
        check_batch_model("anthropic", "claude-opus-4-1-20250805")


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_every_model_has_half_price_batch(provider: str) -> None:
    for model in models_for(provider):
        assert model.batch_input * 2 == model.input
        assert model.batch_output * 2 == model.output


def test_usage_cost_counts_cache_tokens_at_batch_discount() -> None:
    model = get_model("anthropic", "claude-sonnet-5-5")
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_tokens=1_000_000)
    assert usage_cost(model, usage, batch=False) == Decimal("12.20")
    assert usage_cost(model, usage, batch=True) == Decimal("6.10")


def test_openai_gpt5_family_refused_near_its_shutdown() -> None:
    ok = datetime(2026, 12, 9, tzinfo=UTC)
    assert check_batch_model("openai", "gpt-5-mini", now=ok).id == "gpt-5-mini"
    with pytest.raises(CatalogError, match=r"use gpt-6\.1-terra instead"):
        check_batch_model("openai", "gpt-5-mini", now=datetime(2026, 12, 10, 12, tzinfo=UTC))
