"""Committed changes as InfluxDB line protocol: which measurements and fields, and escaping.

The series are derived from the device kinds' payload schemas (`devices/`), not listed by
hand, so a field added to a kind reaches the dashboards without touching this module:

- telemetry: measurement `{kind}`, one field per schema field that is a number (always
  written as a float, so an integer reading and a fractional one never clash in a field's
  type) or a boolean; an enumerated text field (the gate's `arm`) becomes one boolean per
  value (`arm_up`, `arm_down`, `arm_moving`). Fields outside the schema are kept in the
  signal but not written: they are free-form and would grow the series without bound;
- events: measurement `{kind}_event`, tag `type` (and each enumerated field of the event,
  such as the gate's `source`, as a tag), field `count` = 1 and the event's numbers and
  booleans;
- availability: measurement `device_status`, field `online`;
- alarms raised, reopened, cleared: measurement `alarm`, tags `type`, `severity`,
  `change`, field `count` = 1;
- the bridge's own counters: `hub_ingest`, `hub_dead_letters` (tag `reason`), `hub_influx`.

Every device point carries the tags `site`, `building`, `floor`, `kind`, `device`.
Timestamps are milliseconds. NaN and infinities are not representable and are left out;
tag values are escaped (comma, space, `=`, backslash) and stripped of control characters,
which line protocol cannot carry at all; an empty tag is omitted.
"""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from devices import SPECS
from devices.base import Payload
from hub.signals.changes import AlarmChange, Changes

DEVICE_TAGS = ("site", "building", "floor", "kind", "device")
EVENT_SUFFIX = "_event"
STATUS_MEASUREMENT = "device_status"
ALARM_MEASUREMENT = "alarm"
INGEST_MEASUREMENT = "hub_ingest"
DEAD_LETTER_MEASUREMENT = "hub_dead_letters"
SINK_MEASUREMENT = "hub_influx"
INGEST_FIELDS = ("received", "accepted", "duplicates", "dead", "batches", "failures")
SINK_FIELDS = ("backlog", "written", "dropped", "rejected", "failures")
_SKIPPED = frozenset({"ts", "id", "type"})


@dataclass(frozen=True)
class FieldSpec:
    """How one schema field is written: a number, a boolean, or one boolean per value."""

    name: str
    form: Literal["number", "bool", "enum"]
    values: tuple[str, ...] = ()

    def written(self) -> tuple[str, ...]:
        """The field names this field writes."""
        if self.form == "enum":
            return tuple(f"{self.name}_{v}" for v in self.values)
        return (self.name,)


def _field_spec(name: str, annotation: Any) -> FieldSpec | None:
    """The form of a pydantic field's annotation, or None if it is not written."""
    options = [annotation]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
    if len(options) != 1:
        return None
    (kind,) = options
    if kind is bool:
        return FieldSpec(name, "bool")
    if kind in (int, float):
        return FieldSpec(name, "number")
    if typing.get_origin(kind) is Literal:
        return FieldSpec(name, "enum", tuple(str(v) for v in typing.get_args(kind)))
    if isinstance(kind, type) and issubclass(kind, Enum):
        return FieldSpec(name, "enum", tuple(str(m.value) for m in kind))
    return None


def schema_fields(model: type[Payload]) -> tuple[FieldSpec, ...]:
    """The written fields of a payload schema, in declaration order."""
    found = []
    for name, info in model.model_fields.items():
        if name in _SKIPPED:
            continue
        spec = _field_spec(name, info.annotation)
        if spec is not None:
            found.append(spec)
    return tuple(found)


@dataclass(frozen=True)
class KindSeries:
    """What one device kind writes: its telemetry fields and, per event type, the event's."""

    telemetry: tuple[FieldSpec, ...]
    events: Mapping[str, tuple[FieldSpec, ...]]


SERIES: dict[str, KindSeries] = {
    kind: KindSeries(
        schema_fields(spec.telemetry),
        {name: schema_fields(model) for name, model in spec.events.items()},
    )
    for kind, spec in SPECS.items()
}
"""Per kind, what the sink writes, from the kinds' schemas."""


def written_series() -> dict[str, set[str]]:
    """Every measurement the sink writes and its field names (what dashboards may query)."""
    out: dict[str, set[str]] = {}
    for kind, series in SERIES.items():
        out[kind] = {n for f in series.telemetry for n in f.written()}
        events = out.setdefault(f"{kind}{EVENT_SUFFIX}", {"count"})
        for fields in series.events.values():
            events.update(n for f in fields if f.form != "enum" for n in f.written())
    out[STATUS_MEASUREMENT] = {"online"}
    out[ALARM_MEASUREMENT] = {"count"}
    out[INGEST_MEASUREMENT] = set(INGEST_FIELDS)
    out[DEAD_LETTER_MEASUREMENT] = {"count"}
    out[SINK_MEASUREMENT] = set(SINK_FIELDS)
    return out


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TAG_ESCAPE = str.maketrans({"\\": "\\\\", ",": "\\,", "=": "\\=", " ": "\\ "})
_MEASUREMENT_ESCAPE = str.maketrans({"\\": "\\\\", ",": "\\,", " ": "\\ "})


def tag_value(value: str) -> str:
    """A tag key or value as line protocol carries it (control characters become spaces)."""
    return _CONTROL.sub(" ", value).strip().translate(_TAG_ESCAPE)


def number(value: Any) -> str | None:
    """A float field value, or None for what is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        as_float = float(value)
    except OverflowError:
        return None
    if not math.isfinite(as_float):
        return None
    return repr(as_float)


@dataclass(frozen=True)
class Place:
    """Where a device is: building and floor codes (either may be unknown)."""

    building: str | None = None
    floor: str | None = None

    @classmethod
    def of_path(cls, path: str | None) -> Place:
        """The building and floor of a location path `building/floor/...`."""
        if not path:
            return cls()
        codes = path.split("/")
        return cls(codes[0] or None, codes[1] if len(codes) > 1 and codes[1] else None)


def line(
    measurement: str, tags: Mapping[str, str | None], fields: Mapping[str, str], ms: int
) -> str:
    """One point; `fields` hold already formatted values."""
    head = measurement.translate(_MEASUREMENT_ESCAPE)
    cleaned = ((tag_value(k), tag_value(v)) for k, v in sorted(tags.items()) if v)
    tag_part = "".join(f",{k}={v}" for k, v in cleaned if v)  # an empty tag is no tag
    field_part = ",".join(f"{tag_value(k)}={v}" for k, v in fields.items())
    return f"{head}{tag_part} {field_part} {ms}"


def millis(ts: datetime) -> int:
    """Milliseconds since the epoch."""
    return int(ts.timestamp() * 1000)


def _values(specs: Iterable[FieldSpec], payload: Mapping[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for spec in specs:
        value = payload.get(spec.name)
        if value is None:
            continue
        if spec.form == "bool":
            if isinstance(value, bool):
                fields[spec.name] = "true" if value else "false"
        elif spec.form == "number":
            formatted = number(value)
            if formatted is not None:
                fields[spec.name] = formatted
        else:
            for option in spec.values:
                fields[f"{spec.name}_{option}"] = "true" if value == option else "false"
    return fields


def device_tags(site: str, kind: str, device: str, place: Place) -> dict[str, str | None]:
    """The tags every device point carries."""
    return {
        "site": site,
        "building": place.building,
        "floor": place.floor,
        "kind": kind,
        "device": device,
    }


_PREFIXES: dict[tuple[str, str, str, str, Place], str] = {}
"""Measurement and tags of a device's points, escaped once: they only change with its place."""
_PREFIX_LIMIT = 200_000


def _prefix(measurement: str, site: str, kind: str, device: str, place: Place) -> str:
    key = (measurement, site, kind, device, place)
    found = _PREFIXES.get(key)
    if found is None:
        if len(_PREFIXES) >= _PREFIX_LIMIT:
            _PREFIXES.clear()
        tags = device_tags(site, kind, device, place)
        found = _PREFIXES[key] = line(measurement, tags, {}, 0).rsplit(" ", 2)[0]
    return found


def changes_lines(changes: Changes, places: Mapping[str, Place]) -> Iterator[str]:
    """The points of a committed batch: its signals and its alarm changes."""
    nowhere = Place()
    for s in changes.signals:
        series = SERIES.get(s.kind)
        if series is None:
            continue
        place = places.get(s.device_id, nowhere)
        ms = millis(s.ts)
        if s.channel == "telemetry":
            fields = _values(series.telemetry, s.payload)
            if fields:
                head = _prefix(s.kind, s.site_id, s.kind, s.device_id, place)
                body = ",".join(f"{k}={v}" for k, v in fields.items())
                yield f"{head} {body} {ms}"
        elif s.channel == "event":
            tags = device_tags(s.site_id, s.kind, s.device_id, place)
            specs = series.events.get(s.type or "", ())
            event_tags = dict(tags, type=s.type)
            for spec in specs:
                value = s.payload.get(spec.name)
                if spec.form == "enum" and isinstance(value, str) and value in spec.values:
                    event_tags[spec.name] = value
            fields = {"count": "1.0", **_values((f for f in specs if f.form != "enum"), s.payload)}
            yield line(f"{s.kind}{EVENT_SUFFIX}", event_tags, fields, ms)
        elif s.channel == "status":
            online = "true" if s.payload.get("status") == "online" else "false"
            head = _prefix(STATUS_MEASUREMENT, s.site_id, s.kind, s.device_id, place)
            yield f"{head} online={online} {ms}"
    for alarm in changes.alarms:
        yield alarm_line(alarm, places.get(alarm.device_id, nowhere))


def alarm_line(alarm: AlarmChange, place: Place) -> str:
    """An alarm raised, reopened or cleared, as a point at the time it happened."""
    spec = None
    for kind in SPECS:
        if any(rule.type == alarm.type for rule in SPECS[kind].rules):
            spec = kind
            break
    tags = device_tags(alarm.site_id, spec or "", alarm.device_id, place)
    tags.update(type=alarm.type, severity=alarm.severity, change=str(alarm.change))
    return line(ALARM_MEASUREMENT, tags, {"count": "1.0"}, millis(alarm.at))


def counter_lines(
    measurement: str, tags: Mapping[str, str | None], counters: Mapping[str, int], ms: int
) -> str:
    """A point of a process's counters (the bridge's, the sink's own)."""
    return line(measurement, tags, {k: repr(float(v)) for k, v in counters.items()}, ms)
