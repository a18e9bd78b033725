"""The emulator's clock: real time plus an offset that tests fast-forward."""

import threading
import time
from datetime import UTC, datetime


class Clock:
    """Wall-clock time shifted by a non-negative offset.

    Real time keeps flowing (so the demo advances on its own), while `advance` jumps ahead
    so that a "24 h" batch ends in milliseconds. The offset only grows: time never runs
    backwards for clients that cache timestamps.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0

    def now(self) -> float:
        """Current emulated time, in epoch seconds."""
        with self._lock:
            return time.time() + self._offset

    @property
    def offset(self) -> float:
        """Seconds the clock has been advanced in total."""
        with self._lock:
            return self._offset

    def advance(self, seconds: float) -> float:
        """Jump `seconds` (≥ 0) ahead and return the new emulated time."""
        if seconds < 0:
            raise ValueError("the emulator clock only moves forward; seconds must be >= 0")
        with self._lock:
            self._offset += seconds
            return time.time() + self._offset


def isoformat(epoch: float | None) -> str | None:
    """RFC 3339 UTC timestamp with a `Z` suffix, as the providers send it (None stays None)."""
    if epoch is None:
        return None
    text = datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z")
