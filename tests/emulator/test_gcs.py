"""The in-process GCS emulator: reset, upload counting, and which requests count as uploads."""

import pytest
from google.cloud import storage

from interviews.emulator import DEFAULT_BUCKET, EmulatorControl
from interviews.emulator.gcs import GcsError, _is_upload, split_uri


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
