"""A data directory in a bucket (gs:// on the emulator's GCS through gcsfs, s3:// on moto's
S3 through s3fs), and the whole batch pipeline on PostgreSQL + a bucket with two workers that
share nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from interviews.datastore import RemoteMirror, is_remote, mirror_for
from interviews.errors import ConfigurationError, LedgerError
from interviews.ledger import Ledger
from interviews.pipeline import prepare_run
from interviews.preparation import DataDirs, open_data_dir
from interviews.providers.anthropic_batches import AnthropicBatchAdapter
from tests.s3 import S3_BUCKET, S3_ENV, running_s3
from tests.test_pipeline import params, run_all


@pytest.fixture
def bucket_url(emu, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A fresh prefix in the emulator's bucket, with gs:// pointed at the emulator and this
    test's workspaces under its own temporary folder."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emu.gcs_url)
    monkeypatch.setenv("INTERVIEWS_WORKSPACE_DIR", str(tmp_path / "workspaces"))
    return f"gs://interviews-emulator/t-{uuid.uuid4().hex[:8]}/data"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on loopback, for the whole session."""
    with running_s3() as url:
        yield url


@pytest.fixture(params=["gs", "s3"])
def any_bucket_url(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    """A fresh prefix in a GCS bucket (the emulator's) and, as a second case, in an S3 bucket
    (moto's), with the workspaces under this test's temporary folder."""
    monkeypatch.setenv("INTERVIEWS_WORKSPACE_DIR", str(tmp_path / "workspaces"))
    prefix = f"t-{uuid.uuid4().hex[:8]}/data"
    if request.param == "gs":
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", request.getfixturevalue("emu").gcs_url)
        return f"gs://interviews-emulator/{prefix}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", request.getfixturevalue("s3_endpoint"))
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    return f"s3://{S3_BUCKET}/{prefix}"


def _worker(url: str) -> DataDirs:
    """What another machine sees: its own workspace of the same bucket."""
    mirror = RemoteMirror(url)
    return DataDirs(mirror.root, mirror)


def test_urls_are_remote_and_folders_are_not() -> None:
    assert is_remote("gs://b/p") and is_remote("s3://b/p")
    assert not is_remote("data") and not is_remote("/srv/data") and not is_remote("file:///x")
    assert open_data_dir("file:///srv/data").root == Path("/srv/data")
    assert open_data_dir("data").mirror is None


def test_a_published_file_reaches_another_worker_and_a_change_replaces_its_copy(
    any_bucket_url: str,
) -> None:
    bucket_url = any_bucket_url
    one, two = _worker(bucket_url), _worker(bucket_url)
    assert one.root != two.root
    path = one.run("r1") / "records" / "r0_c000.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"a": 1}\n')
    there = two.run("r1") / "records" / "r0_c000.jsonl"
    assert not two.fetch(there)  # nothing published yet
    one.publish(path)
    assert two.fetch(there) and there.read_bytes() == b'{"a": 1}\n'
    path.write_bytes(b'{"a": 2}\n')  # the same size: only the object's generation differs
    one.publish(path)
    assert two.fetch(there) and there.read_bytes() == b'{"a": 2}\n'
    two.remove_tree(two.run("r1"))
    assert not one.mirror.fs.exists(one.mirror.remote(path))


def test_fetch_tree_brings_a_folder_and_a_request_name_is_claimed_in_the_bucket(
    any_bucket_url: str,
) -> None:
    bucket_url = any_bucket_url
    one, two = _worker(bucket_url), _worker(bucket_url)
    for name in ("r0_c000.jsonl", "r1_c000.jsonl"):
        part = one.run("r2") / "records" / name
        part.parent.mkdir(parents=True, exist_ok=True)
        part.write_text(name)
        one.publish(part)
    two.fetch_tree(two.run("r2") / "records")
    assert sorted(p.read_text() for p in (two.run("r2") / "records").iterdir()) == [
        "r0_c000.jsonl",
        "r1_c000.jsonl",
    ]
    from datetime import UTC, datetime

    from interviews.requests import request_file_path

    when = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
    first = request_file_path(one.requests, "openai", when, claim=one.claim)
    second = request_file_path(two.requests, "openai", when, claim=two.claim)
    # the same second on two machines: the bucket tells the second that the name is taken
    assert first.name == "batch_request_openai_20261206_120000.jsonl"
    assert second.name == "batch_request_openai_20261206_120000_2.jsonl"


def test_a_bucket_data_dir_needs_a_shared_ledger(bucket_url: str) -> None:
    with pytest.raises(ConfigurationError, match="INTERVIEWS_LEDGER_URL"):
        open_data_dir(bucket_url).open_ledger(None)
    # from the terminal, with the variable set but blank: one line, before any bucket call
    done = subprocess.run(
        [sys.executable, "-m", "interviews", "status", "--data-dir", bucket_url],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "INTERVIEWS_LEDGER_URL": ""},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"the data directory {bucket_url} is in an object store" in done.stderr
    assert "set INTERVIEWS_LEDGER_URL" in done.stderr


def test_the_ledger_stores_bucket_urls_that_each_worker_maps_to_its_workspace(
    emu, control, any_bucket_url: str, postgres_url: str
) -> None:
    """The pipeline on PostgreSQL + a bucket (gs:// and s3://): one worker prepares and
    submits, another (its own workspace) downloads and converts; files land in the bucket, one
    batch is paid."""
    bucket_url = any_bucket_url
    adapter = AnthropicBatchAdapter(
        api_key="k", base_url=emu.anthropic_base_url, max_retries=0, strict_responses=True
    )
    one = _worker(bucket_url)
    ledger_one = one.open_ledger(postgres_url)
    plan = prepare_run(params(count=3), ledger=ledger_one, dirs=one)
    with ledger_one.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT path FROM chunks").scalars().all()
    assert stored and all(path.startswith(bucket_url + "/runs/") for path in stored)
    requests_object = one.mirror.remote(plan.requests_path)
    assert one.mirror.fs.exists(requests_object)  # published before the ledger row

    two = _worker(bucket_url)
    ledger_two = two.open_ledger(postgres_url)
    again = prepare_run(params(count=3), ledger=ledger_two, dirs=two)
    assert again.resumed and again.chunks[0].path.is_relative_to(two.root)
    summaries = run_all(again, adapter, ledger_two, two)
    assert sum(s.statuses.get("succeeded", 0) for s in summaries) == 3
    assert control.stats()["anthropic"]["batches_created"] == 1

    three = _worker(bucket_url)  # a third machine reads the records from the bucket alone
    records = [three.interviews / f"interview_{n}.json" for n in range(3)]
    assert all(three.fetch(path) for path in records)
    assert orjson.loads(records[0].read_bytes())["status"] == "succeeded"
    part = three.run(plan.run_id) / "records" / "r0_c000.jsonl"
    assert three.fetch(part) and len(part.read_bytes().splitlines()) == 3
    for ledger in (ledger_one, ledger_two):
        ledger.engine.dispose()


def test_a_ledger_url_of_another_bucket_is_refused_with_the_fix(
    bucket_url: str, postgres_url: str
) -> None:
    ledger = Ledger(postgres_url, mirror_for(bucket_url))
    ledger.engine.dispose()
    with pytest.raises(LedgerError, match="--data-dir"):
        ledger.local("gs://another-bucket/data/runs/r/c.jsonl")


def test_a_dead_processs_workspace_is_removed_by_the_next_one(
    bucket_url: str, tmp_path: Path
) -> None:
    code = (
        "import os; from interviews.datastore import mirror_for; "
        f"m = mirror_for({bucket_url!r}); (m.root / 'x').write_text('health data'); "
        "print(m.root); os._exit(0)"  # dies without its exit handlers, like a SIGKILL
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=True
    )
    left = Path(out.stdout.strip())
    assert left.exists()
    RemoteMirror(bucket_url)
    assert not left.exists()


def test_personas_are_read_from_a_bucket_and_errors_name_the_url(
    bucket_url: str, tmp_path: Path
) -> None:
    from interviews.errors import InputError
    from interviews.preparation import prepare_requests
    from tests.conftest import SAMPLE

    dirs = _worker(bucket_url)
    fs = dirs.mirror.fs
    personas = bucket_url.replace("/data", "/inputs/personas.jsonl")
    fs.put_file(str(SAMPLE), personas[len("gs://") :])
    prepared = prepare_requests(
        params(count=2).model_copy(update={"personas": personas}),
        dirs=dirs,
        chunk_dir=dirs.run("r1"),
    )
    assert prepared.request_count == 2
    broken = bucket_url.replace("/data", "/inputs/broken.jsonl")
    fs.pipe_file(broken[len("gs://") :], SAMPLE.read_bytes().splitlines()[0] + b"\n{not json\n")
    with pytest.raises(InputError) as caught:
        prepare_requests(
            params(count=1).model_copy(update={"personas": broken}),
            dirs=dirs,
            chunk_dir=dirs.run("r2"),
        )
    assert str(caught.value).startswith(f"{broken}:2: ")
    with pytest.raises(InputError, match="not found in the bucket"):
        prepare_requests(
            params(count=1).model_copy(update={"personas": broken + ".missing"}),
            dirs=dirs,
            chunk_dir=dirs.run("r3"),
        )
