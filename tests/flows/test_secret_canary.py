"""The canary: a provider that echoes the refused key must not get it into any output.

Each provider's emulator echoes the key (or Vertex access token) it was shown in its error
messages. The batch and real-time flows run against it through the real Prefect test harness;
then the canary is searched for in the Prefect database, its result storage (decoded), the data
dir, the captured output and the log records, and the redaction marker must be found where the
error text went, so the test cannot pass because nothing was written.
"""

from __future__ import annotations

import base64
import logging
import os
import sqlite3
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path

import cloudpickle
import orjson
import pytest
from pydantic import SecretStr

from blocks.credentials import emulator_blocks
from flows.batch_flows import batch_interviews
from flows.realtime_flow import realtime_interviews
from interviews.errors import PermanentProviderError, RunFailedError
from interviews.redaction import REDACTED
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE, line_faults

REALTIME_ROUTE = {
    "anthropic": r"/messages$",
    "openai": r"/chat/completions$",
    "vertex": r":generateContent$",
    "gemini": r":generateContent$",
}


def _canary_key(provider: str, shape: str, tag: str) -> str:
    """A unique key: shaped like the provider's real keys, or opaque (caught only because the
    client was built with it)."""
    if shape == "opaque":
        return f"canary{tag}opaque"
    return {
        "anthropic": f"sk-ant-api03-canary{tag}",
        "openai": f"sk-proj-canary{tag}",
        "vertex": f"ya29.canary{tag}",
        "gemini": f"AIzaCanary{tag}",
    }[provider]


def _save_canary_block(emu, provider: str, key: str) -> str:
    credentials = emulator_blocks(emu.url, emu.gcs_url)[provider]
    if provider == "vertex":
        credentials.access_token = SecretStr(key)
    else:
        credentials.api_key = SecretStr(key)
    credentials.save("canary", overwrite=True)
    return "canary"


class _Capture(logging.Handler):
    """Every log record, formatted with its traceback (cause chain included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        self.texts.append(text)


@pytest.fixture
def captured_logs() -> Iterator[_Capture]:
    handler = _Capture()
    loggers = [logging.getLogger(name) for name in ("", "prefect", "interviews")]
    loggers += [logging.getLogger(f"prefect.{n}") for n in ("flow_runs", "task_runs")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def _flush_prefect() -> None:
    """Send the logs and events still queued in this process to the API (as the harness does
    before it stops)."""
    import inspect

    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.utilities.asyncutils import run_coro_as_sync

    async def drain() -> None:
        for result in (APILogWorker.instance().drain(), EventsWorker.drain_all()):
            if inspect.isawaitable(result):
                await result

    run_coro_as_sync(drain())


def _database_texts() -> list[str]:
    """Every text and blob cell of the harness's Prefect database, plus its raw bytes."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    path = Path(PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split(":///", 1)[1])
    texts = [
        p.read_bytes().decode("utf-8", "replace")
        for p in path.parent.glob(path.name + "*")
        if p.is_file()
    ]
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for cell in row:
                    if isinstance(cell, bytes):
                        texts.append(cell.decode("utf-8", "replace"))
                    elif isinstance(cell, str):
                        texts.append(cell)
    return texts


def _decoded_storage(path: Path) -> list[str]:
    """A result file as text: raw, its payload decoded from base64 (bare, or in a JSON result
    record), and the unpickled object with its attributes and traceback chain, or its repr."""
    raw = path.read_bytes()
    texts = [raw.decode("utf-8", "replace")]
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        encoded = raw
    else:
        encoded = record.get("result") if isinstance(record, dict) else None
        if not isinstance(encoded, str):
            return texts
    try:
        payload = base64.b64decode(encoded)
    except ValueError:
        payload = raw
    texts.append(payload.decode("latin-1"))
    try:
        value = cloudpickle.loads(payload)
    except Exception:  # e.g. an exception class that needs keywords: it was grepped raw
        return texts
    texts.append(repr(value))
    if isinstance(value, BaseException):
        texts.append("".join(traceback.format_exception(value)))
        chain: BaseException | None = value
        while chain is not None:
            texts.append(repr(vars(chain)) + repr(chain.args))
            chain = chain.__cause__ or chain.__context__
    return texts


def _storage_texts() -> tuple[list[str], int]:
    """Decoded texts of every result file, and how many files there were."""
    from prefect.settings import get_current_settings

    root = Path(get_current_settings().results.local_storage_path)
    files = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    return [text for p in files for text in _decoded_storage(p)], len(files)


def _data_texts(data_dir: Path) -> dict[str, str]:
    return {
        str(p): p.read_bytes().decode("utf-8", "replace")
        for p in data_dir.rglob("*")
        if p.is_file()
    }


def _record_errors(data_dir: Path) -> list[str]:
    messages = []
    for path in (data_dir / "interviews").glob("*.json"):
        record = orjson.loads(path.read_bytes())
        if record.get("error"):
            messages.append(record["error"]["message"])
    return messages


def _assert_absent(tag: str, texts, where: str) -> None:
    leaks = [text for text in texts if tag in text]
    assert not leaks, f"canary found in {where}: {leaks[0][:500]}"


# Each provider's error paths with one key shape, each shape on two providers: a key-shaped
# key is caught by its pattern, an opaque one only because its block registered it.
CASES = [
    ("anthropic", "key-shaped"),
    ("openai", "opaque"),
    ("vertex", "key-shaped"),
    ("gemini", "opaque"),
]


@pytest.mark.parametrize(("provider", "shape"), CASES)
def test_an_echoed_key_is_redacted_everywhere(
    emu, control, data_dir: Path, captured_logs: _Capture, capfd, provider: str, shape: str
) -> None:
    tag = uuid.uuid4().hex
    key = _canary_key(provider, shape, tag)
    block = _save_canary_block(emu, provider, key)

    def params(run_id: str, **extra) -> BatchRunParameters:
        values = {
            "provider": provider,
            "personas": str(SAMPLE),
            "count": 3,
            "run_id": run_id,
            "credentials_block": block,
            "data_dir": str(data_dir),
            "max_rounds": 0,
        }
        return BatchRunParameters(**values | extra)

    raised: list[BaseException] = []
    # google-auth answers a 401 by refreshing the token (and fails: a bare token cannot be
    # refreshed) before the body is read; a 403 brings the echoed token back to us
    status = 403 if provider == "vertex" else 401
    refuse = {"provider": provider, "status": status, "echo_key": True, "count": 999}
    # 1. batch: the create (or upload) is refused, echoing the key
    control.set_faults(http=[refuse])
    with pytest.raises(PermanentProviderError, match=f"HTTP {status}") as batch_error:
        batch_interviews(params("canary-batch"))
    raised.append(batch_error.value)
    # 2. real time: the first request is refused, echoing the key; the run stops
    control.set_faults(http=[refuse])
    with pytest.raises(PermanentProviderError) as realtime_error:
        realtime_interviews(params("canary-rt"))
    raised.append(realtime_error.value)
    # 3. real time: every request fails (not fatally) with the key echoed, so each interview's
    # record carries the error text
    bad = {"provider": provider, "path": REALTIME_ROUTE[provider], "status": 400}
    control.set_faults(http=[bad | {"echo_key": True, "count": 999}])
    with pytest.raises(RunFailedError) as no_answer:
        realtime_interviews(params("canary-rt-400"))
    raised.append(no_answer.value)
    errors = _record_errors(data_dir)
    assert len(errors) == 3 and all(REDACTED in message for message in errors), errors
    # 4. batch: the provider's result line for one request echoes the key
    control.set_faults(
        lines=line_faults(
            {"interview_1": {"type": "errored", "message": f"Invalid key {key} for this"}}
        )
    )
    summary = batch_interviews(params("canary-lines"))
    assert summary["statuses"]["errored"] == 1
    control.clear_faults()
    [error] = _record_errors(data_dir)  # the run's records replace the real-time ones
    assert error == f"Invalid key {REDACTED} for this"

    for error in raised:
        _assert_absent(tag, ["".join(traceback.format_exception(error))], "a raised error")
    assert REDACTED in str(batch_error.value) and REDACTED in str(realtime_error.value)
    # the cause keeps its type and status: the SDK's error, scrubbed
    cause = batch_error.value.__cause__
    assert cause is not None and str(status) in str(cause) and REDACTED in str(cause)

    _assert_absent(tag, _data_texts(data_dir).values(), "the data dir")

    _flush_prefect()
    out, err = capfd.readouterr()
    _assert_absent(tag, [out, err], "stdout/stderr")
    _assert_absent(tag, captured_logs.texts, "log records")
    assert any(REDACTED in text for text in captured_logs.texts)

    database = _database_texts()
    for _ in range(100):  # the server may still be writing what it was sent
        if any(REDACTED in text for text in database):
            break
        time.sleep(0.2)
        database = _database_texts()
    _assert_absent(tag, database, "the Prefect database")
    assert any(REDACTED in text for text in database)  # the error text reached it, redacted

    storage, files = _storage_texts()
    _assert_absent(tag, storage, "Prefect's result storage")
    assert files and any(REDACTED in text for text in storage)  # the failed states' pickles


def test_cli_run_with_a_rejected_echoed_key_prints_one_line_without_it(
    emu, control, data_dir: Path, prefect_api: str
) -> None:
    key = f"sk-ant-api03-canary{uuid.uuid4().hex}"
    control.set_faults(
        http=[{"provider": "anthropic", "status": 401, "echo_key": True, "count": 9}]
    )
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "ANTHROPIC_API_KEY": key,
        "ANTHROPIC_BASE_URL": emu.anthropic_base_url,
    }
    command = [sys.executable, "-m", "interviews", "run", "--personas", str(SAMPLE)]
    result = subprocess.run(
        [*command, "--count", "2", "--run-id", "canary", "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert key not in output and key[20:] not in output
    assert "Traceback" not in output
    # the CLI's own error: one line (Prefect's run logs above it are redacted as well)
    [error_line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "check the API key" in error_line and REDACTED in error_line
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert key[20:].encode() not in path.read_bytes(), path
