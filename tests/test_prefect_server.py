"""The temporary Prefect server of a command run without one dies with the command, even when
the command is SIGKILLed (it used to keep running, holding a port and a database)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from interviews.prefect_server import configured_api_url
from tests.conftest import SAMPLE


def _servers_of(parent: int) -> list[int]:
    """Pids of the temporary Prefect servers whose parent is (or was) `parent`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        ours = str(parent).encode() in cmdline and b"PREFECT__SERVER_EPHEMERAL=1" in environ
        if ours and b"prefect.server.api.server:create_app" in cmdline:
            found.append(int(entry.name))
    return found


def test_a_killed_run_takes_its_temporary_prefect_server_with_it(
    emu, control, tmp_path: Path
) -> None:
    control.configure(processing_seconds=3600)  # the run waits on its batch
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PREFECT_API_URL", "PREFECT_PROFILE")
    }
    env |= {
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "ANTHROPIC_API_KEY": "test-key",
        "ANTHROPIC_BASE_URL": emu.anthropic_base_url,
    }
    run = subprocess.Popen(
        [
            sys.executable, "-m", "interviews", "run", "--personas", str(SAMPLE),
            "--count", "2", "--run-id", "orphan", "--data-dir", str(tmp_path / "data"),
        ],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while control.stats()["anthropic"]["batches_created"] < 1:  # the server is up by then
            assert run.poll() is None, "the run ended early"
            assert time.monotonic() < deadline, "the run never submitted its batch"
            time.sleep(0.2)
        servers = _servers_of(run.pid)
        assert len(servers) == 1  # its own temporary server, not Prefect's unguarded one
        run.send_signal(signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + 30
        while _servers_of(run.pid):
            assert time.monotonic() < deadline, "the temporary server outlived its run"
            time.sleep(0.2)
    finally:
        if run.poll() is None:
            run.kill()


def test_a_configured_server_is_found_in_the_environment_or_the_profile(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    assert configured_api_url() is None
    (tmp_path / "profiles.toml").write_text(
        'active = "team"\n[profiles.team]\nPREFECT_API_URL = "http://10.0.0.5:4200/api"\n'
    )
    assert configured_api_url() == "http://10.0.0.5:4200/api"
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert configured_api_url() == "http://127.0.0.1:4200/api"
