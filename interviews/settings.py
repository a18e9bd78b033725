"""Process settings (pydantic-settings, environment prefix `INTERVIEWS_`).

Secrets never live here: API keys come from Prefect blocks or the provider's standard
environment variable (`ANTHROPIC_API_KEY`, ...).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from interviews.errors import ConfigurationError

# What each provider needs from the environment when no credentials block is named: a list of
# requirements, each met by any one of its variables. (Vertex authenticates with Application
# Default Credentials, e.g. GOOGLE_APPLICATION_CREDENTIALS, and needs a project and a bucket.)
PROVIDER_ENV: dict[str, tuple[tuple[str, ...], ...]] = {
    "anthropic": (("ANTHROPIC_API_KEY",),),
    "openai": (("OPENAI_API_KEY",),),
    "vertex": (("GOOGLE_CLOUD_PROJECT",), ("INTERVIEWS_GCS_BUCKET",)),
    "gemini": (("GEMINI_API_KEY", "GOOGLE_API_KEY"),),
}


class Settings(BaseSettings):
    """Defaults for paths, the ledger and the wait loop; each can be set as `INTERVIEWS_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="INTERVIEWS_", extra="ignore")

    data_dir: str = Field(
        default="data",
        description="Root of every file the tool writes: a folder, or an object-store URL "
        "(gs://bucket/prefix, s3://…; then INTERVIEWS_LEDGER_URL must name a shared database).",
    )
    ledger_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the run ledger; default: SQLite at <data_dir>/ledger.db.",
    )
    poll_initial_seconds: float = Field(default=30.0, ge=0, description="First poll interval.")
    poll_max_seconds: float = Field(default=600.0, ge=0, description="Longest poll interval.")
    poll_factor: float = Field(default=1.5, ge=1, description="Growth of the poll interval.")
    max_server_wait_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Longest wait a provider's retry-after / poll hint may ask for; longer hints "
        "are cut to this (and never past the run's deadline), and the cut is logged.",
    )
    lease_seconds: float = Field(
        default=90.0,
        ge=5,
        description="How long a run stays claimed by a process that stopped renewing its "
        "lease (a killed process on another machine); renewed every third of it. On the same "
        "machine a dead process's claim is taken over at once.",
    )
    wait_margin_hours: float = Field(
        default=2.0, ge=0, description="Extra time past a provider's window before giving up."
    )
    realtime_concurrency: int = Field(
        default=8, ge=1, le=256, description="Real-time requests in flight at once, per run."
    )
    realtime_retry_initial_seconds: float = Field(
        default=1.0,
        ge=0,
        description="First backoff of the Google SDK's real-time retries (it has no server "
        "hint to follow; the Anthropic and OpenAI SDKs follow retry-after).",
    )
    now: datetime | None = Field(
        default=None,
        description="an ISO-8601 date-time that freezes the project's clock, e.g. "
        "2026-11-01T12:00:00Z; a date alone is midnight UTC, no zone is UTC; unset: real time",
    )

    @field_validator("now", "ledger_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("now")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    max_line_bytes: int = Field(
        default=64 << 20,
        ge=1024,
        description="Longest line read from a results (or other JSONL) file, in bytes; a longer "
        "line is reported and skipped, never read whole.",
    )


def get_settings() -> Settings:
    """Read settings from the environment now (never at import time).

    Raises:
        ConfigurationError: one line naming the variable, what is wrong and what it expects.
    """
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(_settings_problem(exc)) from None


def _settings_problem(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else ""
        field = Settings.model_fields.get(name)
        shown = "" if "url" in name else f"={str(err['input'])[:60]!r}"  # URLs may hold passwords
        hint = f" ({field.description.rstrip('.')})" if field and field.description else ""
        problems.append(f"INTERVIEWS_{name.upper()}{shown}: {err['msg']}{hint}")
    return "invalid " + "; ".join(problems)


def require_credentials(provider: str, block_name: str | None) -> None:
    """Fail fast, before any work, when neither a block name nor the provider's environment
    variables are given. (Whether a named block exists is checked when it is loaded.)

    Raises:
        ConfigurationError: naming both ways to provide the credentials.
    """
    if block_name:
        return
    missing = [
        " or ".join(names)
        for names in PROVIDER_ENV[provider]
        if not any(os.environ.get(name) for name in names)
    ]
    if missing:
        raise ConfigurationError(
            f"no {provider} credentials: set {', '.join(missing)} or pass "
            "--credentials-block NAME (a saved block; see the README)"
        )


def env_value(*names: str) -> str | None:
    """The first of `names` that is set in the environment."""
    return next((os.environ[name] for name in names if os.environ.get(name)), None)
