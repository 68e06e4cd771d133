"""gunicorn settings of the leader's web process. Start it with exactly:

    gunicorn --config deploy/leader/gunicorn.conf.py

(LEADER_CONFIG names the leader's TOML file; its LISTEN is the bind address.) Threaded workers: an SSE
stream holds one thread for as long as a browser watches an operation, so there are many threads; any
worker can serve any request because everything lives in the store.
"""

# (module-level names are gunicorn settings: keep our own names private)
import os as _os

from leader.config import listen as _listen

wsgi_app = "leader:create_app()"
bind = [_listen()]
workers = int(_os.environ.get("LEADER_WEB_WORKERS", "2"))
worker_class = "gthread"
threads = 16
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
