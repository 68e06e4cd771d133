"""schemathesis hooks (SCHEMATHESIS_HOOKS): keep the credentials the run itself uses.

Generated requests may revoke any API token but the run's own (`ST_KEEP_TOKEN_ID`), and may rotate the
agent's cluster token only to the value it already has (`ST_CLUSTER_TOKEN`): everything else is tested.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Edits the case itself: schemathesis revalidates it, so the checks judge what was sent."""
    keep = os.environ.get("ST_KEEP_TOKEN_ID")
    where = (case.method, case.path)
    if where == ("DELETE", "/api/tokens/{token_id}") and str(case.path_parameters.get("token_id")) == keep:
        case.path_parameters["token_id"] = 2**62  # a token that does not exist: the 404 path
    current = os.environ.get("ST_CLUSTER_TOKEN")
    body = case.body
    if current and where == ("PUT", "/unit_api/cluster_token") and isinstance(body, dict) and "token" in body:
        body["token"] = current
