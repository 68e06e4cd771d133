"""Job starts and settings changes checked against the contrib descriptors (leader.job_requests): the rules
themselves on the repository's contrib/, then through the API and a schedule — refused naming the field,
nothing sent to any agent — and a job without a descriptor (a plugin) passing with name/value checks only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
from flask.testing import FlaskClient

from cluster_schema.contrib import JobDescriptor, JobOption, rule_problems
from cluster_schema.errors import BadRequest
from leader import job_requests
from tests.leader.standin import StandIn
from tests.leader.test_api import cluster  # noqa: F401  (the fixture: three stand-ins, experiment `exp`)

CONTRIB = str(Path(__file__).resolve().parents[2] / "contrib")
Cluster = tuple[FlaskClient, list[StandIn]]


def refused(fn: Any, *args: Any, field: str) -> str:
    with pytest.raises(BadRequest) as caught:
        fn(*args)
    assert caught.value.status == 400 and f"`{field}`" in caught.value.message, caught.value.message
    return caught.value.message


def test_options_inside_the_descriptor_pass() -> None:
    job_requests.check_options(CONTRIB, "stirring", {"target_rpm": 420})
    job_requests.check_options(CONTRIB, "stirring", {"target_rpm": 0.5, "unknown_to_descriptor": "x"})
    job_requests.check_options(CONTRIB, "od_reading", {})
    opts = {
        "automation_name": "turbidostat",
        "target_biomass": 1.5,
        "biomass_signal": "od",
        "exchange_volume_ml": 1,
    }
    job_requests.check_options(CONTRIB, "dosing_automation", opts)
    job_requests.check_options(
        CONTRIB, "temperature_automation", {"automation_name": "only_record_temperature"}
    )


@pytest.mark.parametrize(
    ("job", "options", "field", "words"),
    [
        ("stirring", {"target_rpm": 5000}, "$.options.target_rpm", "above the maximum 2000 RPM"),
        ("stirring", {"target_rpm": -1}, "$.options.target_rpm", "below the minimum 0"),
        ("stirring", {"target_rpm": "fast"}, "$.options.target_rpm", "expected a number"),
        ("stirring", {"target_rpm": True}, "$.options.target_rpm", "expected a number"),
        ("dosing_automation", {"automation_name": "nope"}, "$.options.automation_name", "chemostat"),
        ("dosing_automation", {"automation_name": 3}, "$.options.automation_name", "expected text"),
        ("dosing_automation", {"automation_name": "chemostat"}, "$.options.exchange_volume_ml", "Missing"),
        (
            "dosing_automation",
            {"automation_name": "turbidostat", "exchange_volume_ml": 1, "biomass_signal": "magic"},
            "$.options.biomass_signal",
            "not one of auto",
        ),
        ("temperature_automation", {"target_temperature": 90}, "$.options.target_temperature", "maximum 50"),
    ],
)
def test_options_outside_the_descriptor_are_refused(job: str, options: dict, field: str, words: str) -> None:
    message = refused(job_requests.check_options, CONTRIB, job, options, field=field)
    assert words in message


def test_settings_checked_against_job_and_automation_settings() -> None:
    job_requests.check_settings(CONTRIB, "stirring", {"target_rpm": 300, "not_described": 1})
    job_requests.check_settings(CONTRIB, "dosing_automation", {"biomass_signal": "od"})
    refused(
        job_requests.check_settings, CONTRIB, "stirring", {"target_rpm": 9999}, field="$.settings.target_rpm"
    )
    message = refused(
        job_requests.check_settings, CONTRIB, "stirring", {"measured_rpm": 1}, field="$.settings.measured_rpm"
    )
    assert "Read-only" in message
    refused(
        job_requests.check_settings,
        CONTRIB,
        "dosing_automation",
        {"biomass_signal": "x"},
        field="$.settings.biomass_signal",
    )


def test_a_job_without_descriptor_passes() -> None:
    job_requests.check_options(CONTRIB, "my_plugin_job", {"anything": 1e9, "flag": True})
    job_requests.check_settings(CONTRIB, "my_plugin_job", {"anything": "x"})


def test_descriptor_rules_are_consistent_or_refused() -> None:
    ok = msgspec.convert({"key": "a", "type": "numeric", "min": 0, "max": 5, "default": 2}, JobOption)
    assert (ok.min, ok.max, ok.required, ok.choices) == (0, 5, False, [])
    old = msgspec.convert({"key": "a", "type": "numeric"}, JobOption)  # older descriptors still load
    assert old.min is None and old.choices == []
    for bad in ({"min": 5, "max": 1}, {"max": 1, "default": 2}, {"choices": [1, 2], "default": 3}):
        option = {"key": "a", "type": "numeric", **bad}
        desc = msgspec.convert(
            {"job_name": "j", "display_name": "J", "description": "", "options": [option]}, JobDescriptor
        )
        assert len(rule_problems(desc)) == 1 and "options.a" in rule_problems(desc)[0]


def test_api_refuses_out_of_bounds_naming_the_field_and_sends_nothing(cluster: Cluster) -> None:  # noqa: F811
    api, agents = cluster
    before = sum(len(a.requests) for a in agents)
    cases = [
        (
            "post",
            "/api/experiments/exp/jobs/stirring/start",
            {"options": {"target_rpm": 5000}},
            "$.options.target_rpm",
        ),
        (
            "post",
            "/api/experiments/exp/jobs/dosing_automation/start",
            {"options": {"automation_name": "x"}},
            "automation_name",
        ),
        (
            "patch",
            "/api/experiments/exp/jobs/stirring/settings",
            {"settings": {"target_rpm": "x"}},
            "$.settings.target_rpm",
        ),
    ]
    for method, path, body, field in cases:
        r = getattr(api, method)(path, json=body)
        assert r.status_code == 400 and field in r.json["message"], r.json
        assert set(r.json) == {"error", "message"}
    assert sum(len(a.requests) for a in agents) == before
    assert api.get("/api/operations").json["operations"] == []
    r = api.post(
        "/api/experiments/exp/jobs/stirring/start", json={"options": {"target_rpm": 420}, "units": ["pio0"]}
    )
    assert r.status_code == 202 and r.json["operation"]["params"]["options"] == {"target_rpm": 420}
    r = api.post(
        "/api/experiments/exp/jobs/my_plugin/start", json={"options": {"level": 1e6}, "units": ["pio0"]}
    )
    assert r.status_code == 202, r.json


def test_schedule_with_out_of_bounds_option_is_refused_when_saved(cluster: Cluster) -> None:  # noqa: F811
    api, _ = cluster
    action = {"kind": "job.start", "experiment": "exp", "job": "stirring", "options": {"target_rpm": 5000}}
    body = {"name": "s", "trigger": {"type": "interval", "seconds": 60}, "action": action}
    r = api.post("/api/schedules", json=body)
    assert r.status_code == 400 and "$.action.options.target_rpm" in r.json["message"], r.json
    action["options"] = {"target_rpm": 400}
    assert api.post("/api/schedules", json=body).status_code == 201
