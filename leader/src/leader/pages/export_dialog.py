"""The export dialog's choices, for `templates/_export_dialog.html` (included by the experiments list and the
experiment page): the experiments and the datasets an export can hold. A template global, so a page shows
the dialog with one `{% include %}` and its view needs no change."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from .. import exports
from ..db import experiments as exp_db
from ..db import get_db


def export_form() -> dict[str, Any]:
    return {
        "experiments": [e.name for e in exp_db.list_experiments(get_db())],
        "datasets": exports.datasets(current_app),
    }


def init_app(app: Flask) -> None:
    app.jinja_env.globals["export_form"] = export_form
