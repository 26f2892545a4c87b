"""The alarm API, and alarms shown on devices and work orders."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from hub.registry.models import Device
from tests.conftest import OTHER_SITE, SITE, bearer
from tests.pipeline import register, send

pytestmark = pytest.mark.usefixtures("sites")


@pytest.fixture
def leak(db: Session, clock: ManualClock) -> Device:
    """A leaking sensor with its alarm and order."""
    device = register(db, clock, SITE, [("leak-4-3", DeviceKind.leak, "4/3/pipe-well")])["leak-4-3"]
    send(db, clock, device, {"leak": True})
    return device


def test_list_ack_and_clear(
    client: TestClient, make_token: Callable[..., str], leak: Device, clock: ManualClock
) -> None:
    engineer = bearer(make_token(Role.engineer))
    (alarm,) = client.get("/api/v1/alarms", headers=engineer).json()
    assert (alarm["type"], alarm["status"], alarm["device_id"]) == (
        "leak_detected",
        "active",
        leak.id,
    )
    assert alarm["work_order_id"] is not None
    clock.advance(minutes=1)
    acked = client.post(f"/api/v1/alarms/{alarm['id']}/ack", headers=engineer)
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acked"
    assert acked.json()["acked_at"] == clock.now().isoformat().replace("+00:00", "Z")
    assert client.get("/api/v1/alarms?status=active", headers=engineer).json() == []
    assert len(client.get("/api/v1/alarms?status=acked", headers=engineer).json()) == 1
    again = client.post(f"/api/v1/alarms/{alarm['id']}/ack", headers=engineer)
    assert again.json()["acked_at"] == acked.json()["acked_at"]
    cleared = client.post(f"/api/v1/alarms/{alarm['id']}/clear", headers=engineer)
    assert cleared.json()["status"] == "cleared"
    assert client.post(f"/api/v1/alarms/{alarm['id']}/clear", headers=engineer).status_code == 409
    assert len(client.get("/api/v1/alarms?status=cleared", headers=engineer).json()) == 1


def test_other_sites_and_bad_filters(
    client: TestClient, make_token: Callable[..., str], leak: Device
) -> None:
    outsider = bearer(make_token(Role.manager, site_ids=(OTHER_SITE,)))
    assert client.get("/api/v1/alarms", headers=outsider).json() == []
    mine = bearer(make_token(Role.manager))
    alarm_id = client.get("/api/v1/alarms", headers=mine).json()[0]["id"]
    assert client.post(f"/api/v1/alarms/{alarm_id}/ack", headers=outsider).status_code == 404
    bad = client.get("/api/v1/alarms?status=sleeping", headers=mine)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_error"
    cleaner = bearer(make_token(Role.cleaner))
    assert client.post(f"/api/v1/alarms/{alarm_id}/clear", headers=cleaner).status_code == 403


def test_devices_and_orders_show_their_alarms(
    client: TestClient, make_token: Callable[..., str], leak: Device
) -> None:
    headers = bearer(make_token(Role.front_desk))
    device = client.get(f"/api/v1/devices/{leak.id}", headers=headers).json()
    (active,) = device["active_alarms"]
    assert active["type"] == "leak_detected"
    listed = client.get("/api/v1/devices", headers=headers).json()
    assert [d["active_alarms"][0]["id"] for d in listed if d["id"] == leak.id] == [active["id"]]
    order = client.get(f"/api/v1/work-orders/{active['work_order_id']}", headers=headers).json()
    assert order["alarm_ids"] == [active["id"]]
    assert order["source"] == "sensor"
    orders = client.get("/api/v1/work-orders?source=sensor", headers=headers).json()
    assert orders[0]["alarm_ids"] == [active["id"]]
