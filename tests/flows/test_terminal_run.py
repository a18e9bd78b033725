"""A batch `interviews run` on a pseudo-terminal against the emulator: the bars are drawn,
the run finishes, nothing but the run's own lines reaches the screen."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SAMPLE
from tests.test_terminal import NOISE, run_on_terminal, terminal_env


def test_batch_run_in_a_terminal_draws_the_bar_and_prints_no_traceback(
    emu, control, data_dir: Path, prefect_api: str, tmp_path: Path
) -> None:
    env = terminal_env(
        tmp_path,
        PREFECT_API_URL=prefect_api,
        PREFECT_LOGGING_LEVEL="INFO",
        ANTHROPIC_BASE_URL=f"{emu.url}/anthropic",
        ANTHROPIC_API_KEY="emulator-key",
        INTERVIEWS_POLL_INITIAL_SECONDS="0.05",
        INTERVIEWS_POLL_MAX_SECONDS="0.1",
    )
    args = ["run", "--personas", str(SAMPLE), "--count", "3", "--data-dir", str(data_dir)]
    status, screen = run_on_terminal(args, env)
    assert status == 0, screen[-4000:]
    for noise in NOISE:
        assert noise not in screen, screen[-4000:]
    assert "(round 0)" in screen and "3/3" in screen and "1/1 batches ended" in screen
    assert "3 requested, 3 answered" in screen
    assert control.stats()["anthropic"]["batches_created"] == 1
