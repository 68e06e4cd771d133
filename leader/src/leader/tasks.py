"""Which Huey task runs an operation of each kind. Every app's queue has the same tasks under the same
names (web processes enqueue, the worker executes).

Every operation is queued through `enqueue(op_id, kind)`: the fan-out kinds run the operations engine's
task (registered as `FANOUT`); a kind with a task of its own (e.g. `export`) registers it with
`register_task` (or `register_kind`), so submission and crash recovery both find it. This module imports
no task: the modules that own them register them (no import circle through here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

KIND_TASKS = "leader.kind_tasks"
FANOUT = "*"  # the task of every kind without one of its own


def register_kind(app: Flask, kind: str, task: Any) -> None:
    app.extensions.setdefault(KIND_TASKS, {})[kind] = task


def register_task(queue: Any, app: Flask, name: str, kind: str, run: Callable[[str], None]) -> None:
    """Huey task `name` runs `run(op_id)` in the app's context for operations of `kind`. The worker runs it;
    web processes enqueue it, so every app's queue registers it under the same name."""

    @queue.task(name=name)
    def task(op_id: str) -> None:
        with app.app_context():
            run(op_id)

    register_kind(app, kind, task)


def enqueue(op_id: str, kind: str) -> None:
    kinds = current_app.extensions[KIND_TASKS]
    (kinds.get(kind) or kinds[FANOUT])(op_id)
