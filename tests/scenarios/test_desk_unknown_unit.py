"""DOMAIN.md case 4 at a unit the registry does not know (no sensor, building 4 not
imported yet): the desk registers the owner's words, keeps the unit as typed, opens the
engineering order in front of the owner; when nobody is dispatched in time the shut-off
task names the unit and goes to whoever is on duty; the complaint shows both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.correlation.flows import Policies
from hub.correlation.jobs import watch
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from tests.conftest import SITE, bearer
from tests.pipeline import register, send

pytestmark = pytest.mark.usefixtures("sites")

API = "/api/v1"


def _post(client: TestClient, url: str, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(API + url, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_burst_pipe_at_an_unknown_unit_is_a_home_and_named_all_the_way(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> None:
    leaks = register(
        db,
        clock,
        SITE,
        [(f"leak-b{b}-f03", DeviceKind.leak, f"{b}/3/pipe-well") for b in (1, 2, 3)],
    )
    for leak in leaks.values():  # leaks elsewhere on the site: nothing to do with 4-2-301
        send(db, clock, leak, {"leak": True, "flow_lpm": 45, "pressure_kpa": 80})
    policies = Policies.from_settings(Settings())
    watch(session=db, policies=policies, now=clock.now())
    assert make_token(Role.security)
    desk = bearer(make_token(Role.front_desk))
    case = _post(client, "/complaints", desk, content="4-2-301家里水管爆了，水流了一地！")
    assert (case["unit"], case["location"], case["unit_text"]) == (None, None, "4-2-301")
    reasons = " ".join(case["classification"]["reasons"])
    assert "common area" not in reasons
    assert "4/3/301 read from “4-2-301” is not in the registry" in reasons
    assert [link for link in case["links"] if link["type"] == "work_order"] == []
    assert case["known_issue"] is None
    opened = _post(client, f"/complaints/{case['id']}/work-orders", desk)
    (order_id,) = opened["work_order_ids"]
    order = client.get(f"{API}/work-orders/{order_id}", headers=desk).json()
    assert "4-2-301" in order["title"]
    assert order["department"] == "engineering"
    clock.advance(minutes=31)  # the dispatch deadline passes: nobody took it
    watch(session=db, policies=policies, now=clock.now())
    again = client.get(f"{API}/complaints/{case['id']}", headers=desk).json()
    (shutoff,) = again["shutoffs"]  # the desk sees the order and its shut-off task
    assert shutoff["work_order_id"] == order_id
    task_id = shutoff["task_order_id"]
    task = client.get(f"{API}/work-orders/{task_id}", headers=desk).json()
    assert "4-2-301" in task["title"]
    assert "先关水阀" in task["title"]
    assert (task["department"], task["status"]) == ("security", "dispatched")
    assert task["assignee"]
    page = client.get(f"/desk/complaints/{case['id']}", headers=desk)  # the desk sees both
    assert page.status_code == 200
    assert f'data-order="{order_id}"' in page.text
    words = re.sub(r"<[^>]+>", "", page.text)  # what the page says, without its tags
    assert f"关阀任务 #{task_id} → {task['assignee']}" in words
    assert "4-2-301" in page.text
