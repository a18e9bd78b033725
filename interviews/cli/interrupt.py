"""Stop a run at once on SIGTERM or Ctrl-C, saying how to resume it.

A run can wait for hours (a poll interval, a server's retry hint, an SDK's own retry). Prefect
turns SIGTERM into an exception in the main thread only, and then waits for its task threads,
which may be asleep for minutes: a stopped run used to keep polling. So the flow runs in a
worker thread and the main thread only waits for it; a signal there stops the temporary
Prefect server and ends the process at once. That is as safe as a crash, which the ledger is
built for: the intent row is written before every create call and the batch id right after,
so re-running the same --run-id picks up every submitted batch and never pays twice.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from interviews.cli.output import print_error

T = TypeVar("T")

EXIT_CODES = {signal.SIGTERM: 143, signal.SIGINT: 130}


def interrupted_message(signum: int, resume: str) -> str:
    """The one line a stopped run prints."""
    name = signal.Signals(signum).name
    return f"stopped by {name}; nothing is lost: {resume} to resume (nothing is paid twice)"


def run_interruptibly(work: Callable[[], T], *, resume: str) -> T:
    """Run `work` (a Prefect flow call) in a thread; on SIGTERM/SIGINT print
    `interrupted_message` and exit 143/130 at once, even while the run sleeps."""
    if threading.current_thread() is not threading.main_thread():
        return work()  # signals reach the main thread only; whoever runs us handles them
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the main thread as is
            outcome["error"] = exc

    def stop(signum: int, _frame: object) -> None:
        print_error(interrupted_message(signum, resume))
        _stop_temporary_prefect_server()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_CODES.get(signum, 1))

    previous = {sig: signal.signal(sig, stop) for sig in EXIT_CODES}
    thread = threading.Thread(target=target, name="interviews-flow", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)  # short joins: the signal handler runs between them
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _stop_temporary_prefect_server() -> None:
    """Stop the temporary Prefect server this process started, if any (os._exit skips the
    exit hook that would)."""
    try:
        from prefect.server.api.server import SubprocessASGIServer

        for server in list(SubprocessASGIServer._instances.values()):
            server.stop()
    except Exception:  # best effort: the process ends either way
        pass
