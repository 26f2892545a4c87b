"""The forecast pages in Chromium: a dispenser's readings over MQTT, the forecast pass, then
the manager's running-out list, the device's forecast line and the parts store, zh and en."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from hub.alarms.rules import RuleBook
from hub.forecasts.flows import forecast_pass
from hub.workorders.policy import SlaPolicy
from tests.bridges.conftest import wait_for
from tests.dashboards.conftest import LiveHub

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium, once for the module."""
    if not os.access(CHROMIUM, os.X_OK):
        from tests.services import unavailable

        unavailable("chromium", CHROMIUM)
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _forecast(hub: LiveHub, device: str) -> None:
    start = datetime.now(UTC) - timedelta(minutes=400)
    for k in range(40):
        ts = (start + k * timedelta(minutes=10)).isoformat()
        hub.publish(device, {"id": f"fc-{k}", "ts": ts, "paper_pct": 60.0 - k, "soap_pct": 90.0})

    def passed() -> bool:
        with hub.sessions() as session:
            done = forecast_pass(
                session=session, rules=RuleBook(), policy=SlaPolicy(), now=datetime.now(UTC)
            )
            session.commit()
            return done.raised > 0

    assert wait_for(passed, timeout=30, every=0.5)


def test_the_manager_sees_what_runs_out_and_the_forecast_line(
    browser: object, sqlite_hub: LiveHub
) -> None:
    hub = sqlite_hub
    device = next(d for d, (k, s) in hub.devices.items() if k == "restroom" and s == hub.site)
    _forecast(hub, device)
    context = browser.new_context(  # type: ignore[attr-defined]
        locale="zh-CN",
        extra_http_headers={"Authorization": f"Bearer {hub.tokens['manager']}"},
    )
    requested: list[str] = []
    context.on("request", lambda r: requested.append(r.url))
    page = context.new_page()
    page.goto(hub.base + "/forecasts", wait_until="domcontentloaded")
    row = f"#soon li[data-device='{device}']"
    page.wait_for_selector(row)
    assert "卫生纸" in page.inner_text(row)
    assert "#" in page.inner_text(row)  # the order handling it
    page.screenshot(path=str(hub.screenshots / "forecasts.png"), full_page=True)
    page.goto(hub.base + f"/engineer/devices/{device}?lang=en", wait_until="domcontentloaded")
    page.wait_for_selector("#forecast svg.forecast-line")
    text = page.inner_text("#forecast")
    assert "Paper" in text
    assert "Runs out" in text
    page.screenshot(path=str(hub.screenshots / "device-forecast.png"), full_page=True)
    page.goto(hub.base + "/parts?lang=zh", wait_until="domcontentloaded")
    assert "备件库" in page.inner_text("#parts")
    assert all(url.startswith(hub.base) for url in requested), requested
    context.close()
