"""Pydantic shapes of signals and dead letters in the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from hub.signals.models import DeadLetter, Signal


class SignalOut(BaseModel):
    """One recorded device message."""

    id: int
    device_id: str
    channel: str
    type: str | None
    ts: datetime
    received_at: datetime
    payload: dict[str, Any]
    idem_key: str
    prev_digest: str
    digest: str

    @classmethod
    def build(cls, signal: Signal) -> SignalOut:
        """The API view of `signal`."""
        return cls(
            id=signal.id,
            device_id=signal.device_id,
            channel=signal.channel,
            type=signal.type,
            ts=signal.ts,
            received_at=signal.received_at,
            payload=signal.payload,
            idem_key=signal.idem_key,
            prev_digest=signal.prev_digest,
            digest=signal.digest,
        )


class SignalPage(BaseModel):
    """A device's signals in a time window, and whether its hash chain is intact."""

    device_id: str
    since: datetime | None
    until: datetime | None
    count: int
    truncated: bool
    items: list[SignalOut]


class DeadLetterOut(BaseModel):
    """One rejected message."""

    id: int
    received_at: datetime
    topic: str
    payload: str
    payload_bytes: int
    reason: str
    detail: str
    site: str | None
    device_id: str | None
    payload_base64: str | None
    """The payload's bytes as sent (`payload` is text for reading: truncated, escaped)."""

    @classmethod
    def build(cls, row: DeadLetter) -> DeadLetterOut:
        """The API view of `row`."""
        return cls(
            id=row.id,
            received_at=row.received_at,
            topic=row.topic,
            payload=row.payload,
            payload_bytes=row.payload_bytes,
            reason=row.reason,
            detail=row.detail,
            site=row.site_id,
            device_id=row.device_id,
            payload_base64=row.payload_base64,
        )


class DeadLetterPage(BaseModel):
    """Dead letters newest first, with the count per reason."""

    counts: dict[str, int]
    total: int
    items: list[DeadLetterOut]
