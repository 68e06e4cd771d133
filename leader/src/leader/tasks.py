"""Huey tasks. Registered on every app's queue (web enqueues, the worker executes) under one name."""

from __future__ import annotations

from flask import Flask
from huey import SqliteHuey


def register(queue: SqliteHuey, app: Flask) -> None:
    @queue.task(name="run_operation")
    def run_operation(operation_id: str) -> None:
        from .operations import engine

        with app.app_context():
            engine.run(operation_id)

    app.extensions["leader.task.run_operation"] = run_operation
