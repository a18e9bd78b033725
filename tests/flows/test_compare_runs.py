"""Compare runs: one `batch_interviews` call fans the same personas out to several targets."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from flows.batch_flows import batch_interviews
from interviews.errors import RunFailedError
from interviews.ledger import Ledger
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE

TARGETS = {
    "anthropic": ("anthropic", "claude-sonnet-5-5"),
    "openai:gpt-6-luna": ("openai", "gpt-6-luna"),
    "gemini": ("gemini", "gemini-3.8-flash"),
}


def _compare(block: str, data_dir: Path, **extra) -> BatchRunParameters:
    values = {
        "targets": list(TARGETS),
        "personas": str(SAMPLE),
        "count": 5,
        "chunk_size": 2,  # three batches per target, moving through their steps side by side
        "run_id": "cmp",
        "credentials_block": block,
        "data_dir": str(data_dir),
    }
    return BatchRunParameters(**values | extra)


def test_compare_run_gives_each_target_its_run_batches_and_records(
    block, data_dir: Path, control
) -> None:
    result = batch_interviews(_compare(block, data_dir))

    assert result["ok"] and result["run_id"] == "cmp"
    ledger = Ledger.open(data_dir)
    stats = control.stats()
    for target, (provider, model) in TARGETS.items():
        run_id = f"cmp-{provider}-{model}"
        [summary] = [s for s in result["targets"] if s["run_id"] == run_id]
        assert summary["statuses"] == {"succeeded": 5}, target
        assert [c.request_count for c in ledger.chunks(run_id)] == [2, 2, 1]
        assert stats[provider]["batches_created"] == 3
        records = sorted((data_dir / "interviews" / provider / model).glob("*.json"))
        assert [p.name for p in records] == [f"interview_{i}.json" for i in range(5)]
        for path in records:
            record = orjson.loads(path.read_bytes())
            assert (record["provider"], record["model"], record["run_id"]) == (
                provider,
                model,
                run_id,
            )
        lines = Path(summary["records_jsonl"]).read_bytes().splitlines()
        assert len(lines) == 5
    assert not list((data_dir / "interviews").glob("*.json"))  # nothing in the shared folder
    on_disk = orjson.loads((data_dir / "runs" / "cmp" / "comparison.json").read_bytes())
    assert {t["run_id"] for t in on_disk["targets"]} == {s["run_id"] for s in result["targets"]}

    again = batch_interviews(_compare(block, data_dir))  # resumes every target: nothing new
    assert again["ok"]
    assert {p: control.stats()[p]["batches_created"] for p, _ in TARGETS.values()} == {
        p: 3 for p, _ in TARGETS.values()
    }


def test_one_failing_target_does_not_stop_the_others(block, data_dir: Path, control) -> None:
    control.set_faults(
        http=[
            {"provider": "openai", "method": "POST", "path": "/files$", "status": 401, "count": 5}
        ]
    )
    with pytest.raises(
        RunFailedError, match=r"1 of 3 target\(s\) failed \(cmp-openai-gpt-6-luna\)"
    ):
        batch_interviews(_compare(block, data_dir, chunk_size=None))
    comparison = orjson.loads((data_dir / "runs" / "cmp" / "comparison.json").read_bytes())
    failed = [t for t in comparison["targets"] if not t["ok"]]
    assert [t["run_id"] for t in failed] == ["cmp-openai-gpt-6-luna"]
    assert "check the API key" in failed[0]["error"]
    for provider, model in (TARGETS["anthropic"], TARGETS["gemini"]):
        assert len(list((data_dir / "interviews" / provider / model).glob("*.json"))) == 5


def test_targets_are_checked_before_anything_runs(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="provider must be one of"):
        BatchRunParameters(targets=["antropic"], personas=str(SAMPLE))
    with pytest.raises(ValueError, match="listed twice"):
        BatchRunParameters(targets=["gemini", "gemini"], personas=str(SAMPLE))
    for escape in ("../elsewhere", "/abs", "a/../../b", "a//b"):
        with pytest.raises(ValueError, match="relative folder"):
            BatchRunParameters(personas=str(SAMPLE), records_subdir=escape)


def test_max_cost_caps_the_whole_compare_run_not_each_target(
    block, data_dir: Path, control, tmp_path: Path
) -> None:
    from interviews.errors import BudgetError
    from interviews.fanout import target_runs
    from interviews.pipeline import prepare_runs
    from interviews.preparation import DataDirs

    # each target's estimate, from a scratch data dir
    scratch = tmp_path / "scratch"
    plans = prepare_runs(
        target_runs(_compare(block, scratch)), ledger=Ledger.open(scratch), dirs=DataDirs(scratch)
    )
    shares = [plan.budgeted_usd for plan in plans]
    cap = max(shares) * 101 / 100  # every target fits alone; together they do not
    assert cap < sum(shares)

    with pytest.raises(BudgetError, match="caps the whole command") as caught:
        batch_interviews(_compare(block, data_dir, max_cost_usd=float(cap)))
    assert "Nothing was sent" in str(caught.value)
    assert {p: control.stats()[p]["batches_created"] for p, _ in TARGETS.values()} == {
        p: 0 for p, _ in TARGETS.values()
    }
    assert Ledger.open(data_dir).runs() == []  # no prepared target is left for collect
    assert not list((data_dir / "runs").glob("cmp-*"))

    # under a cap the whole command fits, every target runs
    result = batch_interviews(_compare(block, data_dir, max_cost_usd=float(sum(shares)) * 1.01))
    assert result["ok"] and len(result["targets"]) == 3
