"""Notice service: publish for an order, extend to more places, withdraw; list; read.

Every change is also written to the outbox for `fh/{site}/hub/notice` (QoS 1), in the same
transaction: the message goes out once the change has committed, and never waits on it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hub.notices import wording
from hub.notices.models import Notice
from hub.notices.schemas import NoticeOut
from hub.outbox.service import enqueue
from hub.registry.enums import DeviceKind, LocationKind
from hub.registry.models import Location

logger = logging.getLogger(__name__)

TOPIC = "fh/{site}/hub/notice"


def affected(*, fault_paths: Sequence[str], kind: str) -> list[str]:
    """The places a fault affects: itself, or for a leak its floor and every floor below."""
    places: list[str] = []
    for path in fault_paths:
        codes = path.split("/")
        if (
            kind == DeviceKind.leak
            and len(codes) >= 2
            and codes[0].isdigit()
            and codes[1].isdigit()
        ):
            floor = int(codes[1])
            candidates = [f"{codes[0]}/{n}" for n in range(floor, 0, -1)]
        elif len(codes) > 2 and codes[0].isdigit() and codes[1].isdigit():
            candidates = ["/".join(codes[:2])]  # a corridor's lights light the whole floor
        else:
            candidates = [path]
        places.extend(p for p in candidates if p not in places)
    return places


def count_units(*, session: Session, site_id: str, places: Iterable[str]) -> int:
    """How many units of the registry lie in `places` (their subtrees)."""
    within = [
        or_(Location.path == p, (Location.path >= f"{p}/") & (Location.path < f"{p}0"))
        for p in places
    ]
    if not within:
        return 0
    return int(
        session.scalar(
            select(func.count())
            .select_from(Location)
            .where(Location.site_id == site_id, Location.kind == LocationKind.unit, or_(*within))
        )
        or 0
    )


def _announce(session: Session, notice: Notice, event: str, now: datetime) -> None:
    payload = {"event": event, "notice": NoticeOut.build(notice).model_dump(mode="json")}
    enqueue(session=session, topic=TOPIC.format(site=notice.site_id), payload=payload, now=now)


def _render(session: Session, notice: Notice) -> None:
    notice.locations = affected(fault_paths=notice.fault_locations, kind=notice.kind)
    notice.units = count_units(session=session, site_id=notice.site_id, places=notice.locations)
    said = wording.text(notice.alarm_type, notice.fault_locations)
    notice.title, notice.title_en = said.title, said.title_en
    notice.body, notice.body_en = said.body, said.body_en


def publish(
    *,
    session: Session,
    site_id: str,
    work_order_id: int,
    kind: str,
    alarm_type: str,
    fault_paths: Sequence[str],
    now: datetime,
) -> Notice:
    """Put up a notice for the order's fault at `fault_paths`, and announce it."""
    notice = Notice(
        site_id=site_id,
        work_order_id=work_order_id,
        kind=kind,
        alarm_type=alarm_type,
        fault_locations=list(dict.fromkeys(fault_paths)),
        published_at=now,
        updated_at=now,
    )
    _render(session, notice)
    session.add(notice)
    session.flush()
    _announce(session, notice, "published", now)
    logger.info("notice %s published for work order %s", notice.id, work_order_id)
    return notice


def extend(*, session: Session, notice: Notice, fault_paths: Sequence[str], now: datetime) -> bool:
    """The order's fault reached more places: cover them too; False if nothing new."""
    new = [p for p in fault_paths if p not in notice.fault_locations]
    if not new or notice.withdrawn_at is not None:
        return False
    notice.fault_locations = [*notice.fault_locations, *new]
    _render(session, notice)
    notice.updated_at = now
    session.flush()
    _announce(session, notice, "updated", now)
    return True


def withdraw(*, session: Session, notice: Notice, now: datetime) -> bool:
    """Take the notice down (its order is resolved); False if it already was."""
    if notice.withdrawn_at is not None:
        return False
    notice.withdrawn_at = now
    notice.updated_at = now
    session.flush()
    _announce(session, notice, "withdrawn", now)
    logger.info("notice %s withdrawn", notice.id)
    return True


def for_order(*, session: Session, work_order_id: int) -> Notice | None:
    """The notice of an order, if it has one."""
    return session.scalar(select(Notice).where(Notice.work_order_id == work_order_id))


def by_orders(*, session: Session, order_ids: Iterable[int]) -> dict[int, Notice]:
    """The notices of these orders."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    rows = session.scalars(select(Notice).where(Notice.work_order_id.in_(ids)))
    return {n.work_order_id: n for n in rows}


def active(*, session: Session, site_id: str) -> Sequence[Notice]:
    """The notices up at a site, oldest first."""
    return session.scalars(
        select(Notice)
        .where(Notice.site_id == site_id, Notice.withdrawn_at.is_(None))
        .order_by(Notice.id)
    ).all()


def list_notices(
    *,
    session: Session,
    site_ids: frozenset[str],
    site: str | None = None,
    up: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Notice]:
    """Notices in the caller's sites, newest first; `up` True: only those not withdrawn."""
    query = select(Notice).where(Notice.site_id.in_(site_ids))
    if site is not None:
        query = query.where(Notice.site_id == site)
    if up is True:
        query = query.where(Notice.withdrawn_at.is_(None))
    elif up is False:
        query = query.where(Notice.withdrawn_at.is_not(None))
    query = query.order_by(Notice.published_at.desc(), Notice.id.desc()).limit(limit).offset(offset)
    return session.scalars(query).all()
