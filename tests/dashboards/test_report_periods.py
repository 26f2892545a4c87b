"""The manager's reports show the current period so far, a period picker, figures in words,
and downloads that follow the period picked."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.alarms.engine import RuleContext
from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from tests.conftest import SITE, bearer
from tests.pipeline import register, send

pytestmark = pytest.mark.usefixtures("sites")


def _section(html: str, name: str) -> str:
    return html.split(f'id="report-{name}"', 1)[1].split("</section>", 1)[0]


def _today(db: Session, clock: ManualClock, client: TestClient, desk: dict[str, str]) -> None:
    leaks = register(
        db, clock, SITE, [(f"leak-b{b}-f02", DeviceKind.leak, f"{b}/2/pipe-well") for b in (1, 2)]
    )
    for leak in leaks.values():
        send(db, clock, leak, {"leak": True}, ctx=RuleContext())  # two sensor orders today
    db.commit()
    for n in range(3):
        made = client.post(
            "/api/v1/complaints",
            json={"content": f"楼道灯不亮 {n}", "location": f"{n + 3}/5", "channel": "phone",
                  "complainant_phone": f"1380000000{n}"},
            headers=desk,
        )  # fmt: skip
        assert made.status_code == 201, made.text
    clock.advance(minutes=5)  # the manager looks a little later


def test_todays_period_shows_todays_figures(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    _today(db, clock, client, bearer(make_token(Role.front_desk)))
    manager = bearer(make_token(Role.manager))
    page = client.get("/manager?lang=en", headers=manager)
    assert page.status_code == 200, page.text
    assert 'value="current" checked' in page.text  # the current period by default
    hot = _section(page.text, "weekly-hot")
    assert "3 complaints, 0 in the period before" in hot, hot[:1500]
    assert "so far:" in hot
    unfinished = _section(page.text, "unfinished")
    assert re.search(r"\b5 unfinished\b", unfinished), unfinished  # 2 orders and 3 complaints
    last = client.get("/manager?lang=en&period=last-week", headers=manager).text
    assert "0 complaints, 0 in the period before" in _section(last, "weekly-hot")
    assert 'value="last-week" checked' in last


def test_the_downloads_follow_the_period_picked(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    _today(db, clock, client, bearer(make_token(Role.front_desk)))
    manager = bearer(make_token(Role.manager))
    page = client.get("/manager?period=this-month", headers=manager).text
    link = re.search(r'href="(/manager/reports/weekly-hot\.csv\?[^"]+)"', page)
    assert link is not None
    assert "period=this-month" in link.group(1)
    now = client.get(link.group(1).replace("&amp;", "&"), headers=manager)
    assert now.status_code == 200
    before = client.get("/manager/reports/weekly-hot.csv?period=last-week", headers=manager)
    assert before.status_code == 200
    assert now.content != before.content
    day = clock.now().date().isoformat()
    ranged = client.get(f"/manager?lang=en&period=range&since={day}&until={day}", headers=manager)
    assert "3 complaints" in _section(ranged.text, "weekly-hot")


@pytest.mark.parametrize(
    "query",
    ["period=bogus", "period=range", "period=range&since=2026-13-01&until=2026-12-01",
     "period=range&since=2026-12-02&until=2026-12-01",
     "period=range&since=2020-01-01&until=2026-12-01",
     "period=range&since=%00&until=2026-12-01"],
)  # fmt: skip
def test_a_bad_period_is_a_4xx(
    client: TestClient, make_token: Callable[..., str], query: str
) -> None:
    manager = bearer(make_token(Role.manager))
    for path in ("/manager", "/manager/reports/sla.csv"):
        answer = client.get(f"{path}?{query}", headers=manager)
        assert 400 <= answer.status_code < 500, (path, query, answer.status_code)
