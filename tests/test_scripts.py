"""The Batch API guide's script commands, run as written from the repository root."""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pexpect
import pytest

from interviews.catalog import get_model
from interviews.cli.launch_commands import batch_refusal
from interviews.sample_data import write_sample_personas
from tests.conftest import ROOT
from tests.test_launcher import ENTER, screen_text

CONDUCT = "scripts/04_conduct_interviews.py"
INTERACTIVE = "scripts/interactive_interviews.py"
GUIDE_MODEL = "claude-sonnet-4-5-20250929"


def script(
    *args: str, data_dir: Path, python: str = sys.executable, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python SCRIPT ARGS` from the repository root, writing under `data_dir`."""
    return subprocess.run(
        [python, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "250", "INTERVIEWS_DATA_DIR": str(data_dir), **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=180,
    )


def request_files(data_dir: Path) -> list[Path]:
    """The canonical request files (not the provider-ready chunks)."""
    return sorted((data_dir / "batch_requests").glob("batch_request_*.jsonl"))


def test_guide_batch_commands_create_the_files_and_print_the_submit_command(
    data_dir: Path, tmp_path: Path
) -> None:
    personas = tmp_path / "matched_personas.jsonl"
    write_sample_personas(personas, 10_000, seed=1)
    for start in (0, 5000):  # the guide's "Batch 1" and "Batch 2", with a current model
        result = script(
            CONDUCT,
            "--provider",
            "anthropic",
            "--model",
            "claude-sonnet-5-5",
            "--count",
            "5000",
            "--start-index",
            str(start),
            "--batch",
            "--personas",
            str(personas),
            data_dir=data_dir,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        path = request_files(data_dir)[-1]
        assert f"✓ Created batch request file: {path}" in result.stdout
        assert "✓ 5000 interview requests prepared" in result.stdout
        assert "$195.00" not in result.stdout  # Sonnet 5.5 prices, not the guide's 4.5 ones
        assert (
            f"interviews run --provider anthropic --model claude-sonnet-5-5 --personas "
            f"{personas} --count 5000 --start-index {start} --batch --run-id anthropic-"
        ) in result.stdout
        lines = path.read_bytes().splitlines()
        assert len(lines) == 5000
        assert orjson.loads(lines[0])["custom_id"] == f"interview_{start}"
        assert orjson.loads(lines[-1])["custom_id"] == f"interview_{start + 4999}"
    assert len(request_files(data_dir)) == 2


GUIDE_COMMAND = ("--provider", "anthropic", "--model", GUIDE_MODEL, "--count", "5000")


def test_guide_command_as_written_explains_the_retiring_model(data_dir: Path) -> None:
    # on the session's day (2026-11-27) the guide's model still takes batches: the retirement
    # note, then the sample's 24 personas are too few
    result = script(CONDUCT, *GUIDE_COMMAND, "--start-index", "0", "--batch", data_dir=data_dir)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert batch_refusal(get_model("anthropic", GUIDE_MODEL)) is None
    assert "retires on 2026-11-30: batches are accepted through 2026-11-28" in result.stdout
    assert "successor: claude-sonnet-5-5" in result.stdout
    assert "asks for 5000 interviews from index 0, but the file has 24" in result.stderr
    assert "interviews sample-data" in result.stderr
    assert not request_files(data_dir)


@pytest.mark.parametrize(
    ("now", "when"), [("2026-11-29T12:00:00Z", "retires on"), ("2026-12-05", "retired on")]
)
def test_guide_command_inside_the_window_is_refused_naming_the_successor(
    data_dir: Path, now: str, when: str
) -> None:
    result = script(
        CONDUCT,
        *GUIDE_COMMAND,
        "--start-index",
        "0",
        "--batch",
        data_dir=data_dir,
        env={"INTERVIEWS_NOW": now},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith(
        f"error: Claude Sonnet 4.5 (claude-sonnet-4-5-20250929) {when} 2026-11-30"
    )
    assert "claude-sonnet-5-5" in result.stderr
    assert not request_files(data_dir)


def test_guide_interactive_script_with_10_interviews_in_batch_mode(data_dir: Path) -> None:
    # the guide's "Test with Small Batches First": 10 interviews, batch mode enabled
    child = pexpect.spawn(
        sys.executable,
        [INTERACTIVE],
        env={
            **os.environ,
            "TERM": "xterm-256color",
            "PROMPT_TOOLKIT_NO_CPR": "1",
            "INTERVIEWS_DATA_DIR": str(data_dir),
        },
        cwd=str(ROOT),
        dimensions=(60, 200),
        encoding="utf-8",
        timeout=30,
    )
    child.logfile_read = io.StringIO()
    for prompt, answer in [
        ("Provider:", ENTER),
        ("Model:", ENTER),
        ("Personas file:", ENTER),
        ("How many interviews?", "10" + ENTER),
        ("Start at persona index:", ENTER),
        ("Use Batch API?", "yes" + ENTER),
    ]:
        child.expect_exact(prompt)
        child.send(answer)
    child.expect(pexpect.EOF)
    child.close()
    screen = screen_text(child)
    assert child.exitstatus == 0, screen[-2000:]
    assert "💡 Batch API Available!" in screen
    [path] = request_files(data_dir)
    assert f"✓ Created batch request file: {path}" in screen
    assert "✓ 10 interview requests prepared" in screen
    assert len(path.read_bytes().splitlines()) == 10


def _load_conduct():
    spec = importlib.util.spec_from_file_location("conduct", ROOT / CONDUCT)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return module


def test_conduct_options_map_to_the_cli() -> None:
    translate = _load_conduct().translate
    base = ["--provider", "anthropic", "--model", "m", "--count", "5", "--start-index", "2"]
    common = [
        "--provider",
        "anthropic",
        "--personas",
        "data/sample/matched_personas.jsonl",
        "--start-index",
        "2",
        "--model",
        "m",
        "--count",
        "5",
    ]
    # --batch prepares only (nothing sent); --submit sends; no --batch runs in real time
    assert translate([*base, "--batch"]) == ["launch", *common, "--batch", "--yes"]
    assert translate([*base, "--batch", "--submit"]) == ["run", *common, "--batch"]
    assert translate(base) == ["run", *common, "--realtime"]


SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")


def _lacks_the_package(python: str | None) -> bool:
    if python is None:
        return False
    probe = subprocess.run([python, "-c", "import typer"], capture_output=True)
    return probe.returncode != 0


@pytest.mark.skipif(
    not (_lacks_the_package(SYSTEM_PYTHON) and shutil.which("uv")),
    reason="needs a system python3 without the project's packages, and uv",
)
def test_plain_python_outside_the_environment_reruns_through_uv(data_dir: Path) -> None:
    result = script(INTERACTIVE, "--help", data_dir=data_dir, python=SYSTEM_PYTHON)
    assert result.returncode == 0, result.stderr
    assert "Usage: interviews launch" in result.stdout
    # when even that is not possible, one line says what to do
    stuck = script(
        INTERACTIVE,
        "--help",
        data_dir=data_dir,
        python=SYSTEM_PYTHON,
        env={"INTERVIEWS_SCRIPT_REEXEC": "1"},
    )
    assert stuck.returncode == 1
    assert stuck.stderr.strip() == (
        "error: the interviews package is not installed for this Python; run "
        f"`uv run python {INTERACTIVE}` from the repository root (after `pip install uv`)"
    )
