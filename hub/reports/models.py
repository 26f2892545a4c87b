"""ORM models of the reports: stored report runs, and the last period each scheduled job ran."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base


class ReportRun(Base):
    """A report as it was produced for one site and window, downloadable in every format.

    The document is the report's JSON; CSV and XLSX are rendered from it on download, so a
    stored run reads the same in all three. One scheduled run per report, site and window:
    the unique constraint is what keeps two hub processes from storing it twice.
    """

    __tablename__ = "report_runs"
    __table_args__ = (
        UniqueConstraint("report", "site_id", "since", "until"),
        Index(None, "site_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    since: Mapped[datetime]
    until: Mapped[datetime]
    trigger: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    mailed_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    mailed_at: Mapped[datetime | None]
    mail_error: Mapped[str | None] = mapped_column(Text)


class JobRun(Base):
    """The latest period a scheduled job ran for: claiming the next one is a conditional update,
    so with several hub processes exactly one runs each period, and after downtime the missed
    periods collapse into the current one."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_start: Mapped[datetime]
    ran_at: Mapped[datetime]
    runs: Mapped[int] = mapped_column(default=0)
