"""Catalog lookups, retirement checks and the seed's cost table."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources

import pytest

from interviews.catalog import (
    LIFECYCLES,
    check_batch_model,
    get_model,
    load_catalog,
    models_for,
    parse_model,
)
from interviews.costs import Usage, estimate, money, prices, usage_cost
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
        standard, batch = prices(model, batch=False), prices(model, batch=True)
        assert batch.input * 2 == standard.input, model.id
        assert batch.output * 2 == standard.output, model.id


def test_usage_cost_counts_cache_tokens_at_batch_discount() -> None:
    # Sonnet 5.5 cache hits are 0.05x input ($0.10), not the usual 0.1x (genai-prices, citing
    # platform.claude.com's pricing page); the catalog had $0.20
    model = get_model("anthropic", "claude-sonnet-5-5")
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_tokens=1_000_000)
    assert usage_cost(model, usage, batch=False) == Decimal("12.10")
    assert usage_cost(model, usage, batch=True) == Decimal("6.05")


def test_openai_gpt5_family_refused_near_its_shutdown() -> None:
    ok = datetime(2026, 12, 9, tzinfo=UTC)
    assert check_batch_model("openai", "gpt-5-mini", now=ok).id == "gpt-5-mini"
    with pytest.raises(CatalogError, match=r"use gpt-6\.1-terra instead"):
        check_batch_model("openai", "gpt-5-mini", now=datetime(2026, 12, 10, 12, tzinfo=UTC))


# --- lifecycle: computed for the day, never stored -------------------------------------------


@pytest.mark.parametrize(
    ("day", "status"),
    [
        (date(2026, 11, 26), "legacy"),  # before the deprecation: its stored lifecycle
        (date(2026, 11, 27), "deprecated"),  # from the announcement
        (date(2026, 11, 29), "deprecated"),  # inside the batch window, still served
        (date(2026, 11, 30), "retired"),  # from the retirement day
        (date(2027, 6, 1), "retired"),
    ],
)
def test_status_is_computed_for_the_day(day: date, status: str) -> None:
    assert get_model("anthropic", SEED_MODEL).status_on(day) == status
    assert get_model("anthropic", "claude-sonnet-5-5").status_on(day) == "active"


def test_a_dated_active_model_retires_on_its_day() -> None:
    flash = get_model("vertex", "gemini-3.5-flash")
    assert flash.status_on(date(2027, 5, 18)) == "active"
    assert flash.status_on(date(2027, 5, 19)) == "retired"


def test_batch_accepted_before_deprecation_and_between_deprecation_and_window() -> None:
    for now in (datetime(2026, 11, 26, tzinfo=UTC), datetime(2026, 11, 28, tzinfo=UTC)):
        assert check_batch_model("anthropic", SEED_MODEL, now=now).id == SEED_MODEL


def test_batch_inside_the_window_is_refused_naming_the_successor() -> None:
    with pytest.raises(CatalogError) as caught:
        check_batch_model("anthropic", SEED_MODEL, now=datetime(2026, 11, 29, 12, tzinfo=UTC))
    assert str(caught.value) == (
        "Claude Sonnet 4.5 (claude-sonnet-4-5-20250929) retires on 2026-11-30, inside the "
        "24 h batch window; use claude-sonnet-5-5 instead"
    )


def test_after_retirement_the_clock_decides_refusal_label_and_offer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = get_model("anthropic", SEED_MODEL)
    # the session's day (tests/conftest.py): deprecated, offered, retiring
    assert model.label() == "Claude Sonnet 4.5 (claude-sonnet-4-5-20250929), retires 2026-11-30"
    with pytest.raises(CatalogError) as offered:
        get_model("anthropic", "claude-9")
    assert SEED_MODEL in str(offered.value)

    monkeypatch.setenv("INTERVIEWS_NOW", "2026-12-05T09:00:00Z")
    assert model.is_retired()
    assert model.label() == "Claude Sonnet 4.5 (claude-sonnet-4-5-20250929), retired 2026-11-30"
    with pytest.raises(CatalogError, match=r"retired on 2026-11-30.*use claude-sonnet-5-5"):
        check_batch_model("anthropic", SEED_MODEL)
    with pytest.raises(CatalogError) as offered:
        get_model("anthropic", "claude-9")
    assert SEED_MODEL not in str(offered.value)


def test_the_catalog_stores_lifecycle_facts_not_statuses() -> None:
    text = resources.files("interviews").joinpath("models.toml").read_text("utf-8")
    assert not re.search(r"^status\s*=", text, re.MULTILINE)
    for model in load_catalog():
        assert model.lifecycle in LIFECYCLES
        if model.deprecated and model.retires:
            assert model.deprecated <= model.retires
    # the guide's models keep their facts: deprecated, with a retirement day and a successor
    for provider, model_id, retires in [
        ("anthropic", SEED_MODEL, date(2026, 11, 30)),
        ("openai", "gpt-5", date(2026, 12, 11)),
        ("gemini", "gemini-2.5-pro", date(2026, 12, 1)),
    ]:
        model = get_model(provider, model_id)
        assert model.retires == retires and model.successor
        assert model.status_on(date(2026, 11, 27)) == "deprecated"


def test_a_stored_status_in_the_catalog_is_refused_clearly() -> None:
    raw = {
        "provider": "anthropic",
        "id": "claude-x",
        "name": "Claude X",
        "lifecycle": "deprecated",
        "batch": True,
        "input": 1,
        "output": 2,
        "batch_input": 0.5,
        "batch_output": 1,
    }
    with pytest.raises(CatalogError) as caught:
        parse_model(raw)
    assert str(caught.value) == (
        "models.toml: anthropic model claude-x: lifecycle 'deprecated' is not one of active, "
        "preview, legacy (deprecation and retirement are dates: `deprecated`, `retires`)"
    )
