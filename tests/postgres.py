"""A real PostgreSQL server on loopback for the tests, from the machine's Debian packages.

`.ci/run` installs them (`apt-get install postgresql`); the server itself is started here, in
a temporary directory, on a free port, and stopped at the end of the session. Each test gets
a database of its own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.fail(
            "PostgreSQL's server programs are not installed: `apt-get install postgresql` "
            "(as .ci/run does); the ledger's PostgreSQL tests need a real server"
        )
    return found[-1].parent


def _as_owner(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: CI runs as root, so they run as `postgres`
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a throwaway PostgreSQL server; yield its base URL (no database name). Also used
    by the benchmarks (bench/bench_scale.py)."""
    bindir = _bindir()
    # not under pytest's temporary folder: that one is private to root, and the server runs
    # as `postgres` when the tests run as root
    root = Path(tempfile.mkdtemp(prefix="interviews-postgres-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subprocess.run(
        _as_owner([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "interviews"]),
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_owner([
            str(bindir / "pg_ctl"), "-D", str(data), "-o", options,
            "-l", str(root / "server.log"), "-w", "start",
        ]),
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield f"postgresql+psycopg://interviews@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL server for the session; its base URL (no database name)."""
    with running_postgres() as url:
        yield url


def create_database(server_url: str, prefix: str = "t") -> str:
    """A new, empty database on the server; its URL."""
    import sqlalchemy as sa

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return f"{server_url}/{name}"


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the test server."""
    return create_database(postgres_server)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A ledger URL for each engine the ledger runs on: SQLite in a data dir, PostgreSQL."""
    if request.param == "sqlite":
        from interviews.ledger import Ledger

        return Ledger.open(tmp_path / "data").url
    return request.getfixturevalue("postgres_url")
