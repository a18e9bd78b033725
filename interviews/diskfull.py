"""A full disk, said in one line: where, what to do, and that resuming is safe.

SQLite reports it as `OperationalError: database or disk is full` (error code SQLITE_FULL,
also wrapped by SQLAlchemy), file writes as `OSError: [Errno 28]`. Both are recognised by
their codes, never by message text, anywhere in the exception's chain.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

from interviews.errors import DiskFullError

F = TypeVar("F", bound=Callable[..., Any])
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def is_disk_full(exc: BaseException) -> bool:
    """True if `exc` or any exception it was raised from is a full disk (or quota)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if isinstance(current, sqlite3.Error) and (
            getattr(current, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        ):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


def disk_full_message(data_dir: object, run_id: str | None = None) -> str:
    """The one line for a full disk under `data_dir`."""
    again = f"re-run with the same --run-id {run_id}" if run_id else "re-run the same command"
    return (
        f"the disk holding the data directory {data_dir} is full (no space left for the "
        f"ledger or the run's files); free some space, then {again}: it resumes where it "
        "stopped and nothing is paid twice"
    )


@contextmanager
def disk_full_is_clear(data_dir: object, run_id: str | None = None) -> Iterator[None]:
    """Turn a full-disk error raised inside the block into a one-line `DiskFullError`."""
    try:
        yield
    except DiskFullError:
        raise
    except Exception as exc:
        if is_disk_full(exc):
            raise DiskFullError(disk_full_message(data_dir, run_id)) from exc
        raise


def disk_full_is_clear_in_task(fn: F) -> F:
    """`disk_full_is_clear` around a task body whose `context` argument names the data dir."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        context = kwargs.get("context") or next(
            (a for a in args if hasattr(a, "data_dir") and hasattr(a, "run_id")), None
        )
        with disk_full_is_clear(
            getattr(context, "data_dir", "?"), getattr(context, "run_id", None)
        ):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
