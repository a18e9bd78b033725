"""What a batch run asks for: the typed parameters shared by flows, deployments and the CLI."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_MODEL = {
    "anthropic": "claude-sonnet-5-5",
    "openai": "gpt-6.1-terra",
    "vertex": "gemini-3.5-flash",
    "gemini": "gemini-3.8-flash",
}
DEFAULT_MAX_TOKENS = 2048
OPENAI_ENDPOINTS = ("/v1/chat/completions", "/v1/responses")
PROVIDERS = tuple(DEFAULT_MODEL)
# a relative folder of plain names: records can never be written outside the data directory
_SUBDIR = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")


def parse_target(target: str) -> tuple[str, str | None]:
    """Split a `provider` or `provider:model` target.

    Raises:
        ValueError: the provider is not one of the four.
    """
    provider, _, model = target.strip().partition(":")
    if provider not in PROVIDERS:
        raise ValueError(f"target {target!r}: the provider must be one of {', '.join(PROVIDERS)}")
    return provider, model.strip() or None


class BatchRunParameters(BaseModel):
    """One batch interview run. Field titles and descriptions become the Prefect UI form."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["anthropic", "openai", "vertex", "gemini"] = Field(
        default="anthropic", title="Provider", description="Which batch API to use."
    )
    model: str | None = Field(
        default=None,
        title="Model",
        description="Model id or alias from the catalog (`interviews models`); empty: the "
        "provider's default.",
    )
    personas: str = Field(
        title="Personas file",
        description="Path of the matched-personas file (JSONL or a JSON array).",
    )
    count: int | None = Field(
        default=None, ge=1, title="Count", description="How many personas; empty means all."
    )
    start_index: int = Field(
        default=0, ge=0, title="Start index", description="0-based index of the first persona."
    )
    max_tokens: int = Field(
        default=DEFAULT_MAX_TOKENS,
        ge=1,
        le=300_000,
        title="Max tokens",
        description="Longest answer, in output tokens.",
    )
    system_template: str | None = Field(
        default=None, title="System template", description="Jinja2 file; empty: the default."
    )
    question_template: str | None = Field(
        default=None, title="Question template", description="Jinja2 file; empty: the default."
    )
    protocol: str | None = Field(
        default=None,
        title="Interview protocol",
        description="YAML or JSON file of several questions (with optional follow-ups), asked "
        "in order as one conversation; replaces the question template. Batch runs send one "
        "batch per question, carrying the conversation so far. Empty: the single first "
        "question.",
    )
    prompt_cache: bool = Field(
        default=True,
        title="Prompt caching",
        description="With an interview protocol, mark each question's repeated prefix (the "
        "persona and the conversation so far) for the provider's prompt cache: Anthropic "
        "cache_control (1 h in batches), OpenAI prompt_cache_key; Gemini and Vertex AI cache "
        "implicitly. The report shows the saving next to the uncached cost. Off: no marks.",
    )
    openai_endpoint: Literal["/v1/chat/completions", "/v1/responses"] = Field(
        default="/v1/chat/completions",
        title="OpenAI endpoint",
        description="OpenAI only: the endpoint each batch line calls.",
    )
    max_rounds: int = Field(
        default=2,
        ge=0,
        le=10,
        title="Retry rounds",
        description="How many times requests that failed for a passing reason (rate limits, "
        "overload, expiry, cancellation) go into a new batch; permanent errors never do.",
    )
    retry_flagged: bool = Field(
        default=False,
        title="Retry flagged answers",
        description="Send answers flagged refusal, breaks_character, empty or "
        "contradicts_record again in the next retry round (within Retry rounds); the new "
        "answer replaces a flagged one, a failure never does.",
    )
    detach: bool = Field(
        default=False,
        title="Detach",
        description="End after submitting; `interviews collect` (or the collect-batches "
        "deployment) finishes the run when its batches end.",
    )
    max_cost_usd: float | None = Field(
        default=None,
        gt=0,
        title="Max cost (USD)",
        description="Refuse to submit when the estimated batch cost is higher; empty: no limit.",
    )
    preflight: bool = Field(
        default=False,
        title="Check first",
        description="Before anything else, run the checks of `interviews check` (credentials, "
        "the key and model at the provider, batch support, the staging bucket, the estimate "
        "under Max cost) and stop, spending nothing, if one fails.",
    )
    record_files: bool = Field(
        default=True,
        title="Per-interview files",
        description="Write data/interviews/{custom_id}.json; off keeps only the run's "
        "consolidated runs/{run_id}/interviews.jsonl (much faster for very large runs).",
    )
    targets: list[str] = Field(
        default_factory=list,
        title="Compare targets",
        description="Interview the same personas through several `provider` or "
        "`provider:model` targets at once (e.g. `anthropic`, `openai:gpt-6.1-terra`); they "
        "replace Provider and Model. Each target is its own run, `{run_id}-{provider}-{model}`, "
        "with records in data/interviews/{provider}/{model}/. Empty: just Provider and Model.",
    )
    chunk_size: int | None = Field(
        default=None,
        ge=1,
        title="Requests per batch",
        description="Split into batches of at most this many requests; empty: as large as the "
        "provider allows (requests and bytes). Smaller batches each finish sooner.",
    )
    records_subdir: str | None = Field(
        default=None,
        title="Records subfolder",
        description="Write per-interview records to data/interviews/{this}/ rather than "
        "data/interviews/ (compare runs set it to {provider}/{model}).",
    )
    cleanup: bool = Field(
        default=False,
        title="Clean up at the provider",
        description="After download, delete the provider's copies (uploaded inputs, result "
        "files, GCS objects, finished batches) so health data does not linger; local copies "
        "stay.",
    )
    refetch_results: bool = Field(
        default=False,
        title="Fetch results again",
        description="Download the results of this run's ended batches again rather than reuse "
        "the saved files (after a bad results line); each earlier file is kept, renamed "
        "`….replaced-N.jsonl`, and answers already recorded are never replaced by failures.",
    )
    retry_canceled: bool = Field(
        default=False,
        title="Retry canceled requests",
        description="After `interviews cancel`, a run sends nothing more (collect only "
        "converts what finished). Set this on a re-run of its run id to retry the canceled "
        "requests in retry rounds after all.",
    )
    run_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
        title="Run id",
        description="Name of the run; re-using it resumes the run. Empty: a new id.",
    )
    credentials_block: str | None = Field(
        default=None,
        title="Credentials block",
        description="Name of the provider's credentials block; empty: the provider's env var.",
    )
    data_dir: str | None = Field(
        default=None, title="Data directory", description="Where files go; empty: ./data."
    )

    @field_validator("targets")
    @classmethod
    def _known_targets(cls, targets: list[str]) -> list[str]:
        for target in targets:
            parse_target(target)
        if len(set(targets)) != len(targets):
            raise ValueError("a target is listed twice")
        return targets

    @field_validator("records_subdir")
    @classmethod
    def _relative_subdir(cls, value: str | None) -> str | None:
        if value is not None and (not _SUBDIR.match(value) or ".." in value.split("/")):
            raise ValueError(
                "records_subdir must be a relative folder of letters, digits, `_`, `.` and `-` "
                "(such as `anthropic/claude-sonnet-5-5`)"
            )
        return value

    @property
    def model_id(self) -> str:
        """The model asked for, or the provider's default."""
        return self.model or DEFAULT_MODEL[self.provider]

    @property
    def endpoint(self) -> str | None:
        """The provider endpoint option, where the provider has one."""
        return self.openai_endpoint if self.provider == "openai" else None

    def spec(self, personas_sha256: str) -> dict[str, object]:
        """What identifies the run's work (resuming with a different spec is refused)."""
        spec: dict[str, object] = {
            "provider": self.provider,
            "model": self.model_id,
            "endpoint": self.endpoint,
            "personas_sha256": personas_sha256,
            "count": self.count,
            "start_index": self.start_index,
            "max_tokens": self.max_tokens,
            "system_template": self.system_template,
            "question_template": self.question_template,
        }
        if self.chunk_size is not None:  # only when set, so older runs keep their fingerprint
            spec["chunk_size"] = self.chunk_size
        if self.protocol is not None:  # likewise
            spec["protocol"] = self.protocol
        if not self.prompt_cache:  # likewise: only when it changes the request lines
            spec["prompt_cache"] = False
        return spec
