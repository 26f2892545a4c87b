"""Vocabulary of the parts store: why stock moved."""

from __future__ import annotations

from enum import StrEnum


class MoveReason(StrEnum):
    """Why a part's stock (or what is on order) changed."""

    ordered = "ordered"
    """Ordered from the supplier: `on_order` grows, the stock does not."""
    received = "received"
    """Delivered: the stock grows and what is on order shrinks by as much."""
    used = "used"
    """Taken for a job (a lamp for a lamp order)."""
    corrected = "corrected"
    """A count on the shelf found a different number."""
