"""Unified answers to hot items: the items a complaint belongs to, versions, the desk's view.

Managers write the answer to each hot item of the weekly statistics (a category, a cause, a
place, a device kind); the desk sees the latest version of each answer a complaint matches,
so every owner who raises the problem hears the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.complaints.enums import HotDimension
from hub.complaints.models import Complaint, UnifiedAnswer

HotItem = tuple[HotDimension, str]


def cause_of(responsibility: str, party: str | None) -> str:
    """The cause as the weekly statistics name it: whose problem it is, and which party."""
    return f"{responsibility}:{party}" if party else responsibility


def place_of(path: str | None) -> str | None:
    """The building and floor a path lies in (`3/12/1201` → `3/12`), or the area itself."""
    if not path:
        return None
    return "/".join(path.split("/")[:2])


def items_of(
    *,
    category: str,
    responsibility: str,
    party: str | None,
    path: str | None,
    device_kinds: Iterable[str],
) -> list[HotItem]:
    """Every hot item a complaint with these facts counts towards."""
    items: list[HotItem] = [
        (HotDimension.category, category),
        (HotDimension.cause, cause_of(responsibility, party)),
    ]
    place = place_of(path)
    if place is not None:
        items.append((HotDimension.location, place))
    items.extend((HotDimension.device_kind, kind) for kind in sorted(set(device_kinds)))
    return items


def complaint_items(complaint: Complaint) -> list[HotItem]:
    """The hot items of a complaint: its place is where it is about, else the unit."""
    where = complaint.location or complaint.unit
    return items_of(
        category=complaint.category,
        responsibility=complaint.responsibility,
        party=complaint.party,
        path=where.path if where else None,
        device_kinds=complaint.device_kinds or [],
    )


def write(
    *,
    session: Session,
    site_id: str,
    dimension: HotDimension,
    value: str,
    text: str,
    author: str,
    now: datetime,
) -> UnifiedAnswer:
    """Store a new version of the answer to one hot item (earlier versions stay)."""
    latest = session.scalar(
        select(func.max(UnifiedAnswer.version)).where(
            UnifiedAnswer.site_id == site_id,
            UnifiedAnswer.dimension == dimension,
            UnifiedAnswer.value == value,
        )
    )
    answer = UnifiedAnswer(
        site_id=site_id,
        dimension=dimension,
        value=value,
        version=(latest or 0) + 1,
        text=text,
        author=author,
        at=now,
    )
    session.add(answer)
    session.flush()
    return answer


def versions(
    *, session: Session, site_id: str, dimension: HotDimension | None = None
) -> Sequence[UnifiedAnswer]:
    """Every version of the site's answers, item by item, newest version first."""
    query = select(UnifiedAnswer).where(UnifiedAnswer.site_id == site_id)
    if dimension is not None:
        query = query.where(UnifiedAnswer.dimension == dimension)
    return session.scalars(
        query.order_by(UnifiedAnswer.dimension, UnifiedAnswer.value, UnifiedAnswer.version.desc())
    ).all()


def current(
    *, session: Session, site_ids: Iterable[str]
) -> dict[tuple[str, HotItem], UnifiedAnswer]:
    """The latest version of every answer of the sites, by (site, item)."""
    latest = (
        select(
            UnifiedAnswer.site_id,
            UnifiedAnswer.dimension,
            UnifiedAnswer.value,
            func.max(UnifiedAnswer.version).label("version"),
        )
        .where(UnifiedAnswer.site_id.in_(list(site_ids)))
        .group_by(UnifiedAnswer.site_id, UnifiedAnswer.dimension, UnifiedAnswer.value)
        .subquery()
    )
    rows = session.scalars(
        select(UnifiedAnswer).join(
            latest,
            (UnifiedAnswer.site_id == latest.c.site_id)
            & (UnifiedAnswer.dimension == latest.c.dimension)
            & (UnifiedAnswer.value == latest.c.value)
            & (UnifiedAnswer.version == latest.c.version),
        )
    ).all()
    return {(a.site_id, (HotDimension(a.dimension), a.value)): a for a in rows}


def for_complaints(
    *, session: Session, complaints: Sequence[Complaint]
) -> dict[int, list[UnifiedAnswer]]:
    """The answers each complaint matches, in the order of its items."""
    if not complaints:
        return {}
    known = current(session=session, site_ids={c.site_id for c in complaints})
    if not known:
        return {}
    return {
        c.id: [
            known[(c.site_id, item)] for item in complaint_items(c) if (c.site_id, item) in known
        ]
        for c in complaints
    }
