"""The Prefect flows end to end against the emulator, including a SIGKILL mid-wait."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from flows.batch_flows import batch_interviews
from interviews.errors import RunFailedError
from interviews.ledger import Ledger
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE, line_faults

PROVIDERS = ["anthropic", "openai", "vertex", "gemini"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_batch_interviews_flow_writes_records_and_report(
    block, data_dir: Path, control, provider: str
) -> None:
    control.set_faults(
        lines=line_faults({"interview_4": {"type": "errored", "error_type": "api_error"}})
    )
    summary = batch_interviews(
        BatchRunParameters(
            provider=provider,
            personas=str(SAMPLE),
            count=6,
            run_id="flow1",
            credentials_block=block,
            data_dir=str(data_dir),
            max_rounds=0,  # this test reads one round's report; rounds are tested below
        )
    )
    assert summary["ok"] and summary["statuses"] == {"errored": 1, "succeeded": 5}
    assert summary["provider"] == provider
    assert summary["batches"][0]["status"] == "partially_succeeded"
    assert float(summary["cost_usd"]["actual_batch"]) > 0
    assert len(list((data_dir / "interviews").glob("interview_*.json"))) == 6
    on_disk = orjson.loads((data_dir / "runs" / "flow1" / "summary.json").read_bytes())
    assert on_disk["run_id"] == "flow1"
    consolidated = Path(summary["records_jsonl"]).read_bytes().splitlines()
    assert sorted(orjson.loads(line)["custom_id"] for line in consolidated) == [
        f"interview_{i}" for i in range(6)
    ]
    [raw] = (data_dir / "batch_results").glob(f"batch_output_{provider}_*.jsonl")
    assert len(raw.read_bytes().splitlines()) == 6


def test_zero_answers_is_a_failed_run(block, data_dir: Path, control) -> None:
    control.set_faults(
        lines=line_faults(
            {
                f"interview_{i}": {"type": "errored", "error_type": "invalid_request_error"}
                for i in range(2)
            }
        )
    )
    with pytest.raises(RunFailedError, match="no interview answered"):
        batch_interviews(
            BatchRunParameters(
                personas=str(SAMPLE),
                count=2,
                run_id="flow2",
                credentials_block=block,
                data_dir=str(data_dir),
            )
        )


def test_auth_failure_is_one_clear_line_and_the_key_leaks_nowhere(
    emu, control, data_dir: Path, prefect_api: str
) -> None:
    secret = "sk-ant-api03-RECOGNISABLE-FAKE-KEY-0123456789"
    control.set_faults(http=[{"method": "POST", "path": "/batches$", "status": 401, "count": 9}])
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "ANTHROPIC_API_KEY": secret,
        "ANTHROPIC_BASE_URL": emu.anthropic_base_url,
    }
    command = [sys.executable, "-m", "interviews", "run", "--personas", str(SAMPLE)]
    result = subprocess.run(
        [*command, "--count", "2", "--run-id", "auth", "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "check the API key" in result.stderr.replace("\n", " ")
    assert "Traceback" not in output
    assert secret not in output
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    ledger = Ledger.open(data_dir)
    assert ledger.get_batch(ledger.chunks("auth")[0].id) is None  # refused: no intent left
    assert control.stats()["anthropic"]["batches_created"] == 0


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_retry_round_recovers_errored_and_expired_lines(
    block, data_dir: Path, control, provider: str
) -> None:
    control.set_faults(
        lines=line_faults(
            {
                "interview_1": {"type": "errored", "error_type": "overloaded_error"},
                "interview_2": {"type": "expired"},
                "interview_3": {"type": "errored", "error_type": "invalid_request_error"},
            }
        )
    )
    params = BatchRunParameters(
        provider=provider,
        personas=str(SAMPLE),
        count=5,
        run_id="rounds",
        credentials_block=block,
        data_dir=str(data_dir),
        max_rounds=0,
    )
    first = batch_interviews(params)
    assert first["statuses"] == {"errored": 2, "expired": 1, "succeeded": 2}
    control.set_faults({})  # the passing trouble is over; re-run the same run with a round
    second = batch_interviews(params.model_copy(update={"max_rounds": 2}))
    records = {
        path.stem: orjson.loads(path.read_bytes())
        for path in (data_dir / "interviews").glob("interview_*.json")
    }
    on_disk = {}
    for record in records.values():
        on_disk[record["status"]] = on_disk.get(record["status"], 0) + 1
    assert second["statuses"] == on_disk == {"errored": 1, "succeeded": 4}
    assert records["interview_1"]["round"] == 1 and records["interview_2"]["round"] == 1
    assert records["interview_3"]["status"] == "errored"  # permanent: never retried
    assert records["interview_0"]["round"] == 0
    assert control.stats()[provider]["batches_created"] == 2  # round 0 once, round 1 once
    lines = [orjson.loads(x) for x in Path(second["records_jsonl"]).read_bytes().splitlines()]
    assert sorted(line["custom_id"] for line in lines) == [f"interview_{i}" for i in range(5)]


def test_detached_run_is_finished_by_collect(block, data_dir: Path, control) -> None:
    from flows.collect_flow import collect_batches

    control.configure(processing_seconds=3600)
    params = BatchRunParameters(
        provider="openai",
        personas=str(SAMPLE),
        count=3,
        run_id="later",
        credentials_block=block,
        data_dir=str(data_dir),
        detach=True,
    )
    first = batch_interviews(params)
    assert first["detached"] and len(first["waiting_batches"]) == 1
    assert not (data_dir / "interviews").exists()
    [still] = collect_batches(str(data_dir))
    assert still["detached"]  # nothing ended yet: collect leaves it
    control.advance(3601)
    [done] = collect_batches(str(data_dir))
    assert done["ok"] and done["statuses"] == {"succeeded": 3}
    assert len(list((data_dir / "interviews").glob("*.json"))) == 3
    assert Ledger.open(data_dir).runs("later")[0]["status"] == "completed"
    assert collect_batches(str(data_dir)) == []  # nothing open any more
    assert control.stats()["openai"]["batches_created"] == 1


def test_collect_never_submits_a_run_that_was_only_prepared(block, data_dir: Path, control) -> None:
    from flows.collect_flow import collect_batches
    from interviews.pipeline import prepare_run
    from interviews.preparation import DataDirs

    params = BatchRunParameters(  # as `interviews launch` leaves it: prepared, not sent
        personas=str(SAMPLE), count=3, run_id="asked", credentials_block=block, detach=True
    )
    prepare_run(params, ledger=Ledger.open(data_dir), dirs=DataDirs(data_dir))
    assert collect_batches(str(data_dir)) == []
    assert control.stats()["anthropic"]["batches_created"] == 0
    assert Ledger.open(data_dir).runs("asked")[0]["status"] == "prepared"


def test_cleanup_leaves_nothing_at_the_provider(block, data_dir: Path, control, emu) -> None:
    import openai

    batch_interviews(
        BatchRunParameters(
            provider="openai",
            personas=str(SAMPLE),
            count=2,
            run_id="tidy",
            credentials_block=block,
            data_dir=str(data_dir),
            cleanup=True,
        )
    )
    client = openai.OpenAI(api_key="k", base_url=emu.openai_base_url)
    assert list(client.files.list()) == []  # input, output and error files all deleted
    assert len(list((data_dir / "interviews").glob("*.json"))) == 2  # local copies stay


def test_a_flow_run_writes_only_private_files(block, tmp_path: Path, control) -> None:
    """A worker process starts with the common umask 022: the flow's own code path (through
    the data directory it opens) must still write 0600 files in 0700 folders."""
    import stat

    data_dir = tmp_path / "fresh" / "data"  # created by the flow itself
    before = os.umask(0o022)
    try:
        summary = batch_interviews(
            BatchRunParameters(
                provider="openai",
                personas=str(SAMPLE),
                count=3,
                run_id="private1",
                credentials_block=block,
                data_dir=str(data_dir),
                max_rounds=0,
            )
        )
    finally:
        os.umask(before)
    assert summary["ok"]
    written = [data_dir, *data_dir.rglob("*")]
    assert any(p.name == "summary.json" for p in written)
    assert any(p.parent.name == "batch_results" for p in written)
    for path in written:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path} is {mode:o}"


def test_the_nightly_preflight_stops_a_run_before_anything_is_sent(
    block, data_dir: Path, control
) -> None:
    """`preflight` (on in the nightly deployment): a refused key or a budget the estimate
    exceeds stops the flow with the failed checks, before a file is prepared or a batch made;
    with every check passing the run goes on."""
    from interviews.errors import PreflightError

    control.configure(processing_seconds=3600)
    params = BatchRunParameters(
        provider="anthropic",
        personas=str(SAMPLE),
        count=3,
        credentials_block=block,
        data_dir=str(data_dir),
        detach=True,
        preflight=True,
    )
    control.set_faults(http=[{"provider": "anthropic", "path": "/v1/models/", "status": 401}])
    with pytest.raises(PreflightError, match=r"✗ key and model: the key was refused \(HTTP 401\)"):
        batch_interviews(params.model_copy(update={"run_id": "refused"}))
    control.clear_faults()
    with pytest.raises(PreflightError, match=r"✗ cost: 3 interviews estimated at \$0\.04"):
        batch_interviews(params.model_copy(update={"run_id": "dear", "max_cost_usd": 0.01}))
    assert control.stats()["anthropic"]["batches_created"] == 0
    assert not (data_dir / "batch_requests").exists()  # nothing prepared either
    went = batch_interviews(params.model_copy(update={"run_id": "fine"}))
    assert went["detached"] and control.stats()["anthropic"]["batches_created"] == 1
