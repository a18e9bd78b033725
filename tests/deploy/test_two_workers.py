"""The README's "Several machines" setup, for real: a Prefect server on PostgreSQL, the
deployments of prefect.yaml, and two process workers in working directories of their own that
share nothing but PostgreSQL (the server's database and the run ledger) and a gs:// bucket.

The nightly deployment is run by worker one, which is then stopped; worker two runs the
collect deployment and finishes it. Then worker one is SIGKILLed (with its flow run) while
its flow run holds the results download, and worker two's collect finishes that run too,
without a second batch.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from interviews.datastore import RemoteMirror
from interviews.preparation import DataDirs
from tests.conftest import _HERMETIC_ENV, ROOT, SAMPLE
from tests.deploy.conftest import (
    BIN,
    DOCKER_POOL,
    MARKER,
    POOL,
    STARTUP_TIMEOUT,
    PrefectStack,
    Service,
    _checked,
    _health,
    _start,
    free_port,
    marked_processes,
    poll,
)
from tests.flows.test_crash_matrix import DOWNLOAD, HOLD
from tests.postgres import create_database


@pytest.fixture(scope="module")
def scale(emulator, postgres_server: str, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """The server on PostgreSQL, the pools, blocks and deployments; workers start in tests."""
    tmp = tmp_path_factory.mktemp("scale")
    marker = uuid.uuid4().hex
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if k not in _HERMETIC_ENV}
    env = {k: v for k, v in env.items() if not k.startswith("PREFECT_")}
    home = tmp / "prefect-home"
    home.mkdir()
    env.update(
        {
            MARKER: marker,
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
            "PREFECT_LOGGING_LEVEL": "INFO",
            "COLUMNS": "200",
        }
    )
    prefect_db = create_database(postgres_server, "prefect").replace("+psycopg", "+asyncpg")
    server = _start(
        "server",
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        {**env, "PREFECT_API_DATABASE_CONNECTION_URL": prefect_db},
        tmp,
        tmp,
    )
    stack = PrefectStack(api_url, api_url[: -len("/api")], env, tmp, marker, server)
    workers: list[Service] = []
    try:
        poll(lambda: _health(api_url), STARTUP_TIMEOUT, "prefect server on PostgreSQL")
        for pool, kind in ((POOL, "process"), (DOCKER_POOL, "docker")):
            create = [str(BIN / "prefect"), "work-pool", "create", pool, "--type", kind]
            _checked(f"pool {pool}", stack.run(create))
        _checked(
            "interviews setup",
            stack.run(
                [str(BIN / "interviews"), "setup", "--emulator", emulator.url,
                 "--emulator-gcs", emulator.gcs_url]
            ),
        )  # fmt: skip
        _checked(
            "deploy",
            stack.run(
                [str(BIN / "prefect"), "--no-prompt", "deploy", "--all"],
                INTERVIEWS_CHECKOUT=str(ROOT),
            ),
        )
        shared = {
            "INTERVIEWS_LEDGER_URL": create_database(postgres_server, "ledger"),
            "INTERVIEWS_DATA_DIR": f"gs://interviews-emulator/scale-{marker[:8]}/data",
            "STORAGE_EMULATOR_HOST": emulator.gcs_url,
            "INTERVIEWS_CHECKOUT": str(ROOT),
            "INTERVIEWS_POLL_INITIAL_SECONDS": "0.1",
            "INTERVIEWS_POLL_MAX_SECONDS": "0.3",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
        }

        def start_worker(name: str) -> Service:
            home = tmp / name
            home.mkdir(exist_ok=True)
            worker = _start(
                name,
                [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--name", name],
                {**env, **shared, "INTERVIEWS_WORKSPACE_DIR": str(home / "workspace")},
                tmp,
                home,
            )
            workers.append(worker)
            stack.worker = worker  # whose output a failed wait shows
            return worker

        yield {
            "stack": stack,
            "start_worker": start_worker,
            "shared": shared,
            "tmp": tmp,
            "prefect_db": prefect_db.replace("+asyncpg", "+psycopg"),
        }
    finally:
        for service in (*workers, server):
            service.stop()
        left = marked_processes(marker)
        for pid, _ in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"processes left behind: {left}"


def _params(**extra: object) -> dict[str, object]:
    return {
        "params": {
            "provider": "openai",
            "personas": str(SAMPLE),
            "count": 4,
            "credentials_block": "emulator",
            **extra,
        }
    }


def _run_deployment(stack: PrefectStack, name: str, parameters: dict[str, Any]) -> Any:
    run = stack.wait_for_run(stack.create_run(name, parameters))
    assert run.state.is_completed(), (run.state, stack.worker.tail())
    return run


def _records(shared: dict[str, str], run_id: str) -> list[dict[str, Any]]:
    """The run's records as a third machine reads them from the bucket."""
    os.environ["STORAGE_EMULATOR_HOST"] = shared["STORAGE_EMULATOR_HOST"]
    mirror = RemoteMirror(shared["INTERVIEWS_DATA_DIR"])
    dirs = DataDirs(mirror.root, mirror)
    consolidated = dirs.run(run_id) / "interviews.jsonl"
    assert dirs.fetch(consolidated), f"no {consolidated.name} in the bucket for {run_id}"
    for n in range(4):
        assert dirs.fetch(dirs.interviews / f"interview_{n}.json")
    return [orjson.loads(line) for line in consolidated.read_bytes().splitlines()]


def test_one_worker_submits_the_nightly_run_and_the_other_collects_it(
    scale: dict[str, Any], emu, control, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, shared = scale["stack"], scale["shared"]
    monkeypatch.setenv("INTERVIEWS_WORKSPACE_DIR", str(scale["tmp"] / "checker"))
    control.configure(processing_seconds=3600)
    one = scale["start_worker"]("worker-one")
    _run_deployment(stack, "batch-interviews/nightly-batch", _params(run_id="handoff", detach=True))
    assert control.stats()["openai"]["batches_created"] == 1
    one.stop()

    scale["start_worker"]("worker-two")
    control.advance(3601)
    _run_deployment(stack, "collect-batches/collect-batches", {})
    records = _records(shared, "handoff")
    assert sorted(r["custom_id"] for r in records) == [f"interview_{n}" for n in range(4)]
    assert {r["status"] for r in records} == {"succeeded"}
    assert control.stats()["openai"]["batches_created"] == 1
    for home in ("worker-one", "worker-two"):  # nothing but the workspace in either
        assert sorted(p.name for p in (scale["tmp"] / home).iterdir()) in ([], ["workspace"])
    import sqlalchemy as sa

    engine = sa.create_engine(scale["prefect_db"])  # the server kept its runs in PostgreSQL
    with engine.connect() as conn:
        names = conn.exec_driver_sql("SELECT name FROM flow_run").scalars().all()
    engine.dispose()
    assert "handoff" in names


def test_a_worker_killed_mid_run_is_finished_by_the_other(
    scale: dict[str, Any], emu, control, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, shared = scale["stack"], scale["shared"]
    monkeypatch.setenv("INTERVIEWS_WORKSPACE_DIR", str(scale["tmp"] / "checker"))
    method, path = DOWNLOAD["openai"]
    control.set_faults(http=[{"provider": "openai", "method": method, "path": path, "delay": HOLD}])
    one = scale["start_worker"]("worker-three")
    stack.create_run("batch-interviews/batch-interviews", _params(run_id="killed"))
    poll(
        lambda: control.stats()["openai"]["faults_fired"] >= 1,
        180,
        "worker three's flow run to hold the results download",
    )
    os.killpg(one.process.pid, signal.SIGKILL)  # the worker and its flow-run process
    one.process.wait()
    control.set_faults({})

    scale["start_worker"]("worker-four")
    _run_deployment(stack, "collect-batches/collect-batches", {})
    records = _records(shared, "killed")
    assert sorted(r["custom_id"] for r in records) == [f"interview_{n}" for n in range(4)]
    stats = control.stats()["openai"]
    assert stats["batches_created"] == 1 and stats["requests_received"] == 4
    assert len({r["batch_id"] for r in records}) == 1
