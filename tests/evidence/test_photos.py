"""Photos in evidence: a patrol entry's and an order move's photos are timeline entries with
their SHA-256; the pack carries the files and fails verification when one is altered or gone."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hub.auth.enums import Role
from hub.cli import app as fhub
from hub.clock import ManualClock
from hub.evidence.verify import verify_pack
from hub.registry.enums import DeviceKind
from tests.attachments import photos
from tests.attachments.test_api import upload
from tests.conftest import SITE, bearer
from tests.evidence.test_pack import _rewrite
from tests.pipeline import register, send

DISPENSER = "restroom-club-2f"
ROOM = "clubhouse/2/men"


@pytest.fixture
def entry_with_photo(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> dict[str, Any]:
    """DOMAIN.md case 1: paper logged "ok" with a photo while the dispenser reads empty."""
    device = register(db, clock, SITE, [(DISPENSER, DeviceKind.restroom, ROOM)])[DISPENSER]
    send(db, clock, device, {"paper_pct": 0, "soap_pct": 70})
    clock.advance(minutes=2)
    cleaner = make_token(Role.cleaner)
    data = photos.jpeg(taken="2026:12:07 10:12:30", offset="+08:00")
    _status, photo = upload(client, cleaner, data)
    body = {
        "site": SITE,
        "location": ROOM,
        "inspector": "保洁 李阿姨",
        "observed_at": (clock.now() - timedelta(minutes=1)).isoformat(),
        "items": [{"item": "paper", "state": "ok"}],
        "attachment_ids": [photo["id"]],
    }
    made = client.post("/api/v1/inspections", json=body, headers=bearer(cleaner))
    assert made.status_code == 201, made.text
    assert made.json()["attachment_ids"] == [photo["id"]]
    assert made.json()["discrepancies"]
    clock.advance(minutes=1)
    return {"photo": photo, "data": data, "inspection": made.json()}


def _device_pack(client: TestClient, token: str) -> bytes:
    response = client.post(
        "/api/v1/evidence/exports", json={"device_id": DISPENSER}, headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    return response.content


def test_the_entrys_photo_is_in_the_timeline_and_the_pack(
    client: TestClient,
    make_token: Callable[..., str],
    entry_with_photo: dict[str, Any],
    tmp_path: Path,
) -> None:
    manager = make_token(Role.manager)
    photo = entry_with_photo["photo"]
    timeline = client.get(f"/api/v1/devices/{DISPENSER}/evidence", headers=bearer(manager)).json()[
        "timeline"
    ]
    (entry,) = [e for e in timeline if e["type"] == "attachment"]
    assert entry["digest"] == hashlib.sha256(entry_with_photo["data"]).hexdigest()
    assert entry["ref"] == {"type": "attachment", "id": photo["id"]}
    assert entry["data"]["attached_to"] == {
        "type": "inspection",
        "id": entry_with_photo["inspection"]["id"],
    }
    pack = _device_pack(client, manager)
    report = verify_pack(pack)
    assert report.ok, report.problems
    path = tmp_path / "pack.zip"
    path.write_bytes(pack)
    assert CliRunner().invoke(fhub, ["evidence", "verify", str(path)]).exit_code == 0


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda b: b[:-10] + b"\x00" * 10, "was altered"),
        (lambda b: b.replace(b"JFIF", b"JFIX", 1), "was altered"),
    ],
    ids=["tail-zeroed", "header-edited"],
)
def test_an_altered_photo_fails_the_pack(
    client: TestClient,
    make_token: Callable[..., str],
    entry_with_photo: dict[str, Any],
    tmp_path: Path,
    change: Callable[[bytes], bytes],
    words: str,
) -> None:
    pack = _device_pack(client, make_token(Role.manager))
    name = f"attachments/{entry_with_photo['photo']['sha256']}"
    bad = _rewrite(pack, name, change)
    report = verify_pack(bad)
    assert any(words in p for p in report.problems), report.problems
    assert any(f"{name} was changed" in p for p in report.problems)
    path = tmp_path / "bad.zip"
    path.write_bytes(bad)
    assert CliRunner().invoke(fhub, ["evidence", "verify", str(path)]).exit_code != 0


def test_a_photo_lost_from_the_store_is_named_and_no_pack_is_made(
    client: TestClient,
    make_token: Callable[..., str],
    entry_with_photo: dict[str, Any],
) -> None:
    from hub.settings import Settings

    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    sha = entry_with_photo["photo"]["sha256"]
    (settings.attachments_root / sha[:2] / sha).unlink()
    response = client.post(
        "/api/v1/evidence/exports",
        json={"device_id": DISPENSER},
        headers=bearer(make_token(Role.manager)),
    )
    assert response.status_code == 409  # no pack vouches for a timeline it cannot carry
    problems = response.json()["error"]["details"]
    assert any("is missing" in p for p in problems), problems


def test_order_moves_and_complaints_carry_their_photos_into_evidence(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    engineer = make_token(Role.engineer)
    desk = make_token(Role.front_desk)
    order = client.post(
        "/api/v1/work-orders",
        json={"site": SITE, "title": "大堂灯不亮", "department": "engineering", "assignee": "x"},
        headers=bearer(desk),
    ).json()
    before = upload(client, engineer, photos.jpeg(color=(10, 10, 10)))[1]
    after = upload(client, engineer, photos.jpeg(color=(250, 250, 250)))[1]
    for to, photo in (("dispatched", None), ("on_site", before), ("resolved", after)):
        move: dict[str, Any] = {"to": to, "assignee": "eng-1"} if to == "dispatched" else {"to": to}
        if photo is not None:
            move["attachment_ids"] = [photo["id"]]
        moved = client.post(
            f"/api/v1/work-orders/{order['id']}/transitions", json=move, headers=bearer(engineer)
        )
        assert moved.status_code == 200, moved.text
    history = client.get(f"/api/v1/work-orders/{order['id']}", headers=bearer(engineer)).json()
    assert [h["attachment_ids"] for h in history["history"]][-3:] == [
        [],
        [before["id"]],
        [after["id"]],
    ]
    complaint = client.post(
        "/api/v1/complaints",
        json={"content": "大堂灯坏了", "site": SITE, "attachment_ids": [before["id"]]},
        headers=bearer(desk),
    )
    assert complaint.status_code == 201, complaint.text
    reply = client.post(
        f"/api/v1/complaints/{complaint.json()['id']}/replies",
        json={"text": "已安排工程部处理", "attachment_ids": [after["id"]]},
        headers=bearer(desk),
    )
    assert reply.status_code == 201, reply.text
    manager = bearer(make_token(Role.manager))
    timeline = client.get(f"/api/v1/work-orders/{order['id']}/evidence", headers=manager).json()[
        "timeline"
    ]
    shown = [
        (e["data"]["attached_to"]["type"], e["digest"])
        for e in timeline
        if e["type"] == "attachment"
    ]
    assert shown == [("work_order_event", before["sha256"]), ("work_order_event", after["sha256"])]
    desk_view = client.get(
        f"/api/v1/complaints/{complaint.json()['id']}/evidence", headers=manager
    ).json()
    kinds = [
        e["data"]["attached_to"]["type"] for e in desk_view["timeline"] if e["type"] == "attachment"
    ]
    assert kinds == ["complaint", "complaint_reply"]
