"""Field staff on a 390 px phone in Chromium: a head dispatches an order to a technician who
sees it arrive live, arrives and resolves it with photos; a cleaner opens a checkpoint by its
QR URL, logs paper "ok" while the dispenser reads empty, attaches a photo and sees the
contradiction at once, and the manager's pack of that entry holds the photo; the engineer's
grid filters survive a live event and a reload.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import httpx
import pytest

from hub.auth.enums import Role
from hub.auth.service import create_user, issue_token
from hub.clock import SystemClock
from hub.db import session_scope
from hub.evidence.verify import verify_pack
from tests.attachments import photos
from tests.dashboards.conftest import LiveHub
from tests.dashboards.test_browser import (
    LIVE_MS,
    _click_until,
    _device,
    _page,
    _shot,
    _sign_in,
    browser,
    requested,
)

__all__ = ["browser", "requested"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESK = {"viewport": {"width": 1366, "height": 900}}


@pytest.fixture(scope="module")
def people(sqlite_hub: LiveHub) -> dict[str, tuple[str, str]]:
    """An engineering head, a technician, a cleaner: name → (token, role)."""
    hub = sqlite_hub
    suffix = hub.site.rsplit("-", 1)[-1]
    pepper = "facility-hub-demo-pepper"
    made: dict[str, tuple[str, str]] = {}
    wanted = [
        (f"工程主管 陈-{suffix}", Role.engineer, True),
        (f"工程 王师傅-{suffix}", Role.engineer, False),
        (f"保洁 赵阿姨-{suffix}", Role.cleaner, False),
    ]
    with session_scope(hub.sessions) as session:
        for name, role, head in wanted:
            user = create_user(
                session=session, name=name, role=role, site_ids=[hub.site],
                now=SystemClock().now(), department_head=head,
            )  # fmt: skip
            token = issue_token(session=session, user=user, pepper=pepper, now=SystemClock().now())
            made[("head", "tech", "cleaner")[len(made)]] = (name, token)
    return made


def _api(hub: LiveHub, token: str) -> httpx.Client:
    return httpx.Client(base_url=f"{hub.base}/api/v1", headers={"Authorization": f"Bearer {token}"})


def _loaded(page: object) -> None:
    """Wait until every thumbnail on the page has been drawn (not merely requested)."""
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => [...document.querySelectorAll('.thumbs img')]"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=LIVE_MS,
    )


def _photo_file(tmp: Path, name: str, color: tuple[int, int, int]) -> Path:
    path = tmp / name
    path.write_bytes(photos.jpeg(orientation=6, taken="2026:12:07 10:12:30", color=color))
    return path


def test_a_head_dispatches_and_the_technician_works_it_with_photos(
    browser: object,
    sqlite_hub: LiveHub,
    requested: list[str],
    people: dict[str, tuple[str, str]],
    tmp_path: Path,
) -> None:
    hub = sqlite_hub
    head_name, head_token = people["head"]
    tech_name, tech_token = people["tech"]
    head = _page(browser, hub, requested, **PHONE)
    _sign_in(head, hub, head_token, "/engineer")
    head.goto(hub.base + "/dispatch", wait_until="domcontentloaded")  # type: ignore[attr-defined]
    head.wait_for_selector("#live.on", timeout=LIVE_MS)  # type: ignore[attr-defined]
    tech = _page(browser, hub, requested, **PHONE)
    _sign_in(tech, hub, tech_token, "/engineer")
    with _api(hub, hub.tokens["front_desk"]) as desk:
        made = desk.post(
            "/work-orders",
            json={
                "site": hub.site,
                "title": "会所大堂灯不亮",
                "department": "engineering",
                "location": "2/5",
            },
        )
    assert made.status_code == 201, made.text
    order = made.json()["id"]
    row = f"li[data-order='{order}']"
    head.wait_for_selector(f"#board {row} .tag.warn", timeout=LIVE_MS)  # type: ignore[attr-defined]
    _shot(head, hub, "dispatch-phone-zh")
    head.select_option(f"{row} select[name=assignee]", tech_name)  # type: ignore[attr-defined]
    head.click(f"{row} button[data-action=assign]")  # type: ignore[attr-defined]
    head.wait_for_selector(f"#board {row} :text('{tech_name}')", timeout=LIVE_MS)  # type: ignore[attr-defined]
    # The technician's page: the order arrives live, at the top, with its moves.
    tech.wait_for_selector(f"#orders {row} button[data-move=on_site]", timeout=LIVE_MS)  # type: ignore[attr-defined]
    first = tech.query_selector("#orders li[data-order]")  # type: ignore[attr-defined]
    assert first.get_attribute("data-order") == str(order)
    top = tech.evaluate("document.querySelector('#my-work').getBoundingClientRect().top")  # type: ignore[attr-defined]
    assert top < 300
    before = _photo_file(tmp_path, "before.jpg", (20, 20, 20))
    tech.set_input_files(f"{row} input[data-photo-input]", str(before))  # type: ignore[attr-defined]
    tech.wait_for_selector(f"{row} [data-thumbs] img", state="attached", timeout=LIVE_MS)  # type: ignore[attr-defined]
    _loaded(tech)
    _shot(tech, hub, "engineer-phone-order-zh", full=False)
    with tech.expect_response(lambda r: r.url.endswith("/move")):  # type: ignore[attr-defined]
        tech.click(f"{row} button[data-move=on_site]")  # type: ignore[attr-defined]
    tech.wait_for_selector(f"{row} button[data-move=resolved]", timeout=LIVE_MS)  # type: ignore[attr-defined]
    tech.wait_for_timeout(300)  # type: ignore[attr-defined]  # the move's answer swapped in
    after = _photo_file(tmp_path, "after.jpg", (240, 240, 240))
    tech.set_input_files(f"{row} input[data-photo-input]", str(after))  # type: ignore[attr-defined]
    tech.wait_for_selector(f"{row} [data-thumbs] img", state="attached", timeout=LIVE_MS)  # type: ignore[attr-defined]
    _click_until(tech, f"{row} button[data-move=resolved]", f"{row} .tag:text('已解决')")
    with _api(hub, hub.tokens["manager"]) as manager:
        timeline = manager.get(f"/work-orders/{order}/evidence").json()["timeline"]
        history = manager.get(f"/work-orders/{order}").json()["history"]
    digests = [e["digest"] for e in timeline if e["type"] == "attachment"]
    assert digests == [hashlib.sha256(p.read_bytes()).hexdigest() for p in (before, after)]
    assert any(h["actor"] == head_name and h["to"] == "dispatched" for h in history)
    head.click("text=English")  # type: ignore[attr-defined]
    head.wait_for_selector("h1:text('Dispatch')")  # type: ignore[attr-defined]
    _shot(head, hub, "dispatch-phone-en")
    wide = _page(browser, hub, requested, **DESK)
    _sign_in(wide, hub, hub.tokens["manager"], "/manager")
    wide.goto(hub.base + "/dispatch?lang=en", wait_until="domcontentloaded")  # type: ignore[attr-defined]
    wide.wait_for_selector("#board section")  # type: ignore[attr-defined]
    _shot(wide, hub, "dispatch-1366-en")
    for page in (head, tech, wide):
        page.context.close()  # type: ignore[attr-defined]


def test_a_cleaner_walks_a_checkpoint_by_its_qr_code_and_is_contradicted(
    browser: object,
    sqlite_hub: LiveHub,
    requested: list[str],
    people: dict[str, tuple[str, str]],
    tmp_path: Path,
) -> None:
    hub = sqlite_hub
    paper = _device(hub, "paper-")
    with _api(hub, hub.tokens["manager"]) as manager:
        route = manager.post(
            "/inspections/routes",
            json={"site": hub.site, "name": "会所卫生间", "interval_minutes": 120,
                  "checkpoints": [{"device_id": paper, "items": ["paper", "soap"]}]},
        )  # fmt: skip
        assert route.status_code == 201, route.text
        checkpoint = route.json()["checkpoints"][0]["id"]
        sheet = manager.get(f"/inspections/routes/{route.json()['id']}/qr.pdf")
        assert sheet.headers["content-type"] == "application/pdf"
    hub.publish(paper, {"paper_pct": 0, "soap_pct": 70})
    _name, token = people["cleaner"]
    page = _page(browser, hub, requested, **PHONE)
    _sign_in(page, hub, token, "/patrol")
    _shot(page, hub, "patrol-phone-zh")
    page.goto(f"{hub.base}/patrol/checkpoints/{checkpoint}", wait_until="domcontentloaded")  # type: ignore[attr-defined]
    page.check("input[name=state_paper][value=ok]")  # type: ignore[attr-defined]
    page.check("input[name=state_soap][value=ok]")  # type: ignore[attr-defined]
    shot = _photo_file(tmp_path, "box.jpg", (250, 250, 250))
    page.set_input_files("input[data-photo-input]", str(shot))  # type: ignore[attr-defined]
    page.wait_for_selector("[data-thumbs] img", state="attached", timeout=LIVE_MS)  # type: ignore[attr-defined]
    _loaded(page)
    page.click("button[data-action=inspect]")  # type: ignore[attr-defined]
    page.wait_for_selector("#verdict [data-contradiction=paper]", timeout=LIVE_MS)  # type: ignore[attr-defined]
    said = page.inner_text("#verdict")  # type: ignore[attr-defined]
    assert "传感器显示" in said
    assert "纸巾已空" in said
    _shot(page, hub, "checkpoint-phone-zh")
    entry = int(page.get_attribute("#verdict [data-entry]", "data-entry"))  # type: ignore[attr-defined]
    with _api(hub, hub.tokens["manager"]) as manager:
        got = manager.get(f"/inspections/{entry}").json()
        assert got["source"] == "qr"
        assert len(got["attachment_ids"]) == 1
        timeline = manager.get(f"/devices/{paper}/evidence").json()["timeline"]
        digest = hashlib.sha256(shot.read_bytes()).hexdigest()
        assert digest in [e["digest"] for e in timeline if e["type"] == "attachment"]
        pack = manager.post("/evidence/exports", json={"device_id": paper}).content
    assert verify_pack(pack).ok
    assert not verify_pack(_altered(pack, f"attachments/{digest}")).ok
    page.goto(f"{hub.base}/patrol/checkpoints/{checkpoint}?lang=en", wait_until="domcontentloaded")  # type: ignore[attr-defined]
    _shot(page, hub, "checkpoint-phone-en")
    page.context.close()  # type: ignore[attr-defined]
    wide = _page(browser, hub, requested, **DESK)
    _sign_in(wide, hub, token, "/patrol")
    _shot(wide, hub, "patrol-1366-zh")
    wide.context.close()  # type: ignore[attr-defined]


def _altered(pack: bytes, name: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(pack)) as src, zipfile.ZipFile(out, "w") as dst:
        for member in src.namelist():
            body = src.read(member)
            dst.writestr(member, body[:-20] + b"\x00" * 20 if member == name else body)
    return out.getvalue()


def test_the_grid_keeps_its_filters_through_a_live_event_and_a_reload(
    browser: object, sqlite_hub: LiveHub, requested: list[str]
) -> None:
    hub = sqlite_hub
    page = _page(browser, hub, requested, **PHONE)
    _sign_in(page, hub, hub.tokens["engineer"], "/engineer")
    page.select_option("select[name=building]", "3")  # type: ignore[attr-defined]
    leak = _device(hub, "leak-b3-f12")
    page.wait_for_function("() => location.search.includes('building=3')", timeout=LIVE_MS)  # type: ignore[attr-defined]
    assert page.locator("#grid").count() == 1  # type: ignore[attr-defined]
    hub.publish(leak, {"leak": True})
    page.wait_for_selector(f".tile[data-device='{leak}'].s-alarm", timeout=LIVE_MS)  # type: ignore[attr-defined]
    assert page.locator("#grid").count() == 1  # type: ignore[attr-defined]
    assert page.locator(".tile[data-device^='leak-b2']").count() == 0  # type: ignore[attr-defined]
    page.reload(wait_until="domcontentloaded")  # type: ignore[attr-defined]
    assert page.input_value("select[name=building]") == "3"  # type: ignore[attr-defined]
    page.wait_for_selector(f".tile[data-device='{leak}']")  # type: ignore[attr-defined]
    _shot(page, hub, "engineer-phone-grid-zh")
    page.context.close()  # type: ignore[attr-defined]
