"""A small client for the emulator's `/_emulator/` control routes (tests and the demo)."""

from types import TracebackType
from typing import Any, Self

import httpx


class EmulatorControl:
    """Drive a running emulator: reset it, move its clock, configure it, inject faults.

    Example::

        control = EmulatorControl(server.url)
        control.set_faults(http=[{"provider": "anthropic", "status": 429, "count": 1}])
        control.advance(3600)
    """

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        # trust_env=False: a loopback emulator must never be reached through a proxy. No
        # keep-alive: calls come seconds apart, and a pooled connection the server closed when
        # idle (uvicorn: after 5 s) would fail the next call with a connection reset.
        self._client = httpx.Client(
            base_url=url.rstrip("/") + "/_emulator",
            timeout=timeout,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        response = self._client.request(method, path, json=json)
        response.raise_for_status()
        return response.json()

    def health(self) -> dict[str, Any]:
        """Liveness, the known providers and the emulated time."""
        return self._call("GET", "/health")

    def reset(self) -> None:
        """Clear batches, files, GCS objects, faults and stats; restore the default config."""
        self._call("POST", "/reset")

    def advance(self, seconds: float) -> dict[str, Any]:
        """Fast-forward the emulated clock by `seconds`."""
        return self._call("POST", "/advance", {"seconds": seconds})

    def configure(
        self,
        *,
        processing_seconds: float | None = None,
        vertex_output_files: int | None = None,
    ) -> dict[str, Any]:
        """Change settings (unset arguments stay as they are); returns the full config."""
        changes = {
            "processing_seconds": processing_seconds,
            "vertex_output_files": vertex_output_files,
        }
        return self._call("POST", "/config", {k: v for k, v in changes.items() if v is not None})

    def set_faults(
        self,
        faults: dict[str, Any] | None = None,
        *,
        http: list[dict[str, Any]] | None = None,
        lines: dict[str, dict[str, Any]] | None = None,
        truncate_results: bool | int = False,
    ) -> None:
        """Replace all faults (format in `interviews.emulator.faults`); no arguments clears them.

        Pass the fault JSON as one dict, or its parts as keywords.
        """
        if faults is None:
            faults = {
                "http": http or [],
                "lines": lines or {},
                "truncate_results": truncate_results,
            }
        self._call("POST", "/faults", faults)

    def clear_faults(self) -> None:
        """Remove every fault."""
        self._call("POST", "/faults", {})

    def stats(self) -> dict[str, Any]:
        """Per-provider counters (batches, uploads, request lines, faults fired, real-time
        requests, calls)."""
        return self._call("GET", "/stats")

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
