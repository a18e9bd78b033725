"""Run leases in the ledger: one process per run, claimed atomically, freed when the holder
dies or stops renewing."""

from __future__ import annotations

import multiprocessing
import socket
import subprocess
import sys
import time

import pytest

from interviews.leases import (
    LeaseLostError,
    RunBusyError,
    busy_elsewhere,
    ensure_held,
    process_owner,
    run_lease,
)
from interviews.ledger import Ledger

ELSEWHERE = "other-host:4242:abcd1234"  # a live holder on another machine, as far as we know


@pytest.fixture
def ledger(ledger_url: str) -> Ledger:
    """The ledger on each engine it runs on: SQLite in the data dir, and PostgreSQL."""
    return Ledger(ledger_url)


def test_a_lease_goes_to_one_owner_until_it_expires(ledger: Ledger) -> None:
    first = ledger.claim_lease("run:r", "a", command="interviews run", seconds=60)
    assert first.owner == "a"
    assert ledger.claim_lease("run:r", "b", command="collect", seconds=60).owner == "a"
    renewed = ledger.claim_lease("run:r", "a", command="interviews run", seconds=60)
    assert renewed.owner == "a" and renewed.acquired_at == first.acquired_at
    assert renewed.expires_at >= first.expires_at
    ledger.claim_lease("run:r", "a", command="interviews run", seconds=-1)  # a's lease lapses
    taken = ledger.claim_lease("run:r", "b", command="collect", seconds=60)
    assert (taken.owner, taken.command) == ("b", "collect")
    assert ledger.claim_lease("run:r", "a", command="interviews run", seconds=60).owner == "b"
    ledger.release_lease("run:r", "a")  # not a's to release: nothing happens
    assert ledger.get_lease("run:r").owner == "b"
    ledger.release_lease("run:r", "b")
    assert ledger.get_lease("run:r") is None


def _race(url: str, owner: str, start: float, queue) -> None:
    ledger = Ledger(url)
    while time.time() < start:
        time.sleep(0.001)
    queue.put((owner, ledger.claim_lease("run:race", owner, command="race", seconds=60).owner))


def test_processes_racing_for_a_lease_see_one_winner(ledger: Ledger) -> None:
    url = ledger.url
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start = time.time() + 3  # every process imported and waiting before the gun
    workers = [context.Process(target=_race, args=(url, f"p{i}", start, queue)) for i in range(6)]
    for worker in workers:
        worker.start()
    answers = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    winners = {holder for _, holder in answers}
    assert len(winners) == 1, answers  # every process saw the same single holder
    (winner,) = winners
    assert winner in {owner for owner, _ in answers}


def test_a_second_process_is_refused_with_the_holder_named(ledger: Ledger) -> None:
    ledger.claim_lease("run:nightly", ELSEWHERE, command="interviews run", seconds=60)
    with (
        pytest.raises(RunBusyError) as caught,
        run_lease(ledger, "nightly", command="collect", seconds=60),
    ):
        pytest.fail("the block must not run")
    message = str(caught.value)
    assert message.startswith("run nightly is being worked on by interviews run (pid 4242 on ")
    assert "nothing was sent" in message and "within 60 s" in message
    assert busy_elsewhere(ledger, "nightly").owner == ELSEWHERE


def test_a_dead_holder_on_this_machine_is_taken_over_at_once(ledger: Ledger) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # its pid is free now (reused only after a wrap-around)
    dead = f"{socket.gethostname()}:{gone.pid}:deadbeef"
    ledger.claim_lease("run:crashed", dead, command="interviews run", seconds=3600)
    assert busy_elsewhere(ledger, "crashed") is None
    with run_lease(ledger, "crashed", command="interviews run", seconds=60):
        assert ledger.get_lease("run:crashed").owner == process_owner()
    assert ledger.get_lease("run:crashed") is None  # released at the end


def test_claims_are_reentrant_and_released_once_the_outer_block_ends(ledger: Ledger) -> None:
    with run_lease(ledger, "r", command="interviews run", seconds=60):
        with run_lease(ledger, "r", command="flow run r", seconds=60):
            assert ledger.get_lease("run:r").command == "interviews run"
        assert ledger.get_lease("run:r").owner == process_owner()  # the outer claim holds on
    assert ledger.get_lease("run:r") is None


def test_the_heartbeat_renews_and_notices_a_lost_lease(ledger: Ledger) -> None:
    with run_lease(ledger, "r", command="interviews run", seconds=6):
        first = ledger.get_lease("run:r").expires_at
        time.sleep(2.5)  # a beat every 2 s
        assert ledger.get_lease("run:r").expires_at > first
        ensure_held(ledger, "r")  # still ours
        # the process stalled past its lease and another one took the run over
        ledger.claim_lease("run:r", process_owner(), command="interviews run", seconds=-1)
        ledger.claim_lease("run:r", ELSEWHERE, command="collect", seconds=600)
        deadline = time.monotonic() + 10
        while True:
            try:
                ensure_held(ledger, "r")
            except LeaseLostError as lost:
                assert "collect (pid 4242 on other-host" in str(lost)
                break
            assert time.monotonic() < deadline, "the heartbeat never noticed"
            time.sleep(0.2)
    assert ledger.get_lease("run:r").owner == ELSEWHERE  # never released from under its holder
