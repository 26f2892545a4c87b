"""Registry import from CSV or JSON: every row validated, nothing imported if any row is bad."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import HubError, InvalidInput
from hub.inputs import Input
from hub.registry.enums import Adapter, DeviceKind
from hub.registry.models import Device, Site
from hub.registry.quarantine import release_registered
from hub.registry.service import add_device, ensure_location, name_locations, split_path

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class DeviceRow(Input):
    """One device as written in an import file."""

    id: str
    site: str
    kind: DeviceKind
    name: str = Field("", max_length=200)
    name_en: str = Field("", max_length=200, description="The English name ('' when none).")
    location: str | None = None
    location_names: str | None = Field(
        None,
        max_length=2000,
        description="The Chinese names of the location's levels from the top, joined by '/'.",
    )
    location_names_en: str | None = Field(
        None,
        max_length=2000,
        description="The English names of the location's levels from the top, joined by '/'.",
    )
    external_topic: str | None = Field(None, max_length=255)
    adapter: Adapter | None = None
    external_id: str | None = Field(
        None,
        min_length=1,
        max_length=255,
        description="The device's name in its adapter's topics (friendly name, Tasmota topic).",
    )
    heartbeat_timeout_s: int | None = Field(None, ge=10, le=7 * 86400)
    installed_on: date | None = None

    @field_validator("id", "site")
    @classmethod
    def _topic_safe(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError("must match [a-z0-9][a-z0-9_-]{0,63} (it is part of MQTT topics)")
        return value

    @field_validator("location")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value:
            try:
                return "/".join(split_path(value))
            except InvalidInput as exc:
                raise ValueError(exc.message) from exc
        return None

    @field_validator("external_id", "external_topic")
    @classmethod
    def _topic_text(cls, value: str | None) -> str | None:
        if value is not None and any(c in value for c in "+#\x00"):
            raise ValueError("must not hold the MQTT wildcards + or #, or U+0000")
        return value

    @model_validator(mode="after")
    def _adapter_needs_id(self) -> DeviceRow:
        if self.adapter and not self.external_id:
            if not self.external_topic:
                raise ValueError("an adapter needs external_id (or an external_topic)")
            self.external_id = external_id_of(self.adapter, self.external_topic)
        if self.external_id and not self.adapter:
            raise ValueError("external_id needs an adapter")
        return self


def external_id_of(adapter: Adapter, topic: str) -> str:
    """The external id in an adapter topic: `zigbee2mqtt/{name}`, `tele/{topic}/STATE`."""
    parts = topic.strip("/").split("/")
    if adapter == Adapter.zigbee2mqtt:
        return "/".join(parts[1:]) or topic
    return parts[1] if len(parts) > 1 else topic


@dataclass
class ImportReport:
    """What an import did, or why it did nothing."""

    created: int = 0
    updated: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row was valid and the import was applied."""
        return not self.errors


def read_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Rows of a CSV or JSON file, each with the place it came from (`line 3`, `item 2`)."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        if isinstance(data, dict) and "devices" in data:
            data = data["devices"]
        if not isinstance(data, list):
            raise InvalidInput('a JSON import is a list of devices or {"devices": [...]}')
        return [(f"item {i}", row) for i, row in enumerate(data, start=1)]
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        rows = []
        for row in reader:
            clean = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            extra = row.get(None)
            if extra:
                clean["__extra__"] = extra
            rows.append((f"line {reader.line_num}", {k: v for k, v in clean.items() if v != ""}))
        return rows
    raise InvalidInput(f"unsupported file type {path.suffix!r}: use .csv or .json")


def import_devices(*, session: Session, path: Path, now: datetime) -> ImportReport:
    """Validate every row, then create or update the devices, all or nothing."""
    report = ImportReport()
    try:
        raw_rows = read_rows(path)
    except (HubError, json.JSONDecodeError, UnicodeDecodeError, csv.Error) as exc:
        report.errors.append(("file", str(exc)))
        return report
    rows: list[tuple[str, DeviceRow]] = []
    for where, raw in raw_rows:
        if not isinstance(raw, dict):
            report.errors.append((where, "not an object"))
            continue
        if "__extra__" in raw:
            report.errors.append((where, "more fields than the header names"))
            continue
        try:
            rows.append((where, DeviceRow.model_validate(raw)))
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "row"
                report.errors.append((where, f"{loc}: {err['msg']}"))
    _check_consistency(session=session, rows=rows, report=report)
    if report.errors:
        return report
    for _where, row in rows:
        existing = session.get(Device, row.id)
        if existing is None:
            add_device(
                session=session,
                device_id=row.id,
                site_id=row.site,
                kind=row.kind,
                now=now,
                name=row.name,
                name_en=row.name_en,
                location_path=row.location,
                external_topic=row.external_topic,
                adapter=row.adapter,
                external_id=row.external_id,
                heartbeat_timeout_s=row.heartbeat_timeout_s,
                installed_on=row.installed_on,
            )
            report.created += 1
        else:
            existing.kind = row.kind
            existing.name = row.name
            existing.name_en = row.name_en
            existing.location = (
                ensure_location(session=session, site_id=row.site, path=row.location)
                if row.location
                else None
            )
            existing.external_topic = row.external_topic
            existing.adapter = row.adapter
            existing.external_id = row.external_id
            if row.heartbeat_timeout_s:
                existing.heartbeat_timeout_s = row.heartbeat_timeout_s
            existing.installed_on = row.installed_on
            report.updated += 1
        if row.location and (row.location_names or row.location_names_en):
            name_locations(
                session=session,
                site_id=row.site,
                path=row.location,
                names=(row.location_names or "").split("/"),
                names_en=(row.location_names_en or "").split("/"),
            )
    # a device held in the quarantine and registered by a file instead is held no longer
    release_registered(
        session=session,
        keys=[(r.adapter.value, r.external_id) for _w, r in rows if r.adapter and r.external_id],
    )
    session.flush()
    return report


def _check_consistency(
    *, session: Session, rows: list[tuple[str, DeviceRow]], report: ImportReport
) -> None:
    """Checks across rows and against the database: sites exist, ids and topics are unique."""
    sites = set(session.scalars(select(Site.id)))
    seen_ids: dict[str, str] = {}
    seen_topics: dict[str, str] = {}
    seen_external: dict[tuple[str, str], str] = {}
    for where, row in rows:
        if row.site not in sites:
            report.errors.append((where, f"site: unknown site {row.site!r}"))
        if row.id in seen_ids:
            report.errors.append((where, f"id: {row.id!r} repeats {seen_ids[row.id]}"))
        seen_ids.setdefault(row.id, where)
        existing = session.get(Device, row.id)
        if existing is not None and existing.site_id != row.site:
            report.errors.append(
                (where, f"id: {row.id!r} is registered in site {existing.site_id!r}")
            )
        before = len(report.errors)
        if row.external_topic:
            if row.external_topic in seen_topics:
                report.errors.append(
                    (where, f"external_topic: repeats {seen_topics[row.external_topic]}")
                )
            seen_topics.setdefault(row.external_topic, where)
            owner = session.scalar(
                select(Device.id).where(Device.external_topic == row.external_topic)
            )
            if owner is not None and owner != row.id:
                report.errors.append((where, f"external_topic: already used by {owner!r}"))
        if row.adapter and row.external_id and len(report.errors) == before:  # said once
            _check_external(
                session=session, where=where, row=row, seen=seen_external, report=report
            )


def _check_external(
    *,
    session: Session,
    where: str,
    row: DeviceRow,
    seen: dict[tuple[str, str], str],
    report: ImportReport,
) -> None:
    """An external id names one device of its adapter, in the file and in the registry."""
    assert row.adapter is not None
    assert row.external_id is not None
    key = (row.adapter.value, row.external_id)
    if key in seen:
        report.errors.append((where, f"external_id: repeats {seen[key]}"))
    seen.setdefault(key, where)
    owner = session.scalar(
        select(Device.id).where(Device.adapter == key[0], Device.external_id == key[1])
    )
    if owner is not None and owner != row.id:
        report.errors.append((where, f"external_id: already used by {owner!r}"))
