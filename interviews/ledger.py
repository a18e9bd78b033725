"""The run ledger: one SQL database recording what was prepared, submitted and paid for.

Runs → chunks → provider batches. Before every create call an *intent* row is committed, and the
provider's batch id is committed right after the call returns, so a re-run of the same run id
never creates a second batch for a chunk: a chunk with a batch id is resumed, and a chunk whose
intent has no batch id is looked up at the provider instead of being sent again.

SQLite under the data dir by default; any SQLAlchemy URL (e.g. PostgreSQL) for several machines.
No secret is ever written here.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from interviews import clock
from interviews.batch_types import BatchJob
from interviews.chunking import ChunkFile
from interviews.errors import LedgerError
from interviews.private_files import use_private_files

if TYPE_CHECKING:
    from interviews.datastore import RemoteMirror

metadata = sa.MetaData()

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(200), primary_key=True),
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("spec_sha256", sa.String(64), nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),
    # the run's parameters (names and paths, never secrets), so `collect` can finish it later
    sa.Column("params_json", sa.Text),
    sa.Column("requests_path", sa.Text),
    sa.Column("request_count", sa.Integer),
    sa.Column("status", sa.String(40), nullable=False),
    sa.Column("estimate_usd", sa.String(40)),
    sa.Column("cost_usd", sa.String(40)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

chunks = sa.Table(
    "chunks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("chunk_index", sa.Integer, nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("index_path", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("request_count", sa.Integer, nullable=False),
    sa.Column("byte_count", sa.Integer, nullable=False),
    sa.Column("status", sa.String(40), nullable=False),
    sa.Column("results_path", sa.Text),
    sa.UniqueConstraint("run_id", "round", "chunk_index"),
)

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("chunk_id", sa.ForeignKey("chunks.id"), nullable=False, unique=True),
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("batch_id", sa.String(200), unique=True),
    sa.Column("status", sa.String(40), nullable=False),
    sa.Column("provider_status", sa.String(40)),
    sa.Column("counts_json", sa.Text),
    sa.Column("intent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Who is working on a run right now: one row per run id (`run:<id>`), claimed atomically, kept
# alive by a heartbeat and free for anyone once it expires (see interviews/leases.py).
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(300), primary_key=True),
    sa.Column("owner", sa.String(300), nullable=False),
    sa.Column("command", sa.String(200), nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

# Runs the user canceled (`interviews cancel`): final, so no retry round re-sends what was
# canceled, until a re-run asks for it (`--retry-canceled`).
canceled_runs = sa.Table(
    "canceled_runs",
    metadata,
    sa.Column("run_id", sa.String(200), primary_key=True),
    sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=False),
)

INTENT = "intent"


def _now() -> datetime:
    # real time, never frozen: a batch's intent is matched against the provider's created_at
    return clock.wall_now()


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands datetimes back naive; they were stored as UTC
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def spec_fingerprint(spec: dict[str, Any]) -> str:
    """A stable hash of a run's specification (what was asked for)."""
    return hashlib.sha256(orjson.dumps(spec, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True)
class ChunkRow:
    """A chunk as stored."""

    id: int
    run_id: str
    provider: str
    model: str
    round: int
    chunk_index: int
    path: Path
    index_path: Path
    sha256: str
    request_count: int
    byte_count: int
    status: str
    results_path: Path | None

    @property
    def key(self) -> str:
        """Stable name of the chunk, used to tag its provider batch."""
        return f"{self.run_id}:r{self.round}:c{self.chunk_index}"


@dataclass(frozen=True)
class BatchRow:
    """A provider batch (or the intent to create one) as stored."""

    id: int
    chunk_id: int
    provider: str
    batch_id: str | None
    status: str
    provider_status: str | None
    intent_at: datetime
    created_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class LeaseRow:
    """Who holds a lease, for what command, and until when (unless renewed)."""

    name: str
    owner: str
    command: str
    acquired_at: datetime
    expires_at: datetime


def _chunk(row: Any, local: Any = Path) -> ChunkRow:
    return ChunkRow(
        id=row.id,
        run_id=row.run_id,
        provider=row.provider,
        model=row.model,
        round=row.round,
        chunk_index=row.chunk_index,
        path=local(row.path),
        index_path=local(row.index_path),
        sha256=row.sha256,
        request_count=row.request_count,
        byte_count=row.byte_count,
        status=row.status,
        results_path=local(row.results_path) if row.results_path else None,
    )


def _batch(row: Any) -> BatchRow:
    return BatchRow(
        id=row.id,
        chunk_id=row.chunk_id,
        provider=row.provider,
        batch_id=row.batch_id,
        status=row.status,
        provider_status=row.provider_status,
        intent_at=_utc(row.intent_at),
        created_at=_utc(row.created_at),
        expires_at=_utc(row.expires_at),
    )


class Ledger:
    """Access to the run ledger database.

    Args:
        url: SQLAlchemy database URL.
    """

    def __init__(self, url: str, mirror: RemoteMirror | None = None) -> None:
        self.url = url
        self.mirror = mirror
        connect_args = {"timeout": 30} if url.startswith("sqlite") else {}
        self.engine = sa.create_engine(url, connect_args=connect_args)
        if url.startswith("sqlite"):
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        migrate(self.engine)

    @classmethod
    def open(
        cls, data_dir: Path, url: str | None = None, mirror: RemoteMirror | None = None
    ) -> Ledger:
        """The ledger at `url`, or SQLite at `<data_dir>/ledger.db`.

        `mirror`: the data directory is in an object store and `data_dir` is this process's
        workspace of it; file paths are then stored as the files' URLs in the bucket, so a
        worker on another machine (another workspace) finds them.
        """
        if url is None:
            use_private_files(data_dir)  # the ledger holds health data too
            data_dir.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{(data_dir / 'ledger.db').resolve()}"
        return cls(url, mirror)

    def stored(self, path: Path | str) -> str:
        """How a data file's path is stored: as it is for a local data directory, as its URL
        for one in an object store."""
        path = Path(path)
        if self.mirror is not None and path.is_relative_to(self.mirror.root):
            return self.mirror.shown(path)
        return str(path)

    def local(self, stored: str) -> Path:
        """Where a stored path is on this machine (a bucket URL maps into the workspace)."""
        if self.mirror is not None and stored.startswith(self.mirror.url + "/"):
            return self.mirror.root / stored[len(self.mirror.url) + 1 :]
        if "://" in stored:
            raise LedgerError(
                f"the ledger names {stored}, which is not in this data directory "
                f"({self.mirror.url if self.mirror else 'a local folder'}); use the data "
                "directory the run was started with (--data-dir)"
            )
        return Path(stored)

    # ------------------------------------------------------------------ runs
    def check_run(self, run_id: str, spec: dict[str, Any]) -> bool:
        """Tell whether `run_id` exists, and that it asked for the same thing as `spec`.

        Returns:
            True if the run exists and has chunks (this is a resume).

        Raises:
            LedgerError: the run id exists with a different specification.
        """
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).first()
            if row is None:
                return False
            if row.spec_sha256 != spec_fingerprint(spec):
                before = orjson.loads(row.spec_json)
                changed = sorted(
                    k for k in spec.keys() | before.keys() if spec.get(k) != before.get(k)
                )
                raise LedgerError(
                    f"run {run_id!r} was started with different settings "
                    f"({', '.join(changed)} changed); resume it with the same settings or "
                    "choose a new --run-id"
                )
            count = conn.execute(
                sa.select(sa.func.count()).select_from(chunks).where(chunks.c.run_id == run_id)
            ).scalar_one()
        return count > 0

    def create_run(
        self,
        run_id: str,
        *,
        provider: str,
        model: str,
        spec: dict[str, Any],
        requests_path: Path,
        request_count: int,
        estimate_usd: str,
        files: list[ChunkFile],
        params_json: str | None = None,
    ) -> None:
        """Record a prepared run and its round-0 chunks in one transaction."""
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(runs.delete().where(runs.c.run_id == run_id))  # a crash before chunks
            conn.execute(
                runs.insert().values(
                    run_id=run_id,
                    provider=provider,
                    model=model,
                    spec_sha256=spec_fingerprint(spec),
                    spec_json=orjson.dumps(spec, option=orjson.OPT_SORT_KEYS).decode(),
                    requests_path=self.stored(requests_path),
                    request_count=request_count,
                    estimate_usd=estimate_usd,
                    params_json=params_json,
                    status="prepared",
                    created_at=now,
                    updated_at=now,
                )
            )
            self._insert_chunks(conn, run_id, provider, model, 0, files)

    def forget_run(self, run_id: str) -> None:
        """Remove a run that was only prepared (its chunks too).

        Raises:
            LedgerError: the run has a batch or an intent (it may have been paid for).
        """
        with self.engine.begin() as conn:
            chunk_ids = sa.select(chunks.c.id).where(chunks.c.run_id == run_id)
            started = conn.execute(
                sa.select(sa.func.count())
                .select_from(batches)
                .where(batches.c.chunk_id.in_(chunk_ids))
            ).scalar_one()
            if started:
                raise LedgerError(f"run {run_id} has submitted batches; it is kept")
            conn.execute(chunks.delete().where(chunks.c.run_id == run_id))
            conn.execute(runs.delete().where(runs.c.run_id == run_id))

    def mark_canceled(self, run_id: str) -> None:
        """Record that the user canceled the run (kept until `clear_canceled`)."""
        with self.engine.begin() as conn:
            exists = conn.execute(
                sa.select(canceled_runs.c.run_id).where(canceled_runs.c.run_id == run_id)
            ).first()
            if exists is None:
                conn.execute(canceled_runs.insert().values(run_id=run_id, canceled_at=_now()))

    def is_canceled(self, run_id: str) -> bool:
        """Whether the user canceled the run."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(canceled_runs.c.run_id).where(canceled_runs.c.run_id == run_id)
            ).first()
        return row is not None

    def clear_canceled(self, run_id: str) -> None:
        """Let retry rounds send the run's canceled requests again."""
        with self.engine.begin() as conn:
            conn.execute(canceled_runs.delete().where(canceled_runs.c.run_id == run_id))

    def runs_matching(self, run_id: str) -> list[dict[str, Any]]:
        """The run `run_id`, or the runs it stands for: a compare run's targets
        (`{id}-{provider}-{model}`) and an interview protocol's later questions (`{id}-qN`)."""
        family = re.compile(rf"{re.escape(run_id)}(-(anthropic|openai|vertex|gemini)-.+|-q\d+)")
        query = sa.select(runs).where(runs.c.run_id.like(f"{run_id}%")).order_by(runs.c.created_at)
        with self.engine.connect() as conn:
            rows = [dict(row._mapping) for row in conn.execute(query)]
        return [row for row in rows if row["run_id"] == run_id or family.fullmatch(row["run_id"])]

    def update_run(self, run_id: str, **values: Any) -> None:
        """Set columns of a run (status, requests_path, estimate_usd, cost_usd, ...)."""
        with self.engine.begin() as conn:
            conn.execute(
                runs.update().where(runs.c.run_id == run_id).values(updated_at=_now(), **values)
            )

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """The run's row as a dict, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).first()
        return dict(row._mapping) if row else None

    # ------------------------------------------------------------------ chunks
    def add_chunks(
        self, run_id: str, provider: str, model: str, round_: int, files: list[ChunkFile]
    ) -> list[ChunkRow]:
        """Record the chunks of a later round (all in one transaction)."""
        with self.engine.begin() as conn:
            self._insert_chunks(conn, run_id, provider, model, round_, files)
        return self.chunks(run_id, round_)

    def _insert_chunks(
        self, conn: Any, run_id: str, provider: str, model: str, round_: int, files: list[ChunkFile]
    ) -> None:
        for chunk in files:
            conn.execute(
                chunks.insert().values(
                    run_id=run_id,
                    provider=provider,
                    model=model,
                    round=round_,
                    chunk_index=chunk.index,
                    path=self.stored(chunk.path),
                    index_path=self.stored(chunk.index_path),
                    sha256=chunk.sha256,
                    request_count=chunk.request_count,
                    byte_count=chunk.byte_count,
                    status="prepared",
                )
            )

    def chunks(self, run_id: str, round_: int | None = None) -> list[ChunkRow]:
        """The run's chunks (of one round, or all), in order."""
        query = sa.select(chunks).where(chunks.c.run_id == run_id)
        if round_ is not None:
            query = query.where(chunks.c.round == round_)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(chunks.c.round, chunks.c.chunk_index)).all()
        return [_chunk(row, self.local) for row in rows]

    def get_chunk(self, chunk_id: int) -> ChunkRow:
        """One chunk by its row id."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(chunks).where(chunks.c.id == chunk_id)).one()
        return _chunk(row, self.local)

    def update_chunk(self, chunk_id: int, **values: Any) -> None:
        """Set columns of a chunk (status, results_path)."""
        if values.get("results_path") is not None:
            values["results_path"] = self.stored(values["results_path"])
        with self.engine.begin() as conn:
            conn.execute(chunks.update().where(chunks.c.id == chunk_id).values(**values))

    # ------------------------------------------------------------------ batches
    def get_batch(self, chunk_id: int) -> BatchRow | None:
        """The chunk's batch or intent row, or None if nothing was ever attempted."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(batches).where(batches.c.chunk_id == chunk_id)).first()
        return _batch(row) if row else None

    def record_intent(self, chunk_id: int, provider: str) -> BatchRow:
        """Commit the intent to create a batch for `chunk_id`, before the create call.

        Raises:
            LedgerError: the chunk already has a batch or an intent (callers check first; a
                second writer racing on the same chunk lands here instead of paying twice).
        """
        now = _now()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    batches.insert().values(
                        chunk_id=chunk_id,
                        provider=provider,
                        status=INTENT,
                        intent_at=now,
                        updated_at=now,
                    )
                )
        except sa.exc.IntegrityError as exc:
            raise LedgerError(
                f"chunk {chunk_id} already has a batch or an intent; not creating another"
            ) from exc
        batch = self.get_batch(chunk_id)
        assert batch is not None
        return batch

    def drop_intent(self, chunk_id: int) -> None:
        """Forget an intent whose create call was refused (nothing was created or billed)."""
        with self.engine.begin() as conn:
            conn.execute(
                batches.delete().where(batches.c.chunk_id == chunk_id, batches.c.batch_id.is_(None))
            )

    def release_batch(self, chunk_id: int) -> None:
        """Untie a batch adopted by mistake from the chunk: its row goes back to a bare intent
        (same intent time, so the chunk keeps its ownership tag) and the chunk to prepared."""
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(
                batches.update()
                .where(batches.c.chunk_id == chunk_id)
                .values(
                    batch_id=None,
                    status=INTENT,
                    provider_status=None,
                    counts_json=None,
                    created_at=None,
                    expires_at=None,
                    ended_at=None,
                    updated_at=now,
                )
            )
            conn.execute(
                chunks.update()
                .where(chunks.c.id == chunk_id)
                .values(status="prepared", results_path=None)
            )

    def record_batch(self, chunk_id: int, job: BatchJob) -> None:
        """Commit the provider's batch id (right after create, or when adopting a lost one)."""
        self._write_job(batches.c.chunk_id == chunk_id, job, batch_id=job.batch_id)

    def update_batch(self, job: BatchJob) -> None:
        """Record the latest status of a batch."""
        self._write_job(batches.c.batch_id == job.batch_id, job)

    def _write_job(self, where: Any, job: BatchJob, **extra: Any) -> None:
        counts = job.counts
        with self.engine.begin() as conn:
            conn.execute(
                batches.update()
                .where(where)
                .values(
                    status=str(job.status),
                    provider_status=job.provider_status,
                    counts_json=orjson.dumps(
                        {
                            "processing": counts.processing,
                            "succeeded": counts.succeeded,
                            "errored": counts.errored,
                            "canceled": counts.canceled,
                            "expired": counts.expired,
                        }
                    ).decode(),
                    created_at=job.created_at,
                    expires_at=job.expires_at,
                    ended_at=job.ended_at,
                    updated_at=_now(),
                    **extra,
                )
            )

    # ------------------------------------------------------------------ leases
    def claim_lease(
        self,
        name: str,
        owner: str,
        *,
        command: str,
        seconds: float,
        steal_from: str | None = None,
    ) -> LeaseRow:
        """Take the lease `name` for `owner` if it is free, expired, already `owner`'s, or
        held by `steal_from` (a holder known to be dead); in one atomic statement.

        Returns:
            The lease as it now stands: `owner`'s if the claim won, else the holder's.
        """
        from sqlalchemy.dialects import postgresql, sqlite

        now = _now()
        values = {
            "name": name,
            "owner": owner,
            "command": command,
            "acquired_at": now,
            "expires_at": now + timedelta(seconds=seconds),
        }
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(leases).values(**values)
        free = (leases.c.owner == owner) | (leases.c.expires_at < now)
        if steal_from is not None:
            free = free | (leases.c.owner == steal_from)
        # renewing keeps the first acquisition time; taking over sets a new one
        acquired = sa.case((leases.c.owner == owner, leases.c.acquired_at), else_=now)
        upsert = insert.on_conflict_do_update(
            index_elements=[leases.c.name],
            set_={
                "owner": owner,
                "command": command,
                "acquired_at": acquired,
                "expires_at": values["expires_at"],
            },
            where=free,
        )
        with self.engine.begin() as conn:
            conn.execute(upsert)
            row = conn.execute(sa.select(leases).where(leases.c.name == name)).one()
        return LeaseRow(
            row.name, row.owner, row.command, _utc(row.acquired_at), _utc(row.expires_at)
        )

    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease up, if `owner` still holds it."""
        with self.engine.begin() as conn:
            conn.execute(leases.delete().where(leases.c.name == name, leases.c.owner == owner))

    def get_lease(self, name: str) -> LeaseRow | None:
        """The lease row `name` (expired or not), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(leases).where(leases.c.name == name)).first()
        if row is None:
            return None
        return LeaseRow(
            row.name, row.owner, row.command, _utc(row.acquired_at), _utc(row.expires_at)
        )

    def open_runs(self) -> list[dict[str, Any]]:
        """Runs not yet finished (prepared, submitted or waiting), oldest first."""
        query = (
            sa.select(runs)
            .where(runs.c.status.not_in(("completed", "failed")))
            .order_by(runs.c.created_at)
        )
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def runs(self, run_id: str | None = None) -> list[dict[str, Any]]:
        """Runs as dicts, newest first (one run if `run_id` is given)."""
        query = sa.select(runs).order_by(runs.c.created_at.desc())
        if run_id is not None:
            query = query.where(runs.c.run_id == run_id)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def chunk_batches(self, run_id: str) -> list[tuple[ChunkRow, BatchRow | None, dict]]:
        """Each chunk of the run with its batch (if any) and the batch's last request tallies."""
        query = (
            sa.select(chunks, batches.c.id.label("batch_row_id"))
            .outerjoin(batches, batches.c.chunk_id == chunks.c.id)
            .where(chunks.c.run_id == run_id)
            .order_by(chunks.c.round, chunks.c.chunk_index)
        )
        result = []
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                chunk = _chunk(row, self.local)
                batch = self.get_batch(chunk.id) if row.batch_row_id is not None else None
                counts = {}
                if batch is not None:
                    raw = conn.execute(
                        sa.select(batches.c.counts_json).where(batches.c.chunk_id == chunk.id)
                    ).scalar_one()
                    counts = orjson.loads(raw) if raw else {}
                result.append((chunk, batch, counts))
        return result

    def claimed_batch_ids(self, provider: str) -> set[str]:
        """Every batch id of `provider` that some chunk already owns."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(batches.c.batch_id).where(
                    batches.c.provider == provider, batches.c.batch_id.is_not(None)
                )
            ).all()
        return {row.batch_id for row in rows}


# The newest migration (interviews/migrations/versions); bump it with each new revision.
SCHEMA_REVISION = "0002"
# The revision of ledgers made before migrations existed (they hold exactly its tables).
_FIRST_REVISION = "0001"
# Any constant: the PostgreSQL advisory lock that lets one process at a time migrate.
_MIGRATION_LOCK = 0x1E06E4


def migrate(engine: sa.Engine) -> None:
    """Bring the ledger's schema to `SCHEMA_REVISION` with Alembic (SQLite and PostgreSQL).

    A current ledger costs one query (Alembic is not even imported). Otherwise one process at
    a time migrates (a PostgreSQL advisory lock; SQLite's write lock, taken at once), and a
    ledger made before migrations existed is stamped with the first revision first.
    """
    if _revision(engine) == SCHEMA_REVISION:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with _migration_lock(engine), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        inspector = sa.inspect(conn)
        config.attributes["connection"] = conn
        if not inspector.has_table("alembic_version") and inspector.has_table("runs"):
            command.stamp(config, _FIRST_REVISION)
        command.upgrade(config, "head")  # does nothing if another process got there first


@contextlib.contextmanager
def _migration_lock(engine: sa.Engine) -> Iterator[None]:
    """For a SQLite file, an exclusive lock on `<ledger>.migrating` beside it (PostgreSQL's
    advisory lock is taken inside the transaction)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrating", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _revision(engine: sa.Engine) -> str | None:
    """The ledger's Alembic revision, or None (new, or made before migrations)."""
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except sa.exc.DBAPIError:
        return None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL survives a SIGKILL mid-write and lets the CLI read while a flow writes
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
