"""A batch's change tracking watches its own session, for the batch's time only."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from hub.clock import ManualClock
from hub.signals import changes
from hub.workorders import service
from hub.workorders.enums import Department, Source
from hub.workorders.models import WorkOrder
from hub.workorders.policy import SlaPolicy
from tests.conftest import SITE

pytestmark = pytest.mark.usefixtures("sites")


def _open(db: Session, clock: ManualClock, title: str) -> WorkOrder:
    return service.open_order(
        session=db,
        policy=SlaPolicy(),
        now=clock.now(),
        site_id=SITE,
        title=title,
        source=Source.manual,
        department=Department.engineering,
        actor="test",
    )


def test_only_the_batchs_session_is_watched_and_only_while_it_runs(
    db: Session, clock: ManualClock
) -> None:
    assert not event.contains(Session, "after_flush", changes._after_flush)
    with changes.tracking(db) as tracker:
        inside = _open(db, clock, "inside")
    _open(db, clock, "after")
    assert [o.id for o in tracker.orders] == [inside.id]
    assert not event.contains(db, "after_flush", changes._after_flush)
