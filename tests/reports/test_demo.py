"""The demo's manager downloads every report in every format, and the stored runs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from hub import migrate
from hub.app import create_app
from hub.clock import ManualClock
from hub.db import make_engine, session_factory, session_scope
from hub.demo import DEMO_SITE, seed_demo
from hub.reports import jobs
from hub.reports.enums import Cadence, ReportName
from hub.settings import Settings


@pytest.fixture
def demo(tmp_path: Path) -> TestClient:
    """The demo site on its embedded database, as `fhub demo` seeds it."""
    settings = Settings(data_dir=tmp_path)
    engine = make_engine(settings.effective_database_url)
    migrate.upgrade(engine)
    clock = ManualClock()
    with session_scope(session_factory(engine)) as session:
        seed_demo(session=session, now=clock.now(), pepper=settings.token_pepper.get_secret_value())
        jobs.run_reports(
            session=session,
            cadence=Cadence.weekly,
            period_start=clock.now(),
            now=clock.now(),
            zone=settings.zone,
        )
    return TestClient(create_app(settings, engine=engine, clock=clock))


def test_the_demo_manager_downloads_every_report(demo: TestClient) -> None:
    manager = {"Authorization": "Bearer fh_demo_manager"}
    for name in ReportName:
        for fmt in ("json", "csv", "xlsx"):
            response = demo.get(f"/api/v1/reports/{name}", params={"format": fmt}, headers=manager)
            assert response.status_code == 200, (name, fmt, response.text)
            if fmt == "json":
                assert response.json()["site"] == DEMO_SITE
            elif fmt == "xlsx":
                assert load_workbook(io.BytesIO(response.content)).sheetnames[0] == "概要"
    runs = demo.get("/api/v1/reports/runs", headers=manager).json()
    assert {r["report"] for r in runs} == {"weekly-hot", "sla", "proactive"}
    for run in runs:
        for fmt in ("json", "csv", "xlsx"):
            got = demo.get(run["download"], params={"format": fmt}, headers=manager)
            assert got.status_code == 200, (run["report"], fmt)
