"""The printable report: `?format=pdf` on the three evidence routes and `summary.pdf` in a pack,
read back with poppler's pdftotext — the decisive finding in Chinese and English."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from tests.conftest import SITE, bearer
from tests.pipeline import register, send

pytestmark = pytest.mark.usefixtures("sites")

ZH = "道闸由岗亭按钮落杆,当时有车辆停在线圈上"
EN = "The arm was lowered from the booth button while a vehicle stood on the loop"


def text_of(pdf: bytes) -> str:
    """The PDF's text (pdftotext, layout off), whitespace folded to single spaces."""
    tool = shutil.which("pdftotext")
    assert tool, "poppler-utils (pdftotext) is needed"
    done = subprocess.run(
        [tool, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return re.sub(r"\s+", " ", done.stdout.decode())


def _has(text: str, phrase: str) -> bool:
    if phrase.isascii():
        return phrase in text
    return phrase in text.replace(" ", "")


def _gate(db: Session, clock: ManualClock) -> str:
    gate = register(db, clock, SITE, [("gate-garage", DeviceKind.gate, "garage/entrance")])[
        "gate-garage"
    ]
    send(db, clock, gate, {"arm": "up", "loop_occupied": True})
    clock.advance(seconds=3)
    send(db, clock, gate, {"type": "vehicle_in", "plate": "粤B12345"}, channel="event")
    clock.advance(seconds=2)
    send(
        db,
        clock,
        gate,
        {"type": "arm_down", "source": "manual_button", "loop_occupied": True},
        channel="event",
    )
    clock.advance(minutes=10)
    db.commit()
    return gate.id


def test_each_evidence_route_prints_the_decisive_finding_in_both_languages(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    gate = _gate(db, clock)
    manager = bearer(make_token(Role.manager))
    (order,) = client.get("/api/v1/work-orders?source=sensor", headers=manager).json()
    complaint = client.post(
        "/api/v1/complaints",
        json={
            "content": "车库入口道闸砸到我的车",
            "location": "garage/entrance",
            "channel": "visit",
        },
        headers=bearer(make_token(Role.front_desk)),
    ).json()
    for path in (
        f"/api/v1/work-orders/{order['id']}/evidence",
        f"/api/v1/complaints/{complaint['id']}/evidence",
        f"/api/v1/devices/{gate}/evidence",
    ):
        answer = client.get(path, params={"format": "pdf"}, headers=manager)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/pdf"
        assert answer.content.startswith(b"%PDF")
        text = text_of(answer.content)
        assert _has(text, ZH), text[:400]
        assert _has(text, EN), text[:400]
        assert "Page 1 of" in text
        assert "fhub evidence verify" in text  # the integrity statement says how to check
    assert (
        client.get(
            f"/api/v1/devices/{gate}/evidence", params={"format": "docx"}, headers=manager
        ).status_code
        == 422
    )
    assert (
        client.get(
            f"/api/v1/devices/{gate}/evidence", params={"format": "pdf\x00"}, headers=manager
        ).status_code
        == 422
    )


def test_every_pack_carries_its_summary_as_a_pdf(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    _gate(db, clock)
    manager = bearer(make_token(Role.manager))
    (order,) = client.get("/api/v1/work-orders?source=sensor", headers=manager).json()
    made = client.post(
        "/api/v1/evidence/exports", json={"work_order_id": order["id"]}, headers=manager
    )
    assert made.status_code == 201, made.text
    with zipfile.ZipFile(io.BytesIO(made.content)) as archive:
        pdf = archive.read("summary.pdf")
        manifest = archive.read("manifest.json").decode()
    assert '"summary.pdf"' in manifest  # signed like every file of the pack
    text = text_of(pdf)
    assert _has(text, ZH)
    assert _has(text, EN)
