"""Scheduled runs mailed to department heads through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import io
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.engine import Engine

from hub.clock import ManualClock
from hub.db import session_factory
from hub.registry.service import get_or_create_site
from hub.reports.enums import Cadence
from hub.reports.models import ReportRun
from hub.scheduler import report_job, run_job
from hub.settings import Settings
from tests.conftest import SITE

HEADS = {
    "engineering": ["eng-head@example.com"],
    "cleaning": ["clean-head@example.com", "eng-head@example.com"],
}


class Inbox:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        """Keep the message and its recipients."""
        message = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A local SMTP server for the test."""
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _weekly(engine: Engine, settings: Settings) -> list[ReportRun]:
    clock = ManualClock(datetime(2026, 11, 30, 1, 0, tzinfo=UTC))  # Monday 09:00 local
    sessions = session_factory(engine)
    with sessions() as session:
        get_or_create_site(session=session, site_id=SITE, name="阳光花园", now=clock.now())
        session.commit()
    assert run_job(sessions, report_job(Cadence.weekly, settings, sessions, clock), clock)
    with sessions() as session:
        return list(session.scalars(select(ReportRun).order_by(ReportRun.id)))


def test_each_weekly_run_is_mailed_with_its_xlsx(
    fresh_engine: Engine, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = Settings(
        data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=port, report_recipients=HEADS
    )
    runs = _weekly(fresh_engine, settings)
    assert [r.report for r in runs] == ["weekly-hot", "sla", "proactive"]
    assert len(inbox.messages) == 3
    to, message = inbox.messages[0]
    assert sorted(to) == ["clean-head@example.com", "eng-head@example.com"]  # each head once
    assert "每周热点投诉" in message["Subject"]
    assert "2026-11-23" in message["Subject"]
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"weekly-hot_{SITE}_2026-11-23_2026-11-30.xlsx"
    book = load_workbook(io.BytesIO(attachment.get_content()))
    assert book.sheetnames == ["概要", "热点投诉"]
    assert book["概要"]["B3"].value == SITE
    assert all(r.mailed_to == ["eng-head@example.com", "clean-head@example.com"] for r in runs)
    assert all(r.mailed_at is not None and r.mail_error is None for r in runs)


def test_a_mail_server_that_is_down_leaves_the_runs_stored(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=_free_port(), report_recipients=HEADS
    )
    runs = _weekly(fresh_engine, settings)
    assert len(runs) == 3
    assert all(r.mailed_at is None for r in runs)
    assert all(r.mail_error and "Connection" in r.mail_error for r in runs)


def test_without_smtp_nothing_is_mailed(fresh_engine: Engine, tmp_path: Path) -> None:
    runs = _weekly(fresh_engine, Settings(data_dir=tmp_path, report_recipients=HEADS))
    assert len(runs) == 3
    assert all(r.mailed_to == [] and r.mail_error is None for r in runs)
