"""The pages' sessions on both databases: the cookie holds a random id, never the API token;
sign-out, a disabled user, a revoked token, idleness and age end a session; failed checks
are throttled per client address (429 with Retry-After)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.api.throttle import LIMIT
from hub.auth.enums import Role
from hub.auth.models import ApiToken, User, WebSession
from hub.auth.service import SESSION_IDLE, SESSION_LIFETIME, hash_token
from hub.clock import ManualClock
from hub.settings import Settings
from tests.conftest import OTHER_SITE, SITE, bearer
from tests.dashboards.test_pages import csrf_of, sign_in


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    """A client that keeps cookies, as a browser does (no redirects followed)."""
    with TestClient(app, follow_redirects=False) as c:
        yield c


def _cookie(browser: TestClient) -> str:
    value = browser.cookies.get("fh_session")
    assert value
    return value


def _user(db: Session, token: str, settings: Settings) -> User:
    pepper = settings.token_pepper.get_secret_value()
    row = db.scalars(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token, pepper=pepper))
    )
    return row.one().user


def _signed_in(browser: TestClient) -> bool:
    return browser.get("/manager").status_code == 200


def test_the_cookie_holds_a_random_id_not_the_token(
    browser: TestClient, db: Session, settings: Settings, make_token: Callable[..., str]
) -> None:
    token = make_token(Role.manager)
    sign_in(browser, token)
    cookie = _cookie(browser)
    assert token not in cookie
    assert token[3:20] not in cookie
    assert _signed_in(browser)
    browser.cookies.clear()
    assert browser.get("/api/v1/me", headers=bearer(cookie)).status_code == 401
    pepper = settings.token_pepper.get_secret_value()
    stored = db.scalars(select(WebSession.id_hash)).all()
    assert hash_token(cookie, pepper=pepper) in stored
    assert cookie not in stored


def test_sign_out_ends_the_session_for_a_cookie_kept_from_before(
    browser: TestClient, make_token: Callable[..., str]
) -> None:
    sign_in(browser, make_token(Role.manager))
    cookie = _cookie(browser)
    page = browser.get("/manager")
    assert browser.post("/sign-out", data={"csrf": csrf_of(page.text)}).status_code == 303
    browser.cookies.set("fh_session", cookie)
    assert browser.get("/manager").status_code == 303
    assert browser.get("/api/v1/me").status_code == 401


def test_a_disabled_user_and_a_revoked_token_end_their_sessions(
    browser: TestClient,
    app: FastAPI,
    db: Session,
    settings: Settings,
    make_token: Callable[..., str],
) -> None:
    token = make_token(Role.manager)
    sign_in(browser, token)
    assert _signed_in(browser)
    user = _user(db, token, settings)
    user.active = False
    db.commit()
    assert not _signed_in(browser)
    user.active = True
    db.commit()
    assert _signed_in(browser)
    admin = bearer(make_token(Role.admin))
    (mine,) = [
        t for t in browser.get("/api/v1/tokens", headers=admin).json() if t["user"] == user.name
    ]
    revoked = browser.post(f"/api/v1/tokens/{mine['id']}/revoke", headers=admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert not _signed_in(browser)
    assert browser.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_only_an_admin_revokes_and_only_in_their_sites(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    make_token(Role.engineer, (OTHER_SITE,))
    manager = bearer(make_token(Role.manager))
    assert client.get("/api/v1/tokens", headers=manager).status_code == 403
    admin = bearer(make_token(Role.admin, (SITE,)))
    listed = client.get("/api/v1/tokens", headers=admin).json()
    assert all(not t["user"].startswith("engineer") for t in listed)
    assert client.post("/api/v1/tokens/999999/revoke", headers=admin).status_code == 404


def test_an_idle_session_and_an_old_one_end(
    browser: TestClient, db: Session, clock: ManualClock, make_token: Callable[..., str]
) -> None:
    token = make_token(Role.manager)
    db.commit()  # a refused request rolls the test's session back to its last commit
    sign_in(browser, token)
    clock.advance(seconds=SESSION_IDLE.total_seconds() - 60)
    assert _signed_in(browser)
    clock.advance(seconds=SESSION_IDLE.total_seconds() + 1)
    assert not _signed_in(browser)
    sign_in(browser, token)
    step = SESSION_IDLE - timedelta(minutes=5)
    lived = timedelta()
    while lived + step < SESSION_LIFETIME:
        clock.advance(seconds=step.total_seconds())
        lived += step
        assert _signed_in(browser), lived
    clock.advance(seconds=step.total_seconds())
    assert not _signed_in(browser)


def test_a_change_through_the_cookie_needs_its_csrf_token(
    browser: TestClient, make_token: Callable[..., str]
) -> None:
    sign_in(browser, make_token(Role.manager))
    body = {"site": SITE, "title": "灯不亮", "department": "engineering"}
    assert browser.post("/api/v1/work-orders", json=body).status_code == 401
    page = browser.get("/manager")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    done = browser.post("/api/v1/work-orders", json=body, headers={"X-CSRF-Token": csrf.group(1)})
    assert done.status_code == 201, done.text


def test_300_wrong_sign_ins_are_throttled_per_address(
    browser: TestClient,
    app: FastAPI,
    db: Session,
    clock: ManualClock,
    make_token: Callable[..., str],
) -> None:
    good = make_token(Role.manager)
    db.commit()  # a refused request rolls the test's session back to its last commit
    csrf = csrf_of(browser.get("/").text)
    answers = [
        browser.post("/sign-in", data={"csrf": csrf, "token": f"fh_wrong{n}"}).status_code
        for n in range(300)
    ]
    assert answers[:LIMIT] == [303] * LIMIT
    assert set(answers[LIMIT:]) == {429}
    refused = browser.post("/sign-in", data={"csrf": csrf, "token": good})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    with TestClient(app, follow_redirects=False, client=("10.0.0.9", 4000)) as other:
        assert sign_in(other, good) == "/manager"
    clock.advance(seconds=61)
    assert sign_in(browser, good) == "/manager"


def test_wrong_tokens_on_the_api_are_throttled_per_address(
    client: TestClient, db: Session, clock: ManualClock, make_token: Callable[..., str]
) -> None:
    good = bearer(make_token(Role.manager))
    db.commit()  # a refused request rolls the test's session back to its last commit
    answers = [
        client.get("/api/v1/me", headers=bearer(f"fh_wrong{n}")).status_code for n in range(300)
    ]
    assert answers[:LIMIT] == [401] * LIMIT
    assert set(answers[LIMIT:]) == {429}
    refused = client.get("/api/v1/me", headers=good)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert int(refused.headers["retry-after"]) >= 1
    posted = client.post("/api/v1/complaints", headers=good, content=b"x" * 100_000)
    assert posted.status_code == 429
    clock.advance(seconds=61)
    assert client.get("/api/v1/me", headers=good).status_code == 200
