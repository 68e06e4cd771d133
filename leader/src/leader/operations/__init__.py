"""Operations: every mutating cluster action, run by the worker as a fan-out to the target agents."""

from __future__ import annotations

from flask import Flask

from . import engine


def init_app(app: Flask) -> None:
    engine.register(app.extensions["leader.huey"], app)
