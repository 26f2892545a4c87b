"""The pages over plain HTTP: sign-in and its cookie, CSRF, language, scoping, hostile input.

They run on both databases through the test's app (`tests/conftest.py`), as the API tests do;
what a page shows comes from the API it calls in process, as the signed-in user.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dashboards.web import NODE_MODULES, VENDOR
from hub.alarms.engine import RuleContext
from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from tests.conftest import OTHER_SITE, SITE, bearer
from tests.pipeline import alarms_of, register, send

OUTSIDE = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


@pytest.fixture
def places(db: Session, clock: ManualClock, sites: tuple[str, str]) -> dict[str, str]:
    """A leak that opened an order in site A, and a device of site B."""
    devices = register(
        db,
        clock,
        SITE,
        [
            ("leak-b2-f05", DeviceKind.leak, "2/5/pipe-well"),
            ("light-b3-f12", DeviceKind.light, "3/12"),
        ],
    )
    register(db, clock, OTHER_SITE, [("maple-secret-leak", DeviceKind.leak, "2/5/pipe-well")])
    send(db, clock, devices["leak-b2-f05"], {"leak": True}, ctx=RuleContext())
    (alarm,) = alarms_of(db, "leak-b2-f05")
    db.commit()
    return {"alarm": str(alarm.id), "order": str(alarm.work_order_id)}


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    """A client that keeps cookies, as a browser does (no redirects followed)."""
    with TestClient(app, follow_redirects=False) as c:
        yield c


def sign_in(client: TestClient, token: str) -> str:
    """Sign in through the form; returns the page it sends the person to."""
    page = client.get("/")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    answer = client.post("/sign-in", data={"csrf": csrf.group(1), "token": token, "next": ""})
    assert answer.status_code == 303
    return answer.headers["location"]


def csrf_of(html: str) -> str:
    """The session's CSRF token as a page carries it."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


@pytest.mark.parametrize(
    ("role", "home"),
    [(Role.engineer, "/engineer"), (Role.front_desk, "/desk"), (Role.manager, "/manager")],
)
def test_a_token_once_then_a_session_cookie_and_the_roles_home(
    browser: TestClient, make_token: Callable[..., str], role: Role, home: str
) -> None:
    assert sign_in(browser, make_token(role)) == home
    assert browser.get("/").headers["location"] == home
    assert browser.get(home).status_code == 200


def test_the_cookie_is_httponly_strict_and_secure_behind_https(
    browser: TestClient, make_token: Callable[..., str]
) -> None:
    page = browser.get("/")
    answer = browser.post(
        "/sign-in",
        data={"csrf": csrf_of(page.text), "token": make_token(Role.engineer)},
        headers={"X-Forwarded-Proto": "https"},
    )
    cookie = next(
        v
        for k, v in answer.headers.multi_items()
        if k == "set-cookie" and v.startswith("fh_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" in cookie


def test_sign_in_refuses_a_form_without_its_token_and_a_wrong_api_token(
    browser: TestClient, make_token: Callable[..., str]
) -> None:
    browser.get("/")
    refused = browser.post("/sign-in", data={"token": make_token(Role.engineer)})
    assert refused.status_code == 403
    page = browser.get("/")
    wrong = browser.post("/sign-in", data={"csrf": csrf_of(page.text), "token": "fh_nope"})
    assert wrong.status_code == 303
    assert wrong.headers["location"] == "/?error=token"
    assert browser.get("/?error=token").status_code == 401


def test_an_admin_chooses_and_signing_out_ends_the_session(
    browser: TestClient, make_token: Callable[..., str]
) -> None:
    assert sign_in(browser, make_token(Role.admin)) == "/"
    choose = browser.get("/")
    assert choose.status_code == 200
    assert 'href="/desk"' in choose.text
    assert browser.post("/sign-out", data={}).status_code == 403
    out = browser.post("/sign-out", data={"csrf": csrf_of(choose.text)})
    assert out.status_code == 303
    assert browser.get("/engineer").headers["location"].startswith("/?next=")


def test_a_form_without_its_csrf_token_is_refused(
    browser: TestClient, make_token: Callable[..., str], places: dict[str, str]
) -> None:
    sign_in(browser, make_token(Role.engineer))
    page = browser.get("/engineer")
    url = f"/engineer/alarms/{places['alarm']}/ack"
    assert browser.post(url, data={}).status_code == 403
    assert browser.post(url, data={"csrf": "forged"}).status_code == 403
    done = browser.post(url, data={"csrf": csrf_of(page.text)})
    assert done.status_code == 200
    # htmx sends it as a header
    again = browser.post(
        "/desk/phrase-check", data={"text": "好的"}, headers={"X-CSRF-Token": csrf_of(page.text)}
    )
    assert again.status_code == 200


def test_pages_take_a_bearer_token_for_scripts(
    client: TestClient, make_token: Callable[..., str], places: dict[str, str]
) -> None:
    headers = bearer(make_token(Role.engineer))
    page = client.get("/engineer?building=2", headers=headers)
    assert page.status_code == 200
    assert "leak-b2-f05" in page.text
    # no cookie, no ambient credential: no CSRF token needed
    moved = client.post(
        f"/engineer/orders/{places['order']}/move", data={"to": "dispatched"}, headers=headers
    )
    assert moved.status_code == 200
    assert "dispatched" in moved.text or "已派单" in moved.text


def test_an_engineer_moves_an_order_as_the_state_machine_allows(
    client: TestClient, make_token: Callable[..., str], places: dict[str, str]
) -> None:
    headers = {**bearer(make_token(Role.engineer)), "Accept-Language": "en"}
    url = f"/engineer/orders/{places['order']}/move"
    page = client.get("/engineer/orders", headers=headers)
    assert 'value="dispatched"' in page.text
    assert 'value="closed"' not in page.text  # the desk closes, not the engineer
    assert client.post(url, data={"to": "dispatched"}, headers=headers).status_code == 200
    arrived = client.post(url, data={"to": "on_site"}, headers=headers)
    assert 'value="resolved"' in arrived.text
    refused = client.post(url, data={"to": "closed"}, headers=headers)
    assert refused.status_code == 409
    assert "⚠" in refused.text


@pytest.mark.parametrize(
    ("query", "headers", "expect"),
    [
        ("", {}, "设备"),
        ("?lang=en", {}, "Devices"),
        ("", {"Accept-Language": "en-US,en;q=0.9"}, "Devices"),
        ("", {"Accept-Language": "fr, zh-CN;q=0.5"}, "设备"),
    ],
)
def test_chinese_by_default_english_on_request(
    client: TestClient,
    make_token: Callable[..., str],
    query: str,
    headers: dict[str, str],
    expect: str,
) -> None:
    page = client.get(f"/engineer{query}", headers={**bearer(make_token(Role.engineer)), **headers})
    assert page.status_code == 200
    assert f"<h1>{expect}</h1>" in page.text


def test_a_user_of_site_b_sees_nothing_of_site_a(
    client: TestClient, make_token: Callable[..., str], places: dict[str, str]
) -> None:
    theirs = bearer(make_token(Role.manager, site_ids=(OTHER_SITE,)))
    for path in ("/engineer", "/engineer?building=2", "/desk", "/manager", "/engineer/orders"):
        page = client.get(path, headers=theirs)
        assert page.status_code == 200, path
        assert "leak-b2-f05" not in page.text, path
        assert "maple-secret-leak" in page.text or path != "/engineer?building=2"
    assert client.get("/engineer/devices/leak-b2-f05", headers=theirs).status_code == 404
    assert client.get(f"/manager/disputes/{places['order']}", headers=theirs).status_code == 404
    assert client.get(f"/engineer?site={SITE}", headers=theirs).status_code == 404
    moved = client.post(
        f"/engineer/orders/{places['order']}/move", data={"to": "dispatched"}, headers=theirs
    )
    assert moved.status_code == 409 or "没有找到" in moved.text  # the page's language


HOSTILE = [
    ("GET", "/engineer?bogus=1"),
    ("GET", "/engineer?lang=fr"),
    ("GET", "/engineer?building=%00"),
    ("GET", "/engineer?building=nowhere"),
    ("GET", "/engineer?floor=1/2"),
    ("GET", "/engineer?floor=%00"),
    ("GET", "/engineer?kind=toaster"),
    ("GET", "/engineer?status=asleep"),
    ("GET", "/engineer?site=" + "x" * 5000),
    ("GET", "/engineer/devices/NOT-A-SLUG"),
    ("GET", "/engineer/devices/nobody?range=1y"),
    ("GET", "/engineer/devices/nobody"),
    ("GET", "/desk?x=1"),
    ("GET", "/desk/lookup?location=%00"),
    ("GET", "/desk/lookup?location=" + "3/" * 400),
    ("GET", "/manager/reports/salaries.csv"),
    ("GET", "/manager/reports/sla.exe"),
    ("GET", "/manager/disputes/0"),
    ("GET", "/manager/disputes/99999999999999999999"),
    ("GET", "/manager/disputes/abc"),
    ("POST", "/engineer/alarms/0/ack"),
    ("POST", "/engineer/alarms/4294967296/ack"),
    ("POST", "/engineer/orders/2147483648/move"),
    ("POST", "/desk/complaints/2147483648/replies"),
]


@pytest.mark.parametrize(("method", "path"), HOSTILE)
def test_hostile_input_gets_a_4xx_never_a_5xx(
    client: TestClient, make_token: Callable[..., str], method: str, path: str
) -> None:
    headers = bearer(make_token(Role.admin))
    answer = client.request(method, path, headers=headers, data={"to": "on_site"})
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])


@pytest.mark.parametrize(
    "form",
    [
        {"content": "漏水\x00"},
        {"content": ""},
        {"content": "x" * 30_000},
        {"content": "漏水", "received_at": "yesterday"},
        {"content": "漏水", "channel": "pigeon"},
        {"content": "漏水", "complainant_phone": "1" * 40},
    ],
)
def test_a_bad_ledger_entry_is_refused_with_a_4xx_and_nothing_saved(
    client: TestClient, make_token: Callable[..., str], form: dict[str, str]
) -> None:
    headers = bearer(make_token(Role.front_desk))
    answer = client.post("/desk/complaints", data=form, headers=headers)
    assert 400 <= answer.status_code < 500, answer.text[:300]
    assert client.get("/api/v1/complaints", headers=headers).json() == []


def test_the_desk_sees_the_known_issue_while_typing_and_files_the_entry(
    client: TestClient, make_token: Callable[..., str], places: dict[str, str]
) -> None:
    headers = bearer(make_token(Role.front_desk))
    typed = client.get("/desk/lookup", params={"content": "2号楼5层管井漏水了"}, headers=headers)
    assert typed.status_code == 200
    assert f"#{places['order']}" in typed.text
    checked = client.post("/desk/phrase-check", data={"text": "我不太清楚"}, headers=headers)
    assert "⛔" in checked.text
    ledger = {
        "content": "2号楼5层管井漏水了",
        "location": "2/5",
        "complainant_name": "李先生",
        "complainant_phone": "13800000002",
        "channel": "visit",
        "kind": "repair",
        "request": "尽快修好",
        "received_at": "2026-11-23T10:00",
    }
    first = client.post("/desk/complaints", data=ledger, headers=headers)
    assert first.status_code == 200, first.text[:300]
    assert "已登记" in first.text
    assert f"#{places['order']}" in first.text  # the known issue, no second order
    again = client.post("/desk/complaints", data=ledger, headers=headers)
    assert "🔁" in again.text  # the same owner, the same problem: a repeat
    queue = client.get("/desk/queue", headers=headers)
    assert f"#{places['order']}" in queue.text


def test_the_manager_sees_every_report_with_its_figures_and_downloads(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    headers = bearer(make_token(Role.manager))
    page = client.get("/manager?lang=en", headers=headers)
    assert page.status_code == 200
    for name in ("sla", "weekly-hot", "unfinished", "proactive", "monthly"):
        section = page.text.split(f'id="report-{name}"', 1)[1].split("</section>", 1)[0]
        assert "not available on this hub yet" not in section, name
        assert '<dl class="figures">' in section, name
        assert "Nothing in this period" in section or "<table>" in section, name
        assert f"/manager/reports/{name}.csv" in section, name
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", section), name  # local times only
        csv = client.get(f"/manager/reports/{name}.csv", headers=headers)
        assert csv.status_code == 200, name
        assert csv.content.startswith(b"\xef\xbb\xbf"), name  # UTF-8 with BOM, for Excel
        xlsx = client.get(f"/manager/reports/{name}.xlsx", headers=headers)
        assert xlsx.status_code == 200, name
        assert xlsx.content.startswith(b"PK"), name  # an Office Open XML package
    assert client.get("/manager/reports/nosuch.csv", headers=headers).status_code == 404


def test_no_page_or_asset_references_an_outside_url(
    client: TestClient, make_token: Callable[..., str], places: dict[str, str]
) -> None:
    pages = {
        Role.engineer: ["/engineer", "/engineer/devices/leak-b2-f05?range=7d", "/engineer/grid"],
        Role.front_desk: ["/desk", "/desk/queue"],
        Role.manager: ["/manager"],
    }
    for role, paths in pages.items():
        headers = bearer(make_token(role))
        for path in paths:
            page = client.get(path, headers=headers)
            assert page.status_code == 200, path
            assert not OUTSIDE.findall(page.text), path
            # and the browser is told to load nothing from elsewhere, nor to cache the page
            assert "default-src 'self'" in page.headers["content-security-policy"]
            assert page.headers["cache-control"] == "no-store"
    for path in ("/", "/docs", "/redoc", "/static/app/app.css", "/static/app/app.js"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert not OUTSIDE.findall(answer.text), path
        assert "url(http" not in answer.text
    if not (NODE_MODULES / VENDOR["htmx.min.js"]).is_file():
        pytest.skip("the browser libraries are not installed (scripts/bootstrap runs npm ci)")
    for name in VENDOR:
        assert client.get(f"/static/vendor/{name}").status_code == 200
    assert client.get("/static/vendor/../package.json").status_code == 404


def test_a_person_of_two_sites_chooses_a_site_by_its_name_in_the_pages_language(
    client: TestClient, make_token: Callable[..., str], db: Session, places: dict[str, str]
) -> None:
    from hub.registry.models import Site

    for site_id, zh, en in ((SITE, "阳光花园", "Sunshine Garden"), (OTHER_SITE, "枫叶苑", "")):
        site = db.get(Site, site_id)
        assert site is not None
        site.name, site.name_en = zh, en
    db.commit()
    both = bearer(make_token(Role.manager, site_ids=(SITE, OTHER_SITE)))
    for lang, shown in (("zh", ("阳光花园", "枫叶苑")), ("en", ("Sunshine Garden", "枫叶苑"))):
        for path in ("/engineer", "/desk"):
            page = client.get(f"{path}?lang={lang}", headers=both)
            assert page.status_code == 200, page.text
            assert all(f">{name}</option>" in page.text for name in shown), (lang, path)
    assert ">阳光花园</option>" not in client.get("/desk?lang=en", headers=both).text
