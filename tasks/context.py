"""What every task of a run needs to find its files, ledger and credentials.

Tasks receive this small, serializable context (names and paths, never secrets or clients) and
open the ledger and the provider client themselves.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import BaseModel

from blocks.credentials import on_loopback, resolve_credentials
from interviews.ledger import Ledger
from interviews.memory import return_large_blocks_promptly
from interviews.preparation import DataDirs, open_data_dir
from interviews.providers import BatchAdapter
from interviews.redaction import install_log_redaction
from interviews.settings import get_settings
from interviews.spec import BatchRunParameters


class RunContext(BaseModel):
    """Where a run's state lives and which credentials it uses."""

    provider: str
    data_dir: str
    ledger_url: str | None = None
    credentials_block: str | None = None
    records_subdir: str | None = None
    retry_flagged: bool = False  # flagged answers go into the next retry round
    run_id: str | None = None  # set once the run is prepared
    progress_artifact_id: str | None = None  # the run's progress artifact in the Prefect UI

    @property
    def dirs(self) -> DataDirs:
        """The data directory layout."""
        return open_data_dir(self.data_dir)

    @property
    def records_dir(self) -> Path:
        """Where per-interview records go: `interviews/`, or a subfolder of it."""
        root = self.dirs.interviews
        return root / self.records_subdir if self.records_subdir else root

    def ledger(self) -> Ledger:
        """The run ledger (one engine per URL per process)."""
        return _ledger(self.data_dir, self.ledger_url)

    def adapter(self) -> BatchAdapter:
        """A provider adapter built from the block or the provider's env var."""
        return resolve_credentials(self.provider, self.credentials_block).get_adapter()

    def on_loopback(self) -> bool:
        """Whether the provider is on this machine (the emulator)."""
        return on_loopback(resolve_credentials(self.provider, self.credentials_block))


@cache
def _ledger(data_dir: str, url: str | None) -> Ledger:
    return open_data_dir(data_dir).open_ledger(url)


def make_context(params: BatchRunParameters) -> RunContext:
    """Build the context from a run's parameters and the settings (and set up the process:
    every log handler redacts secrets, large blocks go back to the system; flows call this
    first)."""
    install_log_redaction()  # defence in depth; provider errors are redacted at the source
    return_large_blocks_promptly()  # a long run's resident size stays near its live heap
    settings = get_settings()
    return RunContext(
        provider=params.provider,
        data_dir=str(params.data_dir or settings.data_dir),
        ledger_url=settings.ledger_url,
        credentials_block=params.credentials_block,
        records_subdir=params.records_subdir,
        retry_flagged=params.retry_flagged,
    )
