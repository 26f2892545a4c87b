"""The desk's ledger and one complaint's page, through the forms as a browser posts them
(session cookie + CSRF), each step checked through the API; on both databases."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from dashboards.ledger import left_text
from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.registry.service import ensure_location
from tests.conftest import SITE, bearer
from tests.dashboards.test_pages import csrf_of, sign_in

pytestmark = pytest.mark.usefixtures("sites")


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as c:
        yield c


@pytest.fixture
def desk(
    browser: TestClient, make_token: Callable[..., str], db: Session
) -> tuple[TestClient, str, dict[str, str]]:
    """A signed-in clerk: the client, the page's CSRF token, and a bearer for API checks."""
    ensure_location(session=db, site_id=SITE, path="3/12/1201")
    db.commit()
    token = make_token(Role.front_desk)
    assert sign_in(browser, token) == "/desk"
    return browser, csrf_of(browser.get("/desk").text), bearer(token)


def api(client: TestClient, headers: dict[str, str], path: str) -> Any:
    answer = client.get("/api/v1" + path, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def register(client: TestClient, csrf: str, **fields: str) -> int:
    answer = client.post("/desk/complaints", data={"csrf": csrf, **fields})
    assert answer.status_code == 200, answer.text
    found = re.search(r'href="/desk/complaints/(\d+)"', answer.text)
    assert found, answer.text
    return int(found.group(1))


def press(client: TestClient, csrf: str, cid: int, to: str, **fields: str) -> str:
    page = client.get(f"/desk/complaints/{cid}")
    assert f'data-move="{to}"' in page.text, (to, page.text[:200])
    answer = client.post(f"/desk/complaints/{cid}/moves", data={"csrf": csrf, "to": to, **fields})
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def test_a_complaint_from_receipt_to_archive_on_the_pages(
    desk: tuple[TestClient, str, dict[str, str]], clock: ManualClock
) -> None:
    client, csrf, headers = desk
    cid = register(
        client,
        csrf,
        content="3号楼12层走廊灯坏了，晚上很黑",
        complainant_name="王女士",
        complainant_phone="13800000001",
        unit="3/12/1201",
        channel="visit",
        kind="complaint",
    )
    ledger = client.get("/desk/complaints", params={"phone": "13800000001"})
    assert ledger.status_code == 200
    assert f'href="/desk/complaints/{cid}"' in ledger.text
    assert api(client, headers, f"/complaints/{cid}")["status"] == "received"
    unsaid = client.post(
        f"/desk/complaints/{cid}/classification",
        data={"csrf": csrf, "category": "facility", "responsibility": "property"},
    )
    assert unsaid.status_code == 422  # a correction says why
    assert 'id="refusal"' in unsaid.text
    corrected = client.post(
        f"/desk/complaints/{cid}/classification",
        data={"csrf": csrf, "category": "sanitation", "reason": "公区"},
    )
    assert corrected.status_code == 303, corrected.text
    assert api(client, headers, f"/complaints/{cid}")["classification"]["overridden"] is True
    for to, fields in [
        ("verified", {"reasonable": "yes"}),
        ("investigating", {}),
        ("assigned", {"assignee": "eng-wang"}),
        ("remedy_proposed", {}),
    ]:
        assert press(client, csrf, cid, to, **fields) == f"/desk/complaints/{cid}"
        assert api(client, headers, f"/complaints/{cid}")["status"] == to
    refused = client.post(f"/desk/complaints/{cid}/moves", data={"csrf": csrf, "to": "replied"})
    assert refused.status_code == 409
    assert 'id="refusal"' in refused.text
    assert "请先记录告知业主的处理方案" in refused.text  # the reason, in the page's language
    told = client.post(
        f"/desk/complaints/{cid}/answer",
        data={"csrf": csrf, "text": "工程部今晚八点前换好灯", "purpose": "remedy"},
    )
    assert told.status_code == 303, told.text
    (reply,) = api(client, headers, f"/complaints/{cid}")["replies"]
    assert reply["purpose"] == "remedy"
    opened = client.post(
        f"/desk/complaints/{cid}/work-orders",
        data={"csrf": csrf, "department": "engineering", "priority": "high", "title": "3/12 灯"},
    )
    assert opened.status_code == 303, opened.text
    (order_id,) = api(client, headers, f"/complaints/{cid}")["work_order_ids"]
    order = api(client, headers, f"/work-orders/{order_id}")
    assert (order["department"], order["priority"]) == ("engineering", "high")
    for to in ("replied", "implementing", "resolved"):
        press(client, csrf, cid, to)
        assert api(client, headers, f"/complaints/{cid}")["status"] == to
    queue = re.sub(r"<[^>]+>", "", client.get("/desk/queue").text)  # the words, not the tags
    callbacks = queue.split("回访")[-1]  # the callbacks due
    assert "王女士" in callbacks
    assert 'href="tel:13800000001"' in client.get("/desk/queue").text
    assert f"#{order_id} 3/12 灯" in callbacks
    assert re.search(r"\d+(天|小时|分钟)\s*剩余", callbacks)  # time left as people say it
    press(client, csrf, cid, "callback", outcome="satisfied", satisfaction="5", note="满意")
    done = api(client, headers, f"/complaints/{cid}")
    assert (done["status"], done["callback_outcome"], done["satisfaction"]) == (
        "callback",
        "satisfied",
        5,
    )
    press(client, csrf, cid, "archived")
    assert api(client, headers, f"/complaints/{cid}")["status"] == "archived"
    page = client.get(f"/desk/complaints/{cid}?lang=en")
    assert "data-move=" not in page.text
    assert "(5/5)" in page.text


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"content": "   "}, "Write what the owner says."),
        ({"content": "灯坏了", "complainant_phone": "call me maybe"}, "A phone number holds"),
        ({"content": "灯坏了", "unit": "3" * 500}, "A unit or place is at most 400"),
        ({"content": "灯\x00坏了"}, "cannot be stored"),
    ],
)
def test_bad_ledger_entries_get_a_message_not_a_failure(
    desk: tuple[TestClient, str, dict[str, str]], fields: dict[str, str], said: str
) -> None:
    client, csrf, headers = desk
    answer = client.post("/desk/complaints?lang=en", data={"csrf": csrf, **fields})
    assert answer.status_code == 422
    assert said in answer.text
    assert 'role="alert"' in answer.text
    assert api(client, headers, "/complaints") == []


def test_the_ledger_filters_pages_and_exports(
    desk: tuple[TestClient, str, dict[str, str]], clock: ManualClock
) -> None:
    client, csrf, headers = desk
    phone = "13900000000"
    first = register(client, csrf, content="会所二楼男卫生间没纸了", complainant_phone=phone)
    clock.advance(minutes=5)
    again = register(client, csrf, content="会所二楼男卫生间又没纸了", complainant_phone=phone)
    assert api(client, headers, f"/complaints/{again}")["repeat_of"] == first
    page = client.get("/desk/complaints", params={"q": "没纸", "channel": "phone"})
    assert page.status_code == 200
    assert page.text.index(f"#{again}") < page.text.index(f"#{first}")  # newest first
    assert "🔁" in page.text
    none = client.get("/desk/complaints", params={"q": "电梯"})
    assert "#1" not in none.text
    bad = client.get("/desk/complaints", params={"phone": "letters"})
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text
    assert client.get("/desk/complaints", params={"since": "yesterday"}).status_code == 422
    assert client.get("/desk/complaints", params={"page": "0"}).status_code == 422
    exported = client.get("/desk/complaints/export", params={"q": "没纸", "format": "csv"})
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [str(again), str(first)]
    xlsx = client.get("/desk/complaints/export", params={"format": "xlsx", "lang": "en"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert sheet.cell(1, 1).value == "No."
    assert sheet.max_row == 3


def test_time_left_reads_as_people_say_it() -> None:
    assert left_text(7_500, "zh") == "还剩2小时5分"
    assert left_text(7_200, "en") == "2 h left"
    assert left_text(-1_200, "zh") == "已超时20分钟"
    assert left_text(-90_000, "en") == "1 d 1 h overdue"
    assert left_text(300, "en") == "5 min left"
