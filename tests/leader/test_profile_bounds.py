"""A profile's job options against the contrib descriptors: warnings (never errors) in the diagnostics of
POST /api/profiles/validate, quoted numbers read as numbers, expressions left to run time."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from leader.profiles import bounds
from leader.profiles.validate import load
from tests.leader.conftest import make_app

from .conftest import api_client
from .test_profiles import HEAD

CONTRIB = str(Path(__file__).resolve().parents[2] / "contrib")


def _warnings(text: str) -> list[tuple[str, str, str]]:
    result = load(text)
    assert result.ok, result.diagnostics
    assert result.profile is not None
    return [(d.severity, d.path, d.message) for d in bounds.warnings(result.profile, text, CONTRIB)]


def _stirring(*actions: str) -> str:
    return (
        HEAD
        + "common:\n  jobs:\n    stirring:\n      actions:\n"
        + "".join(f"        - {a}\n" for a in actions)
    )


def test_values_inside_the_bounds_quoted_or_not_pass() -> None:
    text = _stirring(
        "{type: start, t: 0s, options: {target_rpm: 400}}",
        "{type: update, t: 1m, options: {target_rpm: '650'}}",  # Pioreactor's profiles quote numbers
        "{type: update, t: 2m, options: {target_rpm: '${{ ::stirring:target_rpm * 9 }}'}}",  # run time
        "{type: start, t: 3m, options: {some_pio_option: 7}}",  # no descriptor names it: pio decides
    )
    assert _warnings(text) == []


def test_out_of_bounds_and_wrong_types_are_warnings_naming_the_field() -> None:
    text = _stirring(
        "{type: start, t: 0s, options: {target_rpm: '5000'}}",
        "type: repeat\n          t: 1m\n          every: 10m\n          actions:\n"
        "            - {type: update, t: 0s, options: {target_rpm: -3}}",
    )
    found = _warnings(text)
    assert [(s, p) for s, p, _ in found] == [
        ("warning", "common.jobs.stirring.actions[0].options.target_rpm"),
        ("warning", "common.jobs.stirring.actions[1].actions[0].options.target_rpm"),
    ]
    assert "above the maximum 2000 RPM" in found[0][2] and "below the minimum 0" in found[1][2]
    dosing = HEAD + (
        "pioreactors:\n  pio1:\n    jobs:\n      dosing_automation:\n        actions:\n"
        "          - {type: start, t: 0s, options: {automation_name: nonsense}}\n"
    )
    [(severity, path, message)] = _warnings(dosing)
    assert path == "pioreactors.pio1.jobs.dosing_automation.actions[0].options.automation_name"
    assert severity == "warning" and "'nonsense' is not a dosing automation" in message


def test_validate_route_adds_the_warnings_with_their_lines(tmp_path: Path) -> None:
    app: Flask = make_app(tmp_path)
    viewer = api_client(app, "viewer")
    text = _stirring("{type: start, t: 0s, options: {target_rpm: 9000}}")
    r = viewer.post("/api/profiles/validate", json={"yaml": text})
    assert r.status_code == 200
    [d] = r.json["diagnostics"]
    assert (d["severity"], d["code"]) == ("warning", "option.out_of_bounds")
    assert d["path"] == "common.jobs.stirring.actions[0].options.target_rpm"
    assert (
        d["line"]
        == text.splitlines().index("        - {type: start, t: 0s, options: {target_rpm: 9000}}") + 1
    )
    # a warning saves and runs: the operator may PUT it like any valid profile
    op = api_client(app, "operator")
    assert op.put("/api/profiles/fast", json={"yaml": text}).status_code == 201
