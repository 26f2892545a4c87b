"""`GET /devices` as an engineer filters it: by status, kind and place; typos are refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.registry.enums import DeviceKind, DeviceStatus
from tests.conftest import OTHER_SITE, SITE, bearer
from tests.pipeline import register

pytestmark = pytest.mark.usefixtures("sites")

FLEET: list[tuple[str, DeviceKind, str | None, DeviceStatus]] = [
    ("light-b3-f12", DeviceKind.light, "3/12", DeviceStatus.offline),
    ("leak-b3-f12", DeviceKind.leak, "3/12/pipe-well", DeviceStatus.online),
    ("light-b3-f120", DeviceKind.light, "3/120", DeviceStatus.offline),
    ("leak-b3-f01", DeviceKind.leak, "3/1/pipe-well", DeviceStatus.late),
    ("light-b4-f12", DeviceKind.light, "4/12", DeviceStatus.online),
    ("gate-north", DeviceKind.gate, "north-gate", DeviceStatus.late),
    ("restroom-spare", DeviceKind.restroom, None, DeviceStatus.offline),
]


@pytest.fixture
def engineer(db: Session, clock: ManualClock, make_token: Callable[..., str]) -> dict[str, str]:
    """The site's devices in every status, one device elsewhere, and an engineer's header."""
    devices = register(db, clock, SITE, [(i, kind, path) for i, kind, path, _ in FLEET])
    for device_id, _kind, _path, status in FLEET:
        devices[device_id].status = status
    other = register(db, clock, OTHER_SITE, [("light-elsewhere", DeviceKind.light, "3/12")])
    other["light-elsewhere"].status = DeviceStatus.offline
    db.flush()
    return bearer(make_token(Role.engineer))


def ids(client: TestClient, headers: dict[str, str], query: str) -> list[str]:
    response = client.get(f"/api/v1/devices{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", sorted(i for i, *_ in FLEET)),
        ("?status=offline", ["light-b3-f12", "light-b3-f120", "restroom-spare"]),
        (
            "?status=online&status=late",
            ["gate-north", "leak-b3-f01", "leak-b3-f12", "light-b4-f12"],
        ),
        ("?kind=light", ["light-b3-f12", "light-b3-f120", "light-b4-f12"]),
        ("?kind=gate&kind=restroom", ["gate-north", "restroom-spare"]),
        ("?location=3/12", ["leak-b3-f12", "light-b3-f12"]),
        ("?location=3/12/", ["leak-b3-f12", "light-b3-f12"]),
        ("?location=3", ["leak-b3-f01", "leak-b3-f12", "light-b3-f12", "light-b3-f120"]),
        ("?location=3/1", ["leak-b3-f01"]),
        ("?location=3/12/pipe-well", ["leak-b3-f12"]),
        ("?location=3_1", []),  # LIKE wildcards in a prefix match themselves only
        ("?location=3%25", []),
        ("?location=9", []),
        ("?status=offline&kind=light&location=3/12", ["light-b3-f12"]),
        (f"?site={SITE}&status=late", ["gate-north", "leak-b3-f01"]),
    ],
)
def test_filters(
    client: TestClient, engineer: dict[str, str], query: str, expected: list[str]
) -> None:
    assert ids(client, engineer, query) == expected


def test_a_site_outside_the_scope_is_not_found(
    client: TestClient, engineer: dict[str, str]
) -> None:
    answer = client.get(f"/api/v1/devices?site={OTHER_SITE}", headers=engineer)
    assert answer.status_code == 404


def test_each_device_keeps_its_live_fields(client: TestClient, engineer: dict[str, str]) -> None:
    (device,) = client.get("/api/v1/devices?status=late&kind=gate", headers=engineer).json()
    assert (device["id"], device["status"], device["location"]) == (
        "gate-north",
        "late",
        "north-gate",
    )
    assert device["active_alarms"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?stauts=offline", "stauts"),
        ("?status=offline&knd=light", "knd"),
        ("?status=broken", "status.0"),
        ("?kind=light&kind=toaster", "kind.1"),
    ],
)
def test_an_unknown_name_or_value_is_a_422_naming_it(
    client: TestClient, engineer: dict[str, str], query: str, field: str
) -> None:
    response = client.get(f"/api/v1/devices{query}", headers=engineer)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["message"]
    assert [d["field"] for d in error["details"]] == [field]


@pytest.mark.parametrize("location", ["", "3//12", "/"])
def test_a_malformed_location_is_a_422(
    client: TestClient, engineer: dict[str, str], location: str
) -> None:
    response = client.get("/api/v1/devices", params={"location": location}, headers=engineer)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert "location" in response.json()["error"]["message"]


def test_the_filters_are_in_the_openapi_schema(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/devices"]["get"]
    names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert names == {"site", "kind", "status", "location"}
