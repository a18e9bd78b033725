"""The temporary Prefect server of a command run without one, tied to the command's life.

Without `PREFECT_API_URL` (in the environment or the active Prefect profile), Prefect starts
an ephemeral server in a child process and stops it at exit; a SIGKILLed command left it
running, holding a port and a database. So `run`, `collect` and `demo` start that server
themselves, the same way Prefect does, in a child that the kernel stops when this process
dies, however it dies (Linux `PR_SET_PDEATHSIG`), and point Prefect at it before Prefect is
imported.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Callable
from pathlib import Path

# The child asks the kernel for SIGTERM when its parent dies, checks that the parent is still
# the one that started it (it may have died before the request), then runs uvicorn.
_CHILD = """
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)
sys.argv = ["uvicorn"] + sys.argv[2:]
import uvicorn.main
uvicorn.main.main()
"""


def configured_api_url() -> str | None:
    """PREFECT_API_URL from the environment or the active Prefect profile, if any."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml")
    try:
        profiles = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    value = profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL")
    return str(value) if value else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_prefect_api(timeout: float = 90.0) -> None:
    """Start the temporary server unless one is configured, and wait until it answers. Call
    before anything imports Prefect.

    Raises:
        ConfigurationError: the server did not answer within `timeout` seconds.
    """
    wait = start_prefect_api()
    if wait is not None:
        wait(timeout)


def start_prefect_api() -> Callable[[float], None] | None:
    """Start the temporary server unless one is configured, point Prefect at it at once, and
    return the function that waits until it answers (None when none was started)."""
    if configured_api_url() is not None or "prefect" in sys.modules:
        return None  # configured, or too late to point Prefect elsewhere: its own way then
    port = _free_port()
    env = {
        **os.environ,
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
    }
    server = subprocess.Popen(
        [
            sys.executable, "-c", _CHILD, str(os.getpid()),
            "--factory", "prefect.server.api.server:create_app",
            "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "error", "--lifespan", "on",
        ],
        env=env,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    atexit.register(_stop, server)
    url = f"http://127.0.0.1:{port}/api"
    os.environ["PREFECT_API_URL"] = url

    def wait(timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                from interviews.errors import ConfigurationError

                _stop(server)
                raise ConfigurationError(
                    f"the temporary Prefect server did not start within {timeout:g} s; start "
                    "one with `prefect server start` and set PREFECT_API_URL"
                )
            time.sleep(0.2)

    return wait


def _stop(server: subprocess.Popen) -> None:
    """Stop the server at a normal exit (a killed parent is handled by the kernel)."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
