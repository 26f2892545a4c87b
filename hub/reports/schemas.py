"""Pydantic shapes of the reports: the JSON answer, stored runs, unified answers in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from hub.complaints.enums import HotDimension
from hub.inputs import Input
from hub.reports.models import ReportRun


class ReportOut(BaseModel):
    """A report as JSON: what, where, when, its totals and the rows of each table."""

    report: str
    site: str
    since: datetime
    until: datetime
    generated_at: datetime
    totals: dict[str, Any] = Field(description="The report's headline figures.")
    sections: dict[str, list[dict[str, Any]]] = Field(
        description="Each table's rows by the table's key (times in UTC; XLSX shows them local)."
    )


class RunOut(BaseModel):
    """A stored report run and where to download it."""

    id: int
    report: str
    site: str
    since: datetime
    until: datetime
    trigger: str
    created_at: datetime
    created_by: str
    totals: dict[str, Any]
    mailed_to: list[str]
    mailed_at: datetime | None
    mail_error: str | None
    download: str = Field(description="Path of the download; add `?format=csv|xlsx&lang=`.")

    @classmethod
    def build(cls, run: ReportRun) -> RunOut:
        """The API view of `run`."""
        return cls(
            id=run.id,
            report=run.report,
            site=run.site_id,
            since=run.since,
            until=run.until,
            trigger=run.trigger,
            created_at=run.created_at,
            created_by=run.created_by,
            totals=dict(run.document.get("totals", {})),
            mailed_to=list(run.mailed_to or []),
            mailed_at=run.mailed_at,
            mail_error=run.mail_error,
            download=f"/api/v1/reports/runs/{run.id}/download",
        )


class AnswerIn(Input):
    """A new version of the unified answer (统一答复) to one hot item."""

    site: str | None = Field(None, max_length=64, description="Default: the caller's only site.")
    dimension: HotDimension
    value: str = Field(
        min_length=1, max_length=400, description="The item, as the report names it."
    )
    text: str = Field(min_length=1, max_length=4000, description="What the desk tells owners.")
