"""Cost: estimates before a run and actual cost from the usage the provider reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from interviews import clock
from interviews.catalog import ModelInfo
from interviews.prices import Prices, model_prices

# The seed guide's cost table assumes these per interview.
DEFAULT_INPUT_TOKENS = 3000
DEFAULT_OUTPUT_TOKENS = 2000


# The most tokens one request may report in one usage field. Context windows are ~2M tokens;
# a count above this is not a real one, and pricing it would make a wrong (huge) cost.
MAX_TOKENS_PER_REQUEST = 100_000_000


def token_counts(usage: object, keys: tuple[str | tuple[str, str], ...]) -> list[int] | None:
    """The counts at `keys` of a provider's usage object (a key, or (key, subkey) for a nested
    count such as OpenAI's `prompt_tokens_details.cached_tokens`), or None if any is unusable.

    A provider's usage is untrusted input. A missing usage, object or count (or JSON null)
    reads as 0, as providers omit what is zero; anything else that is not a whole number from
    0 to `MAX_TOKENS_PER_REQUEST` (a string, float, bool, negative or huge count) makes the
    whole usage unknown (None) rather than a TypeError or a wrong cost.
    """
    if usage is None:
        return [0] * len(keys)
    if type(usage) is not dict:
        return None
    counts = []
    for key in keys:  # lean on purpose: this runs once per interview
        if type(key) is str:
            value = usage.get(key)
        else:
            inner = usage.get(key[0])
            if inner is not None and type(inner) is not dict:
                return None
            value = None if inner is None else inner.get(key[1])
        if value is None:
            value = 0
        elif type(value) is not int or not 0 <= value <= MAX_TOKENS_PER_REQUEST:
            return None
        counts.append(value)
    return counts


# Not frozen: a frozen dataclass's __init__ costs 3-4× more, and a conversion builds one per
# interview (a million per large run). Nothing mutates a Usage; `+` returns a new one.
@dataclass(slots=True)
class Usage:
    """Token usage of one request, as the provider bills it.

    `input_tokens` excludes cache reads and writes (Anthropic reports them apart);
    `reasoning_tokens` are informational and already inside `output_tokens`;
    `cache_write_1h_tokens` are the part of `cache_write_tokens` written for an hour
    (Anthropic's `ttl: 1h`, priced higher than its 5-minute writes).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_1h_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
            self.cache_write_1h_tokens + other.cache_write_1h_tokens,
        )

    def uncached(self) -> Usage:
        """The same request without prompt caching: cache reads and writes as plain input."""
        return Usage(
            self.input_tokens + self.cache_read_tokens + self.cache_write_tokens,
            self.output_tokens,
            0,
            0,
            self.reasoning_tokens,
        )

    def as_dict(self) -> dict[str, int]:
        """The record form of the usage."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "cache_write_1h_tokens": self.cache_write_1h_tokens,
        }


def prices(model: ModelInfo, *, batch: bool, at: datetime | None = None) -> Prices:
    """`model`'s prices at batch (`batch=True`) or real-time rates, for requests made at `at`
    (default: `clock.now()`); see interviews/prices.py for where they come from."""
    return model_prices(model, batch=batch, at=at or clock.now())


def usage_cost(
    model: ModelInfo, usage: Usage, *, batch: bool, at: datetime | None = None
) -> Decimal:
    """What `usage` (one request's) costs at batch (`batch=True`) or real-time prices, in USD."""
    return prices(model, batch=batch, at=at).cost(usage)


@dataclass(frozen=True)
class Estimate:
    """A cost estimate for `count` interviews at real-time and batch prices."""

    model: ModelInfo
    count: int
    input_tokens: int
    output_tokens: int
    realtime: Decimal
    batch: Decimal

    @property
    def savings(self) -> Decimal:
        """Real-time minus batch cost."""
        return self.realtime - self.batch


def estimate(
    model: ModelInfo, count: int, input_tokens: int, output_tokens: int, at: datetime | None = None
) -> Estimate:
    """Estimate `count` interviews of `input_tokens` in and `output_tokens` out (totals), at
    the prices of `at` (default: now).

    Args:
        model: the catalogued model.
        count: number of interviews.
        input_tokens: total input tokens across all interviews.
        output_tokens: total output tokens across all interviews.
        at: when the requests would be made.
    """
    total = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
    # a long-context tier is chosen per request: the average interview decides it
    each = Usage(
        input_tokens=input_tokens // max(count, 1), output_tokens=output_tokens // max(count, 1)
    )

    def cost(batch: bool) -> Decimal:
        rates = prices(model, batch=batch, at=at)
        return rates.flat_cost(total) + count * rates.surcharge(each)

    return Estimate(
        model=model,
        count=count,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        realtime=cost(False),
        batch=cost(True),
    )


def estimate_tokens(text_chars: int) -> int:
    """Rough token count of `text_chars` characters of English prose (about 4 per token)."""
    return (text_chars + 3) // 4


def money(value: Decimal, *, small: bool = False) -> str:
    """Format USD with cents, e.g. `$1,234.50`; with `small`, sub-dollar amounts keep four
    decimals so a demo's $0.0123 does not read as $0.01."""
    if small and abs(value) < 1:
        return f"${value.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP):.4f}"
    cents = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"${cents:,.2f}"
