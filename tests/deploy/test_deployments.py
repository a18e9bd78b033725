"""prefect.yaml's deployments on a real Prefect server, run by a real process worker against
the emulator (issue 6): end to end, parameters checked at run creation, no secret anywhere,
and the run form in the UI."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import orjson
import pytest
import yaml

from interviews.ledger import Ledger
from tests.conftest import ROOT, SAMPLE
from tests.deploy.conftest import BIN, DOCKER_POOL, POOL, PrefectStack, find_uuid, poll

DEPLOYMENTS = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]


def _params(data_dir: Path, run_id: str, **extra: object) -> dict[str, object]:
    return {
        "params": {
            "provider": "anthropic",
            "personas": str(SAMPLE),
            "count": 3,
            "run_id": run_id,
            "credentials_block": "emulator",
            "data_dir": str(data_dir),
            **extra,
        }
    }


def test_block_types_register_from_the_checkout(stack: PrefectStack) -> None:
    result = stack.steps["block register"]
    assert result.returncode == 0, result.stdout + result.stderr
    with stack.client() as client:
        for slug in (
            "anthropic-credentials",
            "openai-credentials",
            "vertex-batch-settings",
            "gemini-credentials",
        ):
            assert client.read_block_type_by_slug(slug).slug == slug


def test_every_deployment_is_on_the_pool_and_pulls_the_checkout(stack: PrefectStack) -> None:
    with stack.client() as client:
        deployed = {d.name: d for d in client.read_deployments()}
    assert set(deployed) == {d["name"] for d in DEPLOYMENTS}
    for deployment in deployed.values():
        [step] = deployment.pull_steps
        directory = step["prefect.deployments.steps.set_working_directory"]["directory"]
        if deployment.name.endswith("-docker"):  # the image's code, in a container
            assert deployment.work_pool_name == DOCKER_POOL
            assert directory == "/opt/interviews"
            assert deployment.job_variables["image"] == "interviews:latest"
        else:
            assert deployment.work_pool_name == POOL
            # `prefect deploy` resolves {{ $INTERVIEWS_CHECKOUT }} itself: the deploying
            # machine's path is stored, and a worker's own INTERVIEWS_CHECKOUT is not consulted
            assert directory == str(ROOT)
        assert deployment.enforce_parameter_schema


def test_a_deployment_runs_end_to_end_on_the_worker(
    stack: PrefectStack, emu, control, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    result = stack.run(
        [
            str(BIN / "prefect"),
            "deployment",
            "run",
            "anthropic-batch/anthropic-batch",
            "--params",
            json.dumps(_params(data_dir, "deploy-e2e")),
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    run = stack.wait_for_run(find_uuid(result.stdout))
    assert run.state.is_completed(), (run.state, stack.worker.tail())
    records = sorted((data_dir / "interviews").glob("interview_*.json"))
    assert [path.name for path in records] == [f"interview_{i}.json" for i in range(3)]
    for path in records:
        record = orjson.loads(path.read_bytes())
        assert record["status"] == "succeeded" and record["provider"] == "anthropic"
        assert record["run_id"] == "deploy-e2e" and record["transcript"]
    [ledger_run] = Ledger.open(data_dir).runs("deploy-e2e")
    assert ledger_run["status"] == "completed"
    assert control.stats()["anthropic"]["batches_created"] == 1
    assert not (stack.tmp / "worker" / "data").exists()  # the run's data_dir, not the default


@pytest.mark.parametrize(
    ("override", "field", "reason"),
    [
        ({"provider": "nope"}, "params.provider", "'nope' is not one of"),
        ({"count": -1}, "params.count", "-1 is less than the minimum of 1"),
    ],
    ids=["provider", "count"],
)
def test_invalid_parameters_are_rejected_when_the_run_is_created(
    stack: PrefectStack, tmp_path: Path, override: dict, field: str, reason: str
) -> None:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    deployment_id = stack.deployment_id("batch-interviews/batch-interviews")
    only_this = DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
    with stack.client() as client:
        before = client.count_flow_runs(deployment_filter=only_this)
    params = _params(tmp_path, "rejected", **override)
    with pytest.raises(Exception) as raised:
        stack.create_run("batch-interviews/batch-interviews", params)
    message = str(raised.value)
    assert f"Validation failed for field '{field}'" in message, message
    assert reason in message, message
    with stack.client() as client:
        assert client.count_flow_runs(deployment_filter=only_this) == before  # nothing queued


def test_the_cli_names_the_invalid_field(stack: PrefectStack, tmp_path: Path) -> None:
    result = stack.run(
        [
            str(BIN / "prefect"),
            "deployment",
            "run",
            "anthropic-batch/anthropic-batch",
            "--params",
            json.dumps(_params(tmp_path, "rejected", count=-1)),
        ]
    )
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert "Validation failed for field 'params.count'" in output, output
    assert "Traceback" not in output


SECRET = "sk-ant-api03-RECOGNISABLE-FAKE-KEY-4d1f0c9e7b2a6358"


def _final_logs(stack: PrefectStack, flow_run_ids: list) -> list:
    """The runs' logs once each run's engine has logged its final state (logs are shipped
    in the background, after the state is set)."""

    def complete() -> list | None:
        logs = stack.logs(flow_run_ids)
        finished = {log.flow_run_id for log in logs if "Finished in state" in log.message}
        return logs if finished >= set(flow_run_ids) else None

    return poll(complete, 60, "the flow runs' final log lines", interval=0.5)


def test_the_api_key_leaks_nowhere(stack: PrefectStack, emu, control, tmp_path: Path) -> None:
    from blocks.credentials import AnthropicCredentials, OpenAICredentials

    with stack.api():
        AnthropicCredentials(api_key=SECRET, base_url=emu.anthropic_base_url).save(
            "leak-check", overwrite=True
        )
        OpenAICredentials(api_key=SECRET, base_url=emu.openai_base_url).save(
            "leak-check", overwrite=True
        )
    # the OpenAI run is refused (401, as for a revoked key); both run side by side
    control.set_faults(
        http=[
            {"provider": "openai", "method": "POST", "path": "/batches$", "status": 401, "count": 9}
        ]
    )
    data_dir = tmp_path / "data"
    ok_id = stack.create_run(
        "batch-interviews/batch-interviews",
        _params(data_dir, "leak-ok", credentials_block="leak-check"),
    )
    failed_id = stack.create_run(
        "batch-interviews/batch-interviews",
        _params(data_dir, "leak-401", provider="openai", credentials_block="leak-check"),
    )
    ok = stack.wait_for_run(ok_id)
    assert ok.state.is_completed(), (ok.state, stack.worker.tail())
    assert len(list((data_dir / "interviews").glob("interview_*.json"))) == 3
    failed = stack.wait_for_run(failed_id)
    assert failed.state.is_failed(), (failed.state, stack.worker.tail())
    assert "check the API key" in failed.state.message  # readable ...
    assert SECRET not in failed.state.message  # ... and without the key
    assert control.stats()["openai"]["faults_fired"] >= 1

    run_ids = stack.subflow_ids(ok_id) + stack.subflow_ids(failed_id)
    assert len(run_ids) == 4  # batch-interviews → anthropic-batch, twice
    with stack.client() as client:
        for run_id in run_ids:
            run = client.read_flow_run(run_id)
            assert SECRET not in run.model_dump_json(), run.name  # parameters, state, ...
    logs = _final_logs(stack, run_ids)
    assert any("check the API key" in log.message for log in logs)  # the failure was logged
    for log in logs:
        assert SECRET not in log.message, log
    artifacts = stack.artifacts(run_ids)
    assert {artifact.type for artifact in artifacts} >= {"markdown", "table", "progress"}
    for artifact in artifacts:
        assert SECRET not in artifact.model_dump_json(), artifact.key
    written = [path for path in data_dir.rglob("*") if path.is_file()]
    for part in ("ledger.db", "batch_requests", "batch_results", "interviews", "summary.json"):
        assert any(part in str(path) for path in written), part  # each kind was searched
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path
    worker_output = stack.worker.output()
    assert "leak-ok" in worker_output  # the flow runs' output is part of the worker's
    assert SECRET not in worker_output
    # the server's own files: the block is stored encrypted, and nothing else holds the key
    for path in (stack.tmp / "prefect-home").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "chromium is not installed; the UI test needs Debian's headless chromium: "
            "apt-get install -y chromium (CI: .ci/run installs it)"
        )
    return path


def test_the_run_form_in_the_ui_shows_the_typed_fields(stack: PrefectStack, tmp_path: Path) -> None:
    chromium = _chromium()
    deployment_id = stack.deployment_id("anthropic-batch/anthropic-batch")
    url = f"{stack.ui_url}/deployments/deployment/{deployment_id}/run"
    artifacts = Path(os.environ.get("INTERVIEWS_TEST_ARTIFACTS") or tmp_path)
    artifacts.mkdir(parents=True, exist_ok=True)
    screenshot = artifacts / "deployment-run-form.png"
    screenshot.unlink(missing_ok=True)
    browser = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}",
        "--virtual-time-budget=20000",
        "--window-size=1400,2400",
    ]
    dom = stack.run([*browser, "--dump-dom", f"--screenshot={screenshot}", url], timeout=180)
    assert dom.returncode == 0, dom.stderr[-3000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    labels = _form_labels(dom.stdout)
    # interviews/spec.py's field titles are the form's labels ("Provider (Optional)", ...)
    for title in ("Provider", "Model", "Personas file", "Count", "Credentials block"):
        assert title in labels, f"{title!r} not among {labels} on {url}; see {screenshot}"


def _form_labels(html: str) -> list[str]:
    """The texts of the run form's field labels, without the UI's " (Optional)"."""
    from html.parser import HTMLParser

    class Labels(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.labels: list[str] = []
            self.inside = False

        def handle_starttag(self, tag: str, attrs: list) -> None:
            classes = (dict(attrs).get("class") or "").split()
            self.inside = "schema-form-property__label" in classes

        def handle_data(self, data: str) -> None:
            if self.inside:
                self.labels.append(data.strip().removesuffix(" (Optional)"))
                self.inside = False

    parser = Labels()
    parser.feed(html)
    return parser.labels
