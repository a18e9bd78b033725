"""Gemini Files through google-genai: resumable upload, get, list, download, faults."""

import io
import time

import httpx
import pytest
from google.genai import Client as GenaiClient
from google.genai import errors, types

from interviews.emulator import EmulatorControl, EmulatorServer
from tests.emulator.builders import jsonl
from tests.emulator.google_support import gemini_file_lines, run_genai

UPLOAD = "POST /upload/v1beta/files"


def test_upload_get_list_delete(gemini_client: GenaiClient, control: EmulatorControl) -> None:
    content = jsonl(gemini_file_lines(3))
    uploaded = gemini_client.files.upload(
        file=io.BytesIO(content),
        config={"mime_type": "application/jsonl", "display_name": "interviews input"},
    )
    assert uploaded.name.startswith("files/") and uploaded.size_bytes == len(content)
    assert uploaded.state == types.FileState.ACTIVE and uploaded.source == types.FileSource.UPLOADED
    assert uploaded.display_name == "interviews input" and uploaded.mime_type == "application/jsonl"
    assert uploaded.expiration_time > uploaded.create_time

    fetched = gemini_client.files.get(name=uploaded.name)
    assert fetched.name == uploaded.name and fetched.size_bytes == len(content)
    assert [f.name for f in gemini_client.files.list()] == [uploaded.name]
    # Uploaded files cannot be downloaded, only generated ones.
    with pytest.raises(errors.ClientError):
        gemini_client.files.download(file=uploaded.name)

    gemini_client.files.delete(name=uploaded.name)
    with pytest.raises(errors.ClientError) as caught:
        gemini_client.files.get(name=uploaded.name)
    assert caught.value.code == 403
    stats = control.stats()["gemini"]
    assert stats["files_uploaded"] == 1 and stats["calls"][UPLOAD] == 2  # start + finalize


def test_upload_url_is_absolute_and_needs_no_key(emulator: EmulatorServer) -> None:
    start = httpx.post(
        f"{emulator.gemini_base_url}/upload/v1beta/files",
        json={"file": {"display_name": "raw"}},
        headers={
            "x-goog-api-key": "k",
            "x-goog-upload-protocol": "resumable",
            "x-goog-upload-command": "start",
            "x-goog-upload-header-content-length": "6",
            "x-goog-upload-header-content-type": "text/plain",
        },
        trust_env=False,
    )
    assert start.headers["x-goog-upload-status"] == "active"
    url = start.headers["x-goog-upload-url"]
    assert url.startswith(emulator.gemini_base_url + "/upload/v1beta/files?upload_id=")

    first = httpx.post(
        url,
        content=b"abc",
        headers={"x-goog-upload-command": "upload", "x-goog-upload-offset": "0"},
        trust_env=False,
    )
    assert first.status_code == 200 and first.headers["x-goog-upload-status"] == "active"
    final = httpx.post(
        url,
        content=b"def",
        headers={"x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "3"},
        trust_env=False,
    )
    assert final.headers["x-goog-upload-status"] == "final"
    assert final.json()["file"]["sizeBytes"] == "6"
    # extra="forbid": every field of the File is one the SDK knows.
    assert types.File.model_validate(final.json()["file"]).display_name == "raw"

    again = httpx.post(
        url, content=b"x", headers={"x-goog-upload-command": "upload, finalize"}, trust_env=False
    )
    assert again.status_code == 404 and again.headers["x-goog-upload-status"] == "final"
    # The upload start is not exempt from auth.
    no_key = httpx.post(f"{emulator.gemini_base_url}/upload/v1beta/files", trust_env=False)
    assert no_key.status_code == 403 and no_key.headers["x-goog-upload-status"] == "final"


def test_a_faulted_upload_fails_fast(gemini_client: GenaiClient, control: EmulatorControl) -> None:
    control.set_faults(http=[{"provider": "gemini", "path": "^/upload/", "status": 503}])
    started = time.monotonic()
    with pytest.raises(errors.ServerError):
        gemini_client.files.upload(file=io.BytesIO(b"{}\n"), config={"mime_type": "text/plain"})
    # Without x-goog-upload-status on the error the SDK would sleep 1 + 2 + 4 s first.
    assert time.monotonic() - started < 2


def test_truncated_download_of_the_responses_file(
    gemini_client: GenaiClient, control: EmulatorControl
) -> None:
    control.configure(processing_seconds=0)
    uploaded = gemini_client.files.upload(
        file=io.BytesIO(jsonl(gemini_file_lines(4))), config={"mime_type": "application/jsonl"}
    )
    job = gemini_client.batches.create(model="gemini-2.5-flash", src=uploaded.name)
    done = run_genai(gemini_client, job.name)
    control.set_faults(truncate_results=1)
    cut = gemini_client.files.download(file=done.dest.file_name)
    assert not cut.endswith(b"\n") and cut.count(b"\n") == 2
    whole = gemini_client.files.download(file=done.dest.file_name)  # the fault fired once
    assert whole.endswith(b"\n") and whole.count(b"\n") == 4
