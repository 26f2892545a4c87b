"""The repeat rule: the same owner or unit, the same problem, within the window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from hub.clock import ManualClock
from hub.complaints.enums import Kind, Status
from hub.complaints.policy import ComplaintPolicy
from hub.registry.service import add_owner, ensure_location
from tests.complaints.helpers import SITE, file, move

pytestmark = pytest.mark.usefixtures("sites")

LIGHT = "3号楼12层走廊灯坏了好几天了,晚上回家很黑"
LIGHT_AGAIN = "3號樓12層走廊燈還是不亮,上次報修到現在都沒人來"
FEES = "这个月的物业费账单多收了两百块,麻烦核对一下。"


@pytest.fixture
def places(db: Session) -> None:
    """The floor and two units of building 3."""
    ensure_location(session=db, site_id=SITE, path="3/12/1201")
    ensure_location(session=db, site_id=SITE, path="3/12/1202")


def test_same_owner_same_problem_is_a_repeat_and_a_complaint(
    db: Session, clock: ManualClock, places: None
) -> None:
    first = file(db, clock, LIGHT, complainant_phone="138 0000 0001", kind=Kind.repair)
    clock.advance(days=3)
    second = file(db, clock, LIGHT_AGAIN, complainant_phone="+86 13800000001", kind=Kind.repair)
    assert second.repeat_of_id == first.id
    assert second.kind == Kind.complaint  # 同一问题反映两次或以上视为投诉
    assert second.kind_as_received == Kind.repair
    assert "same phone" in second.repeat_reasons
    assert "same category facility" in second.repeat_reasons
    assert any(e.action == "repeat" for e in second.history)
    assert first.repeat_of_id is None


def test_a_registered_owner_is_recognised_by_phone(
    db: Session, clock: ManualClock, places: None
) -> None:
    owner = add_owner(
        session=db,
        site_id=SITE,
        name="王女士",
        phone="13800000001",
        unit_path="3/12/1201",
        now=clock.now(),
    )
    first = file(db, clock, LIGHT, complainant_phone="13800000001")
    assert first.owner_id == owner.id
    assert first.unit is not None
    assert first.unit.path == "3/12/1201"
    assert first.complainant_name == "王女士"
    clock.advance(days=1)
    second = file(db, clock, LIGHT_AGAIN, owner_id=owner.id)
    assert second.repeat_of_id == first.id
    assert "same owner" in second.repeat_reasons


def test_same_unit_other_family_member_is_a_repeat(
    db: Session, clock: ManualClock, places: None
) -> None:
    first = file(db, clock, "我家厨房水管漏水了", unit="3/12/1201", complainant_phone="13800000001")
    clock.advance(days=2)
    second = file(db, clock, "家里水管又在滴水", unit="3/12/1201", complainant_phone="13900000009")
    assert second.repeat_of_id == first.id
    assert "same unit" in second.repeat_reasons


def test_a_neighbouring_unit_is_not_the_same_complainant(
    db: Session, clock: ManualClock, places: None
) -> None:
    file(db, clock, "我家厨房水管漏水了", unit="3/12/1201")
    second = file(db, clock, "我家厨房水管漏水了", unit="3/12/1202")
    assert second.repeat_of_id is None


def test_a_different_category_is_not_a_repeat(db: Session, clock: ManualClock) -> None:
    file(db, clock, LIGHT, complainant_phone="13800000001", kind=Kind.repair)
    clock.advance(days=1)
    other = file(db, clock, FEES, complainant_phone="13800000001", kind=Kind.inquiry)
    assert other.repeat_of_id is None
    assert other.kind == Kind.inquiry


def test_a_different_device_kind_is_another_problem(db: Session, clock: ManualClock) -> None:
    file(db, clock, LIGHT, complainant_phone="13800000001")
    leak = file(db, clock, "3号楼12层楼道水管漏水", complainant_phone="13800000001")
    assert leak.repeat_of_id is None


def test_outside_the_window_is_not_a_repeat(db: Session, clock: ManualClock) -> None:
    file(db, clock, LIGHT, complainant_phone="13800000001")
    clock.advance(days=31)
    later = file(db, clock, LIGHT_AGAIN, complainant_phone="13800000001")
    assert later.repeat_of_id is None


def test_the_window_is_configurable(db: Session, clock: ManualClock) -> None:
    policy = ComplaintPolicy.build(repeat_window_days=60)
    file(db, clock, LIGHT, complainant_phone="13800000001", policy=policy)
    clock.advance(days=45)
    later = file(db, clock, LIGHT_AGAIN, complainant_phone="13800000001", policy=policy)
    assert later.repeat_of_id is not None


def test_the_window_counts_from_the_time_received(db: Session, clock: ManualClock) -> None:
    file(db, clock, LIGHT, complainant_phone="13800000001")
    clock.advance(days=40)
    # Typed in late from a letter that arrived 35 days after the first call: still outside.
    late = file(
        db,
        clock,
        LIGHT_AGAIN,
        complainant_phone="13800000001",
        received_at=clock.now() - timedelta(days=5),
    )
    assert late.repeat_of_id is None


def test_the_latest_earlier_case_is_linked(db: Session, clock: ManualClock) -> None:
    file(db, clock, LIGHT, complainant_phone="13800000001")
    clock.advance(days=2)
    second = file(db, clock, LIGHT_AGAIN, complainant_phone="13800000001")
    clock.advance(days=2)
    third = file(db, clock, LIGHT_AGAIN, complainant_phone="13800000001")
    assert third.repeat_of_id == second.id


def test_a_withdrawn_case_does_not_count(db: Session, clock: ManualClock) -> None:
    first = file(db, clock, LIGHT, complainant_phone="13800000001")
    move(db, clock, first, Status.withdrawn)
    second = file(db, clock, LIGHT_AGAIN, complainant_phone="13800000001")
    assert second.repeat_of_id is None


def test_an_anonymous_contact_is_never_a_repeat(db: Session, clock: ManualClock) -> None:
    file(db, clock, LIGHT)
    assert file(db, clock, LIGHT).repeat_of_id is None
