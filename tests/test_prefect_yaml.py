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
