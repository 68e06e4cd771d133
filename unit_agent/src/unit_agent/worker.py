"""The worker process. Start it with exactly (the unit-agent-worker.service of deploy/ansible runs this):

    huey_consumer unit_agent.worker.huey -w 4 -k thread -d 0.01 -m 0.05 -b 1.1 -n

-w 4 -k thread: four tasks at once (a run waits for `ready`, a stop for the process to end);
-d 0.01 -m 0.05 -b 1.1: poll the SQLite queue every 10-50 ms so a task starts within tens of milliseconds;
-n: no periodic tasks. Configuration: the file named by UNIT_AGENT_CONFIG (see config.py).

SIGTERM or SIGINT (once or repeatedly, at any moment): no more tasks, running ones get
`worker_shutdown_grace` seconds, the shutdown hook announces `offline` and the process exits 0
(unit_agent.signals.Consumer). Jobs it started keep running: they are detached on purpose (an agent
restart must not stop a culture).
"""

from __future__ import annotations

import atexit

from . import config, runtime, signals, worker_tasks  # noqa: F401 (the task bodies, before the first task)
from .presence import setup_logging
from .tasks import Queue

signals.watch()  # before anything slow: a stop signal during start-up is kept, not fatal

settings = config.load()
setup_logging(settings.log_level)
queue = Queue(settings)
huey = queue.huey


@huey.on_startup()
def _start() -> None:
    runtime.get(settings)


@huey.on_shutdown()
def _stop() -> None:
    runtime.shutdown()


# SIGTERM interrupts huey's worker threads without its shutdown hooks; the goodbye (`offline`, not the
# last will's `lost`) must still go out on a clean stop. runtime.shutdown() runs once, whichever comes first.
atexit.register(runtime.shutdown)
