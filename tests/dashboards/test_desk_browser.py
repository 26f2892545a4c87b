"""The front desk's day in a real browser (Debian's chromium): register, find by phone, open,
press every move to archived, a remedy reply, a work order, the callback with satisfaction;
a refused move shows its reason; bad entries get a message. Each step checked through the
API. Screenshots of the ledger and the complaint in zh and en, at 1366 and 390 px wide.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.dashboards.conftest import LiveHub
from tests.dashboards.test_browser import LIVE_MS, _page, _shot, _sign_in, browser, requested

__all__ = ["browser", "requested"]

playwright_api = pytest.importorskip("playwright.sync_api")


def _api(hub: LiveHub, path: str) -> Any:
    answer = httpx.get(
        f"{hub.base}/api/v1{path}", headers={"Authorization": f"Bearer {hub.tokens['front_desk']}"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _press(page: Any, button: str, then: str) -> None:
    """Press a button of the complaint's page until `then` shows (a live refresh may redraw
    the section as it is pressed)."""
    for _ in range(3):
        try:
            page.click(button, timeout=LIVE_MS / 3)
            page.wait_for_selector(then, timeout=LIVE_MS / 3)
        except playwright_api.TimeoutError:
            if page.query_selector(then) is None:
                continue
        return
    raise AssertionError(f"{then} never appeared after pressing {button}")


def _status(hub: LiveHub, cid: int) -> str:
    return str(_api(hub, f"/complaints/{cid}")["status"])


def _move(page: Any, hub: LiveHub, cid: int, to: str) -> None:
    _press(page, f"button[data-move='{to}']", f"#status[data-status='{to}']")
    assert _status(hub, cid) == to


def test_the_desk_works_a_complaint_from_receipt_to_archive(
    browser: object, sqlite_hub: LiveHub, requested: list[str]
) -> None:
    hub = sqlite_hub
    page: Any = _page(browser, hub, requested, viewport={"width": 1366, "height": 900})
    _sign_in(page, hub, hub.tokens["front_desk"], "/desk")
    page.fill("#content", "4-2-301家里水管爆了，水流了一地")
    page.wait_for_selector("#lookup .unknown-place", timeout=LIVE_MS)  # said so, no flood
    page.fill("input[name=complainant_name]", "赵先生")
    page.fill("input[name=complainant_phone]", "13800000077")
    page.click("#intake button[type=submit]")
    page.wait_for_selector("#intake-result .result", timeout=LIVE_MS)
    page.goto(f"{hub.base}/desk/complaints?phone=13800000077", wait_until="domcontentloaded")
    page.click("#ledger a[href^='/desk/complaints/']")
    page.wait_for_selector("#status[data-status='received']")
    cid = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    assert _api(hub, f"/complaints/{cid}")["unit_text"] == "4-2-301"
    _move(page, hub, cid, "verified")
    _move(page, hub, cid, "investigating")
    page.fill("form:has(button[data-move='assigned']) input[name=assignee]", "eng-wang")
    _move(page, hub, cid, "assigned")
    page.click("button[data-action='open-work-order']")
    page.wait_for_selector("#orders li[data-order]")
    (order_id,) = _api(hub, f"/complaints/{cid}")["work_order_ids"]
    assert "4-2-301" in _api(hub, f"/work-orders/{order_id}")["title"]
    engineer = {"Authorization": f"Bearer {hub.tokens['engineer']}"}
    taken = httpx.post(
        f"{hub.base}/api/v1/work-orders/{order_id}/transitions",
        json={"to": "dispatched", "assignee": "eng-wang"},
        headers=engineer,
    )
    assert taken.status_code == 200, taken.text
    # The order moved elsewhere: the complaint's page shows it without a reload.
    moved = f"#orders li[data-order='{order_id}'] .tag:text('已派单')"
    page.wait_for_selector(moved, timeout=LIVE_MS)
    _move(page, hub, cid, "remedy_proposed")
    _press(page, "button[data-move='replied']", "#refusal")  # no remedy told yet: refused
    assert "处理方案" in page.inner_text("#refusal")
    assert _status(hub, cid) == "remedy_proposed"
    page.fill("#reply-form textarea[name=text]", "工程部马上上门关阀维修，今天修好")
    page.select_option("#reply-form select[name=purpose]", "remedy")
    page.click("button[data-action='reply']")
    page.wait_for_selector("#replies li:has-text('今天修好')")
    assert [r["purpose"] for r in _api(hub, f"/complaints/{cid}")["replies"]] == ["remedy"]
    for to in ("replied", "implementing", "resolved"):
        _move(page, hub, cid, to)
    page.select_option("form:has(button[data-move='callback']) select[name=outcome]", "satisfied")
    page.select_option("form:has(button[data-move='callback']) select[name=satisfaction]", "4")
    _move(page, hub, cid, "callback")
    assert _api(hub, f"/complaints/{cid}")["satisfaction"] == 4
    _shot(page, hub, "complaint-zh-1366")
    _move(page, hub, cid, "archived")
    assert page.query_selector("button[data-move]") is None
    page.goto(f"{hub.base}/desk/complaints/{cid}?lang=en", wait_until="domcontentloaded")
    _shot(page, hub, "complaint-en-1366")
    page.goto(f"{hub.base}/desk/complaints?lang=en", wait_until="domcontentloaded")
    _shot(page, hub, "ledger-en-1366")
    page.goto(f"{hub.base}/desk/complaints?lang=zh", wait_until="domcontentloaded")
    _shot(page, hub, "ledger-zh-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, hub, "ledger-zh-390")
    page.goto(f"{hub.base}/desk/complaints/{cid}?lang=en", wait_until="domcontentloaded")
    _shot(page, hub, "complaint-en-390")
    page.goto(f"{hub.base}/desk/complaints/{cid}?lang=zh", wait_until="domcontentloaded")
    _shot(page, hub, "complaint-zh-390")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the page is {wide} px wide on a phone"
    page.goto(f"{hub.base}/desk/complaints?lang=en", wait_until="domcontentloaded")
    _shot(page, hub, "ledger-en-390")
    keep = os.environ.get("FH_SCREENSHOTS")
    if keep:
        for shot in Path(hub.screenshots).glob("*-1366.png"):
            shutil.copy(shot, keep)
        for shot in Path(hub.screenshots).glob("*-390.png"):
            shutil.copy(shot, keep)
    page.context.close()


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("#content", "", "请填写业主反映的内容"),
        ("input[name=complainant_phone]", "call me", "电话号码只能包含数字"),
        ("input[name=unit]", "3" * 500, "房号或位置最多 400 个字符"),
        ("#content", "水管\x00爆了", "无法保存的字符"),
    ],
)
def test_a_bad_entry_gets_a_message_on_the_page(
    browser: object, sqlite_hub: LiveHub, requested: list[str], field: str, value: str, said: str
) -> None:
    hub = sqlite_hub
    page: Any = _page(browser, hub, requested, viewport={"width": 1366, "height": 900})
    _sign_in(page, hub, hub.tokens["front_desk"], "/desk")
    before = len(_api(hub, "/complaints"))
    if field != "#content":
        page.fill("#content", "楼道灯坏了")
    page.evaluate(
        "([sel, value]) => { const el = document.querySelector(sel);"
        " el.removeAttribute('maxlength'); el.removeAttribute('required'); el.value = value; }",
        [field, value],
    )
    page.click("#intake button[type=submit]")
    page.wait_for_selector("#intake-result .error", timeout=LIVE_MS)
    assert said in page.inner_text("#intake-result")
    assert len(_api(hub, "/complaints")) == before
    page.context.close()
