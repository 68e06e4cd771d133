"""gunicorn settings of the agent's web process. Start it with exactly:

    gunicorn --config deploy/unit_agent/gunicorn.conf.py

(UNIT_AGENT_CONFIG names the agent's TOML file; its `listen` is the bind address.) One worker with a few
threads: the agent is small, and its MQTT mirror lives in that one worker process.
"""

# (module-level names are gunicorn settings: keep our own names private)
from unit_agent.config import load as _load

_settings = _load()

wsgi_app = "unit_agent.app:create_app()"
bind = [_settings.listen]
workers = 1
worker_class = "gthread"
threads = 4
timeout = 60
graceful_timeout = 10
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = "warning"
proc_name = f"unit_agent-web-{_settings.unit}"
# No preload: measured, CPython's copy-on-write sharing saved nothing and the master grew by the app.
# The MQTT mirror starts as soon as the worker has loaded the app (not at the first request).
preload_app = False


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    from unit_agent.app import start_mqtt

    start_mqtt(worker.wsgi)
