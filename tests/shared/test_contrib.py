"""contrib/ descriptors: every file validates against the schema's descriptor Structs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cluster_schema import codec, contrib, names

CONTRIB = Path(__file__).resolve().parents[2] / "contrib"
EXPECTED_JOBS = {
    "stirring",
    "od_reading",
    "growth_rate_calculating",
    "temperature_automation",
    "dosing_automation",
    "led_automation",
}
EXPECTED_CHARTS = {"od", "normalized_od", "growth_rate", "temperature"}
CODE_LIKE = re.compile(r"\bparseFloat\(|=>|\bfunction\s*\(|\bconfig\[|\beval\(|\$\{")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in strings(v)]
    return []


ALL_FILES = sorted(CONTRIB.rglob("*.yaml"))


def test_contrib_files_exist() -> None:
    assert len(ALL_FILES) >= 15


@pytest.mark.parametrize("path", sorted((CONTRIB / "jobs").glob("*.yaml")), ids=lambda p: p.name)
def test_job_descriptor(path: Path) -> None:
    job = codec.convert(contrib.JobDescriptor, load(path))
    assert contrib.rule_problems(job) == []
    names.check_job(job.job_name)
    keys = [s.key for s in job.published_settings]
    assert len(keys) == len(set(keys)), f"duplicate setting keys in {path.name}"
    for key in keys:
        names.check_setting(key)


def test_expected_jobs_are_described() -> None:
    found = {
        codec.convert(contrib.JobDescriptor, load(p)).job_name for p in (CONTRIB / "jobs").glob("*.yaml")
    }
    assert found >= EXPECTED_JOBS


@pytest.mark.parametrize("kind", ["temperature", "dosing", "led"])
def test_automation_descriptors(kind: str) -> None:
    paths = sorted((CONTRIB / "automations" / kind).glob("*.yaml"))
    assert paths, f"no {kind} automations"
    for path in paths:
        auto = codec.convert(contrib.AutomationDescriptor, load(path))
        assert path.stem == auto.automation_name
        assert contrib.rule_problems(auto) == []
        for field in auto.fields:
            names.check_setting(field.key, f"{path.name}:fields")


def test_chart_descriptors() -> None:
    charts = [
        codec.convert(contrib.ChartDescriptor, load(p)) for p in sorted((CONTRIB / "charts").glob("*.yaml"))
    ]
    keys = [c.key for c in charts]
    assert len(keys) == len(set(keys))
    assert set(keys) >= EXPECTED_CHARTS
    for chart in charts:
        assert contrib.rule_problems(chart) == []
        parts = chart.mqtt_topic.split("/")
        assert len(parts) == 2 and all(p and "+" not in p and "#" not in p for p in parts), chart.mqtt_topic


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(CONTRIB)))
def test_no_code_inside_yaml(path: Path) -> None:
    for text in strings(load(path)):
        assert not CODE_LIKE.search(text), f"{path.name}: {text!r} looks like code"


@pytest.mark.parametrize("kind", ["temperature", "dosing", "led"])
def test_automation_fields_are_what_pio_accepts(kind: str) -> None:
    """Field keys are the automation's real arguments and every required one has a default, so a start from
    the descriptor's defaults does not fail. pio-sim mirrors pio 26.11.1's classes (held to it by the
    conformance suite), so it is the reference here."""
    from unit_agent.sim import automations as sim

    job = {
        "temperature": sim.TemperatureAutomation,
        "dosing": sim.DosingAutomation,
        "led": sim.LEDAutomation,
    }[kind]
    for path in sorted((CONTRIB / "automations" / kind).glob("*.yaml")):
        auto = codec.convert(contrib.AutomationDescriptor, load(path))
        assert auto.automation_name in job.automations, f"{path.name}: pio has no such {kind} automation"
        accepted = set(job.automations[auto.automation_name])
        fields = {f.key: f for f in auto.fields}
        assert set(fields) <= accepted, f"{path.name}: unknown fields {sorted(set(fields) - accepted)}"
        for required in job.required.get(auto.automation_name, ()):
            assert required in fields and fields[required].default is not None, (
                f"{path.name}: `{required}` is required by pio and needs a field with a default"
            )


def test_a_chart_whose_y_min_is_not_below_y_max_is_a_problem() -> None:
    chart = contrib.ChartDescriptor(key="t", title="T", mqtt_topic="a/b", y_min=45, y_max=20)
    assert contrib.rule_problems(chart) == ["y_min 45 is not below y_max 20"]
    assert contrib.rule_problems(contrib.ChartDescriptor(key="t", title="T", mqtt_topic="a/b", y_min=0)) == []
