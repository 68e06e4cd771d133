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

# No control socket (gunicorn's `gunicornc`): it runs an asyncio server thread in the master, 2.1 MB of PSS
# measured, and the agent needs none (systemd reloads it with HUP). Off everywhere, so the layout that
# bench/agent_dispatch.py measures is the deployed one (and no socket path is shared between instances).
control_socket_disable = True


def pre_fork(server, worker):  # type: ignore[no-untyped-def]
    # The worker starts with the master's pages (gunicorn itself, ~12 MB) shared. CPython's full garbage
    # collections write to every object they visit: in the worker they copied those pages one by one
    # (master + web grew 38.7 -> 40.8 MB PSS over 300 job starts). Frozen objects are never visited.
    import gc

    gc.freeze()


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    from unit_agent.app import start_mqtt

    start_mqtt(worker.wsgi)
