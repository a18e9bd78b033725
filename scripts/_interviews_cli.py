"""Shared by the guide's scripts: run the `interviews` command line with translated arguments.

The scripts are thin wrappers kept so the commands in the Batch API guide keep working; all
the work is done by the installed `interviews` package. Under plain `python` outside the
project's environment the package cannot be imported, so the script runs itself again through
`uv run` (which installs the environment from uv.lock on first use).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# set on the re-run through uv, so a broken environment cannot loop
_REEXEC_FLAG = "INTERVIEWS_SCRIPT_REEXEC"


def run_cli(argv: list[str]) -> None:
    """Run `interviews ARGV...` in this process and exit with its status.

    Falls back to `uv run python SCRIPT ...` when the package is not importable here.
    """
    try:
        from interviews.cli import main
    except ImportError:
        _reexec_through_uv()
        return
    sys.argv = ["interviews", *argv]
    main()
    sys.exit(0)


def _reexec_through_uv() -> None:
    """Run this script again with the project's environment, or say how to."""
    script = os.path.abspath(sys.argv[0])
    uv = shutil.which("uv")
    if uv is None or os.environ.get(_REEXEC_FLAG):
        name = os.path.relpath(script)
        sys.exit(
            "error: the interviews package is not installed for this Python; run "
            f"`uv run python {name}` from the repository root (after `pip install uv`)"
        )
    os.environ[_REEXEC_FLAG] = "1"
    # the current directory stays the same, so relative paths in the arguments still hold
    command = [uv, "run", "--quiet", "--project", str(REPO), "python", script, *sys.argv[1:]]
    os.execv(uv, command)
