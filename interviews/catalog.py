"""The model catalog (`models.toml`): models, batch support, retirement dates, and the few
prices genai-prices lacks (interviews/prices.py)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources

from interviews import clock
from interviews.errors import CatalogError

PROVIDERS = ("anthropic", "openai", "vertex", "gemini")

# What a model is apart from its dates (stored); `ModelInfo.status_on` adds the dated ones,
# "deprecated" (from the announcement) and "retired" (from the shutdown day).
LIFECYCLES = ("active", "preview", "legacy")

# How long a provider may take to finish a batch; a model must still be served at the end.
# Vertex: up to 72 h queued plus 24 h running; Gemini API: a 24 h target, jobs expire at 48 h.
BATCH_WINDOW = {
    "anthropic": timedelta(hours=24),
    "openai": timedelta(hours=24),
    "vertex": timedelta(hours=96),
    "gemini": timedelta(hours=48),
}


@dataclass(frozen=True)
class ModelInfo:
    """One model of the catalog. Prices are USD per 1M tokens, as `Decimal`.

    Its status is not stored but computed for a day (`status_on`) from `lifecycle` and the
    `deprecated` and `retires` dates, so it is right on every day, in tests too.
    """

    provider: str
    id: str
    name: str
    lifecycle: str
    batch: bool
    # The catalog's own prices: only where genai-prices lacks them (see interviews/prices.py)
    input: Decimal | None = None
    output: Decimal | None = None
    batch_input: Decimal | None = None
    batch_output: Decimal | None = None
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    max_output_tokens: int | None = None
    deprecated: date | None = None
    retires: date | None = None
    successor: str | None = None
    aliases: tuple[str, ...] = ()
    note: str | None = None
    # whether the batch discount also applies to cached-input tokens (Anthropic, OpenAI: yes;
    # Vertex: no, the cache discount alone applies)
    batch_discounts_cache: bool = True
    # the model's name in genai-prices, where it differs from `id`
    prices_ref: str | None = None
    # where the catalog's own prices come from (required with any of them)
    price_source: str | None = None

    def status_on(self, day: date) -> str:
        """The model's status on `day`: "retired" from its retirement day, "deprecated" from
        the announcement until then, otherwise its stored lifecycle (active, preview, legacy)."""
        if self.retires is not None and day >= self.retires:
            return "retired"
        if self.deprecated is not None and day >= self.deprecated:
            return "deprecated"
        return self.lifecycle

    def is_retired(self, day: date | None = None) -> bool:
        """Whether the provider no longer serves the model on `day` (default: `clock.today()`)."""
        return self.status_on(day or clock.today()) == "retired"

    def label(self, day: date | None = None) -> str:
        """Human-readable `name (id)` with its retirement date, if it has one, seen on `day`
        (default: `clock.today()`)."""
        text = f"{self.name} ({self.id})"
        if self.retires:
            verb = "retired" if self.is_retired(day) else "retires"
            text += f", {verb} {self.retires.isoformat()}"
        return text


_OWN_PRICES = ("input", "output", "cache_read", "cache_write", "batch_input", "batch_output")


def _price(value: object) -> Decimal | None:
    # via str so 0.1 stays exactly 0.1 rather than its binary approximation
    return None if value is None else Decimal(str(value))


@cache
def load_catalog() -> tuple[ModelInfo, ...]:
    """Read the packaged `models.toml` once.

    Raises:
        CatalogError: a model with an unknown lifecycle, or deprecated after it retires.
    """
    text = resources.files("interviews").joinpath("models.toml").read_text("utf-8")
    return tuple(parse_model(raw) for raw in tomllib.loads(text)["model"])


def parse_model(raw: dict) -> ModelInfo:
    """One `[[model]]` table of `models.toml` as a `ModelInfo`.

    Raises:
        CatalogError: an unknown lifecycle (a status is never stored), or deprecated after it
            retires.
    """
    model = ModelInfo(
        provider=raw["provider"],
        id=raw["id"],
        name=raw["name"],
        lifecycle=raw["lifecycle"],
        batch=raw["batch"],
        input=_price(raw.get("input")),
        output=_price(raw.get("output")),
        batch_input=_price(raw.get("batch_input")),
        batch_output=_price(raw.get("batch_output")),
        cache_read=_price(raw.get("cache_read")),
        cache_write=_price(raw.get("cache_write")),
        max_output_tokens=raw.get("max_output_tokens"),
        deprecated=raw.get("deprecated"),
        retires=raw.get("retires"),
        successor=raw.get("successor"),
        aliases=tuple(raw.get("aliases", ())),
        note=raw.get("note"),
        batch_discounts_cache=raw.get("batch_discounts_cache", True),
        prices_ref=raw.get("prices_ref"),
        price_source=raw.get("price_source"),
    )
    where = f"models.toml: {model.provider} model {model.id}"
    if model.lifecycle not in LIFECYCLES:
        raise CatalogError(
            f"{where}: lifecycle {model.lifecycle!r} is not one of {', '.join(LIFECYCLES)} "
            "(deprecation and retirement are dates: `deprecated`, `retires`)"
        )
    own_prices = [key for key in _OWN_PRICES if key in raw]
    if own_prices and not model.price_source:
        raise CatalogError(
            f"{where}: {', '.join(own_prices)} without `price_source` (genai-prices is the "
            "source of prices; a price kept here must say where it comes from)"
        )
    if model.deprecated and model.retires and model.deprecated > model.retires:
        raise CatalogError(f"{where}: deprecated {model.deprecated} is after {model.retires}")
    return model


def models_for(provider: str) -> list[ModelInfo]:
    """Every catalogued model of `provider`, current ones first."""
    check_provider(provider)
    return [m for m in load_catalog() if m.provider == provider]


def check_provider(provider: str) -> None:
    """Raise `CatalogError` naming the supported providers if `provider` is not one."""
    if provider not in PROVIDERS:
        raise CatalogError(
            f"unknown provider {provider!r}; supported providers: {', '.join(PROVIDERS)}"
        )


def _supported(provider: str, day: date | None = None) -> str:
    day = day or clock.today()
    usable = [m.id for m in models_for(provider) if m.batch and not m.is_retired(day)]
    return ", ".join(usable)


def get_model(provider: str, model_id: str) -> ModelInfo:
    """Look a model up by id or alias.

    Raises:
        CatalogError: unknown provider or model; the message lists the supported models.
    """
    for model in models_for(provider):
        if model_id == model.id or model_id in model.aliases:
            return model
    raise CatalogError(
        f"unknown {provider} model {model_id!r}; models with batch support: {_supported(provider)}"
    )


def check_batch_model(provider: str, model_id: str, *, now: datetime | None = None) -> ModelInfo:
    """Return the model if a batch submitted `now` (default: `clock.now()`) can finish before
    it retires.

    Raises:
        CatalogError: unknown model, no batch support, or retired / retiring inside the
            provider's batch window; the message names the replacement.
    """
    model = get_model(provider, model_id)
    now = now or clock.now()
    if not model.batch:
        raise CatalogError(
            f"{model.label(now.date())} does not support the batch API; use one of: "
            f"{_supported(provider, now.date())}"
        )
    if model.retires is not None:
        window_end = (now + BATCH_WINDOW[provider]).date()
        if window_end >= model.retires:
            when = "retired on" if model.is_retired(now.date()) else "retires on"
            replacement = f"; use {model.successor} instead" if model.successor else ""
            raise CatalogError(
                f"{model.name} ({model.id}) {when} {model.retires.isoformat()}, inside the "
                f"{BATCH_WINDOW[provider].total_seconds() / 3600:.0f} h batch window"
                f"{replacement}"
            )
    return model
