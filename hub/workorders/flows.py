"""Work orders as the API shows them, with what other domains link to them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from hub.alarms.service import ids_by_order
from hub.complaints.queries import complaint_ids_by_order
from hub.workorders.models import WorkOrder
from hub.workorders.schemas import WorkOrderOut


def order_views(
    *, session: Session, orders: Sequence[WorkOrder], now: datetime
) -> list[WorkOrderOut]:
    """The API views of `orders`, each with its alarms and complaints."""
    ids = [o.id for o in orders]
    alarms = ids_by_order(session=session, order_ids=ids)
    complaints = complaint_ids_by_order(session=session, order_ids=ids)
    return [
        WorkOrderOut.build(
            o, now=now, alarm_ids=alarms.get(o.id), complaint_ids=complaints.get(o.id)
        )
        for o in orders
    ]


def order_view(*, session: Session, order: WorkOrder, now: datetime) -> WorkOrderOut:
    """The API view of one order."""
    return order_views(session=session, orders=[order], now=now)[0]
