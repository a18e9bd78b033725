"""Process settings (pydantic-settings, environment prefix `INTERVIEWS_`).

Secrets never live here: API keys come from Prefect blocks or the provider's standard
environment variable (`ANTHROPIC_API_KEY`, ...).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
