"""The forecast pages: a device's forecast line, running out soon, the parts store; zh and en."""

from __future__ import annotations

import re
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

RAW = re.compile(r"paper_pct|soap_pct|outlook:|quantity:|stock:|\bNone\b|\bTrue\b|\d{4}-\d\d-\d\dT")


def _restroom(db: Session, clock: ManualClock) -> None:
    (wc,) = register(db, clock, SITE, [("wc-club-1", DeviceKind.restroom, "club/1/wc")]).values()
    for k in range(60):
        clock.advance(timedelta(minutes=10))
        send(db, clock, wc, {"paper_pct": 90.0 - k, "soap_pct": 95.0})
    forecast_pass(session=db, rules=RuleBook(), policy=SlaPolicy(), now=clock.now())


def _text(html: str) -> str:
    body = re.sub(r"<script.*?</script>|<[^>]+>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", body)


def test_the_device_page_shows_the_forecast_line_and_run_out(
    client: TestClient, make_token: Callable[..., str], db: Session, clock: ManualClock
) -> None:
    _restroom(db, clock)
    headers = bearer(make_token(Role.engineer))
    page = client.get("/engineer/devices/wc-club-1?lang=zh", headers=headers)
    assert page.status_code == 200, page.text
    assert 'id="forecast"' in page.text
    assert "<polyline" in page.text
    assert "<polygon" in page.text
    text = _text(page.text)
    assert "卫生纸" in text
    assert "预计用完" in text
    assert not RAW.search(text), RAW.search(text)
    english = _text(client.get("/engineer/devices/wc-club-1?lang=en", headers=headers).text)
    assert "Paper" in english
    assert "Runs out" in english


def test_running_out_soon_lists_the_dispenser_with_its_order(
    client: TestClient, make_token: Callable[..., str], db: Session, clock: ManualClock
) -> None:
    _restroom(db, clock)
    page = client.get("/forecasts?lang=en", headers=bearer(make_token(Role.cleaner)))
    assert page.status_code == 200, page.text
    soon = page.text.split('id="soon"')[1].split("</section>")[0]
    assert 'data-device="wc-club-1"' in soon
    assert "order #" in _text(soon)
    assert not RAW.search(_text(page.text))
    assert (
        client.get(
            "/forecasts?site=maple-court", headers=bearer(make_token(Role.cleaner))
        ).status_code
        == 404
    )
    assert (
        client.get("/forecasts?bogus=1", headers=bearer(make_token(Role.cleaner))).status_code
        == 422
    )


def test_the_parts_page_shows_stock_forecast_and_history(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    manager = bearer(make_token(Role.manager))
    part = client.post(
        "/api/v1/parts",
        json={
            "site": SITE,
            "name": "灯管",
            "name_en": "Lamp",
            "unit": "支",
            "stock": 3,
            "min_stock": 5,
        },
        headers=manager,
    ).json()
    page = client.get("/parts?lang=zh", headers=manager)
    assert page.status_code == 200, page.text
    text = _text(page.text)
    assert "灯管" in text
    assert "现在需要补货" in text
    assert "盘点修正" in text
    assert f'data-part="{part["id"]}"' in page.text
    assert not RAW.search(text)
    assert "Reorder now" in _text(client.get("/parts?lang=en", headers=manager).text)
    home = client.get("/manager?lang=zh", headers=manager)
    assert home.status_code == 200, home.text
    reorders = home.text.split('id="reorders"')[1].split("</section>")[0]
    assert f'data-part="{part["id"]}"' in reorders
    assert "需补货的备件" in _text(home.text)
    assert client.get("/parts", headers=bearer(make_token(Role.cleaner))).status_code == 403
