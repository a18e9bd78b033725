"""Run the emulator: in a background thread (tests, demo) or blocking (CLI)."""

import ipaddress
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

import uvicorn

from interviews.emulator.app import create_app
from interviews.emulator.gcs import DEFAULT_BUCKET, GcsObjects, GcsServer, GcsUnavailableError
from interviews.emulator.routing import hold_blocking
from interviews.emulator.state import EmulatorState

logger = logging.getLogger(__name__)

_START_TIMEOUT = 10.0


def _require_loopback(host: str) -> None:
    """The emulator accepts any key and serves test data: never expose it beyond this machine."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the emulator binds only to loopback (127.0.0.1, ::1), not {host!r}")


def start_gcs(
    state: EmulatorState, host: str, port: int = 0, data_dir: Path | None = None
) -> GcsServer:
    """Start a GCS emulator (in memory, or in `data_dir`) and attach it to `state` (I/O and
    wipe on reset).

    Objects clients upload count as Vertex `files_uploaded` (the job input they stage), and
    the objects clients read (Vertex results) meet Vertex HTTP faults (see `faults`).
    """

    def on_upload() -> None:
        state.count_external_upload("vertex")

    def on_download(path: str) -> int | None:
        fault = state.take_http_fault("vertex", "GET", path)
        if fault is None:
            return None
        if fault.delay:
            hold_blocking(state, fault)
        return fault.status

    gcs = GcsServer(host, port, DEFAULT_BUCKET, on_upload, on_download, data_dir).start()
    state.attach_gcs(GcsObjects(gcs.url), wipe=gcs.wipe)
    return gcs


class EmulatorServer:
    """uvicorn serving `create_app(state)` on a loopback port in a daemon thread, plus GCS.

    `port=0` picks a free port; `.url` is known once `start()` returns. gcp-storage-emulator
    (bucket `interviews-emulator`; in memory, or in `gcs_dir` when given) runs on another free
    loopback port, `.gcs_url`; `POST /_emulator/reset` deletes its objects. Use as a context
    manager, or call `start()`/`stop()`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state: EmulatorState | None = None,
        gcs_dir: Path | None = None,
    ) -> None:
        _require_loopback(host)
        self.host = host
        self.port = port
        self.state = state or EmulatorState()
        self.gcs_bucket = DEFAULT_BUCKET
        self.gcs_dir = gcs_dir
        self._gcs: GcsServer | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:54321`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def anthropic_base_url(self) -> str:
        """`base_url` for `anthropic.Anthropic`."""
        return self.url + "/anthropic"

    @property
    def openai_base_url(self) -> str:
        """`base_url` for `openai.OpenAI` (it includes `/v1`, as the SDK expects)."""
        return self.url + "/openai/v1"

    @property
    def vertex_base_url(self) -> str:
        """genai `HttpOptions(base_url=…)` (vertexai=True) and GAPIC/aiplatform `api_endpoint`."""
        return self.url + "/vertex"

    @property
    def gemini_base_url(self) -> str:
        """genai `HttpOptions(base_url=…)` for the Gemini Developer API (api_key)."""
        return self.url + "/gemini"

    @property
    def gcs_url(self) -> str:
        """google-cloud-storage `client_options={"api_endpoint": …}` (after `start()`)."""
        if self._gcs is None:
            raise RuntimeError(
                "the GCS emulator is not running: call start() first, and install "
                "gcp-storage-emulator"
            )
        return self._gcs.url

    def start(self) -> Self:
        """Bind, start serving and wait until requests are accepted."""
        if self._thread is not None:
            return self
        try:
            self._gcs = start_gcs(self.state, self.host, data_dir=self.gcs_dir)
        except GcsUnavailableError as exc:
            # Anthropic, OpenAI and Gemini still work; Vertex jobs fail with a clear error.
            logger.warning("emulator without GCS: %s", exc)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto must say TCP: asyncio only sets TCP_NODELAY on accepted sockets whose proto is
        # IPPROTO_TCP, and without it every response waits ~40 ms for a delayed ACK (Nagle).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Binding here (not inside uvicorn) makes the chosen port known before serving starts.
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._socket = sock
        config = uvicorn.Config(
            create_app(self.state), lifespan="off", log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the emulator failed to start on {self.url}")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=_START_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
        if self._gcs is not None:
            self._gcs.stop()
        self._server = self._thread = self._socket = self._gcs = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    host: str = "127.0.0.1",
    port: int = 8787,
    gcs_port: int | None = None,
    *,
    processing_seconds: float | None = None,
    announce: Callable[[str, str | None], None] | None = None,
) -> None:
    """Serve the emulator in the foreground until interrupted (`interviews emulator serve`).

    GCS listens on `gcs_port`; by default on `port + 1` (a predictable address for
    `STORAGE_EMULATOR_HOST`), or on a free port if that one is taken. Its URL goes to stderr.
    A batch takes `processing_seconds` (emulated) to end; `announce(url, gcs_url)` is called
    once both addresses are known, before serving.
    """
    _require_loopback(host)
    state = EmulatorState()
    if processing_seconds is not None:
        state.configure(processing_seconds=processing_seconds)
    gcs: GcsServer | None = None
    try:
        gcs = _start_serve_gcs(state, host, port, gcs_port)
        print(f"GCS emulator on {gcs.url} (bucket {DEFAULT_BUCKET})", file=sys.stderr, flush=True)
    except GcsUnavailableError as exc:
        print(f"GCS emulator not started: {exc}", file=sys.stderr, flush=True)
    if announce is not None:
        announce(f"http://{host}:{port}", gcs.url if gcs is not None else None)
    try:
        uvicorn.run(create_app(state), host=host, port=port, lifespan="off", log_level="info")
    finally:
        if gcs is not None:
            gcs.stop()


def _start_serve_gcs(state: EmulatorState, host: str, port: int, gcs_port: int | None) -> GcsServer:
    """GCS on `gcs_port`, else on `port + 1`, else (that one taken) on a free port."""
    try:
        return start_gcs(state, host, port + 1 if gcs_port is None else gcs_port)
    except OSError:
        if gcs_port is not None:
            raise
        return start_gcs(state, host)
