"""Vocabulary of work orders: lifecycle states, sources, departments, priorities, SLA steps."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Lifecycle states of a work order."""

    open = "open"
    dispatched = "dispatched"
    on_site = "on_site"
    on_hold = "on_hold"
    resolved = "resolved"
    callback = "callback"
    closed = "closed"
    cancelled = "cancelled"


class Source(StrEnum):
    """Where an order came from."""

    sensor = "sensor"
    complaint = "complaint"
    inspection = "inspection"
    manual = "manual"


class Department(StrEnum):
    """Who carries an order out."""

    engineering = "engineering"
    cleaning = "cleaning"
    security = "security"
    front_desk = "front_desk"


class Priority(StrEnum):
    """How urgent an order is."""

    urgent = "urgent"
    high = "high"
    normal = "normal"
    low = "low"


class Step(StrEnum):
    """Steps with a deadline, in lifecycle order."""

    dispatch = "dispatch"
    on_site = "on_site"
    resolve = "resolve"
    callback = "callback"
