"""Process helpers for tests (they live in `devcluster`, shared with `make run`)."""

from devcluster.procs import Proc, free_port, http_ok, port_open, running, wait_for

__all__ = ["Proc", "free_port", "http_ok", "port_open", "running", "wait_for"]
