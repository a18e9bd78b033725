"""A real Prefect stack for the deployment tests, started once per session.

`prefect server start` (with its UI) on a free loopback port and a temporary PREFECT_HOME, the
`interviews-process` work pool, `interviews setup` pointing `emulator` blocks at the session
emulator, `prefect --no-prompt deploy --all` from the checkout, and one process worker: the
steps of the README, as a user runs them. Every process started here carries a marker in its
environment, so the teardown can prove that none of them (nor any flow-run process a worker
started) is left behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _HERMETIC_ENV, ROOT

BIN = Path(sys.executable).parent
MARKER = "INTERVIEWS_DEPLOY_TEST_SESSION"
POOL = "interviews-process"
DOCKER_POOL = "interviews-docker"  # created, never worked: no Docker daemon in the tests
RUN_TIMEOUT = 180.0  # seconds a flow run may take on a loaded 2-core machine
STARTUP_TIMEOUT = 180.0  # the server's first start migrates a fresh database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def poll(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """`condition()`'s first truthy value, checked every `interval` s; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def marked_processes(marker: str) -> list[tuple[int, str]]:
    """Live (not zombie) processes whose environment holds `MARKER=marker`: (pid, command)."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if needle not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            stat = (proc / "stat").read_text()
            if stat.rpartition(")")[2].split()[0] == "Z":
                continue
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        found.append((int(proc.name), command.strip()))
    return found


@dataclass
class Service:
    """A long-running process in its own session (process group), output to files."""

    name: str
    process: subprocess.Popen
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    def tail(self, chars: int = 3000) -> str:
        return f"--- {self.name} output (tail) ---\n{self.output()[-chars:]}"

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the whole process group, then SIGKILL what is left after `timeout` s."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # stragglers of the group, if any
        self.process.wait(timeout=timeout)


@dataclass
class PrefectStack:
    """The running server and worker, and helpers to talk to them."""

    api_url: str
    ui_url: str
    env: dict[str, str]
    tmp: Path
    marker: str
    server: Service
    worker: Service | None = None
    steps: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)

    def command_env(self, **extra: str) -> dict[str, str]:
        return {**self.env, **extra}

    def prefect(self, *args: str, timeout: float = 180.0, **extra: str) -> subprocess.Popen:
        """Start `prefect ARGS` from the checkout (returns the running process)."""
        return self.start_command([str(BIN / "prefect"), *args], timeout, **extra)

    def start_command(self, argv: list[str], timeout: float, **extra: str) -> subprocess.Popen:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.command_env(**extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        process.timeout = timeout  # type: ignore[attr-defined]
        return process

    @staticmethod
    def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
        """Wait for a command started by `prefect`/`start_command`; kill its group on timeout."""
        try:
            out, err = process.communicate(timeout=process.timeout)  # type: ignore[attr-defined]
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            pytest.fail(f"{process.args} timed out:\n{out}\n{err}")
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def run(self, argv: list[str], timeout: float = 180.0, **extra: str) -> Any:
        return self.finish(self.start_command(argv, timeout, **extra))

    @contextmanager
    def api(self) -> Iterator[None]:
        """Prefect calls in this process go to this server (whatever another fixture set)."""
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: self.api_url}):
            yield

    @contextmanager
    def client(self) -> Iterator[Any]:
        """A sync Prefect client of this server."""
        from prefect.client.orchestration import get_client

        with self.api(), get_client(sync_client=True) as client:
            yield client

    def deployment_id(self, name: str) -> uuid.UUID:
        with self.client() as client:
            return client.read_deployment_by_name(name).id

    def create_run(self, deployment: str, parameters: dict[str, Any]) -> uuid.UUID:
        """Create a flow run of `deployment` (`flow/deployment`) through the API."""
        deployment_id = self.deployment_id(deployment)
        with self.client() as client:
            return client.create_flow_run_from_deployment(deployment_id, parameters=parameters).id

    def wait_for_run(self, flow_run_id: uuid.UUID, timeout: float = RUN_TIMEOUT) -> Any:
        """The flow run once it is in a final state (fails with the worker's output if not)."""

        def final() -> Any:
            with self.client() as client:
                run = client.read_flow_run(flow_run_id)
            return run if run.state is not None and run.state.is_final() else None

        try:
            return poll(final, timeout, f"flow run {flow_run_id} to finish", interval=0.5)
        except pytest.fail.Exception:
            tail = self.worker.tail() if self.worker else ""
            pytest.fail(f"flow run {flow_run_id} did not finish in {timeout:.0f} s\n{tail}")

    def subflow_ids(self, flow_run_id: uuid.UUID) -> list[uuid.UUID]:
        """The run and every flow run below it (subflows of subflows too)."""
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

        ids, frontier = [flow_run_id], [flow_run_id]
        with self.client() as client:
            while frontier:
                children = client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(
                        parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=frontier)
                    )
                )
                frontier = [child.id for child in children if child.id not in ids]
                ids += frontier
        return ids

    def logs(self, flow_run_ids: list[uuid.UUID]) -> list[Any]:
        """Every log line the server holds for these flow runs (and their task runs)."""
        from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

        logs: list[Any] = []
        with self.client() as client:
            while True:
                page = client.read_logs(
                    log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=flow_run_ids)),
                    limit=200,
                    offset=len(logs),
                )
                logs += page
                if len(page) < 200:
                    return logs

    def artifacts(self, flow_run_ids: list[uuid.UUID]) -> list[Any]:
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        with self.client() as client:
            return client.read_artifacts(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=flow_run_ids))
            )


def _health(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200 and json.loads(response.read()) is True
    except OSError:
        return False


def _start(name: str, argv: list[str], env: dict[str, str], tmp: Path, cwd: Path) -> Service:
    stdout, stderr = tmp / f"{name}.out", tmp / f"{name}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=out, stderr=err, start_new_session=True
        )
    return Service(name, process, stdout, stderr)


def _checked(step: str, result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    if result.returncode != 0:
        pytest.fail(f"{step} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def stack(emulator) -> Iterator[PrefectStack]:
    """Server, work pool, blocks, deployments and a worker: the README's steps, once."""
    tmp = Path(tempfile.mkdtemp(prefix="interviews-deploy-"))
    home = tmp / "prefect-home"
    home.mkdir()
    marker = uuid.uuid4().hex
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if k not in _HERMETIC_ENV}
    for name in list(env):
        # nothing of the caller's Prefect setup leaks in (profiles, API keys, UI switches)
        if name.startswith("PREFECT_"):
            del env[name]
    env.update(
        {
            MARKER: marker,
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
            "PREFECT_LOGGING_LEVEL": "INFO",  # what the flow runs log reaches the server
            "COLUMNS": "200",  # rich does not wrap the CLI's output
        }
    )
    from cryptography.fernet import Fernet

    server_env = {
        **env,
        "PREFECT_SERVER_UI_ENABLED": "true",  # the UI test opens the run form
        # as the README says: the key that encrypts block secrets stays out of the database
        "PREFECT_SERVER_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    server = _start(
        "server",
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        server_env,
        tmp,
        tmp,
    )
    stack = PrefectStack(
        api_url=api_url,
        ui_url=f"http://127.0.0.1:{port}",
        env=env,
        tmp=tmp,
        marker=marker,
        server=server,
    )
    try:

        def healthy() -> bool:
            if server.process.poll() is not None:
                pytest.fail(f"prefect server exited ({server.process.returncode})\n{server.tail()}")
            return _health(api_url)

        poll(healthy, STARTUP_TIMEOUT, "prefect server /api/health", interval=0.5)
        # side by side where Prefect allows it: deploy and the worker need the pool; block
        # type registration is not safe to race (a concurrent `interviews setup` got a 409)
        pool = stack.prefect("work-pool", "create", POOL, "--type", "process")
        docker_pool = stack.prefect("work-pool", "create", DOCKER_POOL, "--type", "docker")
        register = stack.prefect("block", "register", "-m", "blocks.credentials")
        stack.steps["block register"] = stack.finish(register)  # a test asserts on it
        setup = stack.start_command(
            [
                str(BIN / "interviews"),
                "setup",
                "--emulator",
                emulator.url,
                "--emulator-gcs",
                emulator.gcs_url,
            ],
            180.0,
        )
        stack.steps["work-pool create"] = _checked("work-pool create", stack.finish(pool))
        _checked("work-pool create (docker)", stack.finish(docker_pool))
        deploy = stack.prefect("--no-prompt", "deploy", "--all", INTERVIEWS_CHECKOUT=str(ROOT))
        worker_dir = tmp / "worker"
        worker_dir.mkdir()
        stack.worker = _start(
            "worker",
            [str(BIN / "prefect"), "worker", "start", "--pool", POOL],
            {
                **env,
                "INTERVIEWS_CHECKOUT": str(ROOT),
                "INTERVIEWS_DATA_DIR": str(worker_dir / "data"),
                "INTERVIEWS_POLL_INITIAL_SECONDS": "0.1",
                "INTERVIEWS_POLL_MAX_SECONDS": "0.3",
                "PREFECT_WORKER_QUERY_SECONDS": "1",  # picks a new run up within a second
            },
            tmp,
            worker_dir,
        )
        stack.steps["setup"] = _checked("interviews setup", stack.finish(setup))
        stack.steps["deploy"] = _checked("prefect deploy --all", stack.finish(deploy))
        yield stack
    finally:
        # the worker first: with the server gone it can hang on shutdown
        for service in (stack.worker, server):
            if service is not None:
                service.stop()
        deadline = time.monotonic() + 30
        while (left := marked_processes(marker)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid, _ in left:  # only after a failure: do not leave them running
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)
        assert not left, f"processes left behind: {left}"


def find_uuid(text: str) -> uuid.UUID:
    match = re.search(r"UUID: ([0-9a-f-]{36})", text)
    assert match, text
    return uuid.UUID(match.group(1))
