"""The export dialog's API: a preview of the first rows (nothing written), and the zip's file name keeping
UTF-8 experiment names (Content-Disposition `filename*`)."""

from __future__ import annotations

import io
import zipfile
from urllib.parse import quote

from flask.testing import FlaskClient

from leader import export_preview
from tests.ingest.test_exports import app  # noqa: F401 - the fixture: a store with e1 and e2


def test_preview_shows_first_rows_and_writes_nothing(api: FlaskClient) -> None:
    r = api.post("/api/exports/preview", json={"experiments": ["e1"], "datasets": ["logs", "od"]})
    assert r.status_code == 200, r.get_json()
    answer = r.get_json()
    assert answer["timezone"] == "UTC" and answer["since"] is None
    logs, od = answer["tables"]
    assert (logs["file"], od["file"]) == ("e1/logs.csv", "e1/od.csv")
    assert logs["columns"] == ["timestamp", "unit", "job", "source", "level", "message", "author"]
    assert logs["rows"] == [
        ["2026-09-21T14:13:20.000+00:00", "u1", "stirring", "app", "info", 'hello, "world"', ""]
    ]
    assert len(od["rows"]) == export_preview.ROWS  # the first rows only
    assert api.get("/api/operations?kind=export").get_json()["operations"] == []


def test_preview_refuses_what_the_export_refuses(api: FlaskClient) -> None:
    r = api.post("/api/exports/preview", json={"experiments": ["e1"], "datasets": ["secrets"]})
    assert r.status_code == 400 and "$.datasets" in r.get_json()["message"]
    r = api.post("/api/exports/preview", json={"experiments": ["e1"], "since": "2026-01-01T00:00:00"})
    assert r.status_code == 400 and "$.since" in r.get_json()["message"]


def test_preview_of_all_with_a_range_in_the_labs_zone(api: FlaskClient) -> None:
    for name in ("e1", "e2"):
        assert api.post("/api/experiments", json={"name": name}).status_code == 201
    body = {"experiments": "all", "datasets": ["logs"], "since": "2026-09-21T16:13:00+02:00"}
    answer = api.post("/api/exports/preview", json=body).get_json()
    assert [t["file"] for t in answer["tables"]] == ["e1/logs.csv", "e2/logs.csv"]
    assert answer["since"] == "2026-09-21T14:13:00.000+00:00"


def test_download_name_keeps_utf8_names(api: FlaskClient) -> None:
    assert api.post("/api/experiments", json={"name": "Wachstum-Müller_β"}).status_code == 201
    op = api.post("/api/exports", json={"experiments": ["Wachstum-Müller_β"]}).get_json()["operation"]
    got = api.get(f"/api/exports/{op['id']}")
    assert got.status_code == 200
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('Wachstum-Müller_β')}_" in disposition
    names = zipfile.ZipFile(io.BytesIO(got.data)).namelist()
    assert "Wachstum-Müller_β/logs.csv" in names


def test_file_names_say_what_is_inside() -> None:
    params = {"experiments": ["e1", "e2", "e3"], "timezone": "Europe/Paris"}
    assert export_preview.file_name(params, "2026-09-21T14:13:20.000Z") == "e1+2_20260921-1613.zip"
    odd = {"experiments": ['a "b"/c; d'], "timezone": "UTC"}
    assert export_preview.file_name(odd, "2026-09-21T14:13:20.000Z") == "a__b__c__d_20260921-1413.zip"
