"""A second run of the same personas never overwrites the first run's answers: its records go
to a folder of their own, said once when it is prepared; a re-run of the first run id still
writes where that run's records are."""

from __future__ import annotations

from pathlib import Path

import orjson

from flows.batch_flows import batch_interviews
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE


def _params(block: str, data_dir: Path, run_id: str) -> BatchRunParameters:
    return BatchRunParameters(
        provider="anthropic",
        personas=str(SAMPLE),
        count=3,
        run_id=run_id,
        credentials_block=block,
        data_dir=str(data_dir),
    )


def _records(folder: Path) -> dict[str, dict]:
    return {p.name: orjson.loads(p.read_bytes()) for p in sorted(folder.glob("*.json"))}


def test_a_second_run_keeps_the_first_runs_answers(block, data_dir: Path, caplog) -> None:
    first = batch_interviews(_params(block, data_dir, "first"))
    before = _records(data_dir / "interviews")
    assert first["ok"] and len(before) == 3
    assert {record["run_id"] for record in before.values()} == {"first"}
    page = (data_dir / "runs" / "first" / "report.html").read_text()  # the report with charts
    assert "Interview run first" in page and page.count("<svg") == 4  # no flag: no flag chart
    assert "No answer was flagged." in page
    assert first["report_html"].endswith("runs/first/report.html")

    second = batch_interviews(_params(block, data_dir, "second"))
    assert second["ok"]
    assert _records(data_dir / "interviews") == before  # not one byte of the first run changed
    moved = _records(data_dir / "interviews" / "second")
    assert moved.keys() == before.keys()
    assert {record["run_id"] for record in moved.values()} == {"second"}
    assert second["interviews_dir"].endswith("interviews/second")
    assert "holds run first's answers; this run's records go to" in caplog.text

    again = batch_interviews(_params(block, data_dir, "first"))  # the same run: in place
    assert again["ok"] and again["interviews_dir"].endswith("interviews")
    # the provider flow runs are tagged, so the UI filters them by provider, model and run
    assert _tagged("run:first") == 2 and _tagged("run:second") == 1
    assert _tagged("provider:anthropic", "model:claude-sonnet-5-5", "run:second") == 1


def _tagged(*tags: str) -> int:
    """Flow runs carrying every one of `tags`."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=list(tags)))
        )
    return len(runs)
