"""`python -m leader.ingest`: the ingest alone, configured like the leader (LEADER_CONFIG, LEADER_*).

The leader worker runs the same thing next to its other duties; tests and benchmarks use this to kill
and restart the ingest by itself. Stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import signal
import threading

from leader import create_app

from . import start


def main() -> None:
    app = create_app()
    ingest = start(app)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    ingest.stop()


if __name__ == "__main__":
    main()
