"""A dispute's evidence as a manager reads it: the findings first, then a timeline that
leads with what matters.

Runs of unchanged readings of one device are one row ("arm down ×42, 05:33–05:40"); the
rows a finding rests on are marked; three views: the findings alone, events and alarms
(with the readings the findings rest on), everything. Every word goes through the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

VIEWS = ("findings", "events", "all")
DEFAULT_VIEW = "events"

Gettext = Callable[[str], str]
Keep = Callable[[str], str]

_UNITS = {
    "paper_pct": "%",
    "soap_pct": "%",
    "towel_pct": "%",
    "battery": "%",
    "flow_lpm": "L/min",
    "pressure_kpa": "kPa",
    "power_w": "W",
    "lux": "lx",
}
_HIDDEN = ("type", "ts", "id")


def _label(key: str, gettext: Gettext) -> str:
    said = gettext(f"field:{key}")
    return key.replace("_", " ") if said == f"field:{key}" else said


def _value(key: str, value: Any, gettext: Gettext) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, str):
        said = gettext(f"value:{value}")
        return value if said == f"value:{value}" else said
    unit = _UNITS.get(key)
    return f"{value} {unit}" if unit else str(value)


def reading(data: Mapping[str, Any], gettext: Gettext) -> str:
    """A reading or event's values in words: `道闸 落下 · 线圈有车 否`."""
    parts = [
        f"{_label(k, gettext)} {_value(k, v, gettext)}"
        for k, v in sorted(data.items())
        if k not in _HIDDEN
    ]
    return " · ".join(parts)


def _event_name(kind: str, gettext: Gettext) -> str:
    said = gettext(f"event:{kind}")
    return kind.replace("_", " ") if said == f"event:{kind}" else said


def _case_text(entry: Mapping[str, Any], gettext: Gettext, keep: Keep) -> str:
    data = entry.get("data") or {}
    to = data.get("to")
    if data.get("action") == "opened" or (to and not data.get("from")):
        said = gettext("case:opened")
    else:
        said = gettext(f"moved:{to}") if to else gettext("case:noted")
        if said == f"moved:{to}":
            said = str(to).replace("_", " ")
    note = keep(str(data.get("note") or "").strip())
    return f"{said} — {note}" if note else said


def _inspection_text(entry: Mapping[str, Any], gettext: Gettext, keep: Keep) -> str:
    data = entry.get("data") or {}
    items = " · ".join(
        f"{_label(str(i.get('item')), gettext)} {_value('', i.get('state'), gettext)}"
        for i in data.get("items", [])
    )
    text = f"{keep(str(data.get('inspector', '')))}: {items}"
    if data.get("discrepancies"):
        text += f" — {gettext('contradicted by the sensors')}"
    return text


def text_of(entry: Mapping[str, Any], gettext: Gettext, keep: Keep = str) -> str:
    """One timeline entry in words, in the page's language (`keep`: what of a text the hub
    composed in both languages, or in one, the page shows: `dashboards.render.reason`)."""
    kind = entry.get("type")
    if kind == "signal":
        data = entry.get("data") or {}
        if entry.get("channel") == "event":
            rest = reading(data, gettext)
            name = _event_name(str(data.get("type")), gettext)
            return f"{name} · {rest}" if rest else name
        return reading(data, gettext)
    if kind in ("work_order_event", "complaint_event"):
        return _case_text(entry, gettext, keep)
    if kind == "inspection":
        return _inspection_text(entry, gettext, keep)
    return keep(str(entry.get("summary") or ""))


def _key(ref: Mapping[str, Any]) -> tuple[str, str]:
    return str(ref.get("type")), str(ref.get("id"))


def _row(
    entry: Mapping[str, Any], marked: set[tuple[str, str]], gettext: Gettext, keep: Keep
) -> dict[str, Any]:
    return {
        "at": entry["at"],
        "until": None,
        "count": 1,
        "type": entry["type"],
        "device_id": entry.get("device_id"),
        "text": text_of(entry, gettext, keep),
        "digest": entry.get("digest"),
        "decisive": _key(entry["ref"]) in marked,
        "late": bool(entry.get("late")),
        "received_at": entry.get("received_at"),
        "data": entry.get("data") or {},
    }


def rows(
    timeline: Sequence[Mapping[str, Any]],
    findings: Sequence[Mapping[str, Any]],
    view: str,
    gettext: Gettext,
    keep: Keep = str,
) -> list[dict[str, Any]]:
    """The timeline rows of `view`: unchanged readings collapsed, rested-on rows marked."""
    if view == "findings":
        return []
    marked = {_key(r) for f in findings if f.get("decisive") for r in f.get("refs", [])}
    cited = {_key(r) for f in findings for r in f.get("refs", [])}
    out: list[dict[str, Any]] = []
    runs: dict[str, dict[str, Any]] = {}
    for entry in timeline:
        telemetry = entry["type"] == "signal" and entry.get("channel") != "event"
        device = entry.get("device_id") or ""
        if not telemetry:
            runs.pop(device, None)
            out.append(_row(entry, marked, gettext, keep))
            continue
        if view == "events" and _key(entry["ref"]) not in cited:
            continue
        run = runs.get(device)
        key = _key(entry["ref"])
        if run is not None and run["data"] == (entry.get("data") or {}) and key not in cited:
            run["count"] += 1
            run["until"] = entry["at"]
            continue
        row = _row(entry, marked, gettext, keep)
        out.append(row)
        runs[device] = row
    return out


def view_of(asked: str | None) -> str:
    """The view a query asks for (`show`), or the default."""
    return asked if asked in VIEWS else DEFAULT_VIEW


def stated(
    findings: Sequence[Mapping[str, Any]], lang: str, idents: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """The findings with their statement in the page's language, cut into `parts`: the
    words, and the identifiers among them (`idents`: device ids, a patrol's inspector as
    recorded), which the page shows as they are, in either language."""
    field = "statement_en" if lang == "en" else "statement"
    names = sorted({i for i in idents if i}, key=len, reverse=True)
    cut = re.compile("(" + "|".join(re.escape(n) for n in names) + ")") if names else None
    out = []
    for f in findings:
        text = str(f.get(field) or f.get("statement", ""))
        pieces = cut.split(text) if cut else [text]
        parts = [(p, p in names) for p in pieces if p]
        out.append({**f, "text": text, "parts": parts})
    return out


def idents_of(timeline: Sequence[Mapping[str, Any]]) -> set[str]:
    """What a timeline names by identifier: its devices, and its patrols' inspectors."""
    found: set[str] = set()
    for entry in timeline:
        found.add(str(entry.get("device_id") or ""))
        if entry.get("type") == "inspection":
            found.add(str((entry.get("data") or {}).get("inspector") or ""))
    return found - {""}
