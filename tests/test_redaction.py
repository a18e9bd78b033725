"""The redaction rules: known secrets of any shape, key-shaped strings, exception chains,
results files and log records."""

from __future__ import annotations

import logging
import pickle
import uuid
from pathlib import Path

import pytest

from interviews import redaction
from interviews.batch_types import BatchJob, BatchStatus, RequestError
from interviews.errors import PermanentProviderError
from interviews.redaction import (
    REDACTED,
    RedactingFilter,
    redact,
    redact_file,
    register_secret,
    scrub_exception,
)


@pytest.mark.parametrize(
    "key",
    [
        "sk-ant-api03-abcdefghijklmnop_QRSTUV-123",
        "sk-proj-abcdefghijklmnopqrstuvwx",
        "sk-abcdefghijklmnopqrstuvwxyz012345",
        "AIzaSyA1234567890abcdefghijklmnopqrstu",
        "ya29.a0AfB_byC-abc.def",
    ],
)
def test_key_shaped_strings_are_redacted_without_being_known(key: str) -> None:
    assert (
        redact(f"Incorrect API key provided: {key}.") == f"Incorrect API key provided: {REDACTED}."
    )


def test_bearer_tokens_and_url_keys_are_redacted() -> None:
    text = "Authorization: Bearer abc.DEF-123456 sent to https://h/v1/x?alt=json&key=opaque123"
    assert redact(text) == (
        f"Authorization: Bearer {REDACTED} sent to https://h/v1/x?alt=json&key={REDACTED}"
    )


def test_words_that_merely_contain_sk_are_kept() -> None:
    text = "task-run-0123456789 of batch msgbatch_01ABC and file-abc123; disk-usage-high"
    assert redact(text) == text


def test_a_registered_secret_of_any_shape_is_redacted() -> None:
    secret = f"opaque{uuid.uuid4().hex}"
    assert redact(f"bad key {secret}!") == f"bad key {secret}!"
    register_secret(secret)
    assert redact(f"bad key {secret}!") == f"bad key {REDACTED}!"


def test_the_standard_env_vars_are_known_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"envsecret{uuid.uuid4().hex}"
    monkeypatch.setenv("GEMINI_API_KEY", secret)
    assert secret not in redact(f"key={secret}, again: {secret}")


def test_short_values_are_not_registered() -> None:
    register_secret("test")
    assert redact("a test of the key") == "a test of the key"


def test_errors_and_outcomes_are_redacted_when_built() -> None:
    key = "sk-ant-api03-zzzzzzzzzzzzzzzzzz"
    error = PermanentProviderError(f"refused {key}", provider="anthropic", status_code=401)
    assert str(error) == f"refused {REDACTED}"
    assert RequestError(kind="x", message=f"bad {key}", transient=False).message == (
        f"bad {REDACTED}"
    )
    job = BatchJob(
        provider="anthropic",
        batch_id="b",
        status=BatchStatus.FAILED,
        provider_status="failed",
        errors=(f"key {key}",),
    )
    assert job.errors == (f"key {REDACTED}",)


class _SdkError(Exception):
    def __init__(self, message: str, body: dict, response: object) -> None:
        super().__init__(message)
        self.body = body
        self.response = response
        self.status_code = 401


class _Response:
    def __init__(self) -> None:
        self.headers = {"authorization": "Bearer opaque-token-value"}


def test_scrub_exception_redacts_the_whole_chain_and_drops_http_objects() -> None:
    key = "sk-proj-yyyyyyyyyyyyyyyyyyyyyyyy"
    try:
        try:
            raise ValueError(f"inner {key}")
        except ValueError as inner:
            raise _SdkError(f"outer {key}", {"error": {"message": key}}, _Response()) from inner
    except _SdkError as exc:
        scrub_exception(exc)
        assert exc.args == (f"outer {REDACTED}",)
        assert exc.body == {"error": {"message": REDACTED}}
        assert exc.response is None and exc.status_code == 401  # type and status stay
        assert exc.__cause__.args == (f"inner {REDACTED}",)
        assert key.encode() not in pickle.dumps(exc)


def test_redact_file_rewrites_only_a_file_with_secrets(tmp_path: Path) -> None:
    clean = tmp_path / "clean.jsonl"
    clean.write_bytes(b'{"a": 1}\n{"b": "sk"}\n')
    before = clean.stat().st_mtime_ns
    assert not redact_file(clean)
    assert clean.stat().st_mtime_ns == before
    dirty = tmp_path / "dirty.jsonl"
    dirty.write_bytes(b'{"a": 1}\n{"error": "key AIzaSyA1234567890abcdefghijklmnopqrstu bad"}')
    assert redact_file(dirty)
    assert dirty.read_bytes() == b'{"a": 1}\n{"error": "key ' + REDACTED.encode() + b' bad"}'


def test_the_log_filter_redacts_messages_and_tracebacks() -> None:
    key = "sk-ant-api03-xxxxxxxxxxxxxxxxxxxx"
    try:
        raise RuntimeError(f"boom {key}")
    except RuntimeError as exc:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "got %s", (key,), None)
        record.exc_info = (type(exc), exc, exc.__traceback__)
    RedactingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert key not in text and f"got {REDACTED}" in text and f"boom {REDACTED}" in text


@pytest.mark.parametrize("offset", [-200, -60, -1, 0, 1, 37, 4000])
def test_redact_file_catches_a_secret_across_block_boundaries(tmp_path: Path, offset: int) -> None:
    # The file is read in 1 MiB blocks (a results line may be gigabytes): a key split by a
    # block edge, or by the held-back tail, must still be redacted whole.
    key = "sk-ant-api03-" + "Q" * 90
    bearer = "Bearer abc.def-ghi_" + "z" * 40
    at = redaction._BLOCK + offset
    body = bytearray(b" " * (3 * redaction._BLOCK))
    body[at : at + len(key)] = key.encode()
    body[at + 2 * redaction._OVERLAP : at + 2 * redaction._OVERLAP + len(bearer)] = bearer.encode()
    path = tmp_path / "results.jsonl"
    path.write_bytes(b'{"error": "' + bytes(body) + b'"}\n')
    assert redact_file(path)
    text = path.read_bytes()
    assert b"QQQQ" not in text and b"zzzz" not in text
    assert text.count(REDACTED.encode()) == 2
    expected = bytes(body).replace(key.encode(), REDACTED.encode())
    expected = expected.replace(bearer.encode(), b"Bearer " + REDACTED.encode())
    assert text == b'{"error": "' + expected + b'"}\n'


def test_redact_file_keeps_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    raw = b"\xff\xfe\xfd" + "é".encode() * (redaction._BLOCK // 2) + b" sk-proj-abcdefghijkl \x80\n"
    path.write_bytes(raw)
    assert redact_file(path)
    assert path.read_bytes() == raw.replace(b"sk-proj-abcdefghijkl", REDACTED.encode())
