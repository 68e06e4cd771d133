"""Experiment profiles: the validation corpus, the expression language, /api/profiles, and the driver's
plan logic in a dry run (no unit is touched, so no agent is needed: the driver is ticked in-process)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml
from flask import Flask

from cluster_schema.profiles import Action
from leader.db import connect
from leader.db import experiments as exp_db
from leader.db import operations as ops_db
from leader.db import units as units_db
from leader.profiles import expr, yamlload
from leader.profiles.act import skip_by_if
from leader.profiles.driver import Driver
from leader.profiles.validate import load
from tests.leader.conftest import api_client, make_app

HEAD = 'version: "1.0"\nexperiment_profile_name: test\n'


def _job(actions: str, job: str = "stirring") -> str:
    return HEAD + f"common:\n  jobs:\n    {job}:\n      actions:\n{actions}"


def _codes(text: str) -> list[tuple[str, str, str]]:
    return [(d.severity, d.code, d.path) for d in load(text).diagnostics]


# ---- validation corpus --------------------------------------------------------------------------------

CORPUS: list[tuple[str, str, tuple[str, str, str]]] = [
    (
        "bad time literal",
        _job("        - {type: start, t: 0s}\n        - {type: stop, t: 1h30m}\n"),
        ("error", "time.invalid", "common.jobs.stirring.actions[1].t"),
    ),
    (
        "unknown key",
        _job("        - {type: start, t: 0s, option: {a: 1}}\n"),
        ("error", "field.unknown", "common.jobs.stirring.actions[0]"),
    ),
    (
        "repeat in repeat",
        _job(
            "        - type: repeat\n          t: 0s\n          every: 1m\n          actions:\n"
            "            - {type: repeat, t: 0s, every: 1s}\n"
        ),
        ("error", "repeat.nested", "common.jobs.stirring.actions[0].actions[0].type"),
    ),
    (
        "expression syntax error",
        _job("        - {type: start, t: 0s, if: '1 +'}\n"),
        ("error", "expression.syntax", "common.jobs.stirring.actions[0].if"),
    ),
    (
        "quoted string in an expression",
        _job("        - {type: start, t: 0s, if: '${{ ::stirring:$state == \"ready\" }}'}\n"),
        ("error", "expression.syntax", "common.jobs.stirring.actions[0].if"),
    ),
    (
        "both t and hours_elapsed",
        _job("        - {type: start, t: 0s, hours_elapsed: 1}\n"),
        ("error", "action.time.conflict", "common.jobs.stirring.actions[0]"),
    ),
    (
        "no time",
        _job("        - {type: start}\n"),
        ("error", "action.time.missing", "common.jobs.stirring.actions[0]"),
    ),
    (
        "negative time",
        _job("        - {type: start, hours_elapsed: -1}\n"),
        ("error", "time.negative", "common.jobs.stirring.actions[0].hours_elapsed"),
    ),
    (
        "repeat without every",
        _job("        - {type: repeat, t: 0s, actions: []}\n"),
        ("error", "repeat.every.missing", "common.jobs.stirring.actions[0]"),
    ),
    (
        "repeat every zero",
        _job("        - {type: repeat, t: 0s, every: 0s}\n"),
        ("error", "time.non_positive", "common.jobs.stirring.actions[0].every"),
    ),
    (
        "when without condition",
        _job("        - {type: when, t: 0s, actions: []}\n"),
        ("error", "when.condition.missing", "common.jobs.stirring.actions[0]"),
    ),
    (
        "bad option expression",
        _job("        - {type: start, t: 0s, options: {target_rpm: '${{ 1 < 2 < 3 }}'}}\n"),
        ("error", "expression.syntax", "common.jobs.stirring.actions[0].options.target_rpm"),
    ),
    (
        "bad log interpolation",
        _job("        - {type: log, t: 0s, options: {message: 'x ${{ nope( }}'}}\n"),
        ("error", "expression.syntax", "common.jobs.stirring.actions[0].options.message"),
    ),
    (
        "critical log level",
        _job("        - {type: log, t: 0s, options: {message: x, level: critical}}\n"),
        ("error", "log.level.invalid", "common.jobs.stirring.actions[0].options.level"),
    ),
    (
        "unknown function",
        _job("        - {type: start, t: 0s, if: 'foo() > 1'}\n"),
        ("error", "expression.syntax", "common.jobs.stirring.actions[0].if"),
    ),
    (
        "per-unit path",
        HEAD + "pioreactors:\n  w1:\n    jobs:\n      od_reading:\n        actions:\n"
        "          - {type: start, t: 90}\n          - {type: stop, t: '-5m'}\n",
        ("error", "time.invalid", "pioreactors.w1.jobs.od_reading.actions[1].t"),
    ),
    (
        "plugin version",
        HEAD + "plugins: [{name: p, version: '>1.0'}]\n",
        ("error", "plugin.version.invalid", "plugins[0].version"),
    ),
    ("unquoted version", "version: 1.0\nexperiment_profile_name: x\n", ("error", "field.invalid", "version")),
    ("no name", 'version: "1.0"\n', ("error", "field.missing", "")),
    ("yaml syntax", HEAD + "common: [\n", ("error", "yaml.syntax", "")),
    (
        "update before start (warning)",
        _job("        - {type: update, t: 0s, options: {target_rpm: 1}}\n"),
        ("warning", "job.ordering.before_start", "common.jobs.stirring.actions[0]"),
    ),
    (
        "unreachable repeat action (warning)",
        _job(
            "        - type: repeat\n          t: 0s\n          every: 1m\n          actions:\n"
            "            - {type: stop, t: 2m}\n"
        ),
        ("warning", "repeat.unreachable_action", "common.jobs.stirring.actions[0].actions[0].t"),
    ),
    (
        "every and repeat_every_hours (warning)",
        _job("        - {type: repeat, t: 0s, every: 1m, repeat_every_hours: 0.5}\n"),
        ("warning", "repeat.every.ambiguous", "common.jobs.stirring.actions[0]"),
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_validation_corpus(name: str, text: str, expected: tuple[str, str, str]) -> None:
    found = _codes(text)
    assert expected in found, found
    result = load(text)
    assert result.ok is (expected[0] == "warning")


def test_time_literal_message_is_pioreactors() -> None:
    d = load(_job("        - {type: start, t: 1h30m}\n")).diagnostics[0]
    assert d.message == (
        "Invalid time literal '1h30m'. Expected float hours or string like '10s', '15m', '1.5h', '2d'."
    )


def test_quoted_string_message() -> None:
    d = load(_job("        - {type: start, t: 0s, if: 'a == \"ready\"'}\n")).diagnostics[0]
    assert d.message == 'Quoted string literals are not supported in profile expressions. Found "ready".'


def test_reference_examples_are_valid() -> None:
    text = HEAD + (
        "metadata: {author: a, description: b, extra: ignored}\n"
        "inputs: {hot: 37.0}\n"
        "common:\n  jobs:\n    stirring:\n      actions:\n"
        "        - {type: start, t: 0s, options: {target_rpm: 400}}\n"
        "        - {type: update, t: 90m, options: {target_rpm: 600}}\n"
        "        - type: repeat\n          t: 10m\n          every: 30m\n          max_time: 4h\n"
        "          while: ${{ ::stirring:target_rpm < 900 }}\n          actions:\n"
        "            - {type: update, t: 0s, options: {target_rpm: '${{ ::stirring:target_rpm + 50 }}'}}\n"
        "            - {type: log, t: 1m, options: {message: 'RPM on ${{ unit() }}', level: info}}\n"
        "pioreactors:\n  pio1:\n    label: hot\n    jobs:\n      dosing_automation:\n        actions:\n"
        "          - type: when\n            t: 5m\n"
        "            wait_until: ${{ pio1:od_reading:od1.od >= 0.8 }}\n            actions:\n"
        "              - {type: start, t: 0s, options: {automation_name: chemostat, volume: 0.5}}\n"
        "              - {type: when, t: 1h, condition: 'true', actions: [{type: stop, t: 0s}]}\n"
    )
    result = load(text)
    assert result.ok and result.diagnostics == [], result.diagnostics


# ---- expressions ------------------------------------------------------------------------------------

SETTINGS = {
    ("w1", "stirring", "target_rpm"): 400,
    ("w1", "od_reading", "od1"): {"od": "0.85", "angle": "90"},
    ("w2", "stirring", "$state"): "ready",
    ("w1", "monitor", "flag"): "true",
}


def _env(unit: str = "w1") -> expr.Env:
    def lookup(u: str, job: str, setting: str) -> Any:
        if (u, job, setting) not in SETTINGS:
            raise expr.ExpressionError(f"{u}:{job}:{setting} does not exist")
        return SETTINGS[(u, job, setting)]

    return expr.Env(
        inputs={"hot": 37, "unit": "shadowed"},
        unit=unit,
        experiment="e",
        job_name="stirring",
        hours_elapsed=1.5,
        lookup=lookup,
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("-1 + 2", 1.0),  # the documented difference: Pioreactor gives -3
        ("-2*3+10", 4.0),
        ("2 ** 3 ** 2", 512.0),
        ("-2 ** 2", -4.0),
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("hot + 1", 38.0),
        ("unit", "w1"),  # reserved names shadow inputs
        ("unit() == w1", True),
        ("experiment()", "e"),
        ("job_name()", "stirring"),
        ("hours_elapsed() > 1", True),
        ("w1:stirring:target_rpm", 400.0),
        ("::stirring:target_rpm >= 400", True),
        ("unit():job_name():target_rpm", 400.0),
        ("w1:od_reading:od1.od > 0.8", True),
        ("w2:stirring:$state == ready", True),
        ("w1:monitor:flag and true", True),
        ("not 1 < 2 or false", False),
        ("5 or 0", 5.0),
        ("0 and 5", 0.0),
        ("TRUE", True),
        ("thermostat == thermostat", True),
        ("${{ 1 + 1 }}", 2.0),
        ("1 / 4", 0.25),
    ],
)
def test_expression_values(text: str, value: Any) -> None:
    assert expr.evaluate(text, _env()) == value


def test_random_is_a_fraction() -> None:
    assert 0.0 <= expr.evaluate("random()", _env()) < 1.0


@pytest.mark.parametrize(
    "text", ["1 +", "1 < 2 < 3", "a != b", "(1", "1e3 > 2", "foo()", "'x' == x", "and 1", "1 2", ""]
)
def test_expression_syntax_errors(text: str) -> None:
    with pytest.raises(expr.ExpressionError):
        expr.check(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("w1:od_reading:od1.nope", "referenced missing nested key `nope`. Available keys: ['angle', 'od']"),
        ("w9:stirring:target_rpm", "does not exist"),
        ("1 / 0", "Division by zero"),
        ("hot + thermostat", "Expected a number"),
    ],
)
def test_expression_evaluation_errors(text: str, message: str) -> None:
    with pytest.raises(expr.ExpressionError, match=message.replace("[", r"\[").replace("]", r"\]")):
        expr.evaluate(text, _env())


def test_an_if_whose_lookup_fails_skips_the_action_with_the_reason() -> None:
    """As Pioreactor's runner: an `if` it cannot evaluate skips the action (the run goes on), not fails it."""
    env = _env()
    never = msgspec.convert({"type": "start", "t": 0, "if": "w9:od_reading:od1 > 0.5"}, Action)
    skip = skip_by_if(never, env)
    assert skip is not None and skip.status == "skipped" and skip.level == "warning"
    assert skip.detail == (
        "`if` condition, `w9:od_reading:od1 > 0.5`, could not be evaluated: "
        "w9:od_reading:od1 does not exist. Skipping action."
    )
    nested = msgspec.convert(
        {"type": "log", "t": 0, "if": "w1:od_reading:od1.nope", "options": {"message": "x"}}, Action
    )
    skip = skip_by_if(nested, env)
    assert skip is not None and "referenced missing nested key `nope`" in skip.detail
    false = skip_by_if(msgspec.convert({"type": "stop", "t": 0, "if": "1 > 2"}, Action), env)
    assert false is not None and false.status == "skipped" and false.level == ""
    assert false.detail == "`if` condition, `1 > 2`, evaluated False"
    assert (
        skip_by_if(msgspec.convert({"type": "stop", "t": 0, "if": "::stirring:target_rpm > 1"}, Action), env)
        is None
    )


def test_options_and_messages_render() -> None:
    env = _env()
    assert expr.render_option("${{ hot + 1 }}", env) == 38.0
    assert expr.render_option("abc ${{ hot }}", env) == "abc ${{ hot }}"  # no partial interpolation
    assert expr.render_option(5, env) == 5
    assert expr.render_message("rpm ${{ ::stirring:target_rpm }} on ${{unit()}}", env) == "rpm 400.0 on w1"


# ---- /api/profiles ----------------------------------------------------------------------------------

GOOD = _job("        - {type: start, t: 0s, options: {target_rpm: 400}}\n        - {type: stop, t: 2s}\n")


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path, PROFILE_WHEN_POLL=0.05)


def test_profiles_crud_and_validate(app: Flask) -> None:
    op, viewer = api_client(app, "operator"), api_client(app, "viewer")
    r = op.put("/api/profiles/ramp", json={"yaml": GOOD})
    assert r.status_code == 201 and r.json == {"name": "ramp", "yaml": GOOD, "diagnostics": []}
    assert op.put("/api/profiles/ramp", json={"yaml": GOOD}).status_code == 200
    listed = viewer.get("/api/profiles").json
    assert [(p["name"], p["experiment_profile_name"]) for p in listed] == [("ramp", "test")]
    assert viewer.get("/api/profiles/ramp").json["yaml"] == GOOD
    assert viewer.put("/api/profiles/x", json={"yaml": GOOD}).status_code == 403
    r = viewer.post("/api/profiles/validate", json={"yaml": GOOD.replace("2s", "2 s")})
    assert r.status_code == 200
    assert [(d["code"], d["path"]) for d in r.json["diagnostics"]] == [
        ("time.invalid", "common.jobs.stirring.actions[1].t")
    ]
    assert viewer.get("/api/profiles").json[0]["name"] == "ramp"  # validate saved nothing
    # an invalid profile: 400 with diagnostics, nothing saved (neither new nor overwritten)
    bad = GOOD.replace("t: 2s", "t: 1h30m")
    for name in ("ramp", "other"):
        r = op.put(f"/api/profiles/{name}", json={"yaml": bad})
        assert r.status_code == 400 and r.json["error"] == "invalid_profile", r.json
        assert r.json["diagnostics"][0]["path"] == "common.jobs.stirring.actions[1].t"
        assert "1h30m" in r.json["message"]
    assert viewer.get("/api/profiles/ramp").json["yaml"] == GOOD
    assert viewer.get("/api/profiles/other").status_code == 404
    assert op.put("/api/profiles/..", json={"yaml": GOOD}).status_code in (400, 404)
    assert op.delete("/api/profiles/ramp").status_code == 204
    assert op.delete("/api/profiles/ramp").status_code == 404


def _setup_experiment(app: Flask, units: list[str]) -> None:
    db = connect(app.config["DATABASE"])
    try:
        for unit in units:
            units_db.add(db, unit, "127.0.0.1", 1, None)  # never reached: dry runs only
        exp_db.create(db, "exp")
        exp_db.assign(db, "exp", units)
    finally:
        db.close()


DRY = (
    HEAD
    + """inputs: {base: 100}
common:
  jobs:
    stirring:
      actions:
        - {type: log, t: 0s, options: {message: "log first"}}
        - {type: stop, t: 0s}
        - {type: start, t: 0s, options: {target_rpm: "${{ base * 2 }}"}}
        - type: repeat
          t: 0.1s
          every: 0.1s
          max_time: 0.3s
          actions:
            - {type: update, t: 0s, options: {target_rpm: 1}}
            - {type: stop, t: 1s}
pioreactors:
  u1:
    jobs:
      od_reading:
        actions:
          - type: when
            t: 0s
            wait_until: ${{ u1:stirring:target_rpm > 150 }}
            actions: [{type: start, t: 0s, if: "unit() == u2"}]
  u3:
    jobs:
      od_reading: {actions: [{type: start, t: 0s}]}
"""
)


def test_dry_run_plans_in_the_real_order_and_touches_nothing(app: Flask) -> None:
    _setup_experiment(app, ["u1", "u2"])
    op = api_client(app, "operator")
    assert op.put("/api/profiles/dry", json={"yaml": DRY}).status_code == 201
    r = op.post("/api/experiments/exp/profiles/dry/run", json={"dry_run": True})
    assert r.status_code == 202, r.json
    run = r.json["operation"]
    assert run["kind"] == "profile.run" and run["status"] == "queued"
    assert run["requested_by"].startswith("token:")
    # same time: start before stop before when/repeat before log (Pioreactor's priorities), per unit order
    first = [(e["unit"], e["action"]) for e in run["plan"] if e["at"] == run["plan"][0]["at"]]
    assert first == [
        ("u1", "start"),
        ("u2", "start"),
        ("u1", "stop"),
        ("u2", "stop"),
        ("u1", "when"),
        ("u1", "log"),
        ("u2", "log"),
    ]
    assert not any(e["unit"] == "u3" for e in run["plan"])  # not in the experiment: skipped, a warning
    driver = Driver(app)
    with app.app_context():
        db = connect(app.config["DATABASE"])
        db.execute(  # the when's lookup reads the last value the ingest stored
            "INSERT INTO topic_values (unit, experiment, job, setting, value, updated_at) "
            "VALUES ('u1', 'exp', 'stirring', 'target_rpm', '200.0', 0)"
        )
        deadline = time.monotonic() + 10
        while ops_db.status(db, run["id"])[0] not in ("succeeded", "partial", "failed"):
            assert time.monotonic() < deadline, ops_db.get(db, run["id"]).plan
            driver.tick()
            time.sleep(0.02)
        final = ops_db.get(db, run["id"])
        lines = [line.text for line in ops_db.lines(db, run["id"])]
        db.close()
    assert final.status == "succeeded"
    plan = final.plan or []
    assert all(e.status in ("done", "skipped") and e.operation_id is None for e in plan), plan
    start = next(e for e in plan if e.unit == "u1" and e.action == "start" and e.job == "stirring")
    assert start.detail == "dry run: would start stirring with options {'target_rpm': 200.0} on u1"
    repeats = sorted(e.detail for e in plan if e.unit == "u2" and e.action == "repeat")
    assert repeats == ["iteration 1", "iteration 2", "iteration 3"]
    stops = [e for e in plan if e.unit == "u2" and e.action == "stop" and e.status == "skipped"]
    assert len(stops) == 3 and "cycle time" in stops[0].detail  # t > every: never runs
    when_start = next(e for e in plan if e.job == "od_reading" and e.action == "start")
    assert when_start.status == "skipped" and "evaluated False" in when_start.detail
    assert any("u3" in line and "not assigned" in line for line in lines)
    assert any("would log NOTICE 'log first'" in line for line in lines)
    # nothing reached a unit: no operation was requested by the profile
    db = connect(app.config["DATABASE"])
    others = [o for o in ops_db.list_operations(db, limit=500) if o.requested_by == f"profile:{run['id']}"]
    db.close()
    assert others == []


def test_run_refuses_an_unknown_experiment_or_profile(app: Flask) -> None:
    _setup_experiment(app, ["u1"])
    op = api_client(app, "operator")
    assert op.post("/api/experiments/exp/profiles/nope/run", json={}).status_code == 404
    op.put("/api/profiles/p", json={"yaml": GOOD})
    assert op.post("/api/experiments/nope/profiles/p/run", json={}).status_code == 404
    assert api_client(app, "viewer").post("/api/experiments/exp/profiles/p/run", json={}).status_code == 403


# ---- YAML loading -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        GOOD,
        DRY,
        "a: &x {b: 1}\nc: *x\nd: {<<: *x, e: 2}\n",
        "- 1\n- 1.5\n- true\n- null\n- 2026-01-01\n- '1'\n- !!str 5\n- 0x1f\n- .inf\n",
        "",
        "plain",
    ],
)
def test_fast_yaml_load_matches_safe_load(doc: str) -> None:
    assert yamlload.load(doc) == yaml.safe_load(doc)


@pytest.mark.parametrize(
    "doc", ["!!python/object/apply:os.system ['true']\n", "a: !!python/name:os.system\n"]
)
def test_yaml_refuses_python_tags(doc: str) -> None:
    with pytest.raises(yaml.YAMLError):
        yamlload.load(doc)
    assert [d.code for d in load(doc).diagnostics] == ["yaml.syntax"]


def test_two_profiles_run_side_by_side_and_a_queued_cancel_closes_its_plan(app: Flask) -> None:
    _setup_experiment(app, ["u1", "u2"])
    op = api_client(app, "operator")
    assert op.put("/api/profiles/dry", json={"yaml": DRY}).status_code == 201
    assert op.put("/api/profiles/good", json={"yaml": GOOD.replace("2s", "0.2s")}).status_code == 201
    runs = [
        op.post(f"/api/experiments/exp/profiles/{name}/run", json={"dry_run": True}).json["operation"]["id"]
        for name in ("dry", "good", "good")
    ]
    assert op.post(f"/api/operations/{runs[2]}/cancel").json["operation"]["status"] == "cancelled"
    driver = Driver(app)
    with app.app_context():
        db = connect(app.config["DATABASE"])
        db.execute(
            "INSERT INTO topic_values (unit, experiment, job, setting, value, updated_at) "
            "VALUES ('u1', 'exp', 'stirring', 'target_rpm', '200.0', 0)"
        )
        deadline = time.monotonic() + 10
        while any(ops_db.status(db, r)[0] in ("queued", "running") for r in runs):
            assert time.monotonic() < deadline
            driver.tick()
            time.sleep(0.02)
        finals = [ops_db.get(db, r) for r in runs]
        db.close()
    assert [f.status for f in finals] == ["succeeded", "succeeded", "cancelled"]
    good = finals[1].plan or []
    assert [(e.unit, e.action, e.status) for e in good] == [
        ("u1", "start", "done"),
        ("u2", "start", "done"),
        ("u1", "stop", "done"),
        ("u2", "stop", "done"),
    ]
    assert {e.status for e in finals[2].plan or []} == {"skipped"}


def test_yaml_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    doc = HEAD + "inputs:\n" + "".join(f"  {line}\n" for line in lines)
    t0 = time.monotonic()
    assert [d.code for d in load(doc).diagnostics] == ["yaml.syntax"]
    assert time.monotonic() - t0 < 2.0
    assert [d.code for d in load(HEAD + "inputs: &a {x: *a}\n").diagnostics] == ["yaml.syntax"]
    small = "a: &a [1, 2]\nb: [*a, *a]\n"
    assert yamlload.load(small) == yaml.safe_load(small)


def test_diagnostics_say_their_line() -> None:
    text = _job("        - {type: start, t: 0s}\n        - type: stop\n          t: 1h30m\n")
    (d,) = load(text).diagnostics
    assert (d.path, d.line) == ("common.jobs.stirring.actions[1].t", 9)
    assert text.splitlines()[8].strip() == "t: 1h30m"
    (d,) = load(text + "  [\n").diagnostics
    assert d.code == "yaml.syntax" and d.line is not None


def test_the_editor_page_marks_lines_and_reads_offsets_as_people_do(app: Flask) -> None:
    from leader import setup
    from leader.pages.profiles import after

    db = connect(app.config["DATABASE"])
    setup.complete(db, "test")
    db.close()
    op = api_client(app, "operator")
    text = GOOD.replace("t: 2s", "t: 1.5h") + "        - {type: log, t: 1d, options: {message: x}}\n"
    assert op.put("/api/profiles/p", json={"yaml": text}).status_code == 201
    page = op.get("/profiles/p").get_data(as_text=True)
    assert "css/code_editor.css" in page and "data-ini-editor" in page and 'wrap="off"' in page
    assert page.index("+0 s") < page.index("+1 h 30 min") < page.index("+1 d")
    warned = _job("        - {type: update, t: 0s, options: {target_rpm: 1}}\n")  # saved with a warning
    assert op.put("/api/profiles/w", json={"yaml": warned}).status_code == 201
    page = op.get("/profiles/w").get_data(as_text=True)
    assert 'data-diagnostic="job.ordering.before_start" data-line="7"' in page
    assert 'data-goto-line="7">line 7</a>' in page and 'data-status="warning"' in page
    page = op.get("/profiles/new").get_data(as_text=True)  # not saved: the template, with its timeline
    assert "+1 h</span> stop" in page
    assert [after(s) for s in (0.5, 90, 3645, 194400)] == ["+0.5 s", "+1 min 30 s", "+1 h 45 s", "+2 d 6 h"]
