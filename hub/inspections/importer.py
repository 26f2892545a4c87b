"""Patrol logs typed from paper: a CSV of one item per row, every row checked.

Columns: `site`, `location` or `device_id`, `inspector`, `observed_at` (ISO-8601 with
offset), `item`, `state`, optional `note` and `route`. Rows of the same place, inspector,
time and route are one entry. Nothing is stored when any row is bad; each error names its
line and field.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from hub.alarms.rules import RuleBook
from hub.errors import HubError
from hub.inspections import service
from hub.inspections.schemas import InspectionIn

COLUMNS = (
    "site",
    "location",
    "device_id",
    "inspector",
    "observed_at",
    "item",
    "state",
    "note",
    "route",
)


@dataclass
class ImportReport:
    """What an import did or found."""

    entries: int = 0
    discrepancies: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No row was refused."""
        return not self.errors


def _body(row: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {k: v for k, v in row.items() if k in COLUMNS and v not in ("", None)}
    item = {
        "item": body.pop("item", None),
        "state": body.pop("state", None),
        "note": body.pop("note", ""),
    }
    body["items"] = [item]
    route = body.get("route")
    if isinstance(route, str) and route.isdigit():
        body["route"] = int(route)
    return body


def import_file(
    *,
    session: Session,
    path: Path,
    actor: str,
    now: datetime,
    zone: tzinfo,
    rules: RuleBook | None = None,
) -> ImportReport:
    """Check every row of the CSV, then store its entries (none if any row is bad)."""
    report = ImportReport()
    groups: dict[tuple[Any, ...], tuple[int, InspectionIn]] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        unknown = set(reader.fieldnames or ()) - set(COLUMNS)
        if unknown:
            report.errors.append((1, f"unknown columns: {', '.join(sorted(unknown))}"))
            return report
        for line, row in enumerate(reader, start=2):
            try:
                parsed = InspectionIn.model_validate(_body(row))
            except ValidationError as exc:
                for error in exc.errors(include_url=False):
                    where = ".".join(str(p) for p in error["loc"]) or "row"
                    report.errors.append((line, f"{where}: {error['msg']}"))
                continue
            key = (
                parsed.site,
                parsed.location,
                parsed.device_id,
                parsed.inspector,
                parsed.observed_at,
                parsed.route,
            )
            if key in groups:
                groups[key][1].items.append(parsed.items[0])
            else:
                groups[key] = (line, parsed)
    if report.errors:
        return report
    for line, parsed in groups.values():
        if parsed.site is None:
            report.errors.append((line, "site: required"))
            continue
        entry = service.Entry(
            site_id=parsed.site,
            inspector=parsed.inspector,
            observed_at=parsed.observed_at,
            items=[(i.item, i.state, i.note) for i in parsed.items],
            location=parsed.location,
            device_id=parsed.device_id,
            route=parsed.route,
            source="import",
        )
        try:
            with session.begin_nested():
                made = service.record(
                    session=session, entry=entry, actor=actor, now=now, zone=zone, rules=rules
                )
        except HubError as exc:
            report.errors.append((line, exc.message))
            continue
        report.entries += 1
        report.discrepancies += len(made.discrepancies)
    return report
