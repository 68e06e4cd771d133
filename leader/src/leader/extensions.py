"""Objects shared by the app's requests and tasks, kept in `app.extensions`: Huey's queue, the agent client.

Nothing here knows a task: `leader.tasks` maps operation kinds to tasks, `leader.operations` registers its
task on the queue (create_app calls both after this).
"""

from __future__ import annotations

from flask import Flask, current_app
from huey import SqliteHuey

from .agent_client import AgentClient


def huey() -> SqliteHuey:
    return current_app.extensions["leader.huey"]


def agents() -> AgentClient:
    return current_app.extensions["leader.agents"]


def init_app(app: Flask) -> None:
    # Huey's queue is its own SQLite file; web processes only enqueue, the worker process consumes.
    queue = SqliteHuey("leader", filename=app.config["HUEY_DB"], results=False, utc=True)
    # tests: run each operation inside the request that queued it (huey's immediate mode)
    queue.immediate = bool(app.config.get("HUEY_IMMEDIATE", False))
    app.extensions["leader.huey"] = queue
    app.extensions["leader.agents"] = AgentClient.from_config(app.config)
