"""The reports through the API: every report in JSON, CSV and XLSX, the XLSX read back cell by
cell, the unified answer on the desk's complaint, stored runs, and bad parameters."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.outbox.models import OutboxMessage
from hub.reports import jobs
from hub.reports.enums import Cadence, ReportName
from tests.conftest import OTHER_SITE, SITE, bearer
from tests.reports.history import UNTIL, ZONE, hot_history, sla_history

pytestmark = pytest.mark.usefixtures("sites")

API = "/api/v1/reports"
WEEK = {"since": "2026-11-23T00:00:00+08:00", "until": "2026-11-30T00:00:00+08:00"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def manager(make_token: Callable[..., str]) -> dict[str, str]:
    """A manager's header."""
    return bearer(make_token(Role.manager))


@pytest.mark.parametrize("name", list(ReportName))
@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_every_report_downloads_in_every_format(
    client: TestClient, manager: dict[str, str], clock: ManualClock, name: ReportName, fmt: str
) -> None:
    clock.set(UNTIL)
    response = client.get(f"{API}/{name}", params={"format": fmt}, headers=manager)
    assert response.status_code == 200, response.text
    if fmt == "json":
        body = response.json()
        assert (body["report"], body["site"]) == (name, SITE)
        assert body["since"] < body["until"]
    elif fmt == "csv":
        assert response.headers["content-type"].startswith("text/csv")
        assert response.content.startswith("\ufeff".encode())
        assert f"{name}_{SITE}_" in response.headers["content-disposition"]
    else:
        assert response.headers["content-type"] == XLSX
        book = load_workbook(io.BytesIO(response.content))
        assert len(book.sheetnames) >= 2


def test_the_sla_report_in_xlsx_cell_by_cell(
    client: TestClient, manager: dict[str, str], db: Session, clock: ManualClock
) -> None:
    sla_history(db, clock)
    response = client.get(
        f"{API}/sla", params={**WEEK, "format": "xlsx", "lang": "zh"}, headers=manager
    )
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["概要", "时限达成"]
    summary = book["概要"]
    assert [summary.cell(row=r, column=1).value for r in range(1, 4)] == ["项目", "报表", "项目"]
    assert summary["B2"].value == "sla"
    assert summary["B4"].value == "2026-11-23 00:00:00+08:00"  # local, with its offset
    sheet = book["时限达成"]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["部门", "优先级", "环节", "时限数"]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.column_dimensions["A"].width >= 14
    rows = {r[2]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    # codes in the words of the file's language, not raw values under Chinese headers
    assert rows["派单"][:7] == ("工程部", "特急", "派单", 2, 1, 1, 0)
    assert rows["派单"][7] == 0.5
    assert sheet.cell(row=2, column=8).number_format == "0.0%"
    assert rows["解决"][8:10] == (35.0, 59.0)
    (chart,) = sheet._charts
    assert chart.tagname == "barChart"
    english = load_workbook(
        io.BytesIO(
            client.get(
                f"{API}/sla", params={**WEEK, "format": "xlsx", "lang": "en"}, headers=manager
            ).content
        )
    )
    assert english.sheetnames == ["Summary", "SLA"]
    assert [c.value for c in english["SLA"][1]][:3] == ["Department", "Priority", "Step"]
    assert [c.value for c in english["SLA"][2]][:2] == ["engineering", "urgent"]


def test_local_times_in_xlsx_and_csv(
    client: TestClient, manager: dict[str, str], db: Session, clock: ManualClock
) -> None:
    sla_history(db, clock)
    clock.set(UNTIL)
    params = {"since": "2026-11-16T00:00:00+08:00", "until": UNTIL.isoformat()}
    text = client.get(
        f"{API}/unfinished", params={**params, "format": "csv", "lang": "en"}, headers=manager
    ).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    first = next(r for r in rows if r["What"] == "3号楼12层走廊灯不亮")
    # Order A, registered Sunday 23:50 local (15:50 UTC), still awaiting its callback.
    assert "2026-11-29 23:50:00+08:00" in {r["Registered"] for r in rows}
    assert first["Type"] == "order"
    assert first["Department"] == "engineering"
    assert first["Where"] in ("", "floor 12 of building 3")
    book = load_workbook(
        io.BytesIO(
            client.get(
                f"{API}/unfinished", params={**params, "format": "xlsx"}, headers=manager
            ).content
        )
    )
    sheet = book["未完成事项"]
    registered = [c.value for c in sheet["I"][1:]]
    # Excel has no zones: the local wall time, naive.
    assert datetime(2026, 11, 29, 23, 50, tzinfo=ZONE).replace(tzinfo=None) in registered
    assert sheet["I2"].number_format == "yyyy-mm-dd hh:mm"
    assert book["部门汇总"]._charts


def test_weekly_hot_csv_reads_back_with_the_unified_answer(
    client: TestClient, manager: dict[str, str], db: Session, clock: ManualClock
) -> None:
    hot_history(db, clock)
    clock.set(UNTIL)
    for text in ("本周五前全部更换灯管", "灯管已到货,周三前全部更换"):
        made = client.post(
            f"{API}/answers",
            json={"dimension": "location", "value": "3/12", "text": text},
            headers=manager,
        )
        assert made.status_code == 201, made.text
    assert made.json()["version"] == 2
    response = client.get(f"{API}/weekly-hot", params={**WEEK, "format": "csv"}, headers=manager)
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    place = next(r for r in rows if r["维度"] == "位置" and r["热点"] == "3号楼12层")
    assert (place["本期"], place["上期"], place["增减"]) == ("3", "1", "2")
    assert (place["统一答复"], place["答复版本"]) == ("灯管已到货,周三前全部更换", "2")
    versions = client.get(f"{API}/answers", headers=manager).json()
    assert [v["version"] for v in versions] == [2, 1]


def test_the_desk_sees_the_answer_on_a_matching_complaint(
    client: TestClient, make_token: Callable[..., str], manager: dict[str, str]
) -> None:
    desk = bearer(make_token(Role.front_desk))
    answer = {"dimension": "device_kind", "value": "light", "text": "灯管周三前全部更换"}
    assert client.post(f"{API}/answers", json=answer, headers=desk).status_code == 403
    assert client.post(f"{API}/answers", json=answer, headers=manager).status_code == 201
    filed = client.post(
        "/api/v1/complaints", json={"content": "3号楼12层走廊灯坏了好几天了"}, headers=desk
    ).json()
    assert [(a["dimension"], a["value"], a["text"]) for a in filed["answers"]] == [
        ("device_kind", "light", "灯管周三前全部更换")
    ]
    other = client.post(
        "/api/v1/complaints", json={"content": "请问物业费怎么交"}, headers=desk
    ).json()
    assert other["answers"] == []


def test_stored_runs_list_and_download(
    client: TestClient, manager: dict[str, str], db: Session, clock: ManualClock
) -> None:
    sla_history(db, clock)
    made = jobs.run_reports(
        session=db, cadence=Cadence.weekly, period_start=UNTIL, now=UNTIL, zone=ZONE
    )
    assert len(made) == 3 * 2  # three weekly reports for both sites
    again = jobs.run_reports(
        session=db, cadence=Cadence.weekly, period_start=UNTIL, now=UNTIL, zone=ZONE
    )
    assert again == []
    announced = db.scalars(
        select(OutboxMessage).where(OutboxMessage.topic == f"fh/{SITE}/hub/report")
    ).all()
    assert sorted(m.payload["report"] for m in announced) == ["proactive", "sla", "weekly-hot"]
    assert all(m.payload["download"].endswith("/download") for m in announced)
    listed = client.get(f"{API}/runs", params={"report": "sla"}, headers=manager).json()
    (run,) = listed
    assert (run["site"], run["totals"]["deadlines"]) == (SITE, 10)
    download = client.get(f"{API}/runs/{run['id']}/download", headers=manager).json()
    assert download["sections"]["sla"][0]["department"] == "engineering"
    xlsx = client.get(
        f"{API}/runs/{run['id']}/download", params={"format": "xlsx"}, headers=manager
    )
    assert load_workbook(io.BytesIO(xlsx.content))["时限达成"]["A2"].value == "工程部"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"since": "2026-11-30T00:00:00+08:00", "until": "2026-11-23T00:00:00+08:00"}, 422),
        ({"since": "2026-11-23T00:00:00+08:00", "until": "2026-11-23T00:00:00+08:00"}, 422),
        ({"since": "2026-11-23T00:00:00"}, 422),
        ({"since": "1700000000"}, 422),
        ({"until": "99999999999999999999"}, 422),
        ({"since": "2026-11-23\x00"}, 422),
        ({"since": "0001-01-01T00:00:00Z"}, 422),
        ({"until": "9999-12-31T23:59:59-23:59"}, 422),
        ({"since": "1990-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, 422),
        ({"site": "nowhere"}, 404),
        ({"site": OTHER_SITE}, 404),
        ({"site": "a\x00b"}, 422),
        ({"site": "Not A Slug"}, 422),
        ({"format": "pdf"}, 422),
        ({"format": "\x00"}, 422),
        ({"lang": "fr"}, 422),
        ({"colour": "red"}, 422),
    ],
)
@pytest.mark.parametrize("name", list(ReportName))
def test_bad_parameters_are_refused(
    client: TestClient,
    manager: dict[str, str],
    name: ReportName,
    query: dict[str, Any],
    status: int,
) -> None:
    response = client.get(f"{API}/{name}", params=query, headers=manager)
    assert response.status_code == status, response.text
    assert set(response.json()["error"]) >= {"code", "message"}


@pytest.mark.parametrize(
    ("method", "url", "body", "status"),
    [
        ("GET", "/runs/99999999999/download", None, 422),
        ("GET", "/runs/2147483647/download", None, 404),
        ("GET", "/runs/1/download?format=doc", None, 422),
        ("GET", "/runs?limit=100000", None, 422),
        ("GET", "/runs?report=weekly", None, 422),
        ("POST", "/answers", {"dimension": "colour", "value": "x", "text": "y"}, 422),
        ("POST", "/answers", {"dimension": "location", "value": "3\x00", "text": "y"}, 422),
        ("POST", "/answers", {"dimension": "location", "value": "", "text": "y"}, 422),
        ("POST", "/answers", {"dimension": "location", "value": "3", "text": "y", "x": 1}, 422),
        (
            "POST",
            "/answers",
            {"site": OTHER_SITE, "dimension": "location", "value": "3", "text": "y"},
            404,
        ),
    ],
)
def test_bad_run_and_answer_requests_are_refused(
    client: TestClient,
    manager: dict[str, str],
    method: str,
    url: str,
    body: dict[str, Any] | None,
    status: int,
) -> None:
    response = client.request(method, API + url, json=body, headers=manager)
    assert response.status_code == status, response.text


@pytest.mark.parametrize("role", [Role.engineer, Role.cleaner, Role.security])
def test_field_staff_read_no_reports(
    client: TestClient, make_token: Callable[..., str], role: Role
) -> None:
    response = client.get(f"{API}/sla", headers=bearer(make_token(role)))
    assert response.status_code == 403
