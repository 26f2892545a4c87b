"""Complaint → work order: opened with the foundation's SLA policy, linked both ways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from hub.clock import ManualClock
from hub.complaints import flows, queries
from hub.complaints.enums import Kind, Status
from hub.errors import Conflict
from hub.registry.service import ensure_location
from hub.workorders.enums import Department, Priority, Source, Step
from hub.workorders.policy import SlaPolicy
from tests.complaints.helpers import SITE, bring_to, file

pytestmark = pytest.mark.usefixtures("sites")
SLA = SlaPolicy()


def test_a_facility_complaint_opens_a_linked_order(db: Session, clock: ManualClock) -> None:
    ensure_location(session=db, site_id=SITE, path="3/12")
    complaint = file(db, clock)
    order = flows.open_work_order(
        session=db, policy=SLA, complaint=complaint, actor="desk-li", now=clock.now()
    )
    assert (order.source, order.department, order.priority) == (
        Source.complaint,
        Department.engineering,
        Priority.normal,
    )
    assert order.location is not None
    assert order.location.path == "3/12"
    assert f"complaint {complaint.id}" in order.description
    assert any(e.action == "linked" and str(complaint.id) in e.note for e in order.history)
    assert [link.work_order_id for link in complaint.work_orders] == [order.id]
    assert queries.complaints_for_order(session=db, work_order_id=order.id) == [complaint.id]
    assert [
        c.id
        for c in queries.list_complaints(
            session=db, site_ids=frozenset({SITE}), work_order_id=order.id
        )
    ] == [complaint.id]
    dispatch = next(d for d in order.deadlines if d.step == Step.dispatch)
    assert dispatch.due_at == clock.now() + timedelta(minutes=15)  # the foundation's policy


@pytest.mark.parametrize(
    ("text", "department", "priority"),
    [
        ("喂,我们家爆水管了,快点派人给我维修!4-2-301", Department.engineering, Priority.urgent),
        ("会所二楼男卫生间没纸了", Department.cleaning, Priority.normal),
        ("车库入口消防通道停了一辆货车堵住了", Department.security, Priority.normal),
    ],
)
def test_the_order_goes_to_the_right_department(
    db: Session, clock: ManualClock, text: str, department: Department, priority: Priority
) -> None:
    order = flows.open_work_order(
        session=db, policy=SLA, complaint=file(db, clock, text), actor="desk-li", now=clock.now()
    )
    assert (order.department, order.priority) == (department, priority)


def test_a_repeat_raises_the_priority(db: Session, clock: ManualClock) -> None:
    file(db, clock, complainant_phone="13800000001")
    again = file(db, clock, "3号楼12层的灯还是不亮", complainant_phone="13800000001")
    order = flows.open_work_order(
        session=db, policy=SLA, complaint=again, actor="desk-li", now=clock.now()
    )
    assert order.priority == Priority.high


def test_not_every_complaint_is_a_work_order(db: Session, clock: ManualClock) -> None:
    fees = file(db, clock, "这个月的物业费账单多收了两百块,麻烦核对一下。")
    with pytest.raises(Conflict):
        flows.open_work_order(session=db, policy=SLA, complaint=fees, actor="d", now=clock.now())
    developer = file(db, clock, "刚交房半年客厅墙体就开裂了,这是房屋质量问题。", kind=Kind.repair)
    with pytest.raises(Conflict) as err:
        flows.open_work_order(
            session=db, policy=SLA, complaint=developer, actor="d", now=clock.now()
        )
    assert err.value.details["party"] == "developer"
    done = bring_to(db, clock, file(db, clock), Status.archived)
    with pytest.raises(Conflict):
        flows.open_work_order(session=db, policy=SLA, complaint=done, actor="d", now=clock.now())


def test_a_repair_of_any_category_may_open_an_order(db: Session, clock: ManualClock) -> None:
    complaint = file(db, clock, "我要报修,家里的东西坏了", kind=Kind.repair)
    order = flows.open_work_order(
        session=db, policy=SLA, complaint=complaint, actor="desk-li", now=clock.now()
    )
    assert order.source == Source.complaint
