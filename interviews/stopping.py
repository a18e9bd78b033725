"""Stop waiting when the process is asked to stop.

A flow run started by a worker or `interviews serve` is stopped with SIGTERM (a Cancel in the
Prefect UI, a worker shutting down). Prefect turns that into an exception in the main thread,
but a batch wait runs in a task thread, and the process could not exit until the wait ended
(the runner then kills it after 30 s, before it runs the cancellation hook). So the flow chains
a handler that sets `STOPPING`, and the one wait loop sleeps on that event: it returns at once
with `ProcessStoppingError`. Nothing is lost: the ledger holds every batch id.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from interviews.errors import InterviewsError

STOPPING = threading.Event()


class ProcessStoppingError(InterviewsError):
    """The process was asked to stop while waiting; re-running the run id resumes the wait."""


def install_sigterm_stop() -> None:
    """Chain a SIGTERM handler that sets `STOPPING` before the one already there (call from the
    main thread; elsewhere, and a second time, it does nothing)."""
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)
    if getattr(previous, "sets_stopping", False):
        return

    def handler(signum: int, frame: Any) -> None:
        STOPPING.set()
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGTERM)

    handler.sets_stopping = True  # type: ignore[attr-defined]
    signal.signal(signal.SIGTERM, handler)


def sleep(seconds: float) -> None:
    """`time.sleep` that ends early, raising, once the process is stopping.

    Raises:
        ProcessStoppingError: SIGTERM arrived.
    """
    if STOPPING.wait(seconds):
        raise ProcessStoppingError(
            "stopped while waiting (the process was asked to stop); nothing is lost: re-run "
            "the run id, or let `interviews collect` finish it"
        )
