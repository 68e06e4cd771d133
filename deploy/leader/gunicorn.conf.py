"""gunicorn settings of the leader's web process. Start it with exactly:

    gunicorn --config deploy/leader/gunicorn.conf.py

(LEADER_CONFIG names the leader's TOML file; its LISTEN is the bind address.) Threaded workers: an SSE
stream holds one thread for as long as a browser watches an operation, so there are many threads; any
worker can serve any request because everything lives in the store.

Web processes never migrate the store: before forking workers, the master waits (SCHEMA_WAIT seconds at
most, then exits with the reason) until the leader worker or `flask --app leader init-db` has brought it
to the code's schema version, and refuses a store newer than the code.
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


def on_starting(_server: object) -> None:
    from leader import create_app
    from leader.db import migrate

    app = create_app()  # in production it only checks the store (AUTO_MIGRATE is off)
    migrate.wait_for_schema(app.config["DATABASE"], float(app.config["SCHEMA_WAIT"]))
