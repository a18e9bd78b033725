"""The run steps against the emulator, without Prefect: records, resume, crash recovery."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from interviews.batch_types import BatchStatus
from interviews.errors import AmbiguousBatchError, LedgerError, TransientProviderError
from interviews.ledger import Ledger
from interviews.pipeline import (
    convert_chunk,
    download_chunk,
    prepare_run,
    submit_chunk,
    wait_chunk,
)
from interviews.polling import Backoff
from interviews.preparation import DataDirs
from interviews.providers.anthropic_batches import AnthropicBatchAdapter
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE, line_faults


@pytest.fixture
def setup(emu, data_dir: Path):
    adapter = AnthropicBatchAdapter(
        api_key="k", base_url=emu.anthropic_base_url, max_retries=2, strict_responses=True
    )
    return adapter, Ledger.open(data_dir), DataDirs(data_dir)


def params(**kw) -> BatchRunParameters:
    return BatchRunParameters(personas=str(SAMPLE), run_id="r1", **kw)


def run_all(plan, adapter, ledger, dirs, sleep=None):
    summaries = []
    for chunk in plan.chunks:
        job = submit_chunk(
            chunk, adapter=adapter, ledger=ledger, dirs=dirs, sleep=sleep or (lambda s: None)
        )
        job = wait_chunk(
            job, adapter=adapter, ledger=ledger, backoff=Backoff(0, 0, 1), sleep=lambda s: None
        )
        path = download_chunk(
            ledger.get_chunk(chunk.id), job, adapter=adapter, ledger=ledger, dirs=dirs
        )
        summaries.append(
            convert_chunk(
                chunk,
                path,
                job,
                model=plan.model,
                ledger=ledger,
                dirs=dirs,
                records_dir=dirs.interviews,
            )
        )
    return summaries


def test_every_request_gets_a_record_nothing_invented(setup, control) -> None:
    adapter, ledger, dirs = setup
    control.set_faults(
        lines=line_faults(
            {
                "interview_2": {
                    "type": "errored",
                    "error_type": "overloaded_error",
                    "message": "busy",
                },
                "interview_5": {"type": "expired"},
            }
        )
    )
    plan = prepare_run(params(count=8), ledger=ledger, dirs=dirs)
    [summary] = run_all(plan, adapter, ledger, dirs)
    assert summary.statuses == {"succeeded": 6, "errored": 1, "expired": 1}
    files = sorted(p.name for p in dirs.interviews.iterdir())
    assert files == sorted(f"interview_{i}.json" for i in range(8))
    record = orjson.loads((dirs.interviews / "interview_0.json").read_bytes())
    assert {"persona_id", "timestamp", "provider", "model", "transcript"} <= record.keys()
    assert record["persona_id"] == 0 and record["status"] == "succeeded"
    assert [t["role"] for t in record["transcript"]] == ["user", "assistant"]
    assert record["cost_usd"] > 0 and record["run_id"] == "r1"
    errored = orjson.loads((dirs.interviews / "interview_2.json").read_bytes())
    assert errored["status"] == "errored" and errored["error"]["type"] == "overloaded_error"
    assert [t["role"] for t in errored["transcript"]] == ["user"]
    expired = orjson.loads((dirs.interviews / "interview_5.json").read_bytes())
    assert expired["status"] == "expired" and expired["cost_usd"] == 0
    raw = Path(plan.chunks[0].path).parent  # chunks live under runs/<id>
    assert raw == dirs.run("r1")


def test_full_run_survives_429_and_500(setup, control) -> None:
    adapter, ledger, dirs = setup
    control.set_faults(
        http=[
            {"method": "POST", "path": "/batches$", "status": 429, "count": 1},
            {"method": "GET", "path": "/batches/[^/]+$", "status": 500, "count": 1},
            {"method": "GET", "path": "/results$", "status": 529, "count": 1},
        ]
    )
    plan = prepare_run(params(count=5), ledger=ledger, dirs=dirs)
    [summary] = run_all(plan, adapter, ledger, dirs, sleep=lambda s: None)
    assert summary.statuses == {"succeeded": 5}
    stats = control.stats()["anthropic"]
    assert stats["batches_created"] == 1 and stats["faults_fired"] == 3


def test_create_500_is_looked_up_then_retried_once(setup, control) -> None:
    adapter, ledger, dirs = setup
    control.set_faults(http=[{"method": "POST", "path": "/batches$", "status": 500, "count": 1}])
    plan = prepare_run(params(count=3), ledger=ledger, dirs=dirs)
    sleeps: list[float] = []
    job = submit_chunk(plan.chunks[0], adapter=adapter, ledger=ledger, sleep=sleeps.append)
    assert sleeps == [2.0]
    assert ledger.get_batch(plan.chunks[0].id).batch_id == job.batch_id
    calls = control.stats()["anthropic"]["calls"]
    assert control.stats()["anthropic"]["batches_created"] == 1
    assert calls.get("GET /v1/messages/batches", 0) >= 1  # looked before creating again


def test_rerun_same_run_id_never_creates_a_second_batch(setup, control) -> None:
    adapter, ledger, dirs = setup
    plan = prepare_run(params(count=3), ledger=ledger, dirs=dirs)
    run_all(plan, adapter, ledger, dirs)
    again = prepare_run(params(count=3), ledger=ledger, dirs=dirs)
    assert again.resumed and [c.id for c in again.chunks] == [c.id for c in plan.chunks]
    run_all(again, adapter, ledger, dirs)
    assert control.stats()["anthropic"]["batches_created"] == 1


def test_a_run_on_a_postgresql_ledger_records_every_interview_and_pays_once(
    emu, control, data_dir: Path, postgres_url: str
) -> None:
    """INTERVIEWS_LEDGER_URL=postgresql+psycopg://…: the same pipeline, the same guarantees."""
    adapter = AnthropicBatchAdapter(
        api_key="k", base_url=emu.anthropic_base_url, max_retries=2, strict_responses=True
    )
    dirs, ledger = DataDirs(data_dir), Ledger(postgres_url)
    plan = prepare_run(params(count=3), ledger=ledger, dirs=dirs)
    summaries = run_all(plan, adapter, ledger, dirs)
    assert sum(s.statuses.get("succeeded", 0) for s in summaries) == 3
    again = prepare_run(params(count=3), ledger=ledger, dirs=dirs)
    assert again.resumed
    run_all(again, adapter, ledger, dirs)
    assert control.stats()["anthropic"]["batches_created"] == 1
    assert not (data_dir / "ledger.db").exists()  # the ledger lives in PostgreSQL only
    assert sorted(p.stem for p in dirs.interviews.glob("*.json")) == [
        "interview_0",
        "interview_1",
        "interview_2",
    ]


def test_rerun_with_other_settings_is_refused(setup) -> None:
    _adapter, ledger, dirs = setup
    prepare_run(params(count=3), ledger=ledger, dirs=dirs)
    with pytest.raises(LedgerError, match="count changed"):
        prepare_run(params(count=4), ledger=ledger, dirs=dirs)


def test_lost_batch_id_is_adopted_not_resubmitted(setup, control) -> None:
    adapter, ledger, dirs = setup
    plan = prepare_run(params(count=3), ledger=ledger, dirs=dirs)
    chunk = plan.chunks[0]
    # the process died after the create call reached the provider, before the id was saved
    intent = ledger.record_intent(chunk.id, "anthropic")
    from interviews.pipeline import _tag

    made = adapter.create(chunk.path, tag=_tag(chunk, intent.intent_at))
    job = submit_chunk(chunk, adapter=adapter, ledger=ledger)
    assert job.batch_id == made.batch_id
    assert ledger.get_batch(chunk.id).batch_id == made.batch_id
    assert control.stats()["anthropic"]["batches_created"] == 1


def test_intent_without_any_batch_is_created_once(setup, control) -> None:
    adapter, ledger, dirs = setup
    plan = prepare_run(params(count=3), ledger=ledger, dirs=dirs)
    ledger.record_intent(plan.chunks[0].id, "anthropic")  # died before the call was sent
    submit_chunk(plan.chunks[0], adapter=adapter, ledger=ledger)
    submit_chunk(plan.chunks[0], adapter=adapter, ledger=ledger)
    assert control.stats()["anthropic"]["batches_created"] == 1


def test_ambiguous_lost_batch_stops_the_run(setup, control) -> None:
    adapter, ledger, dirs = setup
    plan = prepare_run(params(count=3), ledger=ledger, dirs=dirs)
    chunk = plan.chunks[0]
    intent = ledger.record_intent(chunk.id, "anthropic")
    from interviews.pipeline import _tag

    adapter.create(chunk.path, tag=_tag(chunk, intent.intent_at))
    adapter.create(chunk.path, tag=_tag(chunk, intent.intent_at))
    with pytest.raises(AmbiguousBatchError, match="Not submitting again"):
        submit_chunk(chunk, adapter=adapter, ledger=ledger)
    assert control.stats()["anthropic"]["batches_created"] == 2


def test_refused_create_leaves_no_intent(setup, control) -> None:
    adapter, ledger, dirs = setup
    plan = prepare_run(params(count=2), ledger=ledger, dirs=dirs)
    control.set_faults(http=[{"method": "POST", "path": "/batches$", "status": 400, "count": 1}])
    with pytest.raises(Exception, match="HTTP 400"):
        submit_chunk(plan.chunks[0], adapter=adapter, ledger=ledger)
    assert ledger.get_batch(plan.chunks[0].id) is None
    submit_chunk(plan.chunks[0], adapter=adapter, ledger=ledger)
    assert control.stats()["anthropic"]["batches_created"] == 1


def test_cut_off_download_is_transient_and_leaves_no_file(setup, control) -> None:
    adapter, ledger, dirs = setup
    plan = prepare_run(params(count=4), ledger=ledger, dirs=dirs)
    chunk = plan.chunks[0]
    job = submit_chunk(chunk, adapter=adapter, ledger=ledger)
    job = adapter.retrieve(job.batch_id)
    assert job.status is BatchStatus.SUCCEEDED
    control.set_faults(truncate_results=1)
    with pytest.raises(TransientProviderError, match="cut short"):
        download_chunk(chunk, job, adapter=adapter, ledger=ledger, dirs=dirs)
    assert not any(dirs.results.iterdir())
    path = download_chunk(chunk, job, adapter=adapter, ledger=ledger, dirs=dirs)
    assert len(path.read_bytes().splitlines()) == 4


def test_succeeded_record_is_never_replaced_by_a_failure(setup, control) -> None:
    adapter, ledger, dirs = setup
    run_all(prepare_run(params(count=2), ledger=ledger, dirs=dirs), adapter, ledger, dirs)
    control.set_faults(lines=line_faults({"interview_0": {"type": "expired"}}))
    second = prepare_run(
        BatchRunParameters(personas=str(SAMPLE), run_id="r2", count=2), ledger=ledger, dirs=dirs
    )
    [summary] = run_all(second, adapter, ledger, dirs)
    assert summary.kept_earlier_answers == 1
    record = orjson.loads((dirs.interviews / "interview_0.json").read_bytes())
    assert record["status"] == "succeeded" and record["run_id"] == "r1"


def test_openai_batch_refused_as_a_whole_gives_every_request_its_reason(
    emu, control, data_dir: Path
) -> None:
    from interviews.providers.openai_batches import OpenAIBatchAdapter

    adapter = OpenAIBatchAdapter(api_key="k", base_url=emu.openai_base_url, strict_responses=True)
    ledger, dirs = Ledger.open(data_dir), DataDirs(data_dir)
    plan = prepare_run(
        BatchRunParameters(personas=str(SAMPLE), run_id="bad", count=3, provider="openai"),
        ledger=ledger,
        dirs=dirs,
    )
    path = plan.chunks[0].path
    lines = path.read_bytes().splitlines()
    path.write_bytes(b"\n".join([lines[0], b"{broken", lines[2]]) + b"\n")
    [summary] = run_all(plan, adapter, ledger, dirs)
    assert summary.statuses == {"errored": 3}
    record = orjson.loads((dirs.interviews / "interview_0.json").read_bytes())
    assert record["error"]["type"] == "batch_failed"
    assert "line 2" in record["error"]["message"]


def test_openai_run_survives_create_faults_with_one_batch_and_one_upload(
    emu, control, data_dir: Path
) -> None:
    from interviews.providers.openai_batches import OpenAIBatchAdapter

    adapter = OpenAIBatchAdapter(api_key="k", base_url=emu.openai_base_url, strict_responses=True)
    ledger, dirs = Ledger.open(data_dir), DataDirs(data_dir)
    control.set_faults(
        http=[
            {"provider": "openai", "method": "POST", "path": "/batches$", "status": 429},
            {"provider": "openai", "method": "POST", "path": "/batches$", "status": 502},
        ]
    )
    plan = prepare_run(
        BatchRunParameters(personas=str(SAMPLE), run_id="o1", count=4, provider="openai"),
        ledger=ledger,
        dirs=dirs,
    )
    [summary] = run_all(plan, adapter, ledger, dirs)
    assert summary.statuses == {"succeeded": 4}
    stats = control.stats()["openai"]
    assert (stats["batches_created"], stats["files_uploaded"]) == (1, 1)


def test_consolidated_jsonl_without_per_interview_files(setup) -> None:
    from interviews.pipeline import consolidate_records

    adapter, ledger, dirs = setup
    plan = prepare_run(params(count=5), ledger=ledger, dirs=dirs)
    chunk = plan.chunks[0]
    job = submit_chunk(chunk, adapter=adapter, ledger=ledger)
    job = adapter.retrieve(job.batch_id)
    path = download_chunk(chunk, job, adapter=adapter, ledger=ledger, dirs=dirs)
    convert_chunk(chunk, path, job, model=plan.model, ledger=ledger, dirs=dirs, records_dir=None)
    convert_chunk(chunk, path, job, model=plan.model, ledger=ledger, dirs=dirs, records_dir=None)
    assert not dirs.interviews.exists()
    lines = consolidate_records("r1", dirs).read_bytes().splitlines()
    assert sorted(orjson.loads(x)["custom_id"] for x in lines) == [
        f"interview_{i}" for i in range(5)
    ]  # converting twice (a resume) does not duplicate records


def test_a_process_that_lost_its_lease_creates_no_batch(setup, control) -> None:
    import time

    from interviews.leases import LeaseLostError, process_owner, run_lease

    adapter, ledger, dirs = setup
    plan = prepare_run(params(count=2), ledger=ledger, dirs=dirs)
    with run_lease(ledger, "r1", command="interviews run", seconds=6):
        # this process stalled past its lease, and another one took the run over
        ledger.claim_lease("run:r1", process_owner(), command="interviews run", seconds=-1)
        ledger.claim_lease("run:r1", "other-host:1:x", command="collect-batches", seconds=600)
        deadline = time.monotonic() + 10
        while ensure_held_quietly(ledger, "r1"):  # the heartbeat (every 2 s) notices
            assert time.monotonic() < deadline, "the heartbeat never noticed"
            time.sleep(0.2)
        with pytest.raises(LeaseLostError, match="taken over by collect-batches"):
            submit_chunk(plan.chunks[0], adapter=adapter, ledger=ledger)
    assert control.stats()["anthropic"]["batches_created"] == 0
    assert ledger.get_batch(plan.chunks[0].id) is None  # not even an intent


def ensure_held_quietly(ledger, run_id: str) -> bool:
    """Whether this process still holds the run's lease, as far as its heartbeat knows."""
    from interviews.leases import LeaseLostError, ensure_held

    try:
        ensure_held(ledger, run_id)
    except LeaseLostError:
        return False
    return True
