"""The desk's ledger through `GET /complaints`: words, phone, unit, channel and period, with
the unit as typed kept when the registry lacks it, and satisfaction on the callback move."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.registry.service import ensure_location
from tests.complaints.test_api import file, move
from tests.conftest import SITE, bearer

BASE = "/api/v1/complaints"

pytestmark = pytest.mark.usefixtures("sites")


@pytest.fixture
def desk(make_token: Callable[..., str]) -> dict[str, str]:
    return bearer(make_token(Role.front_desk))


def ids(client: TestClient, headers: dict[str, str], **query: Any) -> list[int]:
    response = client.get(BASE, params=query, headers=headers)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()]


def test_the_ledger_is_searched_by_words_phone_unit_channel_and_period(
    client: TestClient, desk: dict[str, str], db: Session, clock: ManualClock
) -> None:
    ensure_location(session=db, site_id=SITE, path="3/12/1201")
    ensure_location(session=db, site_id=SITE, path="1/6")  # the floor, not the unit
    light = file(
        client,
        desk,
        content="3号楼12层走廊灯坏了",
        complainant_name="王女士",
        complainant_phone="138-0000-0001",
        unit="3/12/1201",
        channel="visit",
    )
    clock.advance(hours=2)
    leak = file(
        client,
        desk,
        content="家里水管爆了 100%_真的",
        complainant_name="Mr Li",
        complainant_phone="13900000002",
        unit="1/6/601",
    )
    assert (leak["unit"], leak["unit_text"], leak["location"]) == (None, "1/6/601", "1/6")
    assert not any("common area" in r for r in leak["classification"]["reasons"])  # a home
    assert ids(client, desk, q="走廊灯") == [light["id"]]
    assert ids(client, desk, q="王女士") == [light["id"]]
    assert ids(client, desk, q="mr li") == [leak["id"]]
    assert ids(client, desk, q="100%_") == [leak["id"]]
    assert ids(client, desk, q="%") == [leak["id"]]  # a literal percent sign, not a wildcard
    assert ids(client, desk, q="0000 0001") == [light["id"]]
    assert ids(client, desk, phone="13900000002") == [leak["id"]]
    assert ids(client, desk, phone="+86 138 0000 0001") == [light["id"]]
    assert ids(client, desk, unit="3/12/1201") == [light["id"]]
    assert ids(client, desk, unit="1201") == [light["id"]]
    assert ids(client, desk, unit="3") == [light["id"]]
    assert ids(client, desk, unit="1/6/601") == [leak["id"]]
    assert ids(client, desk, q="3/12") == [light["id"]]
    assert ids(client, desk, channel="visit") == [light["id"]]
    assert ids(client, desk, channel=["visit", "phone"]) == [leak["id"], light["id"]]
    since = (clock.now() - timedelta(hours=1)).isoformat()
    assert ids(client, desk, since=since) == [leak["id"]]
    assert ids(client, desk, until=since) == [light["id"]]
    assert ids(client, desk, q="nothing like it") == []
    assert ids(client, desk, limit=1, offset=1) == [light["id"]]
    assert ids(client, desk, q="走廊灯", brief="true") == [light["id"]]  # the ledger's rows


@pytest.mark.parametrize(
    "query",
    [
        {"phone": "call me"},
        {"q": "x" * 201},
        {"unit": "9" * 401},
        {"channel": "pigeon"},
        {"since": "2026-12-01T00:00:00"},
        {"q": "a\x00b"},
        {"unit": "\x00"},
    ],
)
def test_bad_ledger_queries_are_refused_not_failed(
    client: TestClient, desk: dict[str, str], query: dict[str, str]
) -> None:
    response = client.get(BASE, params=query, headers=desk)
    assert response.status_code == 422, response.text
    assert set(response.json()["error"]) >= {"code", "message"}


def test_the_callback_records_satisfaction(
    client: TestClient, desk: dict[str, str], db: Session
) -> None:
    case = file(client, desk, content="3号楼12层走廊灯坏了")
    for to, extra in [
        ("verified", {}),
        ("investigating", {}),
        ("assigned", {"assignee": "eng-wang"}),
        ("remedy_proposed", {}),
    ]:
        move(client, desk, case["id"], to, **extra)
    told = client.post(
        f"{BASE}/{case['id']}/replies",
        json={"text": "工程部今天下午换灯", "purpose": "remedy"},
        headers=desk,
    )
    assert told.status_code == 201, told.text
    for to in ("replied", "implementing", "resolved"):
        move(client, desk, case["id"], to)
    bad = client.post(
        f"{BASE}/{case['id']}/transitions",
        json={"to": "callback", "outcome": "satisfied", "satisfaction": 6},
        headers=desk,
    )
    assert bad.status_code == 422
    done = move(client, desk, case["id"], "callback", outcome="satisfied", satisfaction=4)
    assert (done["callback_outcome"], done["satisfaction"]) == ("satisfied", 4)
    assert client.get(f"{BASE}/{case['id']}", headers=desk).json()["satisfaction"] == 4
