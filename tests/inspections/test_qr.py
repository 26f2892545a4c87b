"""A route's QR sheet: a PDF with one code per checkpoint, each opening its entry form."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from tests.conftest import SITE, bearer
from tests.pipeline import register


@pytest.fixture
def route(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> dict[str, object]:
    """The clubhouse restrooms, every two hours."""
    register(
        db,
        clock,
        SITE,
        [
            ("restroom-club-2f", DeviceKind.restroom, "clubhouse/2/men-restroom"),
            ("restroom-club-1f", DeviceKind.restroom, "clubhouse/1/women-restroom"),
        ],
    )
    body = {
        "site": SITE,
        "name": "会所卫生间 Clubhouse restrooms",
        "interval_minutes": 120,
        "checkpoints": [
            {"location": "clubhouse/2/men-restroom", "items": ["paper", "soap"]},
            {"device_id": "restroom-club-1f", "items": ["paper"]},
        ],
    }
    made = client.post(
        "/api/v1/inspections/routes", json=body, headers=bearer(make_token(Role.manager))
    )
    assert made.status_code == 201, made.text
    route: dict[str, object] = made.json()
    return route


def test_the_qr_sheet_names_each_checkpoint(
    client: TestClient, make_token: Callable[..., str], route: dict[str, object], tmp_path: Path
) -> None:
    cleaner = bearer(make_token(Role.cleaner))
    response = client.get(f"/api/v1/inspections/routes/{route['id']}/qr.pdf", headers=cleaner)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext) not installed")
    path = tmp_path / "qr.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "会所卫生间" in text
    assert "1. 会所2楼男卫生间" in text
    assert "the clubhouse, floor 2, men's restroom" in text
    assert "restroom-club-1f" in text


def test_a_missing_route_is_not_found(client: TestClient, make_token: Callable[..., str]) -> None:
    cleaner = bearer(make_token(Role.cleaner))
    assert client.get("/api/v1/inspections/routes/999/qr.pdf", headers=cleaner).status_code == 404
    assert (
        client.get(f"/api/v1/inspections/routes/{2**31}/qr.pdf", headers=cleaner).status_code == 422
    )
