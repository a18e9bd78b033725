"""Model prices at a moment: from `genai-prices` (maintained price data), else the catalog.

genai-prices (pydantic's price database: standard and batch prices, cache reads and writes,
long-context tiers and dated price changes) is the source for every price it has. The catalog
(`models.toml`) keeps only what it lacks, each with its source: the batch prices of models
whose batch history it does not model, and Vertex AI batch prices it does not list. A price
found in neither is an error, never a guess: a wrong price makes every cost report untrue.

Prices are looked up for the moment the requests were made (a batch's creation), so a run
that straddles a price change is charged as the provider charges it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from interviews.errors import CatalogError

if TYPE_CHECKING:
    from interviews.catalog import ModelInfo
    from interviews.costs import Usage

MILLION = Decimal(1_000_000)

# The provider ids genai-prices files our providers' models under (Vertex AI and the Gemini
# API sell the same Gemini models at the same prices: both are "google").
LIBRARY_PROVIDER = {
    "anthropic": "anthropic",
    "openai": "openai",
    "vertex": "google",
    "gemini": "google",
}
_BATCH = {"processing": "batch"}
# Anthropic bills a one-hour cache write at twice the base input price (a five-minute one at
# 1.25x); used where genai-prices gives no 1-hour write price. Only Anthropic reports such writes.
HOUR_WRITE_FACTOR = Decimal(2)


# Frozen: one object per model, mode and day is shared by every caller (lru_cache below).
@dataclass(frozen=True, slots=True)
class Prices:
    """Per-million-token prices of one model, batch or real-time, at one moment (USD).

    `tiers` are the long-context prices, highest threshold first: a request whose input
    (cache reads and writes included) is over a threshold pays that tier's prices on all its
    tokens, as the providers bill it. `cache_write_1h` prices the cache writes that live an
    hour (Anthropic's `ttl: 1h`); `cache_write` prices every other cache write.
    """

    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    cache_write_1h: Decimal
    tiers: tuple[tuple[int, Prices], ...] = ()
    source: str = "genai-prices"

    def cost(self, usage: Usage) -> Decimal:
        """What one request's `usage` costs, in USD (at its long-context tier, if over one)."""
        return (
            self.flat_cost(usage) + self.surcharge(usage) if self.tiers else self.flat_cost(usage)
        )

    def surcharge(self, usage: Usage) -> Decimal:
        """What one request pays over the base prices for a long-context tier (usually 0)."""
        prompt = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
        for start, tier in self.tiers:
            if prompt > start:
                return tier.flat_cost(usage) - self.flat_cost(usage)
        return Decimal(0)

    def flat_cost(self, usage: Usage) -> Decimal:
        """What `usage` costs at the base prices: for a sum of many requests' usage, add
        each request's `surcharge` (a tier is chosen per request, not per sum)."""
        total = usage.input_tokens * self.input + usage.output_tokens * self.output
        if usage.cache_read_tokens:
            total += usage.cache_read_tokens * self.cache_read
        if usage.cache_write_tokens:
            hour = usage.cache_write_1h_tokens
            total += (usage.cache_write_tokens - hour) * self.cache_write
            total += hour * self.cache_write_1h
        return total / MILLION


def model_prices(model: ModelInfo, *, batch: bool, at: datetime) -> Prices:
    """`model`'s batch (`batch=True`) or real-time prices for requests made at `at`.

    Raises:
        CatalogError: neither genai-prices nor the catalog has the price.
    """
    return _model_prices(model, batch, at.astimezone(UTC).date())


@lru_cache(maxsize=256)
def _model_prices(model: ModelInfo, batch: bool, day: date) -> Prices:
    # prices change on whole days (UTC): one lookup per model, mode and day
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    standard = _library_prices(model, False, at) or _catalog_standard(model)
    if not batch:
        return standard
    found = _library_prices(model, True, at)
    if found is None:
        return _catalog_batch(model, standard)
    if not model.batch_discounts_cache:
        # Vertex AI bills cached tokens of a batch at the cache price alone (its discounts do
        # not stack), whatever the Gemini API's batch cache price is
        return _with_cache_prices(found, standard)
    return found


def _with_cache_prices(batch: Prices, standard: Prices) -> Prices:
    """`batch` with the cache prices of `standard`, tier by tier."""
    tiers = dict(standard.tiers)
    return Prices(
        input=batch.input,
        output=batch.output,
        cache_read=standard.cache_read,
        cache_write=standard.cache_write,
        cache_write_1h=standard.cache_write_1h,
        tiers=tuple(
            (start, _with_cache_prices(tier, tiers.get(start, standard)))
            for start, tier in batch.tiers
        ),
        source=batch.source,
    )


def _library_prices(model: ModelInfo, batch: bool, at: datetime) -> Prices | None:
    """The library's prices, or None where it has none (unknown model, or, for `batch`, no
    batch price at `at`: it then answers with the standard price, which would overcharge)."""
    from genai_prices import data_snapshot

    try:
        _, info = data_snapshot.get_snapshot().find_provider_model(
            model.prices_ref or model.id, None, LIBRARY_PROVIDER[model.provider], None
        )
    except LookupError:
        return None
    standard = info.get_prices(at)
    if standard.input_mtok is None or standard.output_mtok is None:
        return None
    if not batch:
        return _from_library(standard)
    discounted = info.get_prices(at, _BATCH)
    if discounted == standard:
        return None
    return _from_library(discounted)


def _from_library(price: Any) -> Prices:
    """Our `Prices` from a genai-prices `ModelPrice` (its tiers spelled out per threshold)."""
    values = {
        "input": price.input_mtok,
        "output": price.output_mtok,
        "cache_read": price.cache_read_mtok,
        "cache_write": price.cache_write_mtok,
        "cache_write_1h": price.cache_write_1h_mtok,
    }
    starts = sorted(
        {tier.start for value in values.values() for tier in getattr(value, "tiers", ())},
        reverse=True,
    )

    def at_prompt(prompt: int | None, tiers: tuple[tuple[int, Prices], ...] = ()) -> Prices:
        chosen = {name: _rate(value, prompt) for name, value in values.items()}
        # providers that bill no cache writes (OpenAI, Gemini) report none; a cache read the
        # library does not price is billed as input
        return Prices(
            input=chosen["input"],
            output=chosen["output"],
            cache_read=chosen["cache_read"]
            if chosen["cache_read"] is not None
            else chosen["input"],
            cache_write=(
                chosen["cache_write"] if chosen["cache_write"] is not None else chosen["input"]
            ),
            cache_write_1h=(
                chosen["cache_write_1h"]
                if chosen["cache_write_1h"] is not None
                else chosen["input"] * HOUR_WRITE_FACTOR
            ),
            tiers=tiers,
        )

    return at_prompt(None, tuple((start, at_prompt(start + 1)) for start in starts))


def _rate(value: Any, prompt: int | None) -> Decimal | None:
    """A price, or a tiered one's price for a prompt of `prompt` tokens (None: the base)."""
    if value is None or isinstance(value, Decimal):
        return value
    chosen = value.base
    for tier in value.tiers:  # ascending
        if prompt is not None and prompt > tier.start:
            chosen = tier.price
    return chosen


def _catalog_standard(model: ModelInfo) -> Prices:
    """The catalog's real-time prices (models.toml), for a model genai-prices lacks."""
    if model.input is None or model.output is None:
        raise CatalogError(
            f"no price for {model.provider} model {model.id}: genai-prices has none and "
            "models.toml lists none (add input/output with their source)"
        )
    return Prices(
        input=model.input,
        output=model.output,
        cache_read=model.cache_read if model.cache_read is not None else model.input,
        cache_write=model.cache_write if model.cache_write is not None else model.input,
        cache_write_1h=model.input * HOUR_WRITE_FACTOR,
        source="models.toml",
    )


def _catalog_batch(model: ModelInfo, standard: Prices) -> Prices:
    """The catalog's batch prices, for a model whose batch price genai-prices lacks; cached
    tokens get the batch discount where the provider stacks the two (not on Vertex AI)."""
    if model.batch_input is None or model.batch_output is None:
        raise CatalogError(
            f"no batch price for {model.provider} model {model.id}: genai-prices has none and "
            "models.toml lists none (add batch_input/batch_output with their source)"
        )
    scale = model.batch_input / standard.input if model.batch_discounts_cache else Decimal(1)
    return Prices(
        input=model.batch_input,
        output=model.batch_output,
        cache_read=standard.cache_read * scale,
        cache_write=standard.cache_write * scale,
        cache_write_1h=standard.cache_write_1h * scale,
        source="models.toml",
    )
