"""Provider-neutral batch vocabulary: batch status, batch job and per-request outcome.

One spelling throughout: "canceled" (as Anthropic's result type), never "cancelled".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from interviews.costs import Usage
from interviews.redaction import redact


class BatchStatus(StrEnum):
    """Our normalized batch status; terminal states come from here, never from SDK helpers."""

    PENDING = "pending"
    RUNNING = "running"
    FINALIZING = "finalizing"
    CANCELING = "canceling"
    SUCCEEDED = "succeeded"
    PARTIALLY_SUCCEEDED = "partially_succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        """True once the provider will change nothing more about the batch."""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        BatchStatus.SUCCEEDED,
        BatchStatus.PARTIALLY_SUCCEEDED,
        BatchStatus.FAILED,
        BatchStatus.CANCELED,
        BatchStatus.EXPIRED,
    }
)


class OutcomeStatus(StrEnum):
    """What happened to one request of a batch."""

    SUCCEEDED = "succeeded"
    ERRORED = "errored"
    CANCELED = "canceled"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class RequestCounts:
    """Per-request tallies of a batch, as the provider reports them."""

    processing: int = 0
    succeeded: int = 0
    errored: int = 0
    canceled: int = 0
    expired: int = 0

    @property
    def total(self) -> int:
        """All requests of the batch."""
        return self.processing + self.succeeded + self.errored + self.canceled + self.expired


@dataclass(frozen=True, slots=True)
class BatchJob:
    """One provider batch, normalized.

    Attributes:
        provider: provider name.
        batch_id: the provider's id.
        status: our normalized status.
        provider_status: the provider's own status word, for reports.
        counts: request tallies (may stay zero until the batch ends, as on Anthropic).
        created_at / expires_at / ended_at: provider timestamps (UTC) when known.
        poll_after: a server hint, in seconds, for the next poll (None if none).
        errors: batch-level errors, e.g. the lines that failed a provider's input validation.
    """

    provider: str
    batch_id: str
    status: BatchStatus
    provider_status: str
    counts: RequestCounts = field(default_factory=RequestCounts)
    created_at: datetime | None = None
    expires_at: datetime | None = None
    ended_at: datetime | None = None
    poll_after: float | None = None
    errors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Provider text: it may echo a key, and it ends up in reports and logs.
        if self.errors:
            object.__setattr__(self, "errors", tuple(redact(e) for e in self.errors))


@dataclass(frozen=True, slots=True)
class RequestError:
    """Why one request did not succeed.

    `kind` is the provider's error type (e.g. `overloaded_error`) or the outcome itself
    (`expired`, `canceled`); `transient` says whether a retry round may succeed.
    """

    kind: str
    message: str
    transient: bool

    def __post_init__(self) -> None:
        # Provider text: it may echo a key, and it is stored in the record's `error`.
        object.__setattr__(self, "message", redact(self.message))

    def as_dict(self) -> dict[str, Any]:
        """The record form of the error."""
        return {"type": self.kind, "message": self.message, "transient": self.transient}


@dataclass(slots=True)
class Conversation:
    """An interview protocol's conversation before one outcome's answer: the turns so far (the
    record's transcript), their usage, and the question the outcome answers."""

    turns: list[dict[str, str]]
    usage: Usage | None  # None: some turn's usage was unusable (unknown)
    question: str


# Not frozen: one is built per interview (a million per large run), and a frozen dataclass's
# __init__ costs 3-4× more. Nothing mutates an outcome once parsed.
@dataclass(slots=True)
class RequestOutcome:
    """The normalized result of one request, joined to its request by `custom_id`."""

    custom_id: str
    status: OutcomeStatus
    text: str | None = None
    finish_reason: str | None = None
    # None: the provider's token counts were unusable (not whole numbers in range); the answer
    # is kept and its usage and cost are unknown
    usage: Usage | None = field(default_factory=Usage)
    error: RequestError | None = None
    provider_model: str | None = None
    # set in a multi-question interview (real time): what came before this answer
    conversation: Conversation | None = None
