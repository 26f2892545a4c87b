"""Outbox service: enqueue in the caller's transaction; take what is pending; mark it sent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.outbox.models import OutboxMessage

MAX_ERROR = 500


def enqueue(
    *, session: Session, topic: str, payload: dict[str, Any], now: datetime, qos: int = 1
) -> OutboxMessage:
    """Add a message to publish after the caller's commit."""
    message = OutboxMessage(topic=topic, payload=payload, qos=qos, created_at=now, attempts=0)
    session.add(message)
    session.flush()
    return message


def pending(*, session: Session, limit: int = 100) -> Sequence[OutboxMessage]:
    """The oldest messages not yet published, in the order they were written.

    Locked for the caller's transaction, skipping rows another publisher holds (PostgreSQL;
    SQLite has one writer): with several bridge workers each message goes out from one.
    """
    return session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.published_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()


def published(*, message: OutboxMessage, now: datetime) -> None:
    """The broker has the message (QoS 1: acknowledged)."""
    message.published_at = now
    message.attempts += 1


def failed(*, message: OutboxMessage, error: str) -> None:
    """Publishing failed; the message stays pending for the next round."""
    message.attempts += 1
    message.last_error = error[:MAX_ERROR]
