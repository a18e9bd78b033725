"""What a batch run asks for: the typed parameters shared by flows, deployments and the CLI."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_MODEL = {
    "anthropic": "claude-sonnet-5-5",
    "openai": "gpt-6.1-terra",
    "vertex": "gemini-3.5-flash",
    "gemini": "gemini-3.8-flash",
}
DEFAULT_MAX_TOKENS = 2048
OPENAI_ENDPOINTS = ("/v1/chat/completions", "/v1/responses")


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
    record_files: bool = Field(
        default=True,
        title="Per-interview files",
        description="Write data/interviews/{custom_id}.json; off keeps only the run's "
        "consolidated runs/{run_id}/interviews.jsonl (much faster for very large runs).",
    )
    cleanup: bool = Field(
        default=False,
        title="Clean up at the provider",
        description="After download, delete the provider's copies (uploaded inputs, result "
        "files, GCS objects, finished batches) so health data does not linger; local copies "
        "stay.",
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
        return {
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
