"""/api/docs: the API reference page rendered from the OpenAPI document, viewer role, no outside assets."""

from __future__ import annotations

import re

from flask.testing import FlaskClient


def test_api_docs_lists_every_documented_route_without_outside_assets(api: FlaskClient) -> None:
    page = api.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    doc = api.get("/api/openapi.json").get_json()
    for path, methods in doc["paths"].items():
        for method in methods:
            assert f"{method.upper()} {path}" in html
    assert "BackupList" in html  # schemas are listed with their fields
    assert not re.search(r'(src|href)="(https?:)?//', html), "an outside asset"
    assert "<script" not in html and "style=" not in html  # CSP-clean: nothing inline


def test_api_docs_needs_credentials(client: FlaskClient) -> None:
    assert client.get("/api/docs").status_code == 401
