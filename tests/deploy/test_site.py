"""The three roles converged with `-c local` into one temporary root (a leader-and-worker Pioreactor: broker,
leader and agent side by side): files, owners, modes and TOML as expected; a second run changes nothing;
`--check --diff` on a fresh root prints no secret; the agent and the leader start from that root.

The tests of this module share one converged root and run in file order (the last one upgrades it)."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sysconfig
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from devcluster.procs import free_port, running

from .conftest import Site
from .harness import (
    ANSIBLE_DIR,
    SECRETS,
    as_systemd_would,
    local_vars,
    playbook,
    tasks_playbook,
    unit_settings,
)

pytestmark = [pytest.mark.deploy, pytest.mark.xdist_group("deploy-site")]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_files_owners_modes_and_toml(site: Site) -> None:
    root = site.root
    agent_toml = root / "etc/unit_agent/unit_agent.toml"
    leader_toml = root / "etc/leader/leader.toml"
    assert mode(agent_toml) == 0o640 and mode(leader_toml) == 0o640
    assert mode(root / "etc/unit_agent") == 0o750 and mode(root / "etc/leader") == 0o750
    agent = tomllib.loads(agent_toml.read_text())
    assert agent["unit"] == "localhost" and agent["data_dir"] == "/var/lib/unit_agent"
    assert agent["mqtt"] == {
        "url": "mqtt://leader.local:1883",
        "username": "localhost",
        "password": SECRETS["unit_agent_mqtt_password"],
    }
    assert agent["token_file"] == "/var/lib/unit_agent/cluster_token"
    assert agent["plugins_find_links"] == "/srv/wheels" and "plugins_index_url" not in agent
    # no sudo: the worker keeps NoNewPrivileges and asks polkit
    assert agent["system"] == {
        "reboot": ["systemctl", "reboot"],
        "shutdown": ["systemctl", "poweroff"],
        "update": ["systemctl", "start", "pio-update-app.service"],
        "set_clock": ["timedatectl", "set-time", "{utc}"],
        "dry_run": False,
    }
    leader = tomllib.loads(leader_toml.read_text())
    assert leader["SECRET_KEY"] == SECRETS["leader_secret_key"]
    assert leader["DATABASE"] == "/var/lib/leader/leader.sqlite"
    assert leader["CONTRIB_DIR"] == "/opt/leader/current/contrib"
    assert leader["MQTT_URL"] == f"mqtt://leader:{SECRETS['leader_mqtt_password']}@127.0.0.1:1883"
    # tokens: private to the service user, seeded from the vault
    for token in (root / "var/lib/unit_agent/cluster_token", root / "var/lib/leader/cluster_token"):
        assert mode(token) == 0o600 and token.read_text().strip() == SECRETS["leader_cluster_token"]
    # releases: a versioned venv behind a relative `current` link, the store migrated by init-db
    for name in ("leader", "unit_agent"):
        current = root / "opt" / name / "current"
        assert os.readlink(current) == "releases/0.1.0"
        assert (current / "bin" / "gunicorn").exists() and (current / "gunicorn.conf.py").exists()
    assert (root / "opt/leader/current/contrib/jobs").is_dir()
    # the agent runs with -OO from files it cannot write: compiled for it, its Python's library too
    release = root / "opt/unit_agent/current"
    app = next(release.glob("lib/python3*/site-packages/unit_agent/__pycache__/app.*.opt-2.pyc"))
    stdlib = Path(sysconfig.get_path("stdlib"))  # the release's Python is this one's base
    assert app.stat().st_size > 0 and list((stdlib / "json/__pycache__").glob("__init__.*.opt-2.pyc"))
    with sqlite3.connect(root / "var/lib/leader/leader.sqlite") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] > 0
    # the broker: config, ACL and a hashed password file (mosquitto_passwd), no clear text left behind
    broker = root / "etc/mosquitto"
    assert "include_dir /etc/mosquitto/conf.d" in (broker / "mosquitto.conf").read_text()
    assert "pattern readwrite pioreactor/%u/#" in (broker / "acl").read_text()
    passwd = (broker / "passwd").read_text()
    assert mode(broker / "passwd") == 0o600 and passwd.startswith(("leader:$7$", "leader:$6$"))
    assert SECRETS["leader_mqtt_password"] not in passwd and not (broker / "passwd.new").exists()
    # time: the leader serves it, the agent follows it
    assert "allow 127.0.0.0/8" in (root / "etc/chrony/conf.d/pioreactor-leader.conf").read_text()
    assert "server leader.local" in (root / "etc/chrony/conf.d/pioreactor-unit.conf").read_text()
    assert SECRETS["leader_secret_key"] not in site.first.output


def test_second_run_changes_nothing(site: Site) -> None:
    again = site.converge()
    assert again.rc == 0, again.output[-4000:]
    assert again.recap()["localhost"]["changed"] == 0, again.output[-6000:]
    assert again.recap()["localhost"]["failed"] == 0


def test_check_diff_on_a_fresh_root_prints_no_secret(tmp_path: Path, site: Site) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    play = site.work / "converge-broker-leader-unit_agent.yml"
    run = playbook(play, "localhost,", local_vars(fresh), tmp_path / "work", "--check", "--diff")
    assert run.rc == 0, run.output[-6000:]
    assert run.recap()["localhost"]["changed"] > 0
    for name, secret in SECRETS.items():
        assert secret not in run.output, f"{name} printed by --check --diff"
    assert list(fresh.iterdir()) == [], "check mode wrote files"


@pytest.fixture
def agent_web(site: Site) -> Iterator[str]:
    """The converged agent's web process, started the way its systemd unit starts it."""
    root = site.root
    argv, env = as_systemd_would(root, root / "etc/systemd/system/unit-agent-web.service")
    port = free_port()
    dot = root / "home/pioreactor/.pioreactor"
    dot.mkdir(parents=True, exist_ok=True)
    env |= {
        # runtime paths of the rendered TOML, mapped into the root; loopback instead of 0.0.0.0
        "UNIT_AGENT_DATA_DIR": f"{root}/var/lib/unit_agent",
        "UNIT_AGENT_TOKEN_FILE": f"{root}/var/lib/unit_agent/cluster_token",
        "UNIT_AGENT_DOT_PIOREACTOR": str(dot),
        "UNIT_AGENT_LISTEN": f"127.0.0.1:{port}",
        "UNIT_AGENT_MQTT_URL": f"mqtt://127.0.0.1:{free_port()}",
    }
    url = f"http://127.0.0.1:{port}"
    with running(argv, site.work / "agent-web.log", health_url=f"{url}/unit_api/health", env=env, timeout=60):
        yield url


def test_the_converged_agent_answers_health(agent_web: str) -> None:
    answer = requests.get(f"{agent_web}/unit_api/health", timeout=5).json()
    assert answer["status"] == "ok" and answer["unit"] == "localhost" and answer["agent_version"] == "0.1.0"
    # everything else needs the cluster token that Ansible seeded
    assert requests.get(f"{agent_web}/unit_api/versions", timeout=5).status_code == 401
    authorised = requests.get(
        f"{agent_web}/unit_api/versions",
        headers={"Authorization": f"Bearer {SECRETS['unit_agent_cluster_token']}"},
        timeout=5,
    )
    assert authorised.status_code == 200


def test_stop_timeouts_cover_the_workers_grace(site: Site) -> None:
    """systemd's TimeoutStopSec outlasts the grace each worker gives running tasks (then SIGKILL would cut
    the shutdown hooks short: the agent's `offline`, the ingest's last commit)."""
    root, units = site.root, site.root / "etc/systemd/system"
    agent = tomllib.loads((root / "etc/unit_agent/unit_agent.toml").read_text())
    leader = tomllib.loads((root / "etc/leader/leader.toml").read_text())
    for grace, unit in (
        (agent["worker_shutdown_grace"], "unit-agent-worker.service"),
        (leader["WORKER_SHUTDOWN_GRACE"], "leader-worker.service"),
    ):
        stop = float(unit_settings(units / unit)["TimeoutStopSec"][0])
        assert 3.0 < grace <= stop - 10, f"{unit}: grace {grace} s, TimeoutStopSec {stop} s"
    # a pio call (timeouts_pio_call, 30 s by default) fits in the agent's grace
    assert agent["worker_shutdown_grace"] > 30


@pytest.fixture
def tls_root(site: Site, tmp_path: Path) -> Iterator[Path]:
    """The leader's settings and units rendered for HTTPS (a certificate made here) and behind a proxy."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=leader"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        capture_output=True,
        check=True,
    )
    play = tasks_playbook(tmp_path / "work", "config.yml", "leader")
    systemd = tasks_playbook(tmp_path / "work", "systemd.yml", "leader")
    for name, extra in (
        ("tls", {"leader_tls_certfile": str(cert), "leader_tls_keyfile": str(key)}),
        ("proxy", {"leader_forwarded_allow_ips": "127.0.0.1"}),
        ("override", {"leader_forwarded_allow_ips": "127.0.0.1", "leader_settings": {"TRUSTED_PROXIES": 2}}),
    ):
        vars_ = local_vars(tmp_path / name) | extra
        for each in (play, systemd):
            run = playbook(each, "localhost,", vars_, tmp_path / "work")
            assert run.rc == 0, run.output[-4000:]
    yield tmp_path


def test_tls_for_the_ui_with_matching_proxy_settings(site: Site, tls_root: Path) -> None:
    def toml(name: str) -> dict[str, object]:
        return tomllib.loads((tls_root / name / "etc/leader/leader.toml").read_text())

    # HTTPS in gunicorn: the session cookie is Secure; no proxy, so no forwarded header is believed
    assert toml("tls")["SESSION_COOKIE_SECURE"] is True and "TRUSTED_PROXIES" not in toml("tls")
    # behind a proxy: gunicorn and the app (ProxyFix) both trust it, and leader_settings still wins
    assert toml("proxy")["SESSION_COOKIE_SECURE"] is True and toml("proxy")["TRUSTED_PROXIES"] == 1
    assert toml("override")["TRUSTED_PROXIES"] == 2
    proxy_unit = unit_settings(tls_root / "proxy/etc/systemd/system/leader-web.service")
    assert '"GUNICORN_CMD_ARGS=--forwarded-allow-ips=127.0.0.1"' in proxy_unit["Environment"]
    # the converged leader started with the TLS unit's command and environment answers over HTTPS
    argv, env = as_systemd_would(site.root, tls_root / "tls/etc/systemd/system/leader-web.service")
    port = free_port()
    env |= leader_env(site.root) | {"LEADER_LISTEN": f"127.0.0.1:{port}"}
    with running(argv, tls_root / "leader-web.log", port=port, env=env, timeout=60):
        answer = requests.get(f"https://127.0.0.1:{port}/api/health", verify=tls_root / "cert.pem", timeout=5)
        assert answer.status_code == 200 and answer.json()["version"] == "0.1.0"
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/api/health", timeout=5)


# --- the leader's upgrade and rollback -----------------------------------------------------------------


def leader_env(root: Path) -> dict[str, str]:
    return {
        "LEADER_CONFIG": f"{root}/etc/leader/leader.toml",
        "LEADER_INSTANCE_PATH": f"{root}/var/lib/leader",
        "LEADER_DATABASE": f"{root}/var/lib/leader/leader.sqlite",
        "LEADER_HUEY_DB": f"{root}/var/lib/leader/huey.sqlite",
        "LEADER_CLUSTER_TOKEN_FILE": f"{root}/var/lib/leader/cluster_token",
    }


def flask(root: Path, *args: str) -> str:
    done = subprocess.run(
        [f"{root}/opt/leader/current/bin/flask", "--app", "leader", *args],
        env={**os.environ, **leader_env(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


class BrokenNewLeader(ThreadingHTTPServer):
    """Stands in for the new release's leader: it has migrated the store, then answers 500."""

    def __init__(self, store: Path):
        self.store = store
        self.hits = 0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(handler) -> None:
                self.hits += 1
                with sqlite3.connect(self.store) as db:
                    db.execute("CREATE TABLE IF NOT EXISTS from_the_new_release (x)")
                handler.send_response(500)
                handler.end_headers()

            def log_message(handler, *_args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


def test_leader_upgrade_rolls_back_release_and_store(site: Site, tmp_path: Path) -> None:
    root = site.root
    flask(root, "units", "add", "pio07", "--address", "127.0.0.1")
    # the unit that started the previous release differs from the new one: it must come back
    unit = root / "etc/systemd/system/leader-worker.service"
    previous_unit = unit.read_text() + "# as the previous release had it\n"
    unit.write_text(previous_unit)
    store = root / "var/lib/leader/leader.sqlite"
    server = BrokenNewLeader(store)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("all:\n  children:\n    leader:\n      hosts:\n        localhost:\n")
    vars_ = {
        **local_vars(root),
        "leader_release": "0.1.0-next",
        "leader_health_url": f"http://127.0.0.1:{server.server_address[1]}/api/health",
        "leader_health_retries": 1,
        "leader_health_delay": 1,
    }
    try:
        run = playbook(ANSIBLE_DIR / "rollout.yml", inventory, vars_, tmp_path / "work")
    finally:
        server.shutdown()
        server.server_close()
    assert run.rc != 0 and server.hits > 0, run.output[-6000:]
    assert "The leader did not come up on" in run.output, run.output[-8000:]
    assert "rolled back to 0.1.0." in run.output
    # the new release was installed and used, then `current` went back
    assert (root / "opt/leader/releases/0.1.0-next/.complete").exists()
    assert os.readlink(root / "opt/leader/current") == "releases/0.1.0"
    # the store is the backup taken before the upgrade: the new release's table is gone, the data is there
    backups = list((root / "var/lib/leader/backups").glob("leader-*.sqlite"))
    assert len(backups) == 1 and stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    with sqlite3.connect(store) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "from_the_new_release" not in tables and "units" in tables
    assert "pio07" in flask(root, "units", "list")
    assert unit.read_text() == previous_unit
    assert not [p.name for p in unit.parent.iterdir() if "~" in p.name]  # no backup left where systemd reads
    # and the previous release starts on it, as its systemd unit starts it
    argv, env = as_systemd_would(root, root / "etc/systemd/system/leader-web.service")
    port = free_port()
    env |= leader_env(root) | {"LEADER_LISTEN": f"127.0.0.1:{port}"}
    url = f"http://127.0.0.1:{port}/api/health"
    with running(argv, tmp_path / "leader-web.log", health_url=url, env=env, timeout=60):
        assert requests.get(url, timeout=5).json()["version"] == "0.1.0"
