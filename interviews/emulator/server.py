"""Run the emulator: in a background thread (tests, demo) or blocking (CLI)."""

import ipaddress
import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn

from interviews.emulator.app import create_app
from interviews.emulator.state import EmulatorState

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


class EmulatorServer:
    """uvicorn serving `create_app(state)` on a loopback port in a daemon thread.

    `port=0` picks a free port; `.url` is known once `start()` returns. Use as a context
    manager, or call `start()`/`stop()`.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, state: EmulatorState | None = None
    ) -> None:
        _require_loopback(host)
        self.host = host
        self.port = port
        self.state = state or EmulatorState()
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

    def start(self) -> Self:
        """Bind, start serving and wait until requests are accepted."""
        if self._thread is not None:
            return self
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
        self._server = self._thread = self._socket = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(host: str = "127.0.0.1", port: int = 8787) -> None:
    """Serve the emulator in the foreground until interrupted (`interviews emulator serve`)."""
    _require_loopback(host)
    uvicorn.run(create_app(), host=host, port=port, lifespan="off", log_level="info")
