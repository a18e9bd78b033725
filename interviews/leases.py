"""One process at a time per run: a lease in the ledger, kept alive by a heartbeat.

Two processes on one run (two `run`s of one id, a `run` beside the hourly `collect`, a Retry
clicked in the Prefect UI, two `prepare`s) would each take the other's create call in flight
for a crash, and create a second batch; two real-time runs would send every interview twice.
So whoever works on a run first claims `run:<run id>` in the ledger, in one atomic statement
(`INSERT ... ON CONFLICT DO UPDATE ... WHERE` on SQLite and PostgreSQL alike), and renews it
every third of `lease_seconds` from a heartbeat thread. A second process finds it taken and
stops with a message that names the holder (`collect` leaves such runs alone). A holder that
died frees the run when its lease expires, or at once when it ran on this machine (its pid is
gone). Claims are re-entrant within a process: the CLI claims before it prepares, and the flow
it runs in-process claims the same lease again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from interviews import clock
from interviews.errors import LedgerError
from interviews.jsonl import pid_alive
from interviews.ledger import LeaseRow, Ledger

logger = logging.getLogger(__name__)


class RunBusyError(LedgerError):
    """Another live process is working on the run; nothing was sent."""


class LeaseLostError(LedgerError):
    """This process's lease on the run expired and another process took the run over."""


_identity: tuple[int, str] | None = None


def process_owner() -> str:
    """`host:pid:nonce`, this process's name as a lease holder (a forked child gets its own)."""
    global _identity
    pid = os.getpid()
    if _identity is None or _identity[0] != pid:
        _identity = (pid, f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:8]}")
    return _identity[1]


def holder_is_dead(owner: str) -> bool:
    """True only when the holder ran on this machine and its process is gone."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    return not pid_alive(int(parts[1]))


def describe_holder(lease: LeaseRow) -> str:
    """`interviews run (pid 4242 on host-a, since 14:03:22 UTC)`."""
    host, pid, _ = [*lease.owner.rsplit(":", 2), "", ""][:3]
    return f"{lease.command} (pid {pid} on {host}, since {lease.acquired_at:%H:%M:%S} UTC)"


@dataclass
class _Held:
    count: int
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    lost: LeaseRow | None = None


_held: dict[tuple[str, str], _Held] = {}
_lock = threading.Lock()


def _name(run_id: str) -> str:
    return f"run:{run_id}"


def _claim(ledger: Ledger, name: str, command: str, seconds: float) -> LeaseRow:
    owner = process_owner()
    lease = ledger.claim_lease(name, owner, command=command, seconds=seconds)
    if lease.owner != owner and holder_is_dead(lease.owner):
        logger.warning("taking over %s from %s, which is no longer running", name, lease.owner)
        lease = ledger.claim_lease(
            name, owner, command=command, seconds=seconds, steal_from=lease.owner
        )
    return lease


def _heartbeat(ledger: Ledger, name: str, command: str, seconds: float, held: _Held) -> None:
    owner = process_owner()
    while not held.stop.wait(seconds / 3):
        try:
            lease = ledger.claim_lease(name, owner, command=command, seconds=seconds)
        except Exception as exc:  # a busy database now and then: the next beat tries again
            logger.warning("could not renew the lease on %s: %s", name, exc)
            continue
        if lease.owner != owner:
            held.lost = lease
            logger.error("lost the lease on %s to %s", name, describe_holder(lease))
            return


@contextlib.contextmanager
def run_lease(ledger: Ledger, run_id: str, *, command: str, seconds: float) -> Iterator[None]:
    """Hold the run for this process while the block runs.

    Raises:
        RunBusyError: another live process holds the run (nothing was done).
    """
    name = _name(run_id)
    key = (ledger.url, name)
    with _lock:
        held = _held.get(key)
        if held is not None:
            held.count += 1
    if held is None:
        lease = _claim(ledger, name, command, seconds)
        if lease.owner != process_owner():
            raise RunBusyError(
                f"run {run_id} is being worked on by {describe_holder(lease)}; nothing was "
                f"sent. Let it finish (`interviews status {run_id}`), or re-run once it has "
                f"stopped: a process that died frees the run within {seconds:g} s."
            )
        held = _Held(count=1)
        held.thread = threading.Thread(
            target=_heartbeat,
            args=(ledger, name, command, seconds, held),
            name=f"lease-{run_id}",
            daemon=True,
        )
        with _lock:
            _held[key] = held
        held.thread.start()
    try:
        yield
    finally:
        with _lock:
            held.count -= 1
            done = held.count == 0
            if done:
                del _held[key]
        if done:
            held.stop.set()
            if held.thread is not None:
                held.thread.join(timeout=5)
            ledger.release_lease(name, process_owner())


def busy_elsewhere(ledger: Ledger, run_id: str) -> LeaseRow | None:
    """The lease of another live process on the run, or None if this process may take it."""
    lease = ledger.get_lease(_name(run_id))
    if lease is None or lease.owner == process_owner():
        return None
    if lease.expires_at < clock.wall_now() or holder_is_dead(lease.owner):
        return None
    return lease


def ensure_held(ledger: Ledger, run_id: str) -> None:
    """Raise if this process held the run's lease and lost it (checked before each create
    call, so a process that stalled past its lease never pays beside the one that took over).

    Raises:
        LeaseLostError: the lease went to another process.
    """
    with _lock:
        held = _held.get((ledger.url, _name(run_id)))
    if held is not None and held.lost is not None:
        raise LeaseLostError(
            f"run {run_id} was taken over by {describe_holder(held.lost)} after this process "
            "stopped renewing its claim; this process sends nothing more. Nothing is lost: the "
            "other process carries the run on."
        )
