"""Pydantic shapes of notices (CONTRACT.md §4)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from hub.notices.models import Notice


class NoticeOut(BaseModel):
    """A notice to residents."""

    id: int
    site: str
    work_order_id: int
    kind: str
    alarm_type: str
    locations: list[str]
    units: int
    title: str
    title_en: str
    body: str
    body_en: str
    published_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None

    @classmethod
    def build(cls, notice: Notice) -> NoticeOut:
        """The API view of a notice."""
        return cls(
            id=notice.id,
            site=notice.site_id,
            work_order_id=notice.work_order_id,
            kind=notice.kind,
            alarm_type=notice.alarm_type,
            locations=list(notice.locations),
            units=notice.units,
            title=notice.title,
            title_en=notice.title_en,
            body=notice.body,
            body_en=notice.body_en,
            published_at=notice.published_at,
            updated_at=notice.updated_at,
            withdrawn_at=notice.withdrawn_at,
        )


class NoticeList(BaseModel):
    """`GET /notices`."""

    items: list[NoticeOut]
