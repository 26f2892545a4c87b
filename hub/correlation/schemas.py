"""Pydantic shapes of correlation's own routes: the desk's look-up and the proactive measure."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from hub.complaints.schemas import KnownIssueOut
from hub.notices.schemas import NoticeOut


class GoingOn(BaseModel):
    """An order being worked near the place asked about."""

    work_order_id: int
    title: str
    location: str | None
    score: float
    reasons: list[str]
    known_issue: KnownIssueOut


class KnownIssues(BaseModel):
    """`GET /known-issues`: what is going on at a unit, floor or building right now."""

    site: str
    location: str | None = Field(description="The place looked at (the nearest known one).")
    reasons: list[str] = Field(description="How the place was read (an unknown path, ...).")
    items: list[GoingOn]
    notices: list[NoticeOut]


class ProactiveIssue(BaseModel):
    """One issue: an order with its complaints, and who knew first."""

    work_order_id: int
    title: str
    source: str
    complaint_ids: list[int]
    sensor_at: datetime | None
    complaint_at: datetime
    sensor_first: bool
    lead_minutes: float | None = Field(
        description="Sensor first: how long before the first complaint; complaint first: how "
        "long before the sensor (none if no sensor ever reported it)."
    )


class Proactive(BaseModel):
    """`GET /reports/proactive` (JSON): sensor first or complaint first, and the lead."""

    site: str
    since: datetime
    until: datetime
    issues: int
    sensor_first: int
    complaint_first: int
    ratio: float | None = Field(description="sensor_first / issues")
    median_lead_minutes: float | None = Field(
        description="Median lead of the sensor-first issues: how much earlier the hub knew."
    )
    items: list[ProactiveIssue]
