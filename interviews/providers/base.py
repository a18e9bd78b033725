"""The adapter interface every provider implements.

An adapter maps four provider verbs (create, retrieve, cancel, results) plus lost-batch lookup
onto the real SDK, and turns provider shapes into `interviews.batch_types`. It never loops,
never sleeps (the one wait loop is `interviews.polling`) and never retries beyond the SDK's own
per-HTTP-call retries.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import orjson

from interviews.batch_types import BatchJob, RequestOutcome
from interviews.errors import PermanentProviderError, ResultParseError
from interviews.jsonl import OverlongLine, max_line_bytes, read_lines
from interviews.requests import CanonicalRequest
from interviews.result_lines import ResultProblems, bad_id_problem, shown, valid_custom_id


@contextlib.contextmanager
def gone_is_fine() -> Iterator[None]:
    """Treat "not found" as done: cleanup may run twice, or after someone else's."""
    try:
        yield
    except PermanentProviderError as exc:
        if exc.status_code != 404:
            raise


def label_value(text: str) -> str:
    """`text` as a GCP label value: lowercase letters, digits, `_` and `-`, at most 63 chars."""
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower())[:63]


@dataclass(frozen=True)
class BatchTag:
    """What identifies one of our batches at the provider, to find it again after a crash.

    Attributes:
        run_id: the run the batch belongs to.
        model: the catalog model id the chunk's requests are for.
        chunk_key: stable key of the chunk (run, round, index).
        fingerprint: sha256 of the chunk's provider file.
        request_count: number of requests in the chunk.
        intent_at: when the intent row was written (the batch was created after it).
    """

    run_id: str
    model: str
    chunk_key: str
    fingerprint: str
    request_count: int
    intent_at: datetime

    @property
    def owner(self) -> str:
        """8 capitals that name this chunk's batch at the provider and nothing else.

        Derived from the chunk's key (which names its run) and the instant its intent was
        committed to the ledger, so two runs never share one (not even runs of the same id in
        two ledgers), and a re-run of the same chunk computes the same.
        """
        seed = f"{self.chunk_key}|{self.intent_at.isoformat()}".encode()
        return base64.b32encode(hashlib.sha256(seed).digest()).decode()[:8]


# How a request line asks the provider to cache its prompt prefix, for an interview protocol
# whose every question resends the persona and the conversation so far: "batch" keeps the
# prefix between one question's batch and the next (hours), "realtime" for the minutes of a
# conversation held at once; None asks for nothing (providers with implicit caching still
# cache). Each adapter marks it the way its provider documents (see `build_line`).
CacheMode = Literal["batch", "realtime"] | None


@dataclass(frozen=True)
class FoundBatch:
    """A provider batch that may be the one an interrupted create call made.

    Attributes:
        job: the batch, normalized.
        proven: the provider's own data shows it is the chunk's (OpenAI metadata, a Google
            display name, an ended Anthropic batch's tagged results); False for a running
            Anthropic batch, whose results are checked when they are downloaded.
    """

    job: BatchJob
    proven: bool = True


class BatchAdapter(ABC):
    """Talks to one provider's batch API through its official SDK."""

    provider: ClassVar[str]
    max_requests: ClassVar[int]
    max_bytes: ClassVar[int]
    # How long the provider may take; the wait deadline is created_at + window + margin.
    window: ClassVar[timedelta]

    @staticmethod
    @abstractmethod
    def build_line(
        request: CanonicalRequest,
        *,
        model: str,
        max_tokens: int,
        endpoint: str | None = None,
        cache: CacheMode = None,
    ) -> dict[str, Any]:
        """The provider-ready request line for one canonical request (pure, no network).

        `endpoint` selects among a provider's endpoints where it has several (OpenAI);
        `cache` marks the prompt for caching (Anthropic: `cache_control`; OpenAI:
        `prompt_cache_key`; Gemini and Vertex AI cache implicitly, with nothing to mark).
        `continue_line` keeps the marks as the conversation grows.
        """

    @staticmethod
    @abstractmethod
    def continue_line(
        line: dict[str, Any], answer: str, question: str, *, last: bool = False
    ) -> dict[str, Any]:
        """`line` (a request line of this provider) carried one turn further: the model's
        `answer` to it, then the interviewer's next `question` (a new line; `line` is kept).

        This is how an interview protocol goes on: in batch mode each question's batch is built
        from the previous one's lines, in real time each call from the previous call's line.
        `last`: no question follows, so nothing needs writing to the prompt cache (a cache
        write costs more than plain input; see the Anthropic adapter).
        """

    @abstractmethod
    def check_access(self, model: str) -> str:
        """Look `model` up at the provider, spending nothing: the key is accepted and the model
        is served. Returns what was asked (e.g. `GET /v1/models/{model}`).

        Raises:
            ProviderError: 401/403 (the key), 404 (no such model), or the API is unreachable.
        """

    @abstractmethod
    def count_input_tokens(self, line: dict[str, Any], model: str) -> int:
        """The input tokens the provider would bill for one request `line` of this adapter
        (built for `model`), from its count-tokens endpoint: nothing is generated and nothing
        is spent.

        Raises:
            ProviderError: the key, the model or the endpoint refused it.
        """

    def check_storage(self) -> str | None:
        """Make sure the provider-side storage a batch needs is writable (Vertex AI: its GCS
        bucket), by writing and deleting one small object. None: nothing to check."""
        return None

    @abstractmethod
    def create(self, lines_path: Path, *, tag: BatchTag) -> BatchJob:
        """Stage the provider lines in `lines_path` and create one batch from them."""

    @abstractmethod
    def retrieve(self, batch_id: str) -> BatchJob:
        """One status read, normalized."""

    @abstractmethod
    def cancel(self, batch_id: str) -> BatchJob:
        """Ask the provider to cancel; finished requests keep their results."""

    @abstractmethod
    def download_results(self, batch_id: str, dest: Path) -> int:
        """Stream the raw results, exactly as returned, into `dest`; return the bytes written."""

    @staticmethod
    @abstractmethod
    def outcome_from_line(value: dict[str, Any]) -> RequestOutcome:
        """Normalize one parsed result line (raises KeyError/TypeError/ValueError if foreign)."""

    @staticmethod
    @abstractmethod
    def line_custom_id(line: dict[str, Any]) -> str:
        """The custom id carried by one of this provider's request lines."""

    @classmethod
    def parse_results(
        cls, path: Path, problems: ResultProblems | None = None
    ) -> Iterator[RequestOutcome]:
        """Read a raw results file (as downloaded, or downloaded by hand) into outcomes.

        Results are untrusted: a line that is longer than the line limit (never read whole),
        not JSON, not this provider's shape, or whose custom id is not a valid id (so it can
        never name a file outside the records folder) is reported to `problems` and skipped;
        an answer whose token counts are unusable is kept with `usage=None` and reported.

        Raises:
            ResultParseError: on the first bad line, when no `problems` collects them.
        """
        limit = max_line_bytes()
        with path.open("rb") as handle:
            for number, raw in read_lines(handle, limit):
                outcome, problem = cls._read_line(raw, limit)
                if outcome is not None:
                    if outcome.usage is None and problems is not None:
                        problems.unknown_usage(path, number, outcome.custom_id)
                    yield outcome
                elif problem is not None:
                    if problems is None:
                        raise ResultParseError(f"{path}:{number}: {problem}")
                    problems.skip(path, number, problem)

    @classmethod
    def _read_line(
        cls, raw: bytes | OverlongLine, limit: int
    ) -> tuple[RequestOutcome | None, str | None]:
        """One results line: (outcome, None), (None, what is wrong), or (None, None) if blank."""
        if isinstance(raw, OverlongLine):
            return None, (
                f"{raw.problem(limit)}; line skipped (never read whole), the raw file is kept. "
                "If the answer is real, raise INTERVIEWS_MAX_LINE_BYTES; otherwise fetch the "
                "results again (--refetch-results)"
            )
        try:
            outcome = cls.outcome_from_line(orjson.loads(raw))
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            if not raw.strip():  # a blank line (checked only here: rare, and costly)
                return None, None
            return None, (
                f"not a {cls.provider} batch result line ({shown(exc)}); line skipped, the raw "
                "file is kept; fetch the results again (--refetch-results)"
            )
        if not valid_custom_id(outcome.custom_id):
            return None, bad_id_problem(outcome.custom_id)
        return outcome, None

    @abstractmethod
    def cleanup(self, batch_id: str) -> int:
        """Delete what the provider keeps of an ended batch (uploaded inputs, result files,
        staged objects), so health data does not linger there; the local copies stay.

        Returns:
            How many provider-side objects were deleted (already-gone ones are skipped).
        """

    @abstractmethod
    def find_batches(self, tag: BatchTag) -> list[FoundBatch]:
        """Provider batches that are (`proven`) or may be the one created for `tag`, for
        crash recovery; batches shown to be someone else's are left out."""

    def check_owner(self, results_path: Path, tag: BatchTag) -> None:
        """Raise `ForeignBatchError` if downloaded results prove the batch is not the one
        created for `tag`. Batches proven at adoption need no check (the default)."""
        return None
