"""The one clock (interviews/clock.py): `INTERVIEWS_NOW` freezes the calendar for the library and
for every CLI a test starts; physical time stays real; a bad value is one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest

from interviews import clock
from interviews.errors import ConfigurationError
from tests.conftest import FROZEN_NOW, ROOT


def cli(*args: str, now: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250"}
    if now is not None:
        env["INTERVIEWS_NOW"] = now
    return subprocess.run(
        [sys.executable, "-m", "interviews", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_the_session_runs_on_the_frozen_instant() -> None:
    assert os.environ["INTERVIEWS_NOW"] == FROZEN_NOW
    assert clock.now() == datetime(2026, 11, 27, 12, tzinfo=UTC)
    assert clock.today() == date(2026, 11, 27)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2027-06-01T00:00:00Z", datetime(2027, 6, 1, tzinfo=UTC)),
        ("2027-06-01T02:30:00+02:00", datetime(2027, 6, 1, 0, 30, tzinfo=UTC)),
        ("2027-06-01T00:00:00", datetime(2027, 6, 1, tzinfo=UTC)),  # no zone: UTC
        ("2027-06-01", datetime(2027, 6, 1, tzinfo=UTC)),  # a date: midnight UTC
    ],
)
def test_interviews_now_sets_the_clock(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: datetime
) -> None:
    monkeypatch.setenv("INTERVIEWS_NOW", value)
    assert clock.now() == expected
    assert clock.now().tzinfo is UTC
    assert clock.today() == expected.date()


@pytest.mark.parametrize("unset", [None, ""])
def test_without_interviews_now_the_clock_is_real(
    monkeypatch: pytest.MonkeyPatch, unset: str | None
) -> None:
    if unset is None:
        monkeypatch.delenv("INTERVIEWS_NOW")
    else:
        monkeypatch.setenv("INTERVIEWS_NOW", unset)
    before = datetime.now(UTC)
    now = clock.now()
    assert before <= now <= datetime.now(UTC)
    assert now.tzinfo is UTC


def test_physical_time_is_never_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    # instants compared with a provider's own clock (ledger intents, wait deadlines) stay real
    monkeypatch.setenv("INTERVIEWS_NOW", "2001-01-01T00:00:00Z")
    before = datetime.now(UTC)
    assert before <= clock.wall_now() <= datetime.now(UTC)
    assert clock.now() == datetime(2001, 1, 1, tzinfo=UTC)


EXPECTED_BAD_NOW = (
    "error: invalid INTERVIEWS_NOW='yesterday': Input should be a valid datetime or date, input "
    "is too short (an ISO-8601 date-time that freezes the project's clock, e.g. "
    "2026-11-01T12:00:00Z; a date alone is midnight UTC, no zone is UTC; unset: real time)"
)


def test_invalid_interviews_now_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERVIEWS_NOW", "yesterday")
    with pytest.raises(ConfigurationError) as caught:
        clock.now()
    assert f"error: {caught.value}" == EXPECTED_BAD_NOW
    for args in (["models"], ["estimate", "--count", "10"]):
        result = cli(*args, now="yesterday")
        assert result.returncode == 1
        assert result.stderr.strip() == EXPECTED_BAD_NOW
        assert result.stdout == ""


def _models_row(result: subprocess.CompletedProcess[str], model_id: str) -> str:
    assert result.returncode == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if f" {model_id} " in line]
    return row


@pytest.mark.parametrize(
    ("now", "status"),
    [
        ("2026-11-26T12:00:00Z", "legacy"),  # before its deprecation
        ("2026-11-28T12:00:00Z", "deprecated"),  # between deprecation and retirement
        ("2026-11-29T12:00:00Z", "deprecated"),  # inside the batch window: served, no batches
        ("2026-12-05T12:00:00Z", "retired"),
    ],
)
def test_interviews_models_says_the_status_of_the_day(now: str, status: str) -> None:
    row = _models_row(
        cli("models", "--provider", "anthropic", now=now), "claude-sonnet-4-5-20250929"
    )
    assert f" {status} " in row
    assert "2026-11-30" in row
    assert " active " in _models_row(
        cli("models", "--provider", "anthropic", now=now), "claude-sonnet-5-5"
    )


def test_estimate_says_retires_then_retired(monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["estimate", "--model", "claude-sonnet-4-5", "--count", "10"]
    before = cli(*args)  # the session's day
    assert before.returncode == 0, before.stderr
    assert "Claude Sonnet 4.5 retires on 2026-11-30; use claude-sonnet-5-5" in before.stdout
    after = cli(*args, now="2026-12-05")
    assert after.returncode == 0, after.stderr
    assert "Claude Sonnet 4.5 retired on 2026-11-30; use claude-sonnet-5-5" in after.stdout
