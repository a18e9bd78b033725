"""The CLI in a real terminal: `interviews demo` on a pseudo-terminal, as a person runs it.

A pseudo-terminal makes Rich draw its live progress bars (redirected output gets none), and
makes Prefect believe a person is watching, which is when it shows its first-run telemetry
banner. The child gets a fresh PREFECT_HOME and none of the analytics switches this test
session sets, so only the CLI's own defaults keep Prefect quiet.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pexpect

from interviews.cli import TELEMETRY_OFF, telemetry_off_by_default
from tests.conftest import ROOT
from tests.test_launcher import ANSI

# What a normal run must never print: each was seen on a terminal before issue 12.
NOISE = (
    "Traceback",
    "MissingStyle",
    "anonymous usage data",  # Prefect's first-run telemetry banner
    "Failed to send telemetry",  # the temporary server's heartbeat to prefect.io
    "Failed to initialize plugins",  # Prefect imported from two threads at once
    "CancelledError",
)


def terminal_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A terminal's environment with no analytics switch set and a fresh Prefect home."""
    env = {k: v for k, v in os.environ.items() if k not in TELEMETRY_OFF}
    env.pop("PREFECT_API_URL", None)
    # the pseudo-terminal's own size counts (pytest-xdist workers export COLUMNS=80, LINES=24)
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    home = tmp_path / "prefect-home"
    home.mkdir()
    return {**env, "TERM": "xterm-256color", "PREFECT_HOME": str(home), **extra}


def run_on_terminal(args: list[str], env: dict[str, str], timeout: int = 240) -> tuple[int, str]:
    """`interviews ARGS` on a 200-column pseudo-terminal; its exit status and screen text."""
    child = pexpect.spawn(
        sys.executable,
        ["-m", "interviews", *args],
        env=env,
        cwd=str(ROOT),
        dimensions=(50, 200),
        encoding="utf-8",
        timeout=timeout,
    )
    child.logfile_read = io.StringIO()
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, ANSI.sub("", child.logfile_read.getvalue())


def test_demo_in_a_terminal_draws_the_bars_and_prints_no_traceback_or_telemetry(
    tmp_path: Path,
) -> None:
    env = terminal_env(tmp_path, PREFECT_LOGGING_LEVEL="INFO")
    status, screen = run_on_terminal(
        ["demo", "--data-dir", str(tmp_path / "demo"), "--processing-seconds", "0.5"], env
    )
    assert status == 0, screen[-4000:]
    for noise in NOISE:
        assert noise not in screen, screen[-4000:]
    assert "━" in screen and "1/1 batches ended" in screen  # the live bars were drawn
    assert "Demo finished" in screen
    # the banner's marker file is what Prefect writes when it has shown it
    assert not (Path(env["PREFECT_HOME"]) / ".sdk_telemetry" / "notice_shown").exists()


def test_telemetry_is_off_unless_the_user_set_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    fresh = {"PREFECT_HOME": str(home)}
    telemetry_off_by_default(fresh)
    assert fresh["DO_NOT_TRACK"] == "1" and fresh["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"

    explicit = {"PREFECT_HOME": str(home), "DO_NOT_TRACK": "0"}
    telemetry_off_by_default(explicit)
    assert explicit["DO_NOT_TRACK"] == "0"  # the user's choice stands

    (home / "profiles.toml").write_text(
        'active = "mine"\n[profiles.mine]\nPREFECT_SERVER_ANALYTICS_ENABLED = "true"\n'
    )
    profiled = {"PREFECT_HOME": str(home)}
    telemetry_off_by_default(profiled)
    assert "PREFECT_SERVER_ANALYTICS_ENABLED" not in profiled  # the profile's value stands
    assert profiled["DO_NOT_TRACK"] == "1"
