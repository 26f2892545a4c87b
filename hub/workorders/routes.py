"""HTTP routes of work orders (thin: parse, call the service, commit, shape).

An order is shown with what other domains tie to it (its alarms, its complaints), read
through their own read functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy.orm import Session

from hub.alarms.service import ids_by_order, standing_of_order
from hub.api.deps import NowDep, PrincipalDep, SessionDep
from hub.api.params import IdPath, Offset
from hub.attachments.service import attach, ids_by_order_event
from hub.complaints.queries import complaint_ids_by_order
from hub.errors import InvalidInput, NotFound
from hub.parts import flows as parts_flows
from hub.registry.service import find_location, get_device
from hub.workorders import dispatch, service
from hub.workorders.deps import DispatcherDep, PolicyDep
from hub.workorders.enums import Source, Status
from hub.workorders.models import WorkOrder
from hub.workorders.schemas import (
    AssignIn,
    BoardOrderOut,
    BoardOut,
    DispatchOut,
    TechnicianOut,
    TransitionIn,
    WorkOrderCreate,
    WorkOrderOut,
)

router = APIRouter(prefix="/work-orders", tags=["work orders"])


def order_views(
    *, session: Session, orders: Sequence[WorkOrder], now: datetime
) -> list[WorkOrderOut]:
    """The API views of `orders`, each with its alarms and complaints."""
    ids = [o.id for o in orders]
    alarms = ids_by_order(session=session, order_ids=ids)
    complaints = complaint_ids_by_order(session=session, order_ids=ids)
    photos = ids_by_order_event(session=session, order_ids=ids)
    return [
        WorkOrderOut.build(
            o,
            now=now,
            alarm_ids=alarms.get(o.id),
            complaint_ids=complaints.get(o.id),
            photos=photos,
        )
        for o in orders
    ]


def order_view(*, session: Session, order: WorkOrder, now: datetime) -> WorkOrderOut:
    """The API view of one order."""
    return order_views(session=session, orders=[order], now=now)[0]


@router.get("", response_model=list[WorkOrderOut], response_model_by_alias=True)
def list_work_orders(
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    source: Annotated[list[Source] | None, Query()] = None,
    site: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[WorkOrderOut]:
    """Orders in the caller's sites, newest first."""
    orders = service.list_orders(
        session=session,
        site_ids=principal.site_ids,
        statuses=status_ or (),
        sources=source or (),
        site=site,
        limit=limit,
        offset=offset,
    )
    return order_views(session=session, orders=orders, now=now)


@router.get("/dispatch", response_model=DispatchOut, response_model_by_alias=True)
def dispatch_board(
    session: SessionDep, principal: DispatcherDep, now: NowDep, site: str | None = None
) -> DispatchOut:
    """Open orders by department, unassigned and overdue first, beside the technicians
    with their open load and who is on duty (managers; heads: their department)."""
    if site is None:
        if len(principal.site_ids) != 1:
            raise InvalidInput("say which site (`site`)", details={"field": "site"})
        (site,) = principal.site_ids
    if not principal.sees(site):
        raise NotFound(f"site {site!r} not found")
    boards = dispatch.boards(session=session, principal=principal, site_id=site, now=now)
    return DispatchOut(
        site=site,
        departments=[
            BoardOut(
                department=b.department,
                orders=[
                    _board_order(v, now)
                    for v in order_views(session=session, orders=b.orders, now=now)
                ],
                technicians=[TechnicianOut(**vars(t)) for t in b.technicians],
            )
            for b in boards
        ],
    )


def _board_order(view: WorkOrderOut, now: datetime) -> BoardOrderOut:
    pending = [d.due_at for d in view.due.values() if d.met_at is None]
    due = min(pending, default=None)
    return BoardOrderOut(**view.model_dump(), next_due=due, overdue=due is not None and due < now)


@router.post("/{order_id}/assign", response_model=WorkOrderOut, response_model_by_alias=True)
def assign_work_order(
    order_id: IdPath,
    body: AssignIn,
    session: SessionDep,
    principal: DispatcherDep,
    policy: PolicyDep,
    now: NowDep,
) -> WorkOrderOut:
    """Dispatch an order to a technician of its department, or hand it to another one.

    Recorded on the order's history (`dispatched`, or `reassigned` from whom to whom) and
    sent live to the pages (`work_order` event with the new assignee).
    """
    order = service.get_order(session=session, order_id=order_id, site_ids=principal.site_ids)
    dispatch.assign(
        session=session,
        policy=policy,
        order=order,
        assignee=body.assignee,
        by=principal,
        now=now,
        note=body.note,
    )
    session.commit()
    return order_view(session=session, order=order, now=now)


@router.get("/{order_id}", response_model=WorkOrderOut, response_model_by_alias=True)
def get_work_order(
    order_id: IdPath, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> WorkOrderOut:
    """One order with its deadlines and full history."""
    order = service.get_order(session=session, order_id=order_id, site_ids=principal.site_ids)
    return order_view(session=session, order=order, now=now)


@router.post(
    "",
    response_model=WorkOrderOut,
    response_model_by_alias=True,
    status_code=status.HTTP_201_CREATED,
)
def create_work_order(
    body: WorkOrderCreate,
    session: SessionDep,
    principal: PrincipalDep,
    policy: PolicyDep,
    now: NowDep,
) -> WorkOrderOut:
    """Open a manual order."""
    if not principal.sees(body.site):
        raise NotFound(f"site {body.site!r} not found")
    location_id = None
    if body.device_id:
        device = get_device(
            session=session, device_id=body.device_id, site_ids=frozenset({body.site})
        )
        location_id = device.location_id
    if body.location:
        try:
            location_id = find_location(session=session, site_id=body.site, path=body.location).id
        except NotFound as exc:
            raise InvalidInput(exc.message, details={"field": "location"}) from exc
    order = service.open_order(
        session=session,
        policy=policy,
        now=now,
        site_id=body.site,
        title=body.title,
        description=body.description,
        source=Source.manual,
        department=body.department,
        priority=body.priority,
        device_id=body.device_id,
        location_id=location_id,
        assignee=body.assignee,
        actor=principal.name,
        by=principal,
    )
    session.commit()
    return order_view(session=session, order=order, now=now)


class AlarmsStand(InvalidInput):
    """The order's alarms still stand: resolving it needs a reason."""

    code = "alarms_active"


def _resolving_over_alarms(session: Session, order_id: int) -> None:
    """Resolving while the order's alarms still stand needs a reason (or the clear)."""
    standing = standing_of_order(session=session, order_id=order_id)
    if standing:
        names = ", ".join(f"#{a.id} {a.title}" for a in standing[:5])
        raise AlarmsStand(
            f"{len(standing)} alarm(s) of this order still stand ({names}): say why it is"
            " resolved anyway (note), or wait until they clear",
            details={"field": "note", "alarm_ids": [a.id for a in standing]},
        )


@router.post("/{order_id}/transitions", response_model=WorkOrderOut, response_model_by_alias=True)
def move_work_order(
    order_id: IdPath,
    body: TransitionIn,
    session: SessionDep,
    principal: PrincipalDep,
    policy: PolicyDep,
    now: NowDep,
) -> WorkOrderOut:
    """Move an order through its lifecycle; a move the lifecycle forbids is 409.

    What the move sets off (a notice down, callbacks due) runs in the move itself
    (`hub.workorders.reactions`).
    """
    order = service.get_order(session=session, order_id=order_id, site_ids=principal.site_ids)
    if body.to == Status.resolved and not body.note:
        _resolving_over_alarms(session, order.id)
    service.transition(
        session=session,
        policy=policy,
        order=order,
        to=body.to,
        actor=principal.name,
        now=now,
        note=body.note,
        assignee=body.assignee,
        by=principal,
    )
    attach(
        session=session,
        site_id=order.site_id,
        attachment_ids=body.attachment_ids,
        actor=principal.name,
        now=now,
        work_order_id=order.id,
        work_order_event_id=order.history[-1].id,
    )
    if body.hold_part_id is not None:
        parts_flows.hold_for(session=session, order=order, part_id=body.hold_part_id)
    session.commit()
    return order_view(session=session, order=order, now=now)
