"""`python -m leader.ingest`: the ingest alone, configured like the leader (LEADER_CONFIG, LEADER_*).

The leader worker runs the same thing next to its other duties; tests and benchmarks use this to kill
and restart the ingest by itself. Stops cleanly (commits what it holds, exit 0) on SIGTERM or SIGINT, once
or repeatedly, at any moment (leader.signals).
"""

from __future__ import annotations

from leader import create_app, signals
from leader.db import migrate

from . import start


def main() -> None:
    watcher = signals.watch()  # first: a signal during start-up is kept, not fatal
    app = create_app()
    # the worker migrates; a stop signal ends the wait
    migrate.wait_for_schema(app.config["DATABASE"], float(app.config["SCHEMA_WAIT"]), watcher.stopping)
    if not watcher.stopping.is_set():
        ingest = start(app)
        try:
            watcher.stopping.wait()
        finally:
            ingest.stop()
    watcher.settle()


if __name__ == "__main__":
    main()
