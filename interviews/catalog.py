"""The model catalog (`models.toml`): models, prices, batch support and retirement dates."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources

from interviews.errors import CatalogError

PROVIDERS = ("anthropic", "openai", "vertex", "gemini")

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
    """One model of the catalog. Prices are USD per 1M tokens, as `Decimal`."""

    provider: str
    id: str
    name: str
    status: str
    batch: bool
    input: Decimal
    output: Decimal
    batch_input: Decimal
    batch_output: Decimal
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    max_output_tokens: int | None = None
    retires: date | None = None
    successor: str | None = None
    aliases: tuple[str, ...] = ()
    note: str | None = None
    # whether the batch discount also applies to cached-input tokens (Anthropic, OpenAI: yes;
    # Vertex: no, the cache discount alone applies)
    batch_discounts_cache: bool = True

    @property
    def batch_discount(self) -> Decimal:
        """Batch price as a fraction of the standard price (input side)."""
        return self.batch_input / self.input

    def label(self) -> str:
        """Human-readable `name (id)` with its lifecycle when it is not active."""
        text = f"{self.name} ({self.id})"
        if self.retires:
            verb = "retired" if self.status == "retired" else "retires"
            text += f", {verb} {self.retires.isoformat()}"
        return text


def _price(value: object) -> Decimal:
    # via str so 0.1 stays exactly 0.1 rather than its binary approximation
    return Decimal(str(value))


@cache
def load_catalog() -> tuple[ModelInfo, ...]:
    """Read the packaged `models.toml` once."""
    text = resources.files("interviews").joinpath("models.toml").read_text("utf-8")
    models = []
    for raw in tomllib.loads(text)["model"]:
        models.append(
            ModelInfo(
                provider=raw["provider"],
                id=raw["id"],
                name=raw["name"],
                status=raw["status"],
                batch=raw["batch"],
                input=_price(raw["input"]),
                output=_price(raw["output"]),
                batch_input=_price(raw["batch_input"]),
                batch_output=_price(raw["batch_output"]),
                cache_read=_price(raw["cache_read"]) if "cache_read" in raw else None,
                cache_write=_price(raw["cache_write"]) if "cache_write" in raw else None,
                max_output_tokens=raw.get("max_output_tokens"),
                retires=raw.get("retires"),
                successor=raw.get("successor"),
                aliases=tuple(raw.get("aliases", ())),
                note=raw.get("note"),
                batch_discounts_cache=raw.get("batch_discounts_cache", True),
            )
        )
    return tuple(models)


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


def _supported(provider: str) -> str:
    usable = [m.id for m in models_for(provider) if m.batch and m.status != "retired"]
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
    """Return the model if a batch submitted `now` can finish before it retires.

    Raises:
        CatalogError: unknown model, no batch support, or retired / retiring inside the
            provider's batch window; the message names the replacement.
    """
    model = get_model(provider, model_id)
    if not model.batch:
        raise CatalogError(
            f"{model.label()} does not support the batch API; use one of: {_supported(provider)}"
        )
    now = now or datetime.now(UTC)
    if model.retires is not None:
        window_end = (now + BATCH_WINDOW[provider]).date()
        if window_end >= model.retires:
            when = "retired on" if now.date() >= model.retires else "retires on"
            replacement = f"; use {model.successor} instead" if model.successor else ""
            raise CatalogError(
                f"{model.name} ({model.id}) {when} {model.retires.isoformat()}, inside the "
                f"{BATCH_WINDOW[provider].total_seconds() / 3600:.0f} h batch window"
                f"{replacement}"
            )
    return model
