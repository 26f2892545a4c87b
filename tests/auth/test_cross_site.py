"""Every route, for every role of site A, against site B's objects: 404, or filtered out.

The table below must name every route of the API: a new route fails
`test_every_route_is_checked` until its cross-site case is written here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.alarms.engine import RuleContext
from hub.attachments.models import Attachment
from hub.auth.enums import Role
from hub.auth.models import ApiToken
from hub.auth.service import create_user, issue_token
from hub.clock import ManualClock
from hub.complaints import intake
from hub.complaints.policy import ComplaintPolicy
from hub.correlation.flows import Policies
from hub.correlation.jobs import watch
from hub.forecasts.models import Forecast
from hub.inspections import service as inspections
from hub.inspections.enums import Item, State
from hub.notices.models import Notice
from hub.parts import service as parts
from hub.registry.enums import DeviceKind
from hub.reports import jobs as report_jobs
from hub.reports.enums import Cadence
from hub.reports.models import ReportRun
from hub.signals.service import Incoming
from hub.workorders import service as orders
from hub.workorders.enums import Department, Source
from hub.workorders.policy import SlaPolicy
from tests.conftest import OTHER_SITE, SITE, bearer
from tests.pipeline import alarms_of, ingest, register, send, topic


@dataclass(frozen=True)
class Theirs:
    """Site B's objects."""

    device: str
    alarm: int
    order: int
    complaint: int
    inspection: int
    sensor_order: int
    report_run: int = 0
    token: int = 0
    part: int = 0
    attachment: int = 0
    route: int = 0


@pytest.fixture
def theirs(db: Session, clock: ManualClock, sites: tuple[str, str]) -> Theirs:
    """A leak with its alarm and sensor order, and a complaint, all in site B."""
    (leak,) = register(
        db, clock, OTHER_SITE, [("leak-maple-1", DeviceKind.leak, "1/1/pipe-well")]
    ).values()
    send(db, clock, leak, {"leak": True}, ctx=RuleContext())
    bad = Incoming(topic=topic(OTHER_SITE, "leak", leak.id), payload=b"{", received_at=clock.now())
    assert ingest(db, clock, bad).dead == 1
    (alarm,) = alarms_of(db, leak.id)
    assert alarm.work_order_id is not None
    order = orders.open_order(
        session=db,
        policy=SlaPolicy(),
        now=clock.now(),
        site_id=OTHER_SITE,
        title="枫叶苑 manual",
        source=Source.manual,
        department=Department.engineering,
        actor="them",
    )
    complaint = intake.register(
        session=db,
        policy=ComplaintPolicy(),
        intake=intake.Intake(site_id=OTHER_SITE, content="1号楼1层管井漏水"),
        actor="them",
        actor_id=None,
        now=clock.now(),
    )
    inspection = inspections.record(
        session=db,
        entry=inspections.Entry(
            site_id=OTHER_SITE,
            inspector="巡查员 patrol",
            observed_at=clock.now(),
            items=[(Item.leak, State.ok, "")],
            device_id=leak.id,
        ),
        actor="them",
        now=clock.now(),
        zone=UTC,
    )
    # The desk's reactions to B's committed alarm: its notice for the residents.
    watch(session=db, policies=Policies(), now=clock.now())
    db.flush()
    assert db.scalar(select(func.count()).select_from(Notice)) == 1
    # A stored weekly run of B's reports.
    report_jobs.run_reports(
        session=db,
        cadence=Cadence.weekly,
        period_start=clock.now() + timedelta(days=7),
        now=clock.now(),
        zone=UTC,
    )
    run_id = db.scalars(select(ReportRun.id).where(ReportRun.site_id == OTHER_SITE)).first()
    assert run_id is not None
    them = create_user(
        session=db, name="枫叶苑 desk", role=Role.front_desk, site_ids=[OTHER_SITE], now=clock.now()
    )
    issue_token(session=db, user=them, pepper="x", now=clock.now())
    token_id = db.scalars(select(ApiToken.id).where(ApiToken.user_id == them.id)).one()
    # B's parts store and a forecast of B's leak sensor battery.
    part = parts.create_part(
        session=db,
        site_id=OTHER_SITE,
        name="灯管",
        name_en="lamp",
        unit="支",
        stock=3,
        min_stock=1,
        lead_days=14,
        device_kind=None,
        actor="them",
        now=clock.now(),
    )
    db.add(
        Forecast(
            site_id=OTHER_SITE,
            device_id=leak.id,
            quantity="battery",
            outlook="flat",
            level=80.0,
            confidence=0.0,
            readings=1,
            track={},
            updated_at=clock.now(),
        )
    )
    photo = Attachment(
        site_id=OTHER_SITE,
        sha256="0" * 64,
        content_type="image/jpeg",
        bytes=1,
        width=1,
        height=1,
        uploaded_at=clock.now(),
        uploaded_by="them",
    )
    db.add(photo)
    route = inspections.create_route(
        session=db,
        site_id=OTHER_SITE,
        name="枫叶苑 管井",
        interval_minutes=120,
        grace_minutes=0,
        stops=[inspections.Stop([Item.leak], None, leak.id)],
        actor="them",
        now=clock.now(),
    )
    db.flush()
    return Theirs(
        leak.id,
        alarm.id,
        order.id,
        complaint.id,
        inspection.id,
        alarm.work_order_id,
        report_run=run_id,
        token=token_id,
        part=part.id,
        attachment=photo.id,
        route=route.id,
    )


Request = tuple[str, str, dict[str, Any] | None]

NOT_FOUND: dict[str, Callable[[Theirs], Request]] = {
    "GET /api/v1/devices/{device_id}": lambda t: ("GET", f"/api/v1/devices/{t.device}", None),
    "GET /api/v1/devices/{device_id}/signals": lambda t: (
        "GET",
        f"/api/v1/devices/{t.device}/signals",
        None,
    ),
    "GET /api/v1/work-orders/{order_id}": lambda t: ("GET", f"/api/v1/work-orders/{t.order}", None),
    "GET /api/v1/work-orders/dispatch": lambda t: (
        "GET",
        f"/api/v1/work-orders/dispatch?site={OTHER_SITE}",
        None,
    ),
    "POST /api/v1/work-orders/{order_id}/assign": lambda t: (
        "POST",
        f"/api/v1/work-orders/{t.order}/assign",
        {"assignee": "them"},
    ),
    "POST /api/v1/attachments": lambda t: ("POST", f"/api/v1/attachments?site={OTHER_SITE}", None),
    "GET /api/v1/attachments/{attachment_id}": lambda t: (
        "GET",
        f"/api/v1/attachments/{t.attachment}",
        None,
    ),
    "GET /api/v1/attachments/{attachment_id}/meta": lambda t: (
        "GET",
        f"/api/v1/attachments/{t.attachment}/meta",
        None,
    ),
    "GET /api/v1/attachments/{attachment_id}/thumbnail": lambda t: (
        "GET",
        f"/api/v1/attachments/{t.attachment}/thumbnail",
        None,
    ),
    "POST /api/v1/work-orders": lambda t: (
        "POST",
        "/api/v1/work-orders",
        {"site": OTHER_SITE, "title": "x", "department": "engineering"},
    ),
    "POST /api/v1/work-orders/{order_id}/transitions": lambda t: (
        "POST",
        f"/api/v1/work-orders/{t.order}/transitions",
        {"to": "cancelled"},
    ),
    "GET /api/v1/alarms/{alarm_id}": lambda t: ("GET", f"/api/v1/alarms/{t.alarm}", None),
    "POST /api/v1/alarms/{alarm_id}/ack": lambda t: ("POST", f"/api/v1/alarms/{t.alarm}/ack", None),
    "POST /api/v1/alarms/{alarm_id}/clear": lambda t: (
        "POST",
        f"/api/v1/alarms/{t.alarm}/clear",
        None,
    ),
    "POST /api/v1/complaints": lambda t: (
        "POST",
        "/api/v1/complaints",
        {"content": "走廊灯坏了", "site": OTHER_SITE},
    ),
    "GET /api/v1/complaints/{complaint_id}": lambda t: (
        "GET",
        f"/api/v1/complaints/{t.complaint}",
        None,
    ),
    "POST /api/v1/complaints/{complaint_id}/transitions": lambda t: (
        "POST",
        f"/api/v1/complaints/{t.complaint}/transitions",
        {"to": "verified"},
    ),
    "POST /api/v1/complaints/{complaint_id}/replies": lambda t: (
        "POST",
        f"/api/v1/complaints/{t.complaint}/replies",
        {"text": "您好,我们马上处理。"},
    ),
    "POST /api/v1/complaints/{complaint_id}/classification": lambda t: (
        "POST",
        f"/api/v1/complaints/{t.complaint}/classification",
        {"category": "sanitation", "reason": "x"},
    ),
    "POST /api/v1/complaints/{complaint_id}/escalations": lambda t: (
        "POST",
        f"/api/v1/complaints/{t.complaint}/escalations",
        {"media_exposure": True},
    ),
    "POST /api/v1/complaints/{complaint_id}/work-orders": lambda t: (
        "POST",
        f"/api/v1/complaints/{t.complaint}/work-orders",
        {},
    ),
    "GET /api/v1/devices/{device_id}/evidence": lambda t: (
        "GET",
        f"/api/v1/devices/{t.device}/evidence",
        None,
    ),
    "GET /api/v1/work-orders/{order_id}/evidence": lambda t: (
        "GET",
        f"/api/v1/work-orders/{t.order}/evidence",
        None,
    ),
    "GET /api/v1/complaints/{complaint_id}/evidence": lambda t: (
        "GET",
        f"/api/v1/complaints/{t.complaint}/evidence",
        None,
    ),
    "POST /api/v1/evidence/exports": lambda t: (
        "POST",
        "/api/v1/evidence/exports",
        {"complaint_id": t.complaint},
    ),
    "GET /api/v1/evidence/checkpoints": lambda t: (
        "GET",
        f"/api/v1/evidence/checkpoints?site={OTHER_SITE}",
        None,
    ),
    "POST /api/v1/evidence/checkpoints/{seq}/cosignatures": lambda t: (
        "POST",
        "/api/v1/evidence/checkpoints/1/cosignatures",
        {
            "site": OTHER_SITE,
            "witness": "0" * 16,
            "public_key": "A" * 43 + "=",
            "signature": "A" * 86 + "==",
        },
    ),  # fmt: skip
    "GET /api/v1/inspections/{inspection_id}": lambda t: (
        "GET",
        f"/api/v1/inspections/{t.inspection}",
        None,
    ),
    "POST /api/v1/inspections": lambda t: (
        "POST",
        "/api/v1/inspections",
        {
            "site": OTHER_SITE,
            "device_id": t.device,
            "inspector": "x",
            "observed_at": "2026-11-23T10:00:00+08:00",
            "items": [{"item": "leak", "state": "ok"}],
        },
    ),
    "GET /api/v1/inspections/routes/{route_id}/qr.pdf": lambda t: (
        "GET",
        f"/api/v1/inspections/routes/{t.route}/qr.pdf",
        None,
    ),
    "POST /api/v1/inspections/routes": lambda t: (
        "POST",
        "/api/v1/inspections/routes",
        {
            "site": OTHER_SITE,
            "name": "r",
            "interval_minutes": 120,
            "checkpoints": [{"device_id": t.device, "items": ["leak"]}],
        },
    ),
    "POST /api/v1/quarantine/{quarantine_id}/approve": lambda t: (
        "POST",
        "/api/v1/quarantine/1/approve",
        {"id": "leak-new", "site": OTHER_SITE, "kind": "leak"},
    ),
    "GET /api/v1/stream": lambda t: ("GET", f"/api/v1/stream?site={OTHER_SITE}", None),
    "POST /api/v1/tokens/{token_id}/revoke": lambda t: (
        "POST",
        f"/api/v1/tokens/{t.token}/revoke",
        None,
    ),
    "GET /api/v1/reports/runs/{run_id}/download": lambda t: (
        "GET",
        f"/api/v1/reports/runs/{t.report_run}/download",
        None,
    ),
    "POST /api/v1/reports/answers": lambda t: (
        "POST",
        "/api/v1/reports/answers",
        {"site": OTHER_SITE, "dimension": "location", "value": "1/1", "text": "x"},
    ),
    "POST /api/v1/parts": lambda t: ("POST", "/api/v1/parts", {"site": OTHER_SITE, "name": "x"}),
    "GET /api/v1/parts/{part_id}": lambda t: ("GET", f"/api/v1/parts/{t.part}", None),
    "POST /api/v1/parts/{part_id}/movements": lambda t: (
        "POST",
        f"/api/v1/parts/{t.part}/movements",
        {"delta": 1, "reason": "received"},
    ),
}
"""Routes naming one of B's objects (or B itself): 404, or 403 where the role may not act."""


def _json(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))


def _mentions_orders(t: Theirs, body: Any) -> bool:
    text = _json(body)
    return any(f'"work_order_id":{order}' in text for order in (t.order, t.sensor_order))


def _ids(body: Any, key: str = "id") -> list[Any]:
    items = body if isinstance(body, list) else body.get("items", [])
    return [item[key] for item in items]


FILTERED: dict[str, Callable[[Theirs, Any], bool]] = {
    "GET /api/v1/sites": lambda t, body: OTHER_SITE not in _ids(body),
    "GET /api/v1/devices": lambda t, body: t.device not in _ids(body),
    "GET /api/v1/work-orders": lambda t, body: t.order not in _ids(body),
    "GET /api/v1/alarms": lambda t, body: t.alarm not in _ids(body),
    "GET /api/v1/complaints": lambda t, body: t.complaint not in _ids(body),
    "GET /api/v1/complaints/stats": lambda t, body: body["total"] == 0,
    "GET /api/v1/dead-letters": lambda t, body: body["total"] == 0,
    "GET /api/v1/me": lambda t, body: body["sites"] == [SITE],
    "GET /api/v1/inspections": lambda t, body: t.inspection not in _ids(body),
    "GET /api/v1/inspections/discrepancies": lambda t, body: not body["items"],
    "GET /api/v1/inspections/routes": lambda t, body: not body,
    "GET /api/v1/inspections/rounds": lambda t, body: not _ids(body),
    "GET /api/v1/evidence/check": lambda t, body: t.device not in str(body),
    "GET /api/v1/notices": lambda t, body: not body["items"],
    "GET /api/v1/known-issues": lambda t, body: f'"work_order_id":{t.order}' not in _json(body),
    "GET /api/v1/reports/proactive": lambda t, body: (
        f'"work_order_id":{t.order}' not in _json(body)
    ),
    "GET /api/v1/reports/weekly-hot": lambda t, body: body["site"] == SITE,
    "GET /api/v1/reports/unfinished": lambda t, body: (
        body["site"] == SITE and f'"id":{t.order},' not in _json(body)
    ),
    "GET /api/v1/reports/sla": lambda t, body: body["site"] == SITE,
    "GET /api/v1/reports/monthly": lambda t, body: body["site"] == SITE,
    "GET /api/v1/reports/runs": lambda t, body: all(run["site"] == SITE for run in body),
    "GET /api/v1/reports/answers": lambda t, body: all(a["site"] == SITE for a in body),
    "GET /api/v1/tokens": lambda t, body: all(row["id"] != t.token for row in body),
    "GET /api/v1/parts": lambda t, body: t.part not in _ids(body),
    "GET /api/v1/parts/forecast": lambda t, body: t.part not in _ids(body, "part_id"),
    "GET /api/v1/forecasts": lambda t, body: t.device not in _ids(body, "device_id"),
}
"""Routes that list: B's objects never appear, even when B is asked for by name."""

NEUTRAL = {
    "POST /api/v1/complaints/phrase-check",
    "GET /api/v1/evidence/public-key",
    "GET /healthz",
    "GET /readyz",
    "GET /api/v1/quarantine",
    "DELETE /api/v1/quarantine/{quarantine_id}",
    "GET /metrics",
}
"""Routes that touch no site's data."""


def test_every_route_is_checked(app: FastAPI) -> None:
    routes = {
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert routes == set(NOT_FOUND) | set(FILTERED) | NEUTRAL


@pytest.mark.parametrize("role", list(Role))
def test_another_sites_objects_are_not_found(
    client: TestClient, make_token: Callable[..., str], theirs: Theirs, role: Role
) -> None:
    headers = bearer(make_token(role))
    wrong = []
    for route in sorted(NOT_FOUND):
        method, url, body = NOT_FOUND[route](theirs)
        response = client.request(method, url, json=body, headers=headers)
        forbidden = response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
        if response.status_code != 404 and not forbidden:  # 403: the role, before any lookup
            wrong.append((route, response.status_code, response.text[:200]))
    assert not wrong, wrong


@pytest.mark.parametrize("role", list(Role))
def test_another_sites_objects_are_filtered_out(
    client: TestClient, make_token: Callable[..., str], theirs: Theirs, role: Role
) -> None:
    headers = bearer(make_token(role))
    wrong = []
    for route in sorted(FILTERED):
        _method, path = route.split(" ", 1)
        for params in ({}, {"site": OTHER_SITE}):
            response = client.get(path, params=params, headers=headers)
            if response.status_code == 403:
                continue  # the role may not read this at all
            if response.status_code not in (200, 404, 422) or (
                response.status_code == 200 and not FILTERED[route](theirs, response.json())
            ):
                wrong.append((route, params, response.status_code, response.text[:200]))
    assert not wrong, wrong
