"""The in-process GCS emulator: reset, upload counting, which requests count as uploads, and
Vertex faults on client downloads."""

import concurrent.futures
import time

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from interviews.emulator import DEFAULT_BUCKET, EmulatorControl, EmulatorServer
from interviews.emulator.gcs import GcsError, GcsObjects, _is_upload, download_path, split_uri

RESULTS = r"/o/out/prediction-model-1/predictions\.jsonl$"


def test_reset_wipes_objects_but_keeps_buckets(
    gcs_client: storage.Client, control: EmulatorControl
) -> None:
    gcs_client.bucket(DEFAULT_BUCKET).blob("in/x.jsonl").upload_from_string(b"{}\n", retry=None)
    gcs_client.create_bucket("second-bucket", retry=None)
    control.reset()
    assert list(gcs_client.list_blobs(DEFAULT_BUCKET, retry=None)) == []
    names = {bucket.name for bucket in gcs_client.list_buckets(retry=None)}
    assert {DEFAULT_BUCKET, "second-bucket"} <= names
    gcs_client.bucket("second-bucket").delete(retry=None)


def test_client_uploads_count_as_vertex_files(
    gcs_client: storage.Client, control: EmulatorControl
) -> None:
    bucket = gcs_client.bucket(DEFAULT_BUCKET)
    bucket.blob("a.jsonl").upload_from_string(b"{}\n", retry=None)  # multipart
    resumable = bucket.blob("b.jsonl", chunk_size=256 * 1024)
    resumable.upload_from_string(b"x" * (600 * 1024), retry=None)  # 3 chunks, one object
    bucket.blob("a.jsonl").download_as_bytes(retry=None)
    assert control.stats()["vertex"]["files_uploaded"] == 2


@pytest.mark.parametrize(
    ("method", "target", "upload"),
    [
        ("POST", "/upload/storage/v1/b/bkt/o?uploadType=multipart", True),
        ("POST", "/upload/storage/v1/b/bkt/o?uploadType=resumable&name=x", False),
        ("PUT", "/upload/storage/v1/b/bkt/o?uploadType=resumable&upload_id=1", True),
        ("POST", "/storage/v1/b/bkt/o?uploadType=media&name=x", True),
        ("PUT", "/bkt/path/object.jsonl", True),
        ("PUT", "/storage/v1/b/bkt/iam", False),
        ("POST", "/storage/v1/b", False),
        ("GET", "/download/storage/v1/b/bkt/o/x?alt=media", False),
    ],
)
def test_which_requests_are_uploads(method: str, target: str, upload: bool) -> None:
    assert _is_upload(method, target) is upload


def test_split_uri() -> None:
    assert split_uri("gs://bkt/a/b.jsonl") == ("bkt", "a/b.jsonl")
    for bad in ("s3://bkt/x", "gs:///x"):
        with pytest.raises(GcsError):
            split_uri(bad)


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ("/download/storage/v1/b/bkt/o/out%2Fa?alt=media", "/download/storage/v1/b/bkt/o/out/a"),
        ("/storage/v1/b/bkt/o/out%2Fa?generation=1&alt=media", "/storage/v1/b/bkt/o/out/a"),
        ("/storage/v1/b/bkt/o/out%2Fa", None),
        ("/storage/v1/b/bkt/o?prefix=out%2F", None),
    ],
)
def test_which_requests_are_downloads(target: str, path: str | None) -> None:
    assert download_path(target) == path


def test_vertex_faults_hit_client_downloads_of_matching_objects_only(
    gcs_client: storage.Client, emulator: EmulatorServer, control: EmulatorControl
) -> None:
    bucket = gcs_client.bucket(DEFAULT_BUCKET)
    results = bucket.blob("out/prediction-model-1/predictions.jsonl")
    results.upload_from_string(b'{"a": 1}\n', retry=None)
    bucket.blob("in/x.jsonl").upload_from_string(b"{}\n", retry=None)
    control.set_faults(
        http=[{"provider": "vertex", "method": "GET", "path": RESULTS, "status": 503}]
    )
    assert bucket.blob("in/x.jsonl").download_as_bytes(retry=None) == b"{}\n"  # not matched
    assert bucket.get_blob("out/prediction-model-1/predictions.jsonl", retry=None) is not None
    own = GcsObjects(emulator.gcs_url)  # the emulator's own reads never meet faults
    assert own.read(f"gs://{DEFAULT_BUCKET}/out/prediction-model-1/predictions.jsonl")
    assert control.stats()["vertex"]["faults_fired"] == 0
    with pytest.raises(exceptions.ServiceUnavailable):
        results.download_as_bytes(retry=None)
    assert control.stats()["vertex"]["faults_fired"] == 1
    assert results.download_as_bytes(retry=None) == b'{"a": 1}\n'  # it fired its one time


def test_a_held_download_stalls_no_other_call_and_is_let_go_when_faults_change(
    gcs_client: storage.Client, control: EmulatorControl
) -> None:
    bucket = gcs_client.bucket(DEFAULT_BUCKET)
    results = bucket.blob("out/prediction-model-1/predictions.jsonl")
    results.upload_from_string(b'{"a": 1}\n', retry=None)
    control.set_faults(http=[{"provider": "vertex", "path": RESULTS, "delay": 600}])
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        held = pool.submit(results.download_as_bytes, retry=None, timeout=60)
        deadline = time.monotonic() + 20
        while control.stats()["vertex"]["faults_fired"] < 1:
            assert time.monotonic() < deadline, "the download was never held"
            time.sleep(0.02)
        bucket.blob("in/y.jsonl").upload_from_string(b"{}\n", retry=None)  # GCS still serves
        assert [b.name for b in gcs_client.list_blobs(DEFAULT_BUCKET, prefix="in/")] == [
            "in/y.jsonl"
        ]
        assert not held.done()
        control.clear_faults()
        assert held.result(timeout=30) == b'{"a": 1}\n'


def test_objects_can_live_in_a_folder_instead_of_memory(tmp_path) -> None:
    """A run larger than memory (the million-interview bench) keeps the emulator's objects on
    disk; uploads (multipart and resumable), reads and reset work the same."""
    with EmulatorServer(gcs_dir=tmp_path / "gcs") as emulator:
        client = storage.Client(
            project="test",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emulator.gcs_url},
        )
        bucket = client.bucket(DEFAULT_BUCKET)
        bucket.blob("in/a.jsonl").upload_from_string(b'{"a": 1}\n', retry=None)
        big = bucket.blob("in/b.jsonl", chunk_size=256 * 1024)
        big.upload_from_string(b"y" * (600 * 1024), retry=None)
        stored = sum(
            path.stat().st_size for path in (tmp_path / "gcs").rglob("*") if path.is_file()
        )
        assert stored >= 600 * 1024  # the bytes are in the folder
        assert bucket.blob("in/a.jsonl").download_as_bytes(retry=None) == b'{"a": 1}\n'
        assert GcsObjects(emulator.gcs_url).read(f"gs://{DEFAULT_BUCKET}/in/b.jsonl") == (
            b"y" * (600 * 1024)
        )
        EmulatorControl(emulator.url).reset()
        assert list(client.list_blobs(DEFAULT_BUCKET, retry=None)) == []
