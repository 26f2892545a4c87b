"""Escalation: media exposure, a large direct loss, or harm to the company's name."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.auth.service import create_user
from hub.clock import ManualClock
from hub.complaints import escalation
from hub.complaints.enums import ComplaintSeverity, Trigger
from hub.complaints.models import Complaint
from hub.complaints.policy import ComplaintPolicy
from hub.errors import InvalidInput
from tests.complaints.helpers import POLICY, SITE, file

pytestmark = pytest.mark.usefixtures("sites")

FIRE_LANE = (
    "三期车库入口消防通道停了一辆货车,安全员劝离时发生冲突,人群里有记者模样的人扛着录像机在拍。"
)


@pytest.fixture
def managers(db: Session, clock: ManualClock, sites: tuple[str, str]) -> list[str]:
    """Two managers of the site and one of another site."""
    for name, site in (("mgr-zhang", SITE), ("mgr-liu", SITE), ("mgr-other", sites[1])):
        create_user(session=db, name=name, role=Role.manager, site_ids=[site], now=clock.now())
    create_user(session=db, name="desk-2", role=Role.front_desk, site_ids=[SITE], now=clock.now())
    return ["mgr-liu", "mgr-zhang"]


def triggers_of(complaint: Complaint) -> set[str]:
    """The triggers of every escalation of a complaint."""
    return {t["trigger"] for e in complaint.escalations for t in e.triggers}


def test_media_in_the_text_escalates_at_once(
    db: Session, clock: ManualClock, managers: list[str]
) -> None:
    complaint = file(db, clock, FIRE_LANE)
    assert complaint.escalated_at == clock.now()
    assert triggers_of(complaint) == {Trigger.media_exposure}
    escalation = complaint.escalations[0]
    assert escalation.notified == managers  # the site's managers, not another site's
    assert escalation.at == clock.now()
    assert "记者" in escalation.triggers[0]["detail"]
    assert complaint.severity == ComplaintSeverity.critical
    assert any(e.action == "escalated" and "mgr-zhang" in e.note for e in complaint.history)


def test_a_flag_set_by_the_desk_escalates(
    db: Session, clock: ManualClock, managers: list[str]
) -> None:
    complaint = file(db, clock, "电梯困人二十分钟才有人来", media_exposure=True)
    assert triggers_of(complaint) == {Trigger.media_exposure}
    reputational = file(db, clock, "门岗保安态度恶劣", reputational_damage=True)
    assert triggers_of(reputational) == {Trigger.reputational_damage}


def test_a_loss_above_the_threshold_escalates(
    db: Session, clock: ManualClock, managers: list[str]
) -> None:
    small = file(db, clock, "道闸落下砸到挡风玻璃", loss_amount=4500)
    assert small.escalated_at is None
    large = file(db, clock, "水管爆裂淹了整层地板和家具", loss_amount=20000)
    assert triggers_of(large) == {Trigger.direct_loss}
    assert "20000" in large.escalations[0].triggers[0]["detail"]
    strict = ComplaintPolicy.build(escalation_loss_yuan=1000)
    assert file(db, clock, "道闸落下砸到挡风玻璃", loss_amount=4500, policy=strict).escalated_at


def test_reputational_damage_in_the_text(
    db: Session, clock: ManualClock, managers: list[str]
) -> None:
    complaint = file(db, clock, "再不处理我们就拉横幅,联名换物业")
    assert triggers_of(complaint) == {Trigger.reputational_damage}


def test_ordinary_complaints_do_not_escalate(
    db: Session, clock: ManualClock, managers: list[str]
) -> None:
    complaint = file(db, clock, "3号楼12层走廊灯坏了好几天了,晚上回家很黑", loss_amount=0)
    assert complaint.escalated_at is None
    assert complaint.escalations == []


def test_escalating_later_keeps_the_first_time(
    db: Session, clock: ManualClock, managers: list[str]
) -> None:
    complaint = file(db, clock, FIRE_LANE)
    first = complaint.escalated_at
    clock.advance(hours=2)
    triggers = escalation.escalation_triggers(policy=POLICY, loss_amount=4500 + 10_000)
    escalation.escalate(
        session=db, complaint=complaint, triggers=triggers, actor="desk-li", now=clock.now()
    )
    assert complaint.escalated_at == first
    assert [e.at for e in complaint.escalations] == [first, clock.now()]
    with pytest.raises(InvalidInput):
        escalation.escalate(
            session=db, complaint=complaint, triggers=[], actor="desk-li", now=clock.now()
        )


def test_a_site_without_managers_still_records_the_escalation(
    db: Session, clock: ManualClock
) -> None:
    complaint = file(db, clock, FIRE_LANE)
    assert complaint.escalations[0].notified == []
    assert "no manager on record" in complaint.history[-1].note
