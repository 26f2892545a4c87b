"""Rows the bench cells write straight into the tables to build a long history fast."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def complaint_row(
    *, site: str, location_id: int, at: datetime, content: str, **fields: Any
) -> dict[str, Any]:
    """A received phone complaint about a corridor light, with `fields` over the defaults."""
    return {
        "site_id": site,
        "status": "received",
        "kind": "complaint",
        "kind_as_received": "complaint",
        "channel": "phone",
        "severity": "normal",
        "received_at": at,
        "content": content,
        "request": "",
        "target_department": "",
        "complainant_name": "",
        "location_id": location_id,
        "receiver": "bench",
        "responsibility": "property",
        "category": "facility",
        "device_kinds": ["light"],
        "reasons": [],
        "auto_classification": {},
        "repeat_reasons": [],
        "hold_total_s": 0,
        "reopen_count": 0,
        "escalation_level": 0,
        "created_at": at,
        "updated_at": at,
        **fields,
    }
