"""The one exception tree of `interviews`.

Every error the pipeline raises on purpose is an `InterviewsError`; the CLI prints its message
(which always names the fix) and exits non-zero without a traceback.

```
InterviewsError
├── ConfigurationError            missing key/block, bad setting; the message says how to set it
├── InputError                    bad personas file, template or request file (names file + line)
├── CatalogError                  unknown model, no batch support, model retired
├── BudgetError                   the estimate exceeds --max-cost
├── LedgerError                   the run ledger disagrees with what is asked (e.g. changed input)
│   ├── AmbiguousBatchError       a lost batch cannot be identified safely; a person must decide
│   └── ForeignBatchError         a batch adopted after a lost create proved to be another run's
├── ProviderError                 .provider .status_code .request_id; raised `from` the SDK error
│   ├── TransientProviderError    408/409/429/>=500, connection errors, timeouts
│   └── PermanentProviderError    400/401/403/404/422 and everything else
├── UnknownBatchStatusError       a provider returned a status we do not map
├── BatchWaitTimeoutError         our own wait deadline passed before the batch ended
├── ResultParseError              a result line did not parse (names the file and line)
└── RunFailedError                a run ended with no interview answered
```

Transient versus permanent is decided by status code and exception type, never by message text.
"""

from __future__ import annotations

from interviews.redaction import redact


class InterviewsError(Exception):
    """Base class of every error `interviews` raises on purpose."""


class ConfigurationError(InterviewsError):
    """Missing or invalid configuration: credentials, settings, paths."""


class InputError(InterviewsError):
    """Bad user input; the message names the file, the line or field, and the fix."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class CatalogError(InterviewsError):
    """The requested model is unknown, lacks batch support or is retired."""


class BudgetError(InterviewsError):
    """The cost estimate exceeds the budget the user set."""


class PreflightError(InterviewsError):
    """A check before the run failed (`interviews check`); nothing was sent or spent."""


class LedgerError(InterviewsError):
    """The run ledger cannot serve the request safely."""


class AmbiguousBatchError(LedgerError):
    """A batch whose id was lost cannot be matched to exactly one provider batch."""


class ForeignBatchError(LedgerError):
    """A batch adopted while it was still running proved, by its results, to be another
    run's: its results are not used, and the chunk is submitted on the next run."""


class DiskFullError(InterviewsError):
    """The disk holding the data directory (files or the ledger) has no space left."""


class ProviderError(InterviewsError):
    """A provider call failed.

    The message is redacted (`interviews.redaction`): providers may echo the key they refused.

    Attributes:
        provider: provider name, e.g. "anthropic".
        status_code: HTTP status, or None for connection errors.
        request_id: the provider's request id when it sent one.
        retry_after: the server's hint, in seconds, before trying again (None if none).
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(redact(message))
        self.provider = provider
        self.status_code = status_code
        self.request_id = request_id
        self.retry_after: float | None = None


class TransientProviderError(ProviderError):
    """A provider failure worth retrying later (rate limit, overload, 5xx, network)."""


class PermanentProviderError(ProviderError):
    """A provider failure that retrying will not fix (bad request, auth, billing, not found)."""


class UnknownBatchStatusError(InterviewsError):
    """A provider reported a batch status this version does not know."""


class BatchWaitTimeoutError(InterviewsError):
    """The wait deadline passed before the batch reached a terminal state."""


class ResultParseError(InterviewsError):
    """A results line could not be parsed."""


class RunFailedError(InterviewsError):
    """A run ended without a single answered interview: that is a failure, not a success."""


TRANSIENT_STATUS_CODES = frozenset({408, 409, 429})


def is_transient_status(status_code: int | None) -> bool:
    """True for HTTP statuses that providers document as retryable (and for no status at all,
    which means the connection itself failed)."""
    if status_code is None:
        return True
    return status_code in TRANSIENT_STATUS_CODES or status_code >= 500


def is_transient(exc: BaseException) -> bool:
    """True when `exc` is a provider failure worth retrying at a coarser layer."""
    return isinstance(exc, TransientProviderError)
