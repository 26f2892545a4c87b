"""Correlation service: links recorded and read, and the known issue as the desk sees it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alarms.models import Alarm
from hub.cases.deadlines import effective_due
from hub.complaints.models import Complaint
from hub.complaints.schemas import KnownIssueOut, LinkOut
from hub.correlation.enums import Found
from hub.correlation.models import CorrelationLink, FirstResponse
from hub.correlation.scoring import Scored
from hub.correlation.wording import OnIt, suggestion
from hub.notices import service as notices
from hub.registry.models import Device
from hub.workorders.models import WorkOrder


def record(
    *, session: Session, complaint_id: int, scored: Sequence[Scored], found: Found, now: datetime
) -> dict[tuple[str, int], CorrelationLink]:
    """Keep the links found (a link found again keeps its best score and every reason)."""
    existing = {
        (link.target_type, link.target_id): link
        for link in session.scalars(
            select(CorrelationLink).where(CorrelationLink.complaint_id == complaint_id)
        )
    }
    for item in scored:
        key = (str(item.candidate.type), item.candidate.id)
        link = existing.get(key)
        if link is None:
            link = CorrelationLink(
                complaint_id=complaint_id,
                target_type=key[0],
                target_id=key[1],
                score=item.score,
                reasons=list(item.reasons),
                found=found,
                attached=False,
                at=now,
            )
            session.add(link)
            existing[key] = link
        else:
            link.score = max(link.score, item.score)
            link.reasons = [*link.reasons, *(r for r in item.reasons if r not in link.reasons)]
    session.flush()
    return existing


def links_of(*, session: Session, complaint_ids: Iterable[int]) -> dict[int, list[CorrelationLink]]:
    """The recorded links of each complaint, best first."""
    ids = sorted(set(complaint_ids))
    out: dict[int, list[CorrelationLink]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = session.scalars(
        select(CorrelationLink)
        .where(CorrelationLink.complaint_id.in_(ids))
        .order_by(CorrelationLink.score.desc(), CorrelationLink.id)
    )
    for link in rows:
        out[link.complaint_id].append(link)
    return out


def attached(*, session: Session, complaint_id: int) -> CorrelationLink | None:
    """The link of the order the complaint was attached to as its known issue."""
    return session.scalar(
        select(CorrelationLink).where(
            CorrelationLink.complaint_id == complaint_id, CorrelationLink.attached.is_(True)
        )
    )


def link_views(links: Sequence[CorrelationLink]) -> list[LinkOut]:
    """The API view of recorded links."""
    return [
        LinkOut(type=link.target_type, id=link.target_id, score=link.score, reasons=link.reasons)
        for link in links
    ]


@dataclass(frozen=True)
class OrderAlarm:
    """What the desk's reply needs of one alarm of an order."""

    id: int
    type: str
    raised_at: datetime
    kind: str


def order_alarms(*, session: Session, order_ids: Iterable[int]) -> dict[int, list[OrderAlarm]]:
    """The alarms of each order, oldest first."""
    ids = sorted(set(order_ids))
    out: dict[int, list[OrderAlarm]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = session.execute(
        select(Alarm.work_order_id, Alarm.id, Alarm.type, Alarm.raised_at, Device.kind)
        .join(Device, Device.id == Alarm.device_id)
        .where(Alarm.work_order_id.in_(ids))
        .order_by(Alarm.id)
    ).all()
    for order_id, alarm_id, alarm_type, raised_at, kind in rows:
        if order_id is not None:
            out[order_id].append(OrderAlarm(alarm_id, alarm_type, raised_at, kind))
    return out


def next_deadline(order: WorkOrder, now: datetime) -> tuple[str | None, datetime | None]:
    """The order's next unmet deadline of its current cycle (paused while on hold)."""
    pending = [
        (effective_due(d, hold_started_at=order.hold_started_at, now=now), d.step)
        for d in order.deadlines
        if d.cycle == order.reopen_count and d.met_at is None
    ]
    if not pending:
        return None, None
    due, step = min(pending)
    return step, due


def _resolved_at(order: WorkOrder) -> datetime | None:
    met = [d.met_at for d in order.deadlines if d.step == "resolve" and d.met_at is not None]
    return max(met) if met else None


def first_responses(*, session: Session, order_ids: Iterable[int]) -> dict[int, FirstResponse]:
    """The shut-off tasks raised for these orders."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    rows = session.scalars(select(FirstResponse).where(FirstResponse.work_order_id.in_(ids)))
    return {r.work_order_id: r for r in rows}


def known_issues(
    *,
    session: Session,
    complaints: Sequence[Complaint],
    links: dict[int, CorrelationLink],
    now: datetime,
    zone: tzinfo,
) -> dict[int, KnownIssueOut]:
    """The known issue of each complaint that has one (`links`: its attached link)."""
    orders = {
        o.id: o
        for o in session.scalars(
            select(WorkOrder).where(WorkOrder.id.in_(sorted({k.target_id for k in links.values()})))
        )
    }
    alarms = order_alarms(session=session, order_ids=orders)
    posted = notices.by_orders(session=session, order_ids=orders)
    shutoffs = first_responses(session=session, order_ids=orders)
    out: dict[int, KnownIssueOut] = {}
    for complaint in complaints:
        link = links.get(complaint.id)
        order = orders.get(link.target_id) if link else None
        if link is None or order is None:
            continue
        out[complaint.id] = known_issue_view(
            complaint=complaint,
            order=order,
            link=link,
            alarms=alarms.get(order.id, []),
            notice_id=posted[order.id].id if order.id in posted else None,
            shutoff=shutoffs.get(order.id),
            now=now,
            zone=zone,
        )
    return out


def known_issue_of(
    *,
    session: Session,
    complaint: Complaint,
    order: WorkOrder,
    link: CorrelationLink,
    now: datetime,
    zone: tzinfo,
) -> KnownIssueOut:
    """The known issue of a complaint just attached to `order` (its alarms, notice, shut-off)."""
    notice = notices.for_order(session=session, work_order_id=order.id)
    return known_issue_view(
        complaint=complaint,
        order=order,
        link=link,
        alarms=order_alarms(session=session, order_ids=[order.id])[order.id],
        notice_id=notice.id if notice else None,
        shutoff=first_responses(session=session, order_ids=[order.id]).get(order.id),
        now=now,
        zone=zone,
    )


def known_issue_view(
    *,
    complaint: Complaint | None,
    order: WorkOrder,
    link: CorrelationLink | None,
    alarms: Sequence[OrderAlarm],
    notice_id: int | None,
    shutoff: FirstResponse | None,
    now: datetime,
    zone: tzinfo,
) -> KnownIssueOut:
    """The contract's `known_issue`: who is on it, status, next deadline, the replies."""
    step, due = next_deadline(order, now)
    place = complaint.location.path if complaint and complaint.location else None
    on_it = OnIt(
        order_id=order.id,
        status=order.status,
        department=order.department,
        assignee=order.assignee,
        place=place or (order.location.path if order.location else None),
        alarm_types=tuple(a.type for a in alarms),
        kinds=tuple(
            dict.fromkeys(
                [a.kind for a in alarms] + list(complaint.device_kinds if complaint else [])
            )
        ),
        next_step=step,
        next_due=due,
        hold_reason=order.hold_reason,
        on_hold_since=order.hold_started_at,
        sensed_at=min((a.raised_at for a in alarms), default=None),
        resolved_at=_resolved_at(order),
        shutoff_by=shutoff.assignee if shutoff else None,
        shutoff=shutoff is not None,
        overdue=due is not None and due < now,
    )
    zh, en = suggestion(on_it, zone)
    return KnownIssueOut(
        work_order_id=order.id,
        status=order.status,
        department=order.department,
        assignee=order.assignee,
        next_due=due,
        next_step=step,
        alarm_ids=[a.id for a in alarms],
        notice_id=notice_id,
        reply_suggestion=zh,
        reply_suggestion_en=en,
        score=link.score if link else 1.0,
        reasons=list(link.reasons) if link else [],
        hold_reason=order.hold_reason,
        on_hold_since=order.hold_started_at,
        shutoff_order_id=shutoff.task_order_id if shutoff else None,
    )
