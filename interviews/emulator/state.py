"""The emulator's shared core: clock, config, faults, stats, every provider's batches and files."""

import fnmatch
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from interviews.emulator.clock import Clock
from interviews.emulator.faults import Faults, HttpFault, LineFault
from interviews.emulator.gcs import GcsObjects
from interviews.emulator.prompt_cache import PromptCache


@dataclass(frozen=True)
class EmulatorConfig:
    """Tunable behaviour; `POST /_emulator/config` updates it, reset restores the defaults."""

    processing_seconds: float = 1.0
    """How long (emulated seconds) a batch takes from creation until its last request is done."""
    vertex_output_files: int = 1
    """Prediction files a Vertex job writes (1: `predictions.jsonl`; N: `predictions_0000k`)."""


@dataclass
class ProviderStats:
    """Counters for one provider, so tests can assert what a client really sent."""

    batches_created: int = 0
    files_uploaded: int = 0
    """Files clients uploaded (files the emulator writes, such as batch output, do not count).

    For Vertex: objects clients uploaded to the GCS emulator (added in `stats_snapshot`).
    """
    requests_received: int = 0
    """Request lines across all created batches (not HTTP calls; those are in `calls`)."""
    faults_fired: int = 0
    realtime_requests: int = 0
    """Real-time generation calls (`/v1/messages`, `:generateContent`, …) that reached the
    provider: answered or rejected as invalid. Calls answered by an HTTP fault are not counted
    (they are in `calls`), so a retried 429 counts once and a duplicate call twice."""
    calls: Counter[str] = field(default_factory=Counter)
    """HTTP calls by `"<METHOD> <route path template>"`, faulted and rejected calls included."""

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "batches_created": self.batches_created,
            "files_uploaded": self.files_uploaded,
            "requests_received": self.requests_received,
            "faults_fired": self.faults_fired,
            "realtime_requests": self.realtime_requests,
            "calls": dict(self.calls),
        }


class EmulatorState:
    """Everything the emulator remembers, safe to share between uvicorn's thread and tests.

    `lock` (re-entrant) guards batches, files, stats, faults and config; the clock has its own
    lock. Provider modules keep their batches in `batches[provider]` and their files (OpenAI
    and Gemini Files) in `files[provider]`, and hold `lock` while they read or change them.
    Vertex jobs reach Cloud Storage through `gcs`, attached by whoever started it.
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
        self.gcs: GcsObjects | None = None
        """Where Vertex jobs read input and write predictions; set by whoever starts GCS."""
        self.prompt_cache = PromptCache()
        """The prompt prefixes every provider holds (interviews/emulator/prompt_cache.py)."""
        self._reset_hooks: list[Callable[[], None]] = []
        # Uploads seen by other servers (GCS) are counted under their own lock: the GCS thread
        # reports them while a Vertex call may hold `lock` and wait on that same thread.
        self._upload_lock = threading.Lock()
        self._external_uploads: Counter[str] = Counter()

    def count_external_upload(self, provider: str) -> None:
        """One file a client uploaded somewhere else for `provider` (GCS input for Vertex).

        Never takes `lock`, so another server's thread can call it at any time.
        """
        with self._upload_lock:
            self._external_uploads[provider] += 1

    def attach_gcs(self, gcs: GcsObjects, wipe: Callable[[], None] | None = None) -> None:
        """Use `gcs` for Vertex I/O; `wipe` (if given) runs at every reset."""
        with self.lock:
            self.gcs = gcs
            if wipe is not None:
                self._reset_hooks.append(wipe)

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
        files = changes.get("vertex_output_files")
        if files is not None and (
            not isinstance(files, int) or isinstance(files, bool) or not 1 <= files <= 1000
        ):
            raise ValueError("vertex_output_files must be an int between 1 and 1000")
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
        """The outcome forced on `custom_id`, if any: by exact key, or by a key that is a
        shell-style pattern (`interview_4-*`, for ids a client decorates with a suffix)."""
        with self.lock:
            lines = self.faults.lines
            fault = lines.get(custom_id)
            if fault is None:
                for key, value in lines.items():
                    if "*" in key and fnmatch.fnmatchcase(custom_id, key):
                        return value
            return fault

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

    def count_realtime(self, provider: str) -> None:
        """Record one real-time generation call that got past the fault layer."""
        with self.lock:
            self.stats(provider).realtime_requests += 1

    def stats_snapshot(self) -> dict[str, dict[str, Any]]:
        """All providers' counters, JSON-ready."""
        with self.lock:
            snapshot = {name: stats.snapshot() for name, stats in self._stats.items()}
        with self._upload_lock:
            for name, count in self._external_uploads.items():
                if name in snapshot:
                    snapshot[name]["files_uploaded"] += count
        return snapshot

    def reset(self) -> None:
        """Forget batches, files, faults and stats, restore the default config, wipe GCS objects.

        The clock keeps its offset: time only moves forward. GCS buckets are kept.
        """
        with self.lock:
            for hook in self._reset_hooks:
                hook()
            for store in (*self.batches.values(), *self.files.values()):
                store.clear()
            for name in self._stats:
                self._stats[name] = ProviderStats()
            with self._upload_lock:
                self._external_uploads.clear()
            self.faults = Faults()
            self.config = self._default_config
            self.prompt_cache.clear()
