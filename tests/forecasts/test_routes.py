"""GET /forecasts: the contract's fields, the order handling the device, bad filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.alarms.rules import RuleBook
from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.forecasts.flows import forecast_pass
from hub.registry.enums import DeviceKind
from hub.workorders.policy import SlaPolicy
from tests.conftest import SITE, bearer
from tests.pipeline import register, send

URL = "/api/v1/forecasts"


def test_forecasts_carry_the_contract_fields_and_their_order(
    client: TestClient, make_token: Callable[..., str], db: Session, clock: ManualClock
) -> None:
    (wc,) = register(db, clock, SITE, [("wc-1", DeviceKind.restroom, "1/2/wc")]).values()
    for k in range(90):
        clock.advance(timedelta(minutes=10))
        send(db, clock, wc, {"paper_pct": 100.0 - k, "soap_pct": 80.0})
    forecast_pass(session=db, rules=RuleBook(), policy=SlaPolicy(), now=clock.now())
    headers = bearer(make_token(Role.cleaner))
    body = client.get(URL, params={"kind": "restroom"}, headers=headers).json()
    paper = next(i for i in body["items"] if i["quantity"] == "paper_pct")
    assert set(paper) >= {
        "device_id",
        "quantity",
        "level",
        "rate_per_hour",
        "runs_out_at",
        "confidence",
        "order_id",
        "based_on",
    }
    assert paper["device_id"] == "wc-1"
    assert abs(paper["rate_per_hour"] - 6.0) < 0.01
    assert paper["order_id"] is not None  # 11 % at 6 %/h: the forecast order is open
    assert paper["based_on"]["readings"] == 90
    soap = next(i for i in body["items"] if i["quantity"] == "soap_pct")
    assert soap["outlook"] == "flat"
    assert soap["runs_out_at"] is None
    assert client.get(URL, params={"device_id": "nope"}, headers=headers).json()["items"] == []
    assert client.get(URL, params={"kind": "toaster"}, headers=headers).status_code == 422
    assert client.get(URL, params={"device_id": "a\x00"}, headers=headers).status_code in (400, 422)
    assert client.get(URL, params={"quantity": "x"}, headers=headers).status_code == 422
