"""Reading the ledger: one complaint, filtered lists, the links to work orders, statistics."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, false, func, or_, select, union
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from hub.complaints.enums import Category, Channel, Kind, Responsibility, Status
from hub.complaints.models import (
    ClassificationOverride,
    Complaint,
    ComplaintDeadline,
    ComplaintWorkOrder,
    PhraseHit,
    Reply,
)
from hub.errors import NotFound
from hub.registry.models import Location


def get_complaint(*, session: Session, complaint_id: int, site_ids: frozenset[str]) -> Complaint:
    """The complaint with this id, if it is in one of `site_ids`."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or complaint.site_id not in site_ids:
        raise NotFound(f"complaint {complaint_id} not found")
    return complaint


@dataclass(frozen=True)
class Search:
    """The ledger's search: words anywhere, a phone, a unit, channels and a period."""

    q: str | None = None
    phone: str | None = None
    unit: str | None = None
    channels: Sequence[Channel] = ()
    since: datetime | None = None
    until: datetime | None = None


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _at_places(pattern: str) -> Select[int]:
    return select(Location.id).where(Location.path.ilike(pattern, escape="\\"))


def _searched(query: Select[Complaint], search: Search) -> Select[Complaint]:
    """`query` narrowed by the ledger's search."""
    if search.q:
        pattern = _like(search.q.strip())
        digits = re.sub(r"\D", "", search.q)
        query = query.where(
            or_(
                Complaint.content.ilike(pattern, escape="\\"),
                Complaint.complainant_name.ilike(pattern, escape="\\"),
                Complaint.unit_text.ilike(pattern, escape="\\"),
                Complaint.unit_id.in_(_at_places(pattern)),
                Complaint.location_id.in_(_at_places(pattern)),
                *([Complaint.complainant_phone.like(f"%{digits}%")] if len(digits) >= 3 else []),
            )
        )
    if search.phone:
        digits = re.sub(r"\D", "", search.phone)
        if digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]  # as intake stores it: without the country code
        if len(digits) >= 11:  # a whole number: its index finds the few cases first
            query = query.where(
                Complaint.id.in_(select(Complaint.id).where(Complaint.complainant_phone == digits))
            )
        else:
            query = query.where(Complaint.complainant_phone.like(f"%{digits}%"))
    if search.unit:
        unit = search.unit.strip()
        pattern = _like(unit)
        at_unit = select(Location.id).where(
            or_(
                Location.path == unit,
                Location.path.like(f"{pattern[1:-1]}/%", escape="\\"),
                Location.path.like(f"%/{pattern[1:-1]}", escape="\\"),
            )
        )
        # The few cases of the unit first (both by an index), then their order by time.
        query = query.where(
            Complaint.id.in_(
                union(
                    select(Complaint.id).where(Complaint.unit_text == unit),
                    select(Complaint.id).where(Complaint.unit_id.in_(at_unit)),
                )
            )
        )
    if search.channels:
        query = query.where(Complaint.channel.in_([c.value for c in search.channels]))
    if search.since is not None:
        query = query.where(Complaint.received_at >= search.since)
    if search.until is not None:
        query = query.where(Complaint.received_at < search.until)
    return query


def list_complaints(
    *,
    session: Session,
    site_ids: frozenset[str],
    site: str | None = None,
    statuses: Sequence[Status] = (),
    kinds: Sequence[Kind] = (),
    categories: Sequence[Category] = (),
    responsibility: Responsibility | None = None,
    repeat: bool | None = None,
    escalated: bool | None = None,
    work_order_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
    search: Search | None = None,
    brief: bool = False,
) -> Sequence[Complaint]:
    """Complaints in the caller's sites, newest first, filtered.

    `brief`: the ledger's rows, without their history, deadlines, replies, escalations and
    corrections (left empty).
    """
    query = select(Complaint).where(Complaint.site_id.in_(site_ids))
    if search is not None:
        query = _searched(query, search)
    if site is not None:
        query = query.where(Complaint.site_id == site)
    if statuses:
        query = query.where(Complaint.status.in_([s.value for s in statuses]))
    if kinds:
        query = query.where(Complaint.kind.in_([k.value for k in kinds]))
    if categories:
        query = query.where(Complaint.category.in_([c.value for c in categories]))
    if responsibility is not None:
        query = query.where(Complaint.responsibility == responsibility)
    if repeat is not None:
        query = query.where(
            Complaint.repeat_of_id.is_not(None) if repeat else Complaint.repeat_of_id.is_(None)
        )
    if escalated is not None:
        query = query.where(
            Complaint.escalated_at.is_not(None) if escalated else Complaint.escalated_at.is_(None)
        )
    if work_order_id is not None:
        query = query.join(ComplaintWorkOrder).where(
            ComplaintWorkOrder.work_order_id == work_order_id
        )
    query = (
        query.order_by(Complaint.received_at.desc(), Complaint.id.desc())
        .limit(limit)
        .offset(offset)
        .options(
            *(
                (  # each left empty by a criterion that holds for no row
                    selectinload(Complaint.history.and_(false())),
                    selectinload(Complaint.deadlines.and_(false())),
                    selectinload(Complaint.replies.and_(false())),
                    selectinload(Complaint.escalations.and_(false())),
                    selectinload(Complaint.overrides.and_(false())),
                )
                if brief
                else (
                    selectinload(Complaint.history),
                    selectinload(Complaint.deadlines),
                    selectinload(Complaint.replies).selectinload(Reply.hits),
                    selectinload(Complaint.escalations),
                    selectinload(Complaint.overrides),
                )
            ),
            selectinload(Complaint.work_orders),
        )
    )
    return session.scalars(query).all()


def repeats_of(*, session: Session, complaint: Complaint) -> Sequence[Complaint]:
    """Later cases marked as repeats of this one."""
    return session.scalars(
        select(Complaint).where(Complaint.repeat_of_id == complaint.id).order_by(Complaint.id)
    ).all()


def repeat_ids(*, session: Session, complaint_ids: Sequence[int]) -> dict[int, list[int]]:
    """The later cases marked as repeats of each of these, in one query."""
    out: dict[int, list[int]] = {}
    if not complaint_ids:
        return out
    rows = session.execute(
        select(Complaint.repeat_of_id, Complaint.id)
        .where(Complaint.repeat_of_id.in_(list(complaint_ids)))
        .order_by(Complaint.id)
    )
    for original, later in rows:
        if original is not None:
            out.setdefault(int(original), []).append(int(later))
    return out


def complaints_for_order(*, session: Session, work_order_id: int) -> list[int]:
    """Ids of the complaints linked to a work order (the other side of the link)."""
    return list(
        session.scalars(
            select(ComplaintWorkOrder.complaint_id)
            .where(ComplaintWorkOrder.work_order_id == work_order_id)
            .order_by(ComplaintWorkOrder.complaint_id)
        )
    )


def complaint_ids_by_order(*, session: Session, order_ids: Iterable[int]) -> dict[int, list[int]]:
    """The complaints linked to each work order."""
    ids = list(order_ids)
    result: dict[int, list[int]] = {}
    if not ids:
        return result
    rows = session.execute(
        select(ComplaintWorkOrder.work_order_id, ComplaintWorkOrder.complaint_id)
        .where(ComplaintWorkOrder.work_order_id.in_(ids))
        .order_by(ComplaintWorkOrder.complaint_id)
    )
    for order_id, complaint_id in rows:
        result.setdefault(order_id, []).append(complaint_id)
    return result


def _count(session: Session, scope: Sequence[ColumnElement[bool]]) -> int:
    return int(session.scalar(select(func.count()).select_from(Complaint).where(*scope)) or 0)


def _grouped(session: Session, scope: Sequence[ColumnElement[bool]], column: Any) -> dict[str, int]:
    """Counts of complaints in scope per value of `column`."""
    rows = session.execute(select(column, func.count()).where(*scope).group_by(column)).all()
    return {str(key): int(n) for key, n in rows if key is not None}


def _override_stats(
    session: Session, scope: Sequence[ColumnElement[bool]], total: int
) -> dict[str, Any]:
    """How often staff corrected the classifier, and which way."""
    overrides = session.execute(
        select(
            ClassificationOverride.field,
            ClassificationOverride.from_value,
            ClassificationOverride.to_value,
            ClassificationOverride.complaint_id,
        )
        .join(Complaint)
        .where(*scope)
    ).all()
    by_field: dict[str, Counter[str]] = {}
    for name, old, new, _cid in overrides:
        by_field.setdefault(name, Counter())[f"{old or '-'} → {new or '-'}"] += 1
    overridden = len({row[3] for row in overrides})
    return {
        "total": len(overrides),
        "complaints": overridden,
        "auto_kept_share": round(1 - overridden / total, 3) if total else None,
        "by_field": {k: dict(v) for k, v in sorted(by_field.items())},
    }


def _phrase_stats(session: Session, scope: Sequence[ColumnElement[bool]]) -> dict[str, Any]:
    """Forbidden phrases and don'ts found in replies, for training."""
    hits = session.execute(
        select(PhraseHit.rule, PhraseHit.blocked).join(Complaint).where(*scope)
    ).all()
    return {
        "total": len(hits),
        "blocked": sum(1 for _, b in hits if b),
        "by_rule": dict(Counter(rule for rule, _ in hits).most_common()),
    }


def stats(
    *,
    session: Session,
    site_ids: frozenset[str],
    site: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Counts for the weekly meeting and for training: categories, overrides, phrase hits."""
    scope: list[ColumnElement[bool]] = [Complaint.site_id.in_(site_ids)]
    if site is not None:
        scope.append(Complaint.site_id == site)
    if since is not None:
        scope.append(Complaint.received_at >= since)
    if until is not None:
        scope.append(Complaint.received_at < until)
    total = _count(session, scope)
    breaches = session.execute(
        select(ComplaintDeadline.step, func.count())
        .join(Complaint)
        .where(*scope, ComplaintDeadline.breached_at.is_not(None))
        .group_by(ComplaintDeadline.step)
    ).all()
    return {
        "total": total,
        "by_status": _grouped(session, scope, Complaint.status),
        "by_kind": _grouped(session, scope, Complaint.kind),
        "by_category": _grouped(session, scope, Complaint.category),
        "by_responsibility": _grouped(session, scope, Complaint.responsibility),
        "by_channel": _grouped(session, scope, Complaint.channel),
        "repeats": _count(session, [*scope, Complaint.repeat_of_id.is_not(None)]),
        "escalated": _count(session, [*scope, Complaint.escalated_at.is_not(None)]),
        "callback_outcomes": _grouped(session, scope, Complaint.callback_outcome),
        "breaches_by_step": {str(step): int(n) for step, n in breaches},
        "overrides": _override_stats(session, scope, total),
        "phrase_hits": _phrase_stats(session, scope),
    }
