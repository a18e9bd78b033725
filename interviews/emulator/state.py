"""The emulator's shared core: clock, config, faults, stats, every provider's batches and files."""

import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from interviews.emulator.clock import Clock
from interviews.emulator.faults import Faults, HttpFault, LineFault


@dataclass(frozen=True)
class EmulatorConfig:
    """Tunable behaviour; `POST /_emulator/config` updates it, reset restores the defaults."""

    processing_seconds: float = 1.0
    """How long (emulated seconds) a batch takes from creation until its last request is done."""


@dataclass
class ProviderStats:
    """Counters for one provider, so tests can assert what a client really sent."""

    batches_created: int = 0
    files_uploaded: int = 0
    """Files clients uploaded (files the emulator writes, such as batch output, do not count)."""
    requests_received: int = 0
    """Request lines across all created batches (not HTTP calls; those are in `calls`)."""
    faults_fired: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    """HTTP calls by `"<METHOD> <route path template>"`, faulted and rejected calls included."""

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "batches_created": self.batches_created,
            "files_uploaded": self.files_uploaded,
            "requests_received": self.requests_received,
            "faults_fired": self.faults_fired,
            "calls": dict(self.calls),
        }


class EmulatorState:
    """Everything the emulator remembers, safe to share between uvicorn's thread and tests.

    `lock` (re-entrant) guards batches, files, stats, faults and config; the clock has its own
    lock. Provider modules keep their batches in `batches[provider]` and their files (OpenAI
    Files, later Gemini files) in `files[provider]`, and hold `lock` while they read or change
    them.
    """

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = Clock()
        self._default_config = config or EmulatorConfig()
        self.config = self._default_config
        self.faults = Faults()
        self.batches: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self._stats: dict[str, ProviderStats] = {}

    def register_provider(self, provider: str) -> None:
        """Make `provider` known, so its stats, batch and file stores exist before any call."""
        with self.lock:
            self.batches.setdefault(provider, {})
            self.files.setdefault(provider, {})
            self._stats.setdefault(provider, ProviderStats())

    def now(self) -> float:
        """Current emulated time, in epoch seconds."""
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        """Fast-forward the clock; returns the new emulated time."""
        return self.clock.advance(seconds)

    def configure(self, **changes: Any) -> EmulatorConfig:
        """Update config fields (validated) and return the new config."""
        unknown = set(changes) - set(EmulatorConfig.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        seconds = changes.get("processing_seconds")
        if seconds is not None and (not isinstance(seconds, int | float) or seconds < 0):
            raise ValueError("processing_seconds must be a number >= 0")
        with self.lock:
            self.config = replace(self.config, **changes)
            return self.config

    def set_faults(self, faults: Faults) -> None:
        """Replace all current faults."""
        with self.lock:
            self.faults = faults

    def take_http_fault(self, provider: str, method: str, path: str) -> HttpFault | None:
        """The HTTP fault to answer this call with, if any (counted in stats when it fires)."""
        with self.lock:
            fault = self.faults.take_http(provider, method, path)
            if fault is not None:
                self.stats(provider).faults_fired += 1
            return fault

    def line_fault(self, custom_id: str) -> LineFault | None:
        """The outcome forced on `custom_id`, if any."""
        with self.lock:
            return self.faults.lines.get(custom_id)

    def take_truncation(self) -> bool:
        """Whether the results download being served now is cut short."""
        with self.lock:
            return self.faults.take_truncation()

    def stats(self, provider: str) -> ProviderStats:
        """The live counters of `provider` (mutate them only while holding `lock`)."""
        with self.lock:
            return self._stats.setdefault(provider, ProviderStats())

    def count_call(self, provider: str, call: str) -> None:
        """Record one HTTP call."""
        with self.lock:
            self.stats(provider).calls[call] += 1

    def stats_snapshot(self) -> dict[str, dict[str, Any]]:
        """All providers' counters, JSON-ready."""
        with self.lock:
            return {name: stats.snapshot() for name, stats in self._stats.items()}

    def reset(self) -> None:
        """Forget batches, files, faults and stats and restore the default config.

        The clock keeps its offset: time only moves forward.
        """
        with self.lock:
            for store in (*self.batches.values(), *self.files.values()):
                store.clear()
            for name in self._stats:
                self._stats[name] = ProviderStats()
            self.faults = Faults()
            self.config = self._default_config
