"""The pages in Chromium, for each role: sign in, see a change arrive live after a real
MQTT publish, make a move, switch zh/en; a screenshot of every page for the test run;
every request stays on the hub; a user of site B sees nothing of site A, nor on the stream.

Debian's chromium (`/usr/bin/chromium`), driven by Playwright from PyPI: no browser download.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from dashboards.web import NODE_MODULES, VENDOR
from tests.bridges.conftest import wait_for
from tests.dashboards.conftest import LiveHub

playwright_api = pytest.importorskip("playwright.sync_api")

if not (NODE_MODULES / VENDOR["htmx.min.js"]).is_file():
    # Without htmx no page changes live: five time-outs of LIVE_MS would say less than this.
    pytest.skip(
        "the browser libraries are not installed (scripts/bootstrap runs npm ci)",
        allow_module_level=True,
    )

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LIVE_MS = 15000
"""How long a page may take to show a published change (it takes well under a second)."""


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


@pytest.fixture(scope="module")
def requested() -> list[str]:
    """Every URL any page of the module asked for."""
    return []


def _page(browser: object, hub: LiveHub, requested: list[str], **options: object) -> object:
    context = browser.new_context(locale="zh-CN", **options)  # type: ignore[attr-defined]
    context.on("request", lambda r: requested.append(r.url))
    return context.new_page()


def _sign_in(page: object, hub: LiveHub, token: str, home: str) -> None:
    page.goto(hub.base + "/", wait_until="domcontentloaded")  # type: ignore[attr-defined]
    page.fill("input[name=token]", token)  # type: ignore[attr-defined]
    page.click("form[action='/sign-in'] button")  # type: ignore[attr-defined]
    page.wait_for_url(f"**{home}*")  # type: ignore[attr-defined]
    _live(page)


def _live(page: object) -> None:
    """Wait until the page's stream is open (the indicator says so)."""
    page.wait_for_selector("#live.on", timeout=LIVE_MS)  # type: ignore[attr-defined]


def _shot(page: object, hub: LiveHub, name: str, full: bool = True) -> None:
    path = hub.screenshots / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full)  # type: ignore[attr-defined]
    hub.shot_names.append(path.name)


def _click_until(page: object, button: str, shown: str) -> None:
    """Click until `shown` appears: a live refresh may replace the button as it is pressed."""
    for _ in range(3):
        try:
            page.click(button, timeout=LIVE_MS / 3)  # type: ignore[attr-defined]
            page.wait_for_selector(shown, timeout=LIVE_MS / 3)  # type: ignore[attr-defined]
        except playwright_api.TimeoutError:
            if page.query_selector(shown) is None:  # type: ignore[attr-defined]
                continue
        return
    raise AssertionError(f"{shown} never appeared after pressing {button}")


def _device(hub: LiveHub, prefix: str) -> str:
    return next(d for d, (_k, s) in hub.devices.items() if d.startswith(prefix) and s == hub.site)


def test_the_engineer_sees_a_leak_live_and_takes_the_order(
    browser: object, sqlite_hub: LiveHub, requested: list[str]
) -> None:
    hub = sqlite_hub
    page = _page(browser, hub, requested, viewport={"width": 1280, "height": 900})
    page.goto(hub.base + "/", wait_until="domcontentloaded")  # type: ignore[attr-defined]
    _shot(page, hub, "signin", full=False)
    _sign_in(page, hub, hub.tokens["engineer"], "/engineer")
    page.select_option("select[name=building]", "2")  # type: ignore[attr-defined]
    leak = _device(hub, "leak-b2-f05")
    tile = f".tile[data-device='{leak}']"
    page.wait_for_selector(tile)  # type: ignore[attr-defined]
    hub.publish(leak, {"leak": True, "battery": 90})
    page.wait_for_selector(f"{tile}.s-alarm", timeout=LIVE_MS)  # type: ignore[attr-defined]
    assert "告警" in page.inner_text(tile)  # type: ignore[attr-defined]
    page.wait_for_selector("#orders button[value=dispatched]", timeout=LIVE_MS)  # type: ignore[attr-defined]
    page.wait_for_selector("#alarms form", timeout=LIVE_MS)  # type: ignore[attr-defined]
    _shot(page, hub, "engineer-alarm")
    _click_until(page, "#orders button[value=dispatched]", "#orders button[value=on_site]")
    _click_until(page, "#orders button[value=on_hold]", "#order-error .error")  # no reason
    _click_until(page, "#orders button[value=on_site]", "#orders button[value=resolved]")
    assert "已到场" in page.inner_text("#orders")  # type: ignore[attr-defined]
    page.click("#alarms form button")  # type: ignore[attr-defined]
    page.wait_for_selector("#alarms :text('已确认')", timeout=LIVE_MS)  # type: ignore[attr-defined]
    page.click("text=English")  # type: ignore[attr-defined]
    page.wait_for_selector("h1:text('Devices')")  # type: ignore[attr-defined]
    _shot(page, hub, "engineer-en")
    paper = _device(hub, "paper-")
    now = datetime.now(UTC)
    for hour in range(20, -1, -1):  # a day of a dispenser running down and refilled once
        level = max(0, 100 - (20 - hour) * 9) if hour > 6 else 100 - (6 - hour) * 4
        at = (now - timedelta(hours=hour)).isoformat()
        hub.publish(paper, {"ts": at, "paper_pct": level, "soap_pct": 80 - (20 - hour)})
    page.goto(f"{hub.base}/engineer/devices/{paper}?range=24h", wait_until="domcontentloaded")  # type: ignore[attr-defined]
    page.wait_for_selector("#chart, .chart-box .empty")  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    _shot(page, hub, "device-chart")
    page.context.close()  # type: ignore[attr-defined]


def test_the_engineer_page_fits_a_phone(
    browser: object, sqlite_hub: LiveHub, requested: list[str]
) -> None:
    hub = sqlite_hub
    page = _page(browser, hub, requested, viewport={"width": 390, "height": 844}, is_mobile=True)
    _sign_in(page, hub, hub.tokens["engineer"], "/engineer")
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 390
    _shot(page, hub, "engineer-phone")
    page.context.close()  # type: ignore[attr-defined]


def test_the_desk_sees_the_queue_live_the_known_issue_and_the_phrase_check(
    browser: object, sqlite_hub: LiveHub, requested: list[str]
) -> None:
    hub = sqlite_hub
    page = _page(browser, hub, requested, viewport={"width": 1280, "height": 900})
    _sign_in(page, hub, hub.tokens["front_desk"], "/desk")
    leak = _device(hub, "leak-b3-f12")
    hub.publish(leak, {"leak": True})
    # the order the leak opened, titled by what and where (漏水 — 3号楼12层管井)
    page.wait_for_selector("#queue :text('漏水 — 3号楼12层管井')", timeout=LIVE_MS)  # type: ignore[attr-defined]
    page.fill("#content", "3号楼12层管井漏水,楼道里都是水")  # type: ignore[attr-defined]
    page.wait_for_selector("#lookup .known", timeout=LIVE_MS)  # type: ignore[attr-defined]
    page.fill("#reply-check textarea", "这个我不太清楚")  # type: ignore[attr-defined]
    page.wait_for_selector("#phrases .warnings", timeout=LIVE_MS)  # type: ignore[attr-defined]
    page.fill("input[name=complainant_phone]", "13800000009")  # type: ignore[attr-defined]
    page.click("#intake button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("#intake-result .result", timeout=LIVE_MS)  # type: ignore[attr-defined]
    assert "已登记" in page.inner_text("#intake-result")  # type: ignore[attr-defined]
    _shot(page, hub, "desk")
    page.click("text=English")  # type: ignore[attr-defined]
    page.wait_for_selector("h1:text('New ledger entry')")  # type: ignore[attr-defined]
    page.context.close()  # type: ignore[attr-defined]


def test_the_manager_sees_changes_live_and_a_disputes_timeline(
    browser: object, sqlite_hub: LiveHub, requested: list[str]
) -> None:
    hub = sqlite_hub
    token = hub.tokens["manager"]
    created = httpx.post(
        f"{hub.base}/api/v1/complaints",
        headers={"Authorization": f"Bearer {token}"},
        json={"content": "2号楼5层管井漏水,水漫到我家门口", "location": "2/5"},
    )
    assert created.status_code == 201, created.text
    complaint = created.json()["id"]
    page = _page(browser, hub, requested, viewport={"width": 1280, "height": 900})
    _sign_in(page, hub, token, "/manager")
    hub.publish(_device(hub, "leak-b2-f05"), {"leak": False})
    page.wait_for_selector("#feed li[data-type=alarm]", timeout=LIVE_MS)  # type: ignore[attr-defined]
    _shot(page, hub, "manager")
    page.goto(f"{hub.base}/manager/disputes/{complaint}", wait_until="domcontentloaded")  # type: ignore[attr-defined]
    page.wait_for_selector("ol.timeline li")  # type: ignore[attr-defined]
    _shot(page, hub, "dispute-timeline")
    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.click("form[action$='/export'] button")  # type: ignore[attr-defined]
    assert download.value.suggested_filename.endswith(".zip")
    page.click("text=English")  # type: ignore[attr-defined]
    page.wait_for_selector("h1:text('Evidence')")  # type: ignore[attr-defined]
    page.context.close()  # type: ignore[attr-defined]


def test_a_user_of_site_b_sees_nothing_of_site_a_on_the_page_or_the_stream(
    browser: object, sqlite_hub: LiveHub, requested: list[str]
) -> None:
    hub = sqlite_hub
    page = _page(browser, hub, requested, viewport={"width": 1280, "height": 900})
    _sign_in(page, hub, hub.other_engineer, "/engineer")
    page.evaluate(  # type: ignore[attr-defined]
        """() => { window.got = []; window.opened = false;
        const s = new EventSource('/api/v1/stream'); s.onopen = () => { window.opened = true; };
        ['alarm','work_order','device','complaint','notice'].forEach(t =>
          s.addEventListener(t, e => window.got.push(JSON.parse(e.data).site))); }"""
    )
    assert wait_for(lambda: page.evaluate("() => window.opened"), LIVE_MS / 1000)  # type: ignore[attr-defined]
    hub.publish(_device(hub, "light-b2-f05"), {"on": False})
    maple = next(d for d, (_k, s) in hub.devices.items() if s == hub.other)
    hub.publish(maple, {"leak": False})
    # (polled from here: the pages' policy forbids evaluating strings, as it should)
    assert wait_for(lambda: page.evaluate("() => window.got.length") > 0, LIVE_MS / 1000)  # type: ignore[attr-defined]
    page.wait_for_timeout(1000)  # type: ignore[attr-defined]
    sites = page.evaluate("window.got")  # type: ignore[attr-defined]
    assert set(sites) == {hub.other}
    # Its reading brought the device back: the tile says so without a reload.
    page.wait_for_selector(f".tile[data-device='{maple}'].s-online", timeout=LIVE_MS)  # type: ignore[attr-defined]
    text = page.inner_text("main")  # type: ignore[attr-defined]
    assert not any(d in text for d, (_k, s) in hub.devices.items() if s == hub.site)
    _shot(page, hub, "site-b-engineer")
    page.context.close()  # type: ignore[attr-defined]


def test_every_request_stayed_on_the_hub(sqlite_hub: LiveHub, requested: list[str]) -> None:
    assert requested
    outside = [u for u in requested if not (u.startswith(sqlite_hub.base) or u.startswith("data:"))]
    assert not outside
    print("screenshots in", Path(sqlite_hub.screenshots), sorted(sqlite_hub.shot_names))
