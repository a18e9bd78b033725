"""prefect.yaml is valid for Prefect, and each deployment's parameters fit its flow."""

from __future__ import annotations

import pytest
import yaml
from prefect.cli.deploy._models import PrefectYamlModel  # private: prefect is pinned to 3.9.x
from prefect.flows import load_flow_from_entrypoint

from tests.conftest import ROOT

RAW = yaml.safe_load((ROOT / "prefect.yaml").read_text())


def test_prefect_yaml_validates_against_prefects_model() -> None:
    PrefectYamlModel.model_validate(RAW)


@pytest.mark.parametrize("deployment", RAW["deployments"], ids=lambda d: d["name"])
def test_entrypoint_loads_and_parameters_validate(deployment, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    flow = load_flow_from_entrypoint(deployment["entrypoint"])
    flow.validate_parameters(deployment["parameters"])


def test_invalid_parameters_are_rejected() -> None:
    flow = load_flow_from_entrypoint(str(ROOT / RAW["deployments"][0]["entrypoint"]))
    with pytest.raises(Exception, match="count"):
        flow.validate_parameters({"params": {"personas": "p.jsonl", "count": -1}})
    with pytest.raises(Exception, match="provider"):
        flow.validate_parameters({"params": {"personas": "p.jsonl", "provider": "nope"}})


def test_schedules_parse_and_start_inactive() -> None:
    from prefect.client.schemas.schedules import construct_schedule

    scheduled = [d for d in RAW["deployments"] if d.get("schedules")]
    assert scheduled, "the collect deployment has a schedule"
    for deployment in scheduled:
        for schedule in deployment["schedules"]:
            construct_schedule(cron=schedule["cron"], timezone=schedule.get("timezone"))
            assert schedule["active"] is False  # nothing fires unasked
            assert deployment.get("concurrency_limit") == 1  # never two at once


def test_every_provider_has_a_manual_deployment_with_its_form() -> None:
    by_name = {d["name"]: d for d in RAW["deployments"]}
    for provider in ("anthropic", "openai", "vertex", "gemini"):
        deployment = by_name[f"{provider}-batch"]
        assert not deployment.get("schedules")  # manual: UI or CLI only
        assert deployment["parameters"]["params"]["provider"] == provider
        flow = load_flow_from_entrypoint(str(ROOT / deployment["entrypoint"]))
        schema = flow.parameters.model_dump()
        fields = schema["definitions"]["BatchRunParameters"]["properties"]
        for name in ("provider", "model", "personas", "count", "start_index", "max_cost_usd"):
            assert fields[name]["title"], name  # every form field is labelled
        assert set(fields["provider"]["enum"]) == {"anthropic", "openai", "vertex", "gemini"}


def test_nightly_deployment_runs_detached_one_at_a_time() -> None:
    [nightly] = [d for d in RAW["deployments"] if d["name"] == "nightly-batch"]
    assert nightly["parameters"]["params"]["detach"] is True
    assert nightly["parameters"]["params"]["max_cost_usd"] > 0
    assert nightly["parameters"]["params"]["preflight"] is True  # `interviews check` first
    [schedule] = nightly["schedules"]
    assert schedule["timezone"] != "UTC"  # a local night, stated with its zone


def test_the_docker_deployments_run_the_images_code_and_the_image_holds_it() -> None:
    """The *-docker deployments start in the Dockerfile's WORKDIR, and the image copies every
    package the project declares (and .dockerignore keeps none of them out)."""
    import tomllib

    dockerfile = (ROOT / "Dockerfile").read_text()
    [workdir] = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("WORKDIR")]
    docker = [d for d in RAW["deployments"] if d["name"].endswith("-docker")]
    assert {d["name"] for d in docker} == {"nightly-batch-docker", "collect-batches-docker"}
    for deployment in docker:
        assert deployment["work_pool"]["name"] == "interviews-docker"
        [step] = deployment["pull"]
        assert step["prefect.deployments.steps.set_working_directory"]["directory"] == workdir
        assert deployment["schedules"][0]["active"] is False
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    copied = {line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ")}
    ignored = (ROOT / ".dockerignore").read_text().split()
    for package in packages:
        assert package in copied, package
        assert package not in ignored, package
    assert "uv sync --frozen --no-dev" in dockerfile  # exactly the locked dependencies
    assert "USER interviews" in dockerfile  # health data: not as root
