"""Ledger schema migrations (Alembic), on SQLite and PostgreSQL: a new ledger is made by them,
an old one is upgraded in place with its runs kept, and processes opening one at once agree."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from interviews.ledger import SCHEMA_REVISION, Ledger, metadata


def _revision(ledger: Ledger) -> str:
    with ledger.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()


def test_the_migrations_make_exactly_the_ledgers_tables(ledger_url: str) -> None:
    ledger = Ledger(ledger_url)
    assert _revision(ledger) == SCHEMA_REVISION
    with ledger.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []  # every table, column, type, key and constraint as declared


def test_a_ledger_from_before_migrations_is_upgraded_with_its_runs(ledger_url: str) -> None:
    engine = sa.create_engine(ledger_url)
    old = sa.MetaData()
    for name in ("runs", "chunks", "batches"):  # what `create_all` made before migrations
        metadata.tables[name].to_metadata(old)
    old.create_all(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            old.tables["runs"].insert().values(
                run_id="kept", provider="anthropic", model="m", spec_sha256="0" * 64,
                spec_json="{}", status="waiting", created_at=now, updated_at=now,
            )
        )  # fmt: skip
    engine.dispose()

    ledger = Ledger(ledger_url)
    assert _revision(ledger) == SCHEMA_REVISION
    assert ledger.get_run("kept")["status"] == "waiting"
    ledger.mark_canceled("kept")  # the tables added since are there
    assert ledger.claim_lease("run:kept", "me", command="t", seconds=60).owner == "me"


def _open(url: str, queue) -> None:
    try:
        Ledger(url)
        queue.put("ok")
    except Exception as exc:  # reported to the test, which names it
        queue.put(f"{type(exc).__name__}: {exc}")


def test_processes_opening_a_new_ledger_at_once_all_succeed(ledger_url: str) -> None:
    if ledger_url.startswith("sqlite"):  # the fixture made that one already: a new file
        ledger_url = f"{ledger_url[: -len('.db')]}-new.db"
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_open, args=(ledger_url, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    answers = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert answers == ["ok"] * 4
    assert _revision(Ledger(ledger_url)) == SCHEMA_REVISION
