"""`/account` (your tokens: create, shown once with a copy button, revoke) and `/people` (admins: users,
everyone's tokens, the audit trail with paging). Actions are `/api/tokens` and `/api/users` calls
(static/js/actions.js, static/js/tokens.js); these pages only read the store.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from .. import auth
from ..auth import requires
from ..db import audit as audit_db
from ..db import get_db, users
from ..db import tokens as tokens_db

bp = Blueprint("people", __name__)
account_bp = Blueprint("account", __name__)  # its own blueprint: the navigation marks one current page
AUDIT_PAGE = 50


@account_bp.get("/account")
@requires("viewer")
def index_account() -> str:
    ident = auth.require_role("viewer")
    mine = tokens_db.list_active(get_db(), ident.name) if ident.kind == "user" else []
    return render_template("account.html", tokens=mine, roles=_roles_up_to(ident.role))


@bp.get("/people")
@requires("admin")
def index() -> str:
    db = get_db()
    before = request.args.get("before", type=int)
    page = audit_db.page(db, before=before or None, limit=AUDIT_PAGE)
    return render_template(
        "people.html",
        users=users.list_users(db),
        tokens=tokens_db.list_active(db),
        audit=page,
        roles=["viewer", "operator", "admin"],
    )


def _roles_up_to(role: str) -> list[str]:
    order = ["viewer", "operator", "admin"]
    return order[: order.index(role) + 1] if role in order else ["viewer"]
