"""gunicorn settings of the leader's web process. Start it with exactly:

    gunicorn --config deploy/leader/gunicorn.conf.py

(LEADER_CONFIG names the leader's TOML file; its LISTEN is the bind address.) Threaded workers: an SSE
stream holds one thread for as long as a browser watches an operation, so there are many threads; any
worker can serve any request because everything lives in the store.

/metrics counts the requests of every worker: prometheus_client's multiprocess mode keeps each worker's
counters in files under PROMETHEUS_MULTIPROC_DIR (default: a fresh private folder under the temporary
directory, removed at exit). The folder is emptied at start (old files would add a previous run's counts)
and a dead worker's live gauges are dropped when it exits.

Web processes never migrate the store: before forking workers, the master waits (SCHEMA_WAIT seconds at
most, then exits with the reason) until the leader worker or `flask --app leader init-db` has brought it
to the code's schema version, and refuses a store newer than the code.
"""

# (module-level names are gunicorn settings: keep our own names private)
import os as _os
import secrets as _secrets
import shutil as _shutil
import tempfile as _tempfile

from leader.config import listen as _listen

# One id per start of the master, inherited by every worker: while setup is incomplete, exactly one
# worker of this start prints a new one-time setup code (leader.setup).
_os.environ["PIOREACTOR_LEADER_BOOT"] = _secrets.token_hex(8)

wsgi_app = "leader:create_app()"
bind = [_listen()]
workers = int(_os.environ.get("LEADER_WEB_WORKERS", "2"))
worker_class = "gthread"
threads = int(_os.environ.get("LEADER_WEB_THREADS", "128"))
timeout = 60
graceful_timeout = 10
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = "warning"
proc_name = "leader-web"
preload_app = False

# gunicorn's control socket defaults to one path per user ($XDG_RUNTIME_DIR or ~/.gunicorn), which two
# instances under one user silently share and which ProtectHome forbids: under systemd it lives in the unit's
# own RuntimeDirectory; elsewhere (tests, `make run`) it is off.
_runtime_dir = _os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
if _runtime_dir:
    control_socket = _runtime_dir + "/gunicorn.ctl"
else:
    control_socket_disable = True


# Set before any worker imports prometheus_client: it picks its storage when first imported.
_own_metrics_dir = not _os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    _os.environ["PROMETHEUS_MULTIPROC_DIR"] = _tempfile.mkdtemp(prefix="leader-web-metrics-")


def on_starting(server):  # type: ignore[no-untyped-def]
    # the metrics folder first: building the app below imports prometheus_client, which writes there
    folder = _os.environ["PROMETHEUS_MULTIPROC_DIR"]
    _os.makedirs(folder, exist_ok=True)
    for name in _os.listdir(folder):
        if name.endswith(".db"):
            _os.remove(_os.path.join(folder, name))

    from leader import create_app
    from leader.db import migrate

    app = create_app()  # in production it only checks the store (AUTO_MIGRATE is off)
    migrate.wait_for_schema(app.config["DATABASE"], float(app.config["SCHEMA_WAIT"]))


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):  # type: ignore[no-untyped-def]
    if _own_metrics_dir:
        _shutil.rmtree(_os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
