"""`interviews cancel` is final: what finished is converted, nothing is sent again unless the
re-run asks for it (`--retry-canceled`); a compare run is canceled by its own id."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from flows.batch_flows import batch_interviews
from flows.collect_flow import collect_batches
from interviews.cli.ledger_commands import cancel, status
from interviews.ledger import Ledger
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE

PROVIDERS = ["anthropic", "openai", "vertex", "gemini"]


def _params(provider: str, block: str, data_dir: Path, **extra) -> BatchRunParameters:
    values = {
        "provider": provider,
        "personas": str(SAMPLE),
        "count": 3,
        "run_id": "stopped",
        "credentials_block": block,
        "data_dir": str(data_dir),
        "detach": True,
    }
    return BatchRunParameters(**values | extra)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_canceled_run_is_collected_without_a_retry_round(
    block, data_dir: Path, control, provider: str
) -> None:
    control.configure(processing_seconds=3600)
    first = batch_interviews(_params(provider, block, data_dir))
    assert first["detached"]
    cancel("stopped", credentials_block=block, data_dir=data_dir)
    assert Ledger.open(data_dir).is_canceled("stopped")

    [collected] = collect_batches(str(data_dir))
    assert "detached" not in collected  # finished (with no answer: a failed run, reported)
    assert control.stats()[provider]["batches_created"] == 1  # no retry round re-sent them
    records = [orjson.loads(path.read_bytes()) for path in (data_dir / "interviews").glob("*.json")]
    # (Vertex reports the requests of a canceled job as failed, not canceled)
    assert len(records) == 3 and all(r["status"] in ("canceled", "errored") for r in records)
    assert collect_batches(str(data_dir)) == []  # the run is closed, nothing left to send

    # the user changes their mind: a re-run that asks for it sends the canceled requests
    control.configure(processing_seconds=0)
    again = batch_interviews(_params(provider, block, data_dir, detach=False, retry_canceled=True))
    assert again["ok"] and again["statuses"] == {"succeeded": 3}
    assert control.stats()[provider]["batches_created"] == 2
    assert not Ledger.open(data_dir).is_canceled("stopped")


def test_status_and_cancel_take_a_compare_run_id(block, data_dir: Path, control, capsys) -> None:
    control.configure(processing_seconds=3600)
    params = _params("anthropic", block, data_dir, targets=["anthropic", "openai"], run_id="cmp")
    assert batch_interviews(params)["ok"]  # both targets detached
    capsys.readouterr()
    status("cmp", data_dir=data_dir)
    shown = capsys.readouterr().out
    assert "Batches of cmp-anthropic-" in shown and "Batches of cmp-openai-" in shown
    cancel("cmp", credentials_block=block, data_dir=data_dir)
    said = capsys.readouterr().out
    assert said.count("Canceled ") == 2 and "Run cmp is canceled" in said
    ledger = Ledger.open(data_dir)
    assert all(ledger.is_canceled(run["run_id"]) for run in ledger.runs_matching("cmp"))
    assert len(ledger.runs_matching("cmp")) == 2
