"""The gate dispute in a browser: the page opens with the press onto the car in zh and en, at
a desk's width and a phone's; the printable report's first page drawn by poppler. The
screenshots land beside the other pages' (see test_browser.py)."""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import datetime

import httpx

from hub.clock import SystemClock
from hub.registry.enums import DeviceKind
from hub.registry.service import add_device
from tests.dashboards.conftest import LiveHub
from tests.dashboards.test_browser import _page, _shot, _sign_in, browser, requested

__all__ = ["browser", "requested"]

ZH = "道闸由岗亭按钮落杆,当时有车辆停在线圈上"
EN = "The arm was lowered from the booth button while a vehicle stood on the loop"


def _gate_case(hub: LiveHub) -> int:
    gate = f"gate-garage-{hub.site.rsplit('-', 1)[-1]}"
    with hub.sessions.begin() as session:
        add_device(
            session=session, device_id=gate, site_id=hub.site, kind=DeviceKind.gate,
            now=hub_now(), name="车库入口道闸", location_path="garage/entrance",
        )  # fmt: skip
    topic = f"fh/{hub.site}/gate/{gate}"
    for _ in range(12):
        hub.publisher.publish(f"{topic}/telemetry", {"arm": "down", "loop_occupied": False})
    hub.publisher.publish(
        f"{topic}/event", {"type": "arm_up", "source": "plate_match", "loop_occupied": True}
    )
    hub.publisher.publish(f"{topic}/event", {"type": "vehicle_in", "plate": "粤B12345"})
    hub.publisher.publish(
        f"{topic}/event", {"type": "arm_down", "source": "manual_button", "loop_occupied": True}
    )
    token = hub.tokens["manager"]
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # until the bridge has taken the press
        orders = httpx.get(f"{hub.base}/api/v1/work-orders?source=sensor", headers=headers).json()
        if any(o.get("device_id") == gate for o in orders):
            break
        time.sleep(0.2)
    created = httpx.post(
        f"{hub.base}/api/v1/complaints", headers=headers,
        json={"content": "车库入口道闸砸到我的车,要求物业赔偿", "location": "garage/entrance"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def hub_now() -> datetime:
    return SystemClock().now()


def test_the_gate_dispute_page_and_its_pdf(
    browser: object, sqlite_hub: LiveHub, requested: list[str]
) -> None:
    hub = sqlite_hub
    complaint = _gate_case(hub)
    for width, height in ((1366, 900), (390, 844)):
        page = _page(browser, hub, requested, viewport={"width": width, "height": height})
        _sign_in(page, hub, hub.tokens["manager"], "/manager")
        for lang, phrase in (("zh", ZH), ("en", EN)):
            url = f"{hub.base}/manager/disputes/{complaint}?lang={lang}"
            page.goto(url, wait_until="domcontentloaded")  # type: ignore[attr-defined]
            first = page.inner_text(".findings-list li:first-child")  # type: ignore[attr-defined]
            assert phrase in first, first
            assert page.query_selector("ol.timeline li.decisive")  # type: ignore[attr-defined]
            _shot(page, hub, f"dispute-gate-{lang}-{width}")
        page.context.close()  # type: ignore[attr-defined]
    pdf = httpx.get(
        f"{hub.base}/api/v1/complaints/{complaint}/evidence",
        params={"format": "pdf"}, headers={"Authorization": f"Bearer {hub.tokens['manager']}"},
    )  # fmt: skip
    assert pdf.status_code == 200
    path = hub.screenshots / "dispute-gate.pdf"
    path.write_bytes(pdf.content)
    tool = shutil.which("pdftoppm")
    if tool:
        subprocess.run([tool, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(path),
                        str(hub.screenshots / "dispute-gate-pdf-page1")], check=True)  # fmt: skip
        hub.shot_names.append("dispute-gate-pdf-page1.png")
