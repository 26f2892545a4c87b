"""The parts store: parts per site, movements of their stock with who and why, forecasts."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.errors import Conflict, InvalidInput, NotFound
from hub.parts.enums import MoveReason
from hub.parts.models import Part, PartMovement
from hub.parts.policy import WINDOW_DAYS, PartOutlook, outlook
from hub.workorders.models import WorkOrder

logger = logging.getLogger(__name__)


def create_part(
    *,
    session: Session,
    site_id: str,
    name: str,
    name_en: str,
    unit: str,
    stock: int,
    min_stock: int,
    lead_days: int,
    device_kind: str | None,
    actor: str,
    now: datetime,
) -> Part:
    """Add a part to a site's store; its opening stock is the first movement."""
    part = Part(
        site_id=site_id,
        name=name,
        name_en=name_en,
        unit=unit,
        device_kind=device_kind,
        stock=0,
        min_stock=min_stock,
        lead_days=lead_days,
        on_order=0,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(part)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"site {site_id!r} already has a part named {name!r}") from exc
    if stock:
        move(
            session=session,
            part=part,
            delta=stock,
            reason=MoveReason.corrected,
            note="opening stock",
            actor=actor,
            now=now,
        )
    return part


def get_part(*, session: Session, part_id: int, site_ids: Collection[str]) -> Part:
    """A part of the caller's sites (404 otherwise)."""
    part = session.get(Part, part_id)
    if part is None or part.site_id not in site_ids:
        raise NotFound(f"part {part_id} not found")
    return part


def list_parts(
    *, session: Session, site_ids: Collection[str], site: str | None = None
) -> Sequence[Part]:
    """Parts of the caller's sites, by site and name."""
    query = select(Part).where(Part.site_id.in_(list(site_ids)))
    if site is not None:
        query = query.where(Part.site_id == site)
    return session.scalars(query.order_by(Part.site_id, Part.name)).all()


def movements(*, session: Session, part: Part, limit: int = 200) -> Sequence[PartMovement]:
    """A part's movements, newest first."""
    return session.scalars(
        select(PartMovement)
        .where(PartMovement.part_id == part.id)
        .order_by(PartMovement.at.desc(), PartMovement.id.desc())
        .limit(limit)
    ).all()


def _check(part: Part, delta: int, reason: MoveReason) -> tuple[int, int]:
    """The stock and on-order after the move, or the error that says why not."""
    if delta == 0:
        raise InvalidInput("a movement needs a non-zero delta", details={"field": "delta"})
    stock, on_order = part.stock, part.on_order
    if reason in (MoveReason.ordered, MoveReason.received) and delta < 0:
        raise InvalidInput(
            f"{reason} counts up: delta must be positive", details={"field": "delta"}
        )
    if reason == MoveReason.used and delta > 0:
        raise InvalidInput("used counts down: delta must be negative", details={"field": "delta"})
    if reason == MoveReason.ordered:
        on_order += delta
    else:
        stock += delta
        if reason == MoveReason.received:
            on_order = max(on_order - delta, 0)
    if stock < 0:
        raise InvalidInput(
            f"only {part.stock} {part.unit} in stock: the stock cannot go below zero",
            details={"field": "delta"},
        )
    if stock > 1_000_000 or on_order > 1_000_000:
        raise InvalidInput("more than a million in stock or on order", details={"field": "delta"})
    return stock, on_order


def move(
    *,
    session: Session,
    part: Part,
    delta: int,
    reason: MoveReason,
    actor: str,
    now: datetime,
    note: str = "",
    work_order_id: int | None = None,
) -> PartMovement:
    """Record a movement of stock (or of what is on order) and apply it."""
    if work_order_id is not None:
        order = session.get(WorkOrder, work_order_id)
        if order is None or order.site_id != part.site_id:
            raise NotFound(f"work order {work_order_id} not found")
    part.stock, part.on_order = _check(part, delta, reason)
    part.updated_at = now
    movement = PartMovement(
        part_id=part.id,
        delta=delta,
        reason=reason,
        note=note,
        work_order_id=work_order_id,
        actor=actor,
        at=now,
        stock_after=part.stock,
        on_order_after=part.on_order,
    )
    session.add(movement)
    session.flush()
    return movement


def used_since(*, session: Session, part_ids: Sequence[int], since: datetime) -> dict[int, int]:
    """Units used per part since `since`."""
    if not part_ids:
        return {}
    rows = session.execute(
        select(PartMovement.part_id, func.sum(-PartMovement.delta))
        .where(
            PartMovement.part_id.in_(list(part_ids)),
            PartMovement.reason == MoveReason.used,
            PartMovement.at >= since,
        )
        .group_by(PartMovement.part_id)
    ).all()
    return {part_id: int(total or 0) for part_id, total in rows}


def forecasts(
    *, session: Session, parts: Sequence[Part], now: datetime, today: date
) -> dict[int, PartOutlook]:
    """Each part's outlook from its use over the last months."""
    since = now - timedelta(days=WINDOW_DAYS)
    used = used_since(session=session, part_ids=[p.id for p in parts], since=since)
    out = {}
    for part in parts:
        window = min(WINDOW_DAYS, (now - part.created_at).total_seconds() / 86400)
        out[part.id] = outlook(
            used=used.get(part.id, 0),
            window_days=window,
            stock=part.stock,
            on_order=part.on_order,
            min_stock=part.min_stock,
            lead_days=part.lead_days,
            today=today,
        )
    return out


def parts_for_kind(*, session: Session, site_id: str, device_kind: str) -> Sequence[Part]:
    """The site's parts that a resolved order of `device_kind` uses."""
    return session.scalars(
        select(Part).where(Part.site_id == site_id, Part.device_kind == device_kind)
    ).all()


def used_on(*, session: Session, part_id: int, work_order_id: int) -> bool:
    """Whether a part was already recorded as used on this order."""
    return (
        session.scalar(
            select(PartMovement.id)
            .where(
                PartMovement.part_id == part_id,
                PartMovement.work_order_id == work_order_id,
                PartMovement.reason == MoveReason.used,
            )
            .limit(1)
        )
        is not None
    )


def expected_on(*, session: Session, part: Part) -> date | None:
    """When what is on order should arrive: the latest order placed plus the lead time."""
    if part.on_order <= 0:
        return None
    ordered = session.scalar(
        select(func.max(PartMovement.at)).where(
            PartMovement.part_id == part.id, PartMovement.reason == MoveReason.ordered
        )
    )
    return None if ordered is None else (ordered + timedelta(days=part.lead_days)).date()
