"""The systemd units the roles render, checked offline: `systemd-analyze verify` with nothing on stderr,
exposure within budget by `systemd-analyze security --offline`, the directives that matter set, and the
targets enabled with `systemctl --root`. Rendered with the roles' real users (no files are owned here)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import analyze, exposure, playbook, require, systemd_root, tasks_playbook, unit_settings

pytestmark = pytest.mark.deploy

SYSTEMD = "etc/systemd/system"
# Exposure budgets (systemd-analyze's 0-10 scale): no hardware for the web units and the leader's worker;
# the agent worker drives I2C/GPIO/PWM for pio; mosquitto starts as root and drops to its user.
BUDGETS = {
    "leader-web.service": 2.0,
    "leader-worker.service": 2.0,
    "unit-agent-web.service": 2.0,
    "unit-agent-worker.service": 3.0,
    "mosquitto.service": 3.0,
}
OTHER_UNITS = ["leader.target", "unit-agent.target", "pio-update-app.service"]
ROLES = ("broker", "leader", "unit_agent")


def need_unit(root: Path, unit: str) -> None:
    if unit == "mosquitto.service" and not (root / "usr/lib/systemd/system" / unit).exists():
        pytest.skip("mosquitto is not installed here: no mosquitto.service to add the drop-in to")


@pytest.fixture(scope="module")
def units_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    require("ansible-playbook", "systemd-analyze")
    work = tmp_path_factory.mktemp("units")
    root = work / "root"
    play = tasks_playbook(work, "systemd.yml", "broker", "leader", "unit_agent")
    # two hosts in one run: the defaults, and a unit where plugins are allowed
    host = {f"{role}_manage_services": False for role in ROLES}
    inventory = work / "inventory.json"
    inventory.write_text(
        json.dumps(
            {
                "all": {
                    "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
                    "hosts": {
                        "standard": {**host, **{f"{r}_root": str(root) for r in ROLES}},
                        "plugins": {
                            **host,
                            **{f"{r}_root": str(work / "plugins-root") for r in ROLES},
                            "unit_agent_allow_plugins": True,
                        },
                        # a leader serving HTTPS itself
                        "tls": {
                            **host,
                            **{f"{r}_root": str(work / "tls-root") for r in ROLES},
                            "leader_tls_certfile": "/etc/leader/tls/cert.pem",
                            "leader_tls_keyfile": "/etc/leader/tls/key.pem",
                        },
                    },
                }
            }
        )
    )
    run = playbook(play, inventory, {}, work)
    assert run.rc == 0, run.output[-4000:]
    # mosquitto's own unit comes from its package; ExecStart paths must exist inside the root.
    systemd_root(root, stubs=("/usr/sbin/mosquitto", "/usr/local/bin/pio"))
    release = root / "opt"
    for name in ("leader", "unit_agent"):
        for exe in ("gunicorn", "python", "huey_consumer"):
            stub = release / name / "current" / "bin" / exe
            stub.parent.mkdir(parents=True, exist_ok=True)
            stub.write_text("#!/bin/sh\nexit 0\n")
            stub.chmod(0o755)
    yield root


@pytest.mark.parametrize("unit", [*BUDGETS, *OTHER_UNITS])
def test_unit_verifies_without_a_word(units_root: Path, unit: str) -> None:
    need_unit(units_root, unit)
    done = analyze("verify", "--man=no", f"--root={units_root}", f"/{SYSTEMD}/{unit}")
    if unit == "mosquitto.service":  # the package's unit with our drop-in
        done = analyze("verify", "--man=no", f"--root={units_root}", unit)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr


@pytest.mark.parametrize("unit", list(BUDGETS))
def test_exposure_within_budget(units_root: Path, unit: str) -> None:
    need_unit(units_root, unit)
    score = exposure(units_root, unit)
    print(f"{unit}: exposure {score}")
    assert score <= BUDGETS[unit], f"{unit}: exposure {score} > {BUDGETS[unit]}"
    # --threshold is the same budget on the 0-100 scale: the command itself fails past it
    done = analyze(
        "security", "--offline=true", f"--root={units_root}", f"--threshold={int(BUDGETS[unit] * 10)}", unit
    )
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.parametrize("unit", list(BUDGETS))
def test_the_directives_that_matter_are_set(units_root: Path, unit: str) -> None:
    need_unit(units_root, unit)
    done = analyze("security", "--offline=true", f"--root={units_root}", "--json=short", unit)
    checks = {c["name"]: c["set"] for c in json.loads(done.stdout)}
    for name in (
        "NoNewPrivileges=",
        "ProtectSystem=",
        "RestrictAddressFamilies=~AF_PACKET",
        "SystemCallFilter=~@mount",
        "CapabilityBoundingSet=~CAP_SYS_ADMIN",
        "ProtectKernelModules=",
    ):
        assert checks.get(name), f"{unit}: {name} not set"
    if unit != "mosquitto.service":  # mosquitto starts as root and drops to its user itself
        assert checks.get("User=/DynamicUser="), f"{unit} runs as root"


def test_stop_semantics(units_root: Path) -> None:
    web = unit_settings(units_root / SYSTEMD / "unit-agent-web.service")
    worker = unit_settings(units_root / SYSTEMD / "unit-agent-worker.service")
    leader_worker = unit_settings(units_root / SYSTEMD / "leader-worker.service")
    # gunicorn: TERM to the arbiter, more time than its graceful_timeout (10 s)
    assert web["KillMode"] == ["mixed"] and int(web["TimeoutStopSec"][0]) > 10
    # Huey: SIGINT finishes running tasks; the agent's jobs outlive a worker restart
    assert worker["KillSignal"] == ["SIGINT"] and worker["KillMode"] == ["process"]
    assert leader_worker["KillSignal"] == ["SIGINT"] and int(leader_worker["TimeoutStopSec"][0]) > 60
    # pio's job registry (in /tmp by default) is shared with `pio` run by hand: no private /tmp for the agent
    assert "PrivateTmp" not in worker and "/tmp" in worker["ReadWritePaths"][0].split()


def test_plugins_make_pios_environment_writable_and_only_then(units_root: Path) -> None:
    worker = unit_settings(units_root / SYSTEMD / "unit-agent-worker.service")
    assert not any("/opt/pioreactor" in p for p in worker["ReadWritePaths"])
    plugins = unit_settings(units_root.parent / "plugins-root" / SYSTEMD / "unit-agent-worker.service")
    assert "/opt/pioreactor" in plugins["ReadWritePaths"]


def test_a_leader_serving_https_verifies_and_stays_in_budget(units_root: Path) -> None:
    root = systemd_root(units_root.parent / "tls-root")
    gunicorn = root / "opt/leader/current/bin/gunicorn"
    gunicorn.parent.mkdir(parents=True, exist_ok=True)
    gunicorn.write_text("#!/bin/sh\nexit 0\n")
    gunicorn.chmod(0o755)
    web = unit_settings(root / SYSTEMD / "leader-web.service")
    assert web["ReadOnlyPaths"] == ["/etc/leader/tls/cert.pem /etc/leader/tls/key.pem"]
    assert (
        '"GUNICORN_CMD_ARGS=--certfile=/etc/leader/tls/cert.pem --keyfile=/etc/leader/tls/key.pem"'
        in (web["Environment"])
    )
    done = analyze("verify", "--man=no", f"--root={root}", f"/{SYSTEMD}/leader-web.service")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    score = exposure(root, "leader-web.service")
    print(f"leader-web.service with TLS: exposure {score}")
    assert score <= BUDGETS["leader-web.service"]


# Evaluates a polkit rules file as polkitd does (JavaScript: polkit.addRule) for each [user, action, details].
POLKIT = """
const fs = require("fs");
const Result = {YES: "yes", NO: "no", NOT_HANDLED: "not_handled"};
const rules = [];
new Function("polkit", fs.readFileSync(process.argv[1], "utf8"))({Result, addRule: (f) => rules.push(f)});
const ask = ([user, id, details]) => rules[0]({id, lookup: (k) => details[k]}, {user});
console.log(JSON.stringify(JSON.parse(process.argv[2]).map(ask)));
"""


def test_polkit_grants_the_agent_its_system_actions_and_nothing_else(units_root: Path) -> None:
    """The worker keeps NoNewPrivileges: reboot, power-off, clock and pio's updater (the agent's `system`
    commands: systemctl reboot/poweroff, timedatectl set-time, systemctl start pio-update-app) go
    through this rule; anything else, or anyone else, is left to polkit's defaults (deny)."""
    require("node")
    rules = units_root / "etc/polkit-1/rules.d/50-unit-agent.rules"
    update = {"unit": "pio-update-app.service", "verb": "start"}
    cases = [
        ("pioreactor", "org.freedesktop.login1.reboot", {}, "yes"),
        ("pioreactor", "org.freedesktop.login1.power-off", {}, "yes"),
        ("pioreactor", "org.freedesktop.timedate1.set-time", {}, "yes"),
        ("pioreactor", "org.freedesktop.systemd1.manage-units", update, "yes"),
        ("pioreactor", "org.freedesktop.systemd1.manage-units", {**update, "verb": "stop"}, "not_handled"),
        (
            "pioreactor",
            "org.freedesktop.systemd1.manage-units",
            {**update, "unit": "ssh.service"},
            "not_handled",
        ),
        ("pioreactor", "org.freedesktop.systemd1.manage-unit-files", {}, "not_handled"),
        ("pioreactor", "org.freedesktop.timedate1.set-timezone", {}, "not_handled"),
        ("pioreactor", "org.freedesktop.hostname1.set-hostname", {}, "not_handled"),
        ("leader", "org.freedesktop.login1.reboot", {}, "not_handled"),
    ]
    done = subprocess.run(
        ["node", "-e", POLKIT, str(rules), json.dumps([c[:3] for c in cases])],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)
    assert [(c[0], c[1], c[2], a) for c, a in zip(cases, answers, strict=True)] == cases


@pytest.mark.parametrize("typo", ["KillSignall=SIGINT", "ProtectSystem=strictt"])
def test_a_broken_unit_fails_verification(units_root: Path, tmp_path: Path, typo: str) -> None:
    """verify exits 0 on an unknown key or a bad value: only its stderr tells."""
    text = (units_root / SYSTEMD / "unit-agent-worker.service").read_text()
    broken = units_root / SYSTEMD / "broken-agent.service"
    broken.write_text(text.replace("[Service]\n", f"[Service]\n{typo}\n"))
    try:
        done = analyze("verify", "--man=no", f"--root={units_root}", f"/{SYSTEMD}/broken-agent.service")
        assert done.stderr.strip(), "a broken unit went unnoticed"
    finally:
        broken.unlink()


def test_targets_enable_offline(units_root: Path) -> None:
    done = subprocess.run(
        ["systemctl", f"--root={units_root}", "enable", "leader.target", "unit-agent.target"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    wants = units_root / SYSTEMD / "multi-user.target.wants"
    assert (wants / "leader.target").is_symlink() and (wants / "unit-agent.target").is_symlink()
    # each target pulls in its two processes (Wants=), and restarting it restarts both (PartOf=)
    for target, services in (
        ("leader.target", {"leader-web.service", "leader-worker.service"}),
        ("unit-agent.target", {"unit-agent-web.service", "unit-agent-worker.service"}),
    ):
        assert set(unit_settings(units_root / SYSTEMD / target)["Wants"][0].split()) == services
        for service in services:
            assert unit_settings(units_root / SYSTEMD / service)["PartOf"] == [target]
