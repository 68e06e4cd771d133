"""Huey tasks. Registered on every app's queue (web enqueues, the worker executes) under one name.

Every operation is queued through `enqueue(op_id, kind)`: fan-out kinds run `run_operation`; a kind with a
task of its own (e.g. `export`) registers it with `register_kind`, so submission and crash recovery both
find it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from huey import SqliteHuey

KIND_TASKS = "leader.kind_tasks"


def register(queue: SqliteHuey, app: Flask) -> None:
    @queue.task(name="run_operation")
    def run_operation(operation_id: str) -> None:
        from .operations import engine

        with app.app_context():
            engine.run(operation_id)

    app.extensions["leader.task.run_operation"] = run_operation
    app.extensions.setdefault(KIND_TASKS, {})


def register_kind(app: Flask, kind: str, task: Any) -> None:
    app.extensions.setdefault(KIND_TASKS, {})[kind] = task


def enqueue(op_id: str, kind: str) -> None:
    task = current_app.extensions[KIND_TASKS].get(kind) or current_app.extensions["leader.task.run_operation"]
    task(op_id)
