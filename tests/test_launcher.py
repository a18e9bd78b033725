"""`interviews launch` as a person uses it: a real process on a pseudo-terminal, answered with
typed numbers and words or with the arrow keys; and as a script uses it, with flags.

The batch choice only prepares: the child points at the emulator, and the tests check that no
batch was created there. (The real-time choice runs on Prefect: tests/flows/.)
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pexpect
import pytest

from interviews.sample_data import write_sample_personas
from tests.conftest import ROOT, SAMPLE

DOWN, UP, ENTER = "\x1b[B", "\x1b[A", "\r"


def launch_env(emu, **extra: str) -> dict[str, str]:
    """The child's environment: a terminal without cursor-position queries, the emulator's
    Anthropic endpoint as the credentials (so anything sent would be counted there)."""
    return {
        **os.environ,
        "TERM": "xterm-256color",
        "PROMPT_TOOLKIT_NO_CPR": "1",  # a test terminal never answers prompt_toolkit's queries
        "ANTHROPIC_BASE_URL": f"{emu.url}/anthropic",
        "ANTHROPIC_API_KEY": "emulator-key",
        "OPENAI_BASE_URL": f"{emu.url}/openai/v1",
        "OPENAI_API_KEY": "emulator-key",
        **extra,
    }


def spawn_launch(args: list[str], env: dict[str, str]) -> pexpect.spawn:
    """`interviews launch ARGS` on a 200-column pseudo-terminal, from the repository root.

    Everything it prints is also kept in `child.logfile_read` (see `screen_text`).
    """
    child = pexpect.spawn(
        sys.executable,
        ["-m", "interviews", "launch", *args],
        env=env,
        cwd=str(ROOT),
        dimensions=(60, 200),
        encoding="utf-8",
        timeout=30,
    )
    child.logfile_read = io.StringIO()
    return child


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def screen_text(child: pexpect.spawn) -> str:
    """What the child printed so far, without terminal control sequences."""
    return ANSI.sub("", child.logfile_read.getvalue())


def finish(child: pexpect.spawn) -> str:
    """Wait for the end; return everything printed after the last expect, check exit 0."""
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return child.before


def created_file(child: pexpect.spawn) -> Path:
    """Read the 'Created batch request file' line and return that path."""
    child.expect(r"Created batch request file: (\S+\.jsonl)")
    return Path(child.match.group(1))


def _data_estimate(count: int, start: int, model: str = "claude-sonnet-5-5") -> str:
    """The launcher's cost line for `model` and `count` sample personas from `start`."""
    from interviews.costs import money

    est = _estimate(count, start, model)
    line = f"{money(est.realtime)} real-time, {money(est.batch)} batch"
    assert line != "$0.36 real-time, $0.18 batch"
    return line


def _estimate(count: int, start: int, model: str = "claude-sonnet-5-5"):
    from interviews.catalog import get_model
    from interviews.estimation import estimate_sizes, measure_personas

    sizes = measure_personas(SAMPLE, count=count, start_index=start)
    return estimate_sizes(get_model("anthropic", model), sizes, max_tokens=2048)


def test_typed_answers_prepare_a_batch_and_send_nothing(emu, control, data_dir: Path) -> None:
    child = spawn_launch(["--data-dir", str(data_dir)], launch_env(emu))
    child.expect("Provider:")
    child.send("1" + ENTER)  # anthropic
    child.expect("Model:")
    child.expect("claude-opus-5-5")
    child.expect(re.escape("🔄 BATCH"))
    child.send("2" + ENTER)
    child.expect("Personas file:")
    child.send(str(SAMPLE) + ENTER)
    child.expect(re.escape("How many interviews? (24 in the file)"))
    child.send("7" + ENTER)
    child.expect("Start at persona index:")
    child.send("3" + ENTER)
    # estimated from personas 3-9's own prompts, as `interviews estimate --personas` does (a
    # fixed 3,000 tokens in per interview made it $0.36 / $0.18)
    child.expect(re.escape(_data_estimate(7, 3, "claude-opus-5-5")))
    child.expect(re.escape("💡 Batch API Available!"))
    child.expect(re.escape("- 50% cost savings"))
    child.expect(re.escape("- ~24 hour turnaround time"))
    child.expect(re.escape("- Ideal for large volumes (100+ interviews)"))
    child.expect(re.escape("Use Batch API?"))
    child.expect(re.escape("(yes/no, Enter: no)"))  # 7 < 100: no is suggested
    child.send("yes" + ENTER)
    path = created_file(child)
    child.expect("✓ 7 interview requests prepared")
    child.expect("Next steps:")
    child.expect(r"(interviews run [^\r\n]+)")
    submit = child.match.group(1)
    child.expect(r"interviews status (\S+)")
    run_id = child.match.group(1)
    finish(child)

    screen = screen_text(child)
    assert "? Provider: anthropic" in screen
    assert "? Model: claude-opus-5-5" in screen
    # the guide's model on the session's frozen day (tests/conftest.py, 2026-11-27): retiring,
    # still taking batches
    assert "BATCH  retires 2026-11-30, use claude-sonnet-5-5" in screen
    assert "claude-opus-4-1" not in screen  # retired: not offered
    assert "? How many interviews? (24 in the file) (Enter: 24) 7" in screen
    assert "? Use Batch API? (yes/no, Enter: no) Yes" in screen
    assert path.parent == data_dir / "batch_requests"
    assert re.fullmatch(r"batch_request_anthropic_\d{8}_\d{6}\.jsonl", path.name)
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [line["custom_id"] for line in lines] == [f"interview_{i}" for i in range(3, 10)]
    assert submit == (
        f"interviews run --provider anthropic --model claude-opus-5-5 --personas {SAMPLE} "
        f"--count 7 --start-index 3 --batch --run-id {run_id} --data-dir {data_dir}"
    )
    assert control.stats()["anthropic"]["batches_created"] == 0  # nothing was sent

    status = subprocess.run(
        [sys.executable, "-m", "interviews", "status", run_id, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250"},
        timeout=60,
    )
    assert status.returncode == 0, status.stderr
    assert "prepared" in status.stdout and "claude-opus-5-5" in status.stdout


def test_arrow_keys_and_enter_take_the_batch_suggested_from_100(
    emu, control, data_dir: Path, tmp_path: Path
) -> None:
    personas = tmp_path / "personas.jsonl"
    write_sample_personas(personas, 150, seed=3)
    child = spawn_launch(["--data-dir", str(data_dir)], launch_env(emu))
    child.expect("Provider:")
    child.send(DOWN + DOWN + UP + ENTER)  # anthropic -> openai -> vertex -> openai
    child.expect("Model:")
    child.expect("gpt-6-luna")
    child.send(DOWN + ENTER)  # the default gpt-6.1-terra is first; one down is gpt-6-luna
    child.expect("Personas file:")
    child.send(str(personas) + ENTER)
    child.expect(re.escape("How many interviews? (150 in the file) (Enter: 150)"))
    child.send("120" + ENTER)
    child.expect("Start at persona index:")
    child.send(ENTER)  # 0
    child.expect(re.escape("Estimate: 120 interviews with"))
    child.expect(re.escape("Use Batch API?"))
    child.expect(re.escape("(yes/no, Enter: yes)"))  # 120 >= 100: yes suggested
    child.send(ENTER)
    path = created_file(child)
    child.expect("✓ 120 interview requests prepared")
    child.expect(r"interviews run --provider openai --model gpt-6-luna \S+ \S+ --count 120")
    finish(child)

    screen = screen_text(child)
    assert "? Provider: openai" in screen and "? Model: gpt-6-luna" in screen
    assert "? Use Batch API? (yes/no, Enter: yes) Yes" in screen
    assert path.name.startswith("batch_request_openai_")
    assert len(path.read_bytes().splitlines()) == 120
    assert control.stats()["openai"]["batches_created"] == 0


def test_typed_no_to_batch_then_no_to_the_run_prepares_nothing(emu, data_dir: Path) -> None:
    flags = ["--provider", "anthropic", "--model", "claude-sonnet-5-5", "--count", "2"]
    child = spawn_launch(
        [*flags, "--start-index", "0", "--data-dir", str(data_dir)], launch_env(emu)
    )
    child.expect(re.escape("Personas file: (Enter: data/sample/matched_personas.jsonl)"))
    child.send(ENTER)
    child.expect(re.escape("Use Batch API?"))
    child.send("no" + ENTER)
    from interviews.costs import money

    about = money(_estimate(2, 0).realtime)  # from the two personas' prompts
    child.expect(re.escape(f"Run 2 interviews now in real time (about {about})?"))
    child.send("no" + ENTER)
    child.expect("Cancelled: nothing was prepared or sent.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert not any(data_dir.iterdir())


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interviews", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250", **(env or {})},
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_yes_with_flags_prepares_without_a_terminal(data_dir: Path) -> None:
    result = cli("launch", "--yes", "--batch", "--count", "4", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Estimate: 4 interviews with Claude" in out
    assert _data_estimate(4, 0) in out
    assert "💡 Batch API Available!" not in out  # --batch answered it
    [path] = (data_dir / "batch_requests").glob("batch_request_anthropic_*.jsonl")
    assert f"✓ Created batch request file: {path}" in out
    assert "✓ 4 interview requests prepared" in out
    assert len(path.read_bytes().splitlines()) == 4
    assert "--count 4 --start-index 0 --batch --run-id anthropic-" in out


def test_without_a_terminal_a_missing_answer_names_the_flag(data_dir: Path) -> None:
    result = cli("launch", "--provider", "anthropic", "--data-dir", str(data_dir))
    assert result.returncode == 1
    assert "no terminal to ask on: pass --model, or --yes to accept the defaults" in result.stderr
    assert "Traceback" not in result.stderr
    assert not any(data_dir.iterdir())


def test_retired_model_is_refused_in_one_clear_line(data_dir: Path) -> None:
    for mode in ("--batch", "--realtime"):
        result = cli(
            "launch",
            "--yes",
            mode,
            "--model",
            "claude-opus-4-1-20250805",
            "--data-dir",
            str(data_dir),
        )
        assert result.returncode == 1
        assert (
            "Claude Opus 4.1 (claude-opus-4-1-20250805) retired on 2026-08-05 and is no longer "
            "served; use claude-opus-5-5" in result.stderr
        )
        assert "Traceback" not in result.stderr
    assert not any(data_dir.iterdir())


GUIDE_MODEL = "claude-sonnet-4-5-20250929"


@pytest.mark.parametrize(
    ("now", "listed"),
    [
        ("2026-11-29T12:00:00Z", "no batch now  retires 2026-11-30, use claude-sonnet-5-5"),
        ("2026-12-05T12:00:00Z", None),  # retired: not offered
    ],
)
def test_the_model_list_follows_the_clock(emu, now: str, listed: str | None) -> None:
    child = spawn_launch(["--provider", "anthropic"], launch_env(emu, INTERVIEWS_NOW=now))
    child.expect("Model:")
    child.expect("claude-opus-4-5-20251101")  # the last model listed before the guide's
    child.sendcontrol("c")
    child.expect("Cancelled: nothing was prepared or sent.")
    child.expect(pexpect.EOF)
    child.close()
    screen = screen_text(child)
    lines = [line for line in screen.splitlines() if GUIDE_MODEL in line]
    if listed is None:
        assert not lines
    else:
        assert lines and all(listed in line for line in lines)
    assert "claude-opus-4-1" not in screen


def test_a_model_retired_by_the_clock_is_refused_in_one_clear_line(data_dir: Path) -> None:
    args = ["launch", "--yes", "--batch", "--model", GUIDE_MODEL, "--data-dir", str(data_dir)]
    result = cli(*args, env={"INTERVIEWS_NOW": "2026-12-05T12:00:00Z"})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: Claude Sonnet 4.5 (claude-sonnet-4-5-20250929) retired on 2026-11-30 and is no "
        "longer served; use claude-sonnet-5-5 (`interviews models --provider anthropic`)"
    )
    assert not any(data_dir.iterdir())


@pytest.mark.parametrize("args", [["launch", "--help"]])
def test_launch_help_loads_no_prompt_library_nor_sdks(args: list[str]) -> None:
    probe = (
        "import sys, runpy; sys.argv=['interviews', *sys.argv[1:]];\n"
        "try:\n    runpy.run_module('interviews', run_name='__main__')\n"
        "except SystemExit: pass\n"
        "heavy = [m for m in ('questionary', 'prompt_toolkit', 'prefect', 'sqlalchemy',\n"
        "    'anthropic', 'openai', 'google.genai') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
