"""The kinds of live event (CONTRACT.md §5)."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    """What a live event is about."""

    alarm = "alarm"
    work_order = "work_order"
    complaint = "complaint"
    device = "device"
    notice = "notice"
