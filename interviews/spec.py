"""What a batch run asks for: the typed parameters shared by flows, deployments and the CLI."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_MODEL = {"anthropic": "claude-sonnet-5-5"}
DEFAULT_MAX_TOKENS = 2048


class BatchRunParameters(BaseModel):
    """One batch interview run. Field titles and descriptions become the Prefect UI form."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["anthropic"] = Field(
        default="anthropic", title="Provider", description="Which batch API to use."
    )
    model: str = Field(
        default=DEFAULT_MODEL["anthropic"],
        title="Model",
        description="Model id or alias from the catalog (`interviews models`).",
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

    def spec(self, personas_sha256: str) -> dict[str, object]:
        """What identifies the run's work (resuming with a different spec is refused)."""
        return {
            "provider": self.provider,
            "model": self.model,
            "personas_sha256": personas_sha256,
            "count": self.count,
            "start_index": self.start_index,
            "max_tokens": self.max_tokens,
            "system_template": self.system_template,
            "question_template": self.question_template,
        }
