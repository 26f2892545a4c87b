"""Pydantic shapes of alarms in and out of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from hub.alarms.enums import AlarmStatus
from hub.alarms.models import Alarm
from hub.inputs import Input


class AlarmOut(BaseModel):
    """An alarm: what, where, since when, how often, who acknowledged, which order."""

    id: int
    site: str
    device_id: str
    device_name: str = Field("", description="The device's name (Chinese) in lists; '' else.")
    device_name_en: str = Field("", description="The device's English name in lists; '' else.")
    type: str
    severity: str
    title: str
    status: AlarmStatus
    raised_at: datetime
    last_seen_at: datetime
    count: int
    acked: bool
    acked_at: datetime | None
    acked_by: str | None
    cleared: bool
    cleared_at: datetime | None
    cleared_by: str | None
    flapping: bool
    reopen_count: int
    work_order_id: int | None
    detail: dict[str, Any]

    @classmethod
    def build(cls, alarm: Alarm, names: tuple[str, str] = ("", "")) -> AlarmOut:
        """The API view of `alarm`, with its device's names when the caller read them."""
        return cls(
            id=alarm.id,
            site=alarm.site_id,
            device_id=alarm.device_id,
            device_name=names[0],
            device_name_en=names[1],
            type=alarm.type,
            severity=alarm.severity,
            title=alarm.title,
            status=alarm.status,
            raised_at=alarm.raised_at,
            last_seen_at=alarm.last_seen_at,
            count=alarm.count,
            acked=alarm.acked_at is not None,
            acked_at=alarm.acked_at,
            acked_by=alarm.acked_by,
            cleared=alarm.cleared_at is not None,
            cleared_at=alarm.cleared_at,
            cleared_by=alarm.cleared_by,
            flapping=alarm.flapping,
            reopen_count=alarm.reopen_count,
            work_order_id=alarm.work_order_id,
            detail=alarm.detail,
        )


class AckIn(Input):
    """An acknowledgement, optionally with a note."""

    note: str = Field("", max_length=2000)
