"""The dispute page: findings first, the decisive rows marked, runs collapsed, three views."""

from __future__ import annotations

import re
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


def _gate_dispute(db: Session, clock: ManualClock, client: TestClient, token: str) -> int:
    gate = register(db, clock, SITE, [("gate-garage", DeviceKind.gate, "garage/entrance")])[
        "gate-garage"
    ]
    for _ in range(40):  # the arm down, nobody there, a reading every 10 s
        send(db, clock, gate, {"arm": "down", "loop_occupied": False, "fault": None})
        clock.advance(seconds=10)
    send(
        db,
        clock,
        gate,
        {"type": "arm_up", "source": "plate_match", "loop_occupied": True},
        channel="event",
    )
    clock.advance(seconds=3)
    send(
        db,
        clock,
        gate,
        {"type": "arm_down", "source": "manual_button", "loop_occupied": True},
        channel="event",
    )
    clock.advance(minutes=5)
    db.commit()
    answer = client.post(
        "/api/v1/complaints",
        json={
            "content": "车库入口道闸砸到我的车",
            "location": "garage/entrance",
            "channel": "visit",
        },
        headers=bearer(token),
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_gate_dispute_page_opens_with_the_press_in_both_languages(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    token = make_token(Role.manager)
    complaint = _gate_dispute(db, clock, client, token)
    page = client.get(f"/manager/disputes/{complaint}", headers=bearer(token))
    assert page.status_code == 200, page.text
    first = re.search(r'<li class="finding[^"]*"[^>]*>(.*?)</li>', page.text, re.S)
    assert first is not None
    assert ZH in first.group(1)
    assert 'class="finding decisive"' in page.text
    assert page.text.index(ZH) < page.text.index("车库入口道闸砸到我的车")  # before all else
    english = client.get(f"/manager/disputes/{complaint}?lang=en", headers=bearer(token))
    first = re.search(r'<li class="finding[^"]*"[^>]*>(.*?)</li>', english.text, re.S)
    assert first is not None
    assert EN in first.group(1)
    text = _text(english.text)
    for raw in ("loop_occupied", "manual_button", "True", "False", "None", "arm_down"):
        assert raw not in text


def test_the_views_collapse_unchanged_readings_and_mark_the_decisive_row(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    token = make_token(Role.manager)
    complaint = _gate_dispute(db, clock, client, token)
    events = client.get(f"/manager/disputes/{complaint}", headers=bearer(token)).text
    assert events.count('<li class="t-signal decisive">') == 1  # the press
    assert "×40" not in events  # readings are not events
    everything = client.get(f"/manager/disputes/{complaint}?show=all", headers=bearer(token)).text
    assert "×40" in everything  # forty identical readings, one row
    assert everything.count('<li class="t-signal') == 3
    assert '<details class="digest">' in everything  # the digest on demand
    only = client.get(f"/manager/disputes/{complaint}?show=findings", headers=bearer(token)).text
    assert '<ol class="timeline">' not in only
    assert ZH in only
    odd = client.get(f"/manager/disputes/{complaint}?show=bogus", headers=bearer(token))
    assert odd.status_code == 200  # an unknown view is the default one
    nul = client.get(f"/manager/disputes/{complaint}?show=%00", headers=bearer(token))
    assert 400 <= nul.status_code < 500
    assert (
        client.get(f"/manager/disputes/{complaint}?shown=all", headers=bearer(token)).status_code
        == 422
    )


def test_the_page_hands_over_the_pdf(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    token = make_token(Role.manager)
    complaint = _gate_dispute(db, clock, client, token)
    pdf = client.get(f"/manager/disputes/{complaint}/evidence.pdf", headers=bearer(token))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert (
        client.get(f"/manager/disputes/{complaint}/evidence.exe", headers=bearer(token)).status_code
        == 404
    )
