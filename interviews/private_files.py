"""Health data stays private to the user who runs the tool: files 0600, folders 0700.

Everything under the data directory (request files, chunk files, raw results, interview
records, run files, the SQLite ledger and its journals) holds health data. One mechanism
covers every writer, today's and tomorrow's: opening a data directory (`DataDirs`, and
`Ledger.open` for the ledger) sets the process umask to 077, so every file and folder the
process creates from then on is private, whatever mode its writer asks for. The CLI commands
and the Prefect flows (in whatever process a worker starts) all reach the data directory
through `DataDirs`, so none can write before the umask is set.

A data directory made by an older version (folders 0755, files 0644) gets its project folders
and ledger tightened once per process: files already inside them are then out of other users'
reach too, without walking every record.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077  # no group or other bits on anything created
DIR_MODE = 0o700
FILE_MODE = 0o600

# The folders and files the project itself creates directly under a data directory (see
# `DataDirs`); only these are tightened, never the data directory's own parents or the user's
# other files.
OWNED_FOLDERS = ("batch_requests", "batch_results", "interviews", "runs")
OWNED_FILES = ("ledger.db", "ledger.db-journal", "ledger.db-wal", "ledger.db-shm")

_tightened: set[str] = set()


def use_private_files(root: Path) -> None:
    """Make everything this process writes private, and tighten an older data directory.

    Cheap enough to call whenever a data directory is opened: the umask is two system calls,
    and an existing directory is checked once per process.
    """
    # Keep any stricter bits the user's own umask has (os.umask sets and returns the old one).
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)
    key = str(root)
    if key in _tightened:
        return
    _tightened.add(key)
    for name in OWNED_FOLDERS:
        _tighten(root / name, DIR_MODE)
    for name in OWNED_FILES:
        _tighten(root / name, FILE_MODE)


def _tighten(path: Path, mode: int) -> None:
    """chmod `path` to `mode` if it exists with group or other bits (left alone otherwise)."""
    try:
        current = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(current.st_mode):  # never follow a link out of the data directory
        return
    if current.st_mode & PRIVATE_UMASK:
        # another user's folder: new files are private all the same
        with contextlib.suppress(PermissionError):
            path.chmod(mode)
