"""Evidence timelines: what the sensors, alarms, orders, the desk and the patrols recorded
about a complaint, a work order or a device, merged in time order.

A complaint's devices are those under its location (or unit) and those of its linked
work orders and their alarms; its window runs from 24 hours before it was received until
now. An order's window runs from 24 hours before it was opened until it closed (or now).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.alarms.models import Alarm
from hub.attachments.models import AttachmentLink
from hub.attachments.service import links_of
from hub.complaints.models import Complaint, ComplaintEvent, ComplaintWorkOrder
from hub.inspections.service import list_inspections
from hub.localtime import shown
from hub.registry.models import Device, Location
from hub.signals.models import Signal
from hub.workorders.models import Deadline, WorkOrder, WorkOrderEvent

BEFORE = timedelta(hours=24)
LATE = timedelta(minutes=5)
"""A signal taken more than this after its own `ts` is marked `late` (CONTRACT.md §6)."""


@dataclass
class Subject:
    """What a timeline is about, and what it therefore covers."""

    type: str
    id: str
    site_id: str
    since: datetime
    until: datetime
    device_ids: list[str] = field(default_factory=list)
    order_ids: list[int] = field(default_factory=list)
    complaint_ids: list[int] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


def _devices_under(session: Session, site_id: str, path: str) -> list[str]:
    return list(
        session.scalars(
            select(Device.id)
            .join(Location, Device.location_id == Location.id)
            .where(
                Device.site_id == site_id,
                or_(Location.path == path, Location.path.startswith(f"{path}/", autoescape=True)),
            )
        )
    )


def _order_devices(session: Session, order_ids: list[int]) -> list[str]:
    if not order_ids:
        return []
    direct = session.scalars(
        select(WorkOrder.device_id).where(
            WorkOrder.id.in_(order_ids), WorkOrder.device_id.is_not(None)
        )
    )
    alarmed = session.scalars(select(Alarm.device_id).where(Alarm.work_order_id.in_(order_ids)))
    return [d for d in (*direct, *alarmed) if d is not None]


def for_complaint(*, session: Session, complaint: Complaint, now: datetime) -> Subject:
    """A complaint's timeline: its place's devices, its orders and their alarms' devices."""
    orders = list(
        session.scalars(
            select(ComplaintWorkOrder.work_order_id).where(
                ComplaintWorkOrder.complaint_id == complaint.id
            )
        )
    )
    place = complaint.location or complaint.unit
    paths = [place.path] if place is not None else []
    devices = {d for p in paths for d in _devices_under(session, complaint.site_id, p)}
    devices.update(_order_devices(session, orders))
    return Subject(
        "complaint",
        str(complaint.id),
        complaint.site_id,
        complaint.received_at - BEFORE,
        now,
        sorted(devices),
        sorted(orders),
        [complaint.id],
        paths,
    )


def for_order(*, session: Session, order: WorkOrder, now: datetime) -> Subject:
    """A work order's timeline: its device, its alarms' devices, the complaints linked to it."""
    complaints = list(
        session.scalars(
            select(ComplaintWorkOrder.complaint_id).where(
                ComplaintWorkOrder.work_order_id == order.id
            )
        )
    )
    paths = [order.location.path] if order.location is not None else []
    return Subject(
        "work_order",
        str(order.id),
        order.site_id,
        order.created_at - BEFORE,
        order.closed_at or now,
        sorted(set(_order_devices(session, [order.id]))),
        [order.id],
        sorted(complaints),
        paths,
    )


def for_device(*, device: Device, since: datetime, until: datetime) -> Subject:
    """A device's timeline over a window."""
    paths = [device.location.path] if device.location is not None else []
    return Subject("device", device.id, device.site_id, since, until, [device.id], [], [], paths)


def _entry(
    at: datetime, kind: str, ref: tuple[str, Any], zone: tzinfo, **rest: Any
) -> dict[str, Any]:
    return {
        "at": at,
        "at_local": shown(at, zone),
        "type": kind,
        "ref": {"type": ref[0], "id": ref[1]},
        "device_id": rest.get("device_id"),
        "summary": rest.get("summary", ""),
        "data": rest.get("data", {}),
        "digest": rest.get("digest"),
        **({"channel": rest["channel"]} if "channel" in rest else {}),
        **(
            {"received_at": rest["received_at"], "late": rest["late"]}
            if "received_at" in rest
            else {}
        ),
    }


def _signal_summary(channel: str, kind: str | None, payload: dict[str, Any]) -> str:
    values = " ".join(
        f"{k}={v}" for k, v in sorted(payload.items()) if k not in ("type", "ts", "id")
    )
    return f"{channel} {kind or ''} {values}".replace("  ", " ").strip()


def signal_entries(
    *, session: Session, subject: Subject, zone: tzinfo, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """The subject's signals in its window (at most `limit`), and whether more were left out."""
    if not subject.device_ids:
        return [], False
    rows = session.execute(
        select(
            Signal.id,
            Signal.device_id,
            Signal.ts,
            Signal.channel,
            Signal.type,
            Signal.payload,
            Signal.digest,
            Signal.received_at,
        )
        .where(
            Signal.device_id.in_(subject.device_ids),
            Signal.ts >= subject.since,
            Signal.ts <= subject.until,
        )
        .order_by(Signal.ts, Signal.id)
        .limit(limit + 1)
    ).all()
    out = [
        _entry(
            ts,
            "signal",
            ("signal", sid),
            zone,
            device_id=dev,
            digest=digest,
            data=payload,
            summary=_signal_summary(channel, kind, payload),
            channel=channel,
            received_at=received,
            late=received - ts > LATE,
        )
        for sid, dev, ts, channel, kind, payload, digest, received in rows[:limit]
    ]
    return out, len(rows) > limit


def _event(ev: Any, kind: str, ref: tuple[str, int], zone: tzinfo) -> dict[str, Any]:
    """A case's history row (order or complaint) as a timeline entry."""
    moved = f"{ev.from_status or '-'} → {ev.to_status or '-'}"
    data = {
        "actor": ev.actor,
        "action": ev.action,
        "from": ev.from_status,
        "to": ev.to_status,
        "note": ev.note,
    }
    return _entry(
        ev.at, kind, ref, zone, summary=f"{ev.action}: {moved} {ev.note}".strip(), data=data
    )


def _alarm(alarm: Alarm, zone: tzinfo) -> dict[str, Any]:
    data = {
        "type": alarm.type,
        "severity": alarm.severity,
        "work_order_id": alarm.work_order_id,
        "cleared_at": alarm.cleared_at.isoformat() if alarm.cleared_at else None,
    }
    return _entry(
        alarm.raised_at,
        "alarm",
        ("alarm", alarm.id),
        zone,
        device_id=alarm.device_id,
        summary=alarm.title,
        data=data,
    )


def other_entries(*, session: Session, subject: Subject, zone: tzinfo) -> list[dict[str, Any]]:
    """Alarms, order and complaint events, and patrol entries in the subject's window."""
    since, until = subject.since, subject.until
    out: list[dict[str, Any]] = []
    if subject.device_ids:
        alarms = session.scalars(
            select(Alarm).where(
                Alarm.device_id.in_(subject.device_ids),
                Alarm.raised_at <= until,
                or_(Alarm.cleared_at.is_(None), Alarm.cleared_at >= since),
            )
        )
        out += [_alarm(a, zone) for a in alarms]
    if subject.order_ids:
        events = session.scalars(
            select(WorkOrderEvent).where(WorkOrderEvent.work_order_id.in_(subject.order_ids))
        )
        out += [
            _event(e, "work_order_event", ("work_order", e.work_order_id), zone) for e in events
        ]
    if subject.complaint_ids:
        cevents = session.scalars(
            select(ComplaintEvent).where(ComplaintEvent.complaint_id.in_(subject.complaint_ids))
        )
        out += [_event(e, "complaint_event", ("complaint", e.complaint_id), zone) for e in cevents]
    patrols = _inspection_entries(session, subject, zone)
    out += patrols
    out += attachment_entries(
        session=session,
        subject=subject,
        zone=zone,
        inspection_ids=[int(e["ref"]["id"]) for e in patrols],
    )
    return [e for e in out if since <= e["at"] <= until or e["type"] == "alarm"]


def _owner_words(link: AttachmentLink) -> str:
    """What a photo is attached to, as a person says it."""
    if link.reply_id is not None:
        return f"a reply to complaint #{link.complaint_id}"
    if link.work_order_event_id is not None:
        return f"a move of work order #{link.work_order_id}"
    if link.inspection_id is not None:
        return f"patrol entry #{link.inspection_id}"
    if link.complaint_id is not None:
        return f"complaint #{link.complaint_id}"
    return f"work order #{link.work_order_id}"


def attachment_entries(
    *, session: Session, subject: Subject, zone: tzinfo, inspection_ids: list[int]
) -> list[dict[str, Any]]:
    """The photos attached to the subject's complaints, orders and patrol entries.

    Each is an entry of its own whose `digest` is the file's SHA-256, so a pack can carry
    the file and its verification can tell an altered or missing one.
    """
    links = links_of(
        session=session,
        complaint_ids=subject.complaint_ids,
        order_ids=subject.order_ids,
        inspection_ids=inspection_ids,
    )
    out = []
    for link in links:
        photo = link.attachment
        kind, owner = link.owner
        data = {
            "sha256": photo.sha256,
            "content_type": photo.content_type,
            "bytes": photo.bytes,
            "width": photo.width,
            "height": photo.height,
            "taken_at": photo.taken_at.isoformat() if photo.taken_at else None,
            "attached_to": {"type": kind, "id": owner},
            "by": link.linked_by,
        }
        taken = f", taken {shown(photo.taken_at, zone)}" if photo.taken_at else ""
        summary = f"photo by {link.linked_by} on {_owner_words(link)}{taken}"
        out.append(
            _entry(
                link.linked_at,
                "attachment",
                ("attachment", photo.id),
                zone,
                summary=summary,
                data=data,
                digest=photo.sha256,
            )
        )
    return out


def _inspection_entries(session: Session, subject: Subject, zone: tzinfo) -> list[dict[str, Any]]:
    rows = list_inspections(
        session=session,
        site_ids=[subject.site_id],
        since=subject.since,
        until=subject.until,
        location_paths=subject.paths,
        limit=2000,
    )
    if subject.type == "device":
        rows = [r for r in rows if r.device_id in (None, subject.id)]
    out = []
    for row in rows:
        said = ", ".join(f"{i.item} {i.state}" for i in row.items)
        flagged = [d.reason for d in row.discrepancies]
        items = [{"item": i.item, "state": i.state, "verdict": i.verdict} for i in row.items]
        data = {"inspector": row.inspector, "items": items, "discrepancies": flagged}
        summary = f"{row.inspector}: {said}"
        if flagged:
            summary += f" — contradicted: {'; '.join(flagged)}"
        out.append(
            _entry(
                row.observed_at,
                "inspection",
                ("inspection", row.id),
                zone,
                device_id=row.device_id,
                summary=summary,
                data=data,
            )
        )
    return out


def device_kinds(*, session: Session, subject: Subject) -> dict[str, str]:
    """Each of the subject's devices and its kind (what its findings' rules read)."""
    if not subject.device_ids:
        return {}
    rows = session.execute(
        select(Device.id, Device.kind).where(Device.id.in_(subject.device_ids))
    ).all()
    return {device_id: str(kind) for device_id, kind in rows}


def deadlines(*, session: Session, subject: Subject) -> list[dict[str, Any]]:
    """The per-step deadlines of the subject's orders (the SLA its findings hold them to)."""
    if not subject.order_ids:
        return []
    rows = session.scalars(select(Deadline).where(Deadline.work_order_id.in_(subject.order_ids)))
    return [
        {"work_order_id": d.work_order_id, "step": d.step, "due_at": d.due_at, "met_at": d.met_at}
        for d in rows
    ]


def entries(
    *, session: Session, subject: Subject, zone: tzinfo, limit: int = 5000
) -> tuple[list[dict[str, Any]], bool]:
    """The whole timeline in time order, and whether signals were left out past `limit`."""
    signals, truncated = signal_entries(session=session, subject=subject, zone=zone, limit=limit)
    merged = signals + other_entries(session=session, subject=subject, zone=zone)
    merged.sort(key=lambda e: (e["at"], e["type"], str(e["ref"]["id"])))
    return merged, truncated
