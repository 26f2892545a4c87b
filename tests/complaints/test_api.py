"""The complaint desk through the HTTP API (CONTRACT.md §2), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.registry.service import add_owner, ensure_location
from tests.conftest import OTHER_SITE, SITE, bearer

BASE = "/api/v1/complaints"
LIGHT = "3号楼12层走廊灯坏了好几天了,晚上回家很黑"
DEVELOPER_REPLY = "这个问题属于开发商的事,你去找开发商"


@pytest.fixture
def desk(make_token: Callable[..., str]) -> dict[str, str]:
    """A new front-desk user's header."""
    return bearer(make_token(Role.front_desk))


def file(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """POST a complaint and return the created case."""
    body.setdefault("content", LIGHT)
    response = client.post(BASE, json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def move(
    client: TestClient, headers: dict[str, str], cid: int, to: str, **body: Any
) -> dict[str, Any]:
    """POST a transition and return the response body (asserting success)."""
    response = client.post(f"{BASE}/{cid}/transitions", json={"to": to, **body}, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_done_when_scenario(
    client: TestClient, desk: dict[str, str], db: Session, clock: ManualClock
) -> None:
    """File the corridor-light complaint, get reasons; a bad reply warns; a repeat is marked."""
    ensure_location(session=db, site_id=SITE, path="3/12/1201")
    first = file(
        client,
        desk,
        complainant_name="王女士",
        complainant_phone="13800000001",
        unit="3/12/1201",
        channel="visit",
        kind="repair",
        request="今天修好",
    )
    classification = first["classification"]
    assert classification["responsibility"] == "property"
    assert classification["category"] == "facility"
    assert classification["device_kinds"] == ["light"]
    assert any("走廊灯" in reason for reason in classification["reasons"])
    assert first["status"] == "received"
    assert first["location"] == "3/12"  # read from the text, found in the registry
    assert first["repeat_of"] is None
    assert first["links"] == []
    assert first["due"]["registered"]["met_at"] is not None

    answer = client.post(
        f"{BASE}/{first['id']}/replies",
        json={"text": DEVELOPER_REPLY, "channel": "visit"},
        headers=desk,
    )
    assert answer.status_code == 201, answer.text
    warnings = answer.json()["warnings"]
    assert [w["rule"] for w in warnings] == ["go_to_developer"]
    assert warnings[0]["phrase"].startswith("这个问题属于开发商的事")
    assert "帮您联系开发商" in warnings[0]["suggestion"]

    clock.advance(days=2)
    second = file(
        client, desk, content="3號樓12層的走廊燈還是不亮!", complainant_phone="138-0000-0001"
    )
    assert second["repeat_of"] == first["id"]
    assert second["kind"] == "complaint"
    assert second["links"][0]["type"] == "complaint"
    assert second["links"][0]["id"] == first["id"]
    assert second["links"][0]["score"] == 1.0
    again = client.get(f"{BASE}/{first['id']}", headers=desk).json()
    assert {"type": "complaint", "id": second["id"]} in [
        {"type": link["type"], "id": link["id"]} for link in again["links"]
    ]


def test_the_whole_workflow_through_the_api(
    client: TestClient, desk: dict[str, str], clock: ManualClock
) -> None:
    cid = file(client, desk)["id"]
    move(client, desk, cid, "verified", reasonable=True)
    move(client, desk, cid, "investigating")
    move(client, desk, cid, "assigned", assignee="工程部 eng-wang")
    move(client, desk, cid, "remedy_proposed")
    blocked = client.post(f"{BASE}/{cid}/transitions", json={"to": "replied"}, headers=desk)
    assert blocked.status_code == 409
    assert blocked.json()["error"]["code"] == "conflict"
    client.post(
        f"{BASE}/{cid}/replies",
        json={"text": "今天下午三点前更换灯管,您看可以吗?", "owner_opinion": "可以"},
        headers=desk,
    )
    move(client, desk, cid, "replied")
    move(client, desk, cid, "implementing")
    clock.advance(hours=2)
    resolved = move(client, desk, cid, "resolved")
    assert resolved["due"]["callback"]["due_at"].startswith("2026-11-23T13:00")
    bad = client.post(f"{BASE}/{cid}/transitions", json={"to": "callback"}, headers=desk)
    assert bad.status_code == 422
    move(client, desk, cid, "callback", outcome="satisfied", note="业主满意")
    done = move(client, desk, cid, "archived")
    assert done["status"] == "archived"
    assert done["closed_at"] is not None
    assert [h["to"] for h in done["history"] if h["action"] != "reply"][-3:] == [
        "resolved",
        "callback",
        "archived",
    ]
    again = client.post(f"{BASE}/{cid}/transitions", json={"to": "verified"}, headers=desk)
    assert again.status_code == 409
    assert again.json()["error"]["details"]["allowed"] == []


def test_a_forbidden_move_is_409(client: TestClient, desk: dict[str, str]) -> None:
    cid = file(client, desk)["id"]
    response = client.post(f"{BASE}/{cid}/transitions", json={"to": "resolved"}, headers=desk)
    assert response.status_code == 409
    assert response.json()["error"]["details"]["allowed"] == ["archived", "verified", "withdrawn"]


def test_only_the_desk_and_managers_run_the_workflow(
    client: TestClient, make_token: Callable[..., str], desk: dict[str, str]
) -> None:
    engineer = bearer(make_token(Role.engineer))
    cid = file(client, engineer, channel="staff")["id"]  # on-site staff may file
    response = client.post(f"{BASE}/{cid}/transitions", json={"to": "verified"}, headers=engineer)
    assert response.status_code == 403
    move(client, desk, cid, "verified")


def test_sites_are_scoped_and_tokens_required(
    client: TestClient, make_token: Callable[..., str], desk: dict[str, str]
) -> None:
    cid = file(client, desk)["id"]
    other = bearer(make_token(Role.front_desk, site_ids=(OTHER_SITE,)))
    assert client.get(f"{BASE}/{cid}", headers=other).status_code == 404
    for path, body in (
        (f"{BASE}/{cid}/transitions", {"to": "verified"}),
        (f"{BASE}/{cid}/replies", {"text": "您好"}),
    ):
        assert client.post(path, json=body, headers=other).status_code == 404
    assert client.get(BASE, headers=other).json() == []
    response = client.post(BASE, json={"content": LIGHT, "site": SITE}, headers=other)
    assert response.status_code == 404
    assert client.get(BASE).status_code == 401
    assert client.post(BASE, json={"content": LIGHT}).status_code == 401
    assert client.get(f"{BASE}/{cid}").json()["error"]["code"] == "unauthorized"


def test_bad_input_is_422(
    client: TestClient, desk: dict[str, str], make_token: Callable[..., str]
) -> None:
    assert client.post(BASE, json={}, headers=desk).status_code == 422
    assert client.post(BASE, json={"content": "  "}, headers=desk).status_code == 422
    unknown = client.post(BASE, json={"content": LIGHT, "unit": "9/99/9901"}, headers=desk)
    assert unknown.status_code == 201  # recorded all the same, the reasons say why
    assert unknown.json()["unit"] is None
    assert (
        "unit 9/99/9901 is not in the registry, nor any place above it"
        in (unknown.json()["classification"]["reasons"])
    )
    naive = client.post(
        BASE, json={"content": LIGHT, "received_at": "2026-11-23T08:00:00"}, headers=desk
    )
    assert naive.status_code == 422
    both = bearer(make_token(Role.manager, site_ids=(SITE, OTHER_SITE)))
    assert client.post(BASE, json={"content": LIGHT}, headers=both).status_code == 422
    assert client.post(BASE, json={"content": LIGHT, "site": SITE}, headers=both).status_code == 201


def test_a_registered_owner_by_phone(
    client: TestClient, desk: dict[str, str], db: Session, clock: ManualClock
) -> None:
    owner = add_owner(
        session=db,
        site_id=SITE,
        name="李先生",
        phone="13800000002",
        unit_path="2/3/301",
        now=clock.now(),
    )
    case = file(client, desk, content="我家厨房水管漏水了", complainant_phone="13800000002")
    assert case["complainant"] == {
        "owner_id": owner.id,
        "name": "李先生",
        "phone": "13800000002",
        "unit": "2/3/301",
    }
    assert case["location"] == "2/3/301"


def test_received_at_and_registration_deadline(
    client: TestClient, desk: dict[str, str], clock: ManualClock
) -> None:
    received = (clock.now() - timedelta(minutes=5)).isoformat()
    case = file(client, desk, received_at=received)
    assert case["due"]["registered"]["breached"] is True
    assert case["escalation_level"] == 1


def test_forbidden_phrases_can_block(
    app: FastAPI, client: TestClient, desk: dict[str, str], db: Session
) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"complaint_block_forbidden_phrases": True}
    )
    cid = file(client, desk)["id"]
    response = client.post(f"{BASE}/{cid}/replies", json={"text": "肯定不行"}, headers=desk)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "forbidden_phrase"
    assert error["details"]["warnings"][0]["rule"] == "definitely_not"
    case = client.get(f"{BASE}/{cid}", headers=desk).json()
    assert case["replies"] == []
    assert case["history"][-1]["action"] == "reply_blocked"
    stats = client.get(f"{BASE}/stats", headers=desk).json()
    assert stats["phrase_hits"] == {"total": 1, "blocked": 1, "by_rule": {"definitely_not": 1}}
    fine = client.post(
        f"{BASE}/{cid}/replies", json={"text": "我马上安排师傅,半小时内到。"}, headers=desk
    )
    assert fine.status_code == 201
    assert fine.json()["warnings"] == []


def test_phrase_check_records_nothing(client: TestClient, desk: dict[str, str]) -> None:
    response = client.post(
        f"{BASE}/phrase-check", json={"text": "我不太清楚,改天再说"}, headers=desk
    )
    assert response.status_code == 200
    assert {w["rule"] for w in response.json()} == {"not_sure", "call_you_some_day"}
    assert client.get(f"{BASE}/stats", headers=desk).json()["phrase_hits"]["total"] == 0


def test_overrides_are_recorded_and_counted(client: TestClient, desk: dict[str, str]) -> None:
    cid = file(client, desk, content="楼上漏水到我家,物业也不管")["id"]
    response = client.post(
        f"{BASE}/{cid}/classification",
        json={
            "responsibility": "non_property",
            "party": "neighbour",
            "reason": "查明是楼上住户水管",
        },
        headers=desk,
    )
    assert response.status_code == 200, response.text
    classification = response.json()["classification"]
    assert (classification["responsibility"], classification["party"]) == (
        "non_property",
        "neighbour",
    )
    assert classification["overridden"] is True
    assert classification["automatic"]["responsibility"] == "property"
    assert "overridden by" in classification["reasons"][-1]
    missing = client.post(
        f"{BASE}/{cid}/classification", json={"responsibility": "non_property"}, headers=desk
    )
    assert missing.status_code == 422
    stats = client.get(f"{BASE}/stats", headers=desk).json()
    assert stats["overrides"]["total"] == 2  # responsibility and party
    assert stats["overrides"]["by_field"]["responsibility"] == {"property → non_property": 1}
    assert stats["overrides"]["auto_kept_share"] == 0.0
    assert stats["by_responsibility"] == {"non_property": 1}


def test_escalation_and_work_order_routes(
    client: TestClient, desk: dict[str, str], make_token: Callable[..., str]
) -> None:
    make_token(Role.manager)
    cid = file(client, desk, content="喂,我们家爆水管了,快点派人给我维修!4-2-301")["id"]
    nothing = client.post(f"{BASE}/{cid}/escalations", json={"loss_amount": 100}, headers=desk)
    assert nothing.status_code == 422
    escalated = client.post(
        f"{BASE}/{cid}/escalations",
        json={"loss_amount": 30000, "note": "地板家具全泡了"},
        headers=desk,
    )
    assert escalated.status_code == 201, escalated.text
    body = escalated.json()
    assert body["escalations"][0]["triggers"][0]["trigger"] == "direct_loss"
    assert body["escalations"][0]["notified"] == ["manager-2"]
    assert body["severity"] == "critical"
    opened = client.post(f"{BASE}/{cid}/work-orders", json={"assignee": "eng-wang"}, headers=desk)
    assert opened.status_code == 201, opened.text
    order_id = opened.json()["work_order_ids"][0]
    assert {"type": "work_order", "id": order_id} in [
        {"type": link["type"], "id": link["id"]} for link in opened.json()["links"]
    ]
    order = client.get(f"/api/v1/work-orders/{order_id}", headers=desk).json()
    assert order["source"] == "complaint"
    assert order["priority"] == "urgent"
    assert order["complaint_ids"] == [cid]
    listed = client.get(BASE, params={"work_order": order_id}, headers=desk).json()
    assert [c["id"] for c in listed] == [cid]


def test_intake_can_open_the_order_at_once(client: TestClient, desk: dict[str, str]) -> None:
    case = file(client, desk, content="会所二楼男卫生间没纸了", open_work_order=True)
    assert len(case["work_order_ids"]) == 1
    fees = client.post(
        BASE, json={"content": "物业费多收了两百块", "open_work_order": True}, headers=desk
    )
    assert fees.status_code == 409
    assert client.get(BASE, headers=desk).json()[0]["id"] == case["id"]  # nothing half-saved


def test_list_filters_and_stats(client: TestClient, desk: dict[str, str]) -> None:
    file(client, desk)
    file(client, desk, content="这个月的物业费账单多收了两百块", kind="inquiry")
    file(client, desk, content="隔壁邻居的狗每天晚上叫到半夜", channel="phone")
    assert len(client.get(BASE, headers=desk).json()) == 3
    fees = client.get(BASE, params={"category": "fees"}, headers=desk).json()
    assert [c["classification"]["category"] for c in fees] == ["fees"]
    neighbour = client.get(BASE, params={"responsibility": "non_property"}, headers=desk).json()
    assert [c["classification"]["party"] for c in neighbour] == ["neighbour"]
    assert len(client.get(BASE, params={"kind": "inquiry"}, headers=desk).json()) == 1
    assert client.get(BASE, params={"repeat": True}, headers=desk).json() == []
    stats = client.get(f"{BASE}/stats", headers=desk).json()
    assert stats["total"] == 3
    assert stats["by_category"] == {"facility": 1, "fees": 1, "neighbour_relations": 1}
    assert stats["by_status"] == {"received": 3}
    naive = client.get(f"{BASE}/stats", params={"since": "2026-11-01T00:00:00"}, headers=desk)
    assert naive.status_code == 422
