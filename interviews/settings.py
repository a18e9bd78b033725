"""Process settings (pydantic-settings, environment prefix `INTERVIEWS_`).

Secrets never live here: API keys come from Prefect blocks or the provider's standard
environment variable (`ANTHROPIC_API_KEY`, ...).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from interviews.errors import ConfigurationError

# Each provider's standard environment variables: (API key, base URL).
PROVIDER_ENV = {
    "anthropic": ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"),
    "openai": ("OPENAI_API_KEY", "OPENAI_BASE_URL"),
}


class Settings(BaseSettings):
    """Defaults for paths, the ledger and the wait loop; each can be set as `INTERVIEWS_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="INTERVIEWS_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Root of every file the tool writes.")
    ledger_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the run ledger; default: SQLite at <data_dir>/ledger.db.",
    )
    poll_initial_seconds: float = Field(default=30.0, ge=0, description="First poll interval.")
    poll_max_seconds: float = Field(default=600.0, ge=0, description="Longest poll interval.")
    poll_factor: float = Field(default=1.5, ge=1, description="Growth of the poll interval.")
    wait_margin_hours: float = Field(
        default=2.0, ge=0, description="Extra time past a provider's window before giving up."
    )


def get_settings() -> Settings:
    """Read settings from the environment now (never at import time)."""
    return Settings()


def require_credentials(provider: str, block_name: str | None) -> None:
    """Fail fast, before any work, when neither a block name nor the provider's key env var is
    given. (Whether a named block exists is checked when it is loaded.)

    Raises:
        ConfigurationError: naming both ways to provide the key.
    """
    key_var, _ = PROVIDER_ENV[provider]
    if not block_name and not os.environ.get(key_var):
        raise ConfigurationError(
            f"no {provider} credentials: set {key_var} or pass --credentials-block NAME "
            f"(a saved {provider}-credentials block)"
        )
