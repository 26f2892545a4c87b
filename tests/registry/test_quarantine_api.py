"""The quarantine over HTTP: listing held adapter devices, registering them, refusals."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from bridges.adapters import Adapters, Tasmota, Zigbee2Mqtt
from bridges.mqtt import ingest_handler
from hub.alarms.engine import RuleContext
from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.registry.models import Device, QuarantinedDevice
from hub.signals.flows import BatchResult
from hub.signals.models import Signal
from hub.signals.service import Incoming
from tests.conftest import OTHER_SITE, SITE, bearer

ADAPTERS = Adapters([Zigbee2Mqtt(), Tasmota()], quarantine_limit=100)


def _hear(db: Session, clock: ManualClock, topic: str, payload: object) -> BatchResult:
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    message = Incoming(topic=topic, payload=body, received_at=clock.now(), qos=1)
    result = ingest_handler(RuleContext(), ADAPTERS)(db, [message], clock.now(), nullcontext())
    db.flush()
    return result


def _held_id(db: Session, external_id: str) -> int:
    row = db.scalars(
        select(QuarantinedDevice).where(QuarantinedDevice.external_id == external_id)
    ).one()
    return row.id


def test_a_held_device_is_listed_approved_and_then_ingested(
    client: TestClient, db: Session, clock: ManualClock, make_token: Callable[..., str]
) -> None:
    headers = bearer(make_token(Role.admin))
    assert (
        _hear(db, clock, "zigbee2mqtt/0x00158d0001a2b3c4", {"water_leak": False}).quarantined == 1
    )
    listed = client.get("/api/v1/quarantine", headers=headers)
    assert listed.status_code == 200
    body = listed.json()
    assert body["total"] == 1
    item = body["items"][0]
    assert item["adapter"] == "zigbee2mqtt"
    assert item["external_id"] == "0x00158d0001a2b3c4"
    assert item["count"] == 1
    assert item["kinds"] == ["leak", "light"]
    assert orjson.loads(item["payload"]) == {"water_leak": False}

    approval = {"id": "leak-b2-f01", "site": SITE, "kind": "leak", "location": "2/1/pipe-well"}
    done = client.post(f"/api/v1/quarantine/{item['id']}/approve", json=approval, headers=headers)
    assert done.status_code == 201, done.text
    device = done.json()
    assert (device["adapter"], device["external_id"]) == ("zigbee2mqtt", "0x00158d0001a2b3c4")
    assert device["location"] == "2/1/pipe-well"
    assert client.get("/api/v1/quarantine", headers=headers).json()["total"] == 0

    result = _hear(db, clock, "zigbee2mqtt/0x00158d0001a2b3c4", {"water_leak": True})
    assert (result.accepted, result.quarantined) == (1, 0)
    signal = db.scalars(select(Signal).where(Signal.device_id == "leak-b2-f01")).one()
    assert signal.payload == {"leak": True}


@pytest.mark.parametrize(
    ("approval", "status", "why"),
    [
        ({"id": "x1", "site": OTHER_SITE, "kind": "light"}, 404, "not one of the admin's sites"),
        ({"id": "x1", "site": "nowhere", "kind": "light"}, 404, "no such site"),
        ({"id": "x1", "site": SITE, "kind": "gate"}, 422, "tasmota speaks for lights only"),
        ({"id": "light-taken", "site": SITE, "kind": "light"}, 409, "the id is registered"),
        ({"id": "X 1", "site": SITE, "kind": "light"}, 422, "not a topic-safe id"),
        ({"id": "x1", "site": SITE, "kind": "light", "location": "//"}, 422, "bad path"),
        ({"id": "x1", "site": SITE, "kind": "light", "location": "3/" + "a" * 65}, 422, "code"),
        ({"id": "x1", "site": SITE, "kind": "light", "name": "a\u0000b"}, 422, "NUL"),
        ({"id": "x1", "site": SITE, "kind": "light", "heartbeat_timeout_s": 2**63}, 422, "range"),
        ({"id": "x1", "site": SITE, "kind": "light", "extra": 1}, 422, "unknown field"),
        ({"id": "x1", "site": SITE}, 422, "kind missing"),
    ],
)
def test_an_approval_is_refused_with_a_4xx_and_keeps_the_device_held(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    make_token: Callable[..., str],
    approval: dict[str, Any],
    status: int,
    why: str,
) -> None:
    headers = bearer(make_token(Role.admin, (SITE,)))
    taken = {"id": "light-taken", "site": SITE, "kind": "light"}
    _hear(db, clock, "tele/taken/STATE", {"POWER": "ON"})
    assert client.post(
        f"/api/v1/quarantine/{_held_id(db, 'taken')}/approve", json=taken, headers=headers
    ).is_success
    _hear(db, clock, "tele/corridor/STATE", {"POWER": "ON"})
    held = _held_id(db, "corridor")
    response = client.post(f"/api/v1/quarantine/{held}/approve", json=approval, headers=headers)
    assert response.status_code == status, (why, response.text)
    assert "error" in response.json()
    assert db.get(QuarantinedDevice, held) is not None
    assert db.get(Device, "x1") is None


def test_only_admins_see_or_register_held_devices(
    client: TestClient, db: Session, clock: ManualClock, make_token: Callable[..., str]
) -> None:
    _hear(db, clock, "tele/corridor/LWT", b"Online")
    held = _held_id(db, "corridor")
    for role in (Role.manager, Role.engineer, Role.front_desk):
        headers = bearer(make_token(role))
        assert client.get("/api/v1/quarantine", headers=headers).status_code == 403
        approval = {"id": "x1", "site": SITE, "kind": "light"}
        url = f"/api/v1/quarantine/{held}/approve"
        assert client.post(url, json=approval, headers=headers).status_code == 403
        assert client.delete(f"/api/v1/quarantine/{held}", headers=headers).status_code == 403


def test_a_dismissed_device_is_held_again_when_it_speaks_again(
    client: TestClient, db: Session, clock: ManualClock, make_token: Callable[..., str]
) -> None:
    headers = bearer(make_token(Role.admin))
    _hear(db, clock, "tele/corridor/LWT", b"Online")
    held = _held_id(db, "corridor")
    assert client.delete(f"/api/v1/quarantine/{held}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/quarantine/{held}", headers=headers).status_code == 404
    _hear(db, clock, "tele/corridor/LWT", b"Online")
    assert client.get("/api/v1/quarantine", headers=headers).json()["total"] == 1


_NAMES = st.text(
    st.characters(blacklist_characters="+#/", blacklist_categories=("Cc",)), min_size=1, max_size=40
) | st.text(min_size=1, max_size=40).filter(
    lambda t: "/" not in t and "+" not in t and "#" not in t
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=_NAMES, payload=st.binary(max_size=200))
def test_any_friendly_name_and_payload_is_held_and_listed(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    make_token: Callable[..., str],
    name: str,
    payload: bytes,
) -> None:
    """Control characters, any text, invalid UTF-8: held on both databases; a name MQTT
    forbids (U+0000) or no database stores (a lone surrogate) is a `bad_topic` dead letter."""
    headers = bearer(make_token(Role.admin))
    result = _hear(db, clock, f"zigbee2mqtt/{name}", payload)
    unstorable = "\x00" in name or any(0xD800 <= ord(c) <= 0xDFFF for c in name)
    if unstorable:
        assert result.reasons == {"bad_topic": 1}
    else:
        assert result.quarantined == 1
    listed = client.get("/api/v1/quarantine", headers=headers)
    assert listed.status_code == 200
    assert listed.json()["total"] >= 1
