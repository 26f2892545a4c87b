"""Mailing a report to department heads (smtplib), when SMTP is configured."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from hub.reports.render import XLSX
from hub.settings import Settings


@dataclass(frozen=True)
class Letter:
    """One report mail: subject, plain text, and the XLSX attached."""

    subject: str
    body: str
    filename: str
    attachment: bytes


def recipients(settings: Settings) -> list[str]:
    """Every address the reports go to (department heads), each once, in settings order."""
    seen: dict[str, None] = {}
    for addresses in settings.report_recipients.values():
        for address in addresses:
            seen.setdefault(address, None)
    return list(seen)


def send(settings: Settings, letter: Letter, to: list[str]) -> None:
    """Deliver `letter` to `to` through the configured SMTP server (raises on failure)."""
    if settings.smtp_host is None or not to:
        return
    message = EmailMessage()
    message["Subject"] = letter.subject
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(to)
    message.set_content(letter.body)
    maintype, subtype = XLSX.split("/")
    message.add_attachment(
        letter.attachment, maintype=maintype, subtype=subtype, filename=letter.filename
    )
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user and settings.smtp_password is not None:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        smtp.send_message(message)
