"""Findings: the few facts of a timeline that settle the question, in Chinese and English.

Pure: the timeline's entries (time order), each device's kind and the orders' deadlines go
in; `[{kind, at, at_local, statement, statement_en, refs, decisive}]` comes out, decisive
first. What counts as a finding is data, per device kind (`rules.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from hub.evidence.rules import (
    ITEMS,
    RULES,
    SOURCES,
    WORDS,
    Against,
    Change,
    Moment,
    Rule,
    Stretch,
    passes,
)

MOST = 60
"""Findings at most: a manager reads a page of them, not a log."""

Entry = Mapping[str, Any]


def when(at: datetime, zone: tzinfo) -> str:
    """A finding's time as people read it: local date and time to the second."""
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def duration(span: timedelta, lang: str) -> str:
    """A span in words: `9 分钟` / `9 minutes`, `2 小时 5 分钟` / `2 h 5 min`, days too."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if lang == "zh":
        parts = [f"{days} 天" if days else "", f"{hours} 小时" if hours else ""]
        parts.append(f"{mins} 分钟" if mins or not (days or hours) else "")
    elif not (days or hours):
        return f"{mins} minute{'s' if mins != 1 else ''}"
    else:
        parts = [f"{days} d" if days else "", f"{hours} h" if hours else ""]
        parts.append(f"{mins} min" if mins else "")
    return " ".join(p for p in parts if p)


class _Fill(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "—"


@dataclass
class _Found:
    kind: str
    at: datetime
    zh: str
    en: str
    refs: list[dict[str, Any]]
    decisive: bool
    device_id: str | None = None
    until: datetime | None = None


@dataclass
class _Context:
    kinds: Mapping[str, str]
    deadlines: Sequence[Mapping[str, Any]]
    zone: tzinfo
    found: list[_Found] = field(default_factory=list)
    spans: dict[tuple[str, str], list[tuple[datetime, datetime | None]]] = field(
        default_factory=dict
    )


def _key(ref: Mapping[str, Any]) -> tuple[str, str]:
    return str(ref.get("type")), str(ref.get("id"))


def _ref(entry: Entry) -> dict[str, Any]:
    return {"type": entry["ref"]["type"], "id": entry["ref"]["id"]}


def _values(entry: Entry, ctx: _Context, **extra: Any) -> _Fill:
    data = dict(entry.get("data") or {})
    source = SOURCES.get(str(data.get("source")), (data.get("source"), data.get("source")))
    move = WORDS.get(str(data.get("type")), ("", ""))
    loop = (
        WORDS.get(data.get("loop_occupied"), ("—", "—")) if "loop_occupied" in data else ("—",) * 2
    )
    return _Fill(
        {
            **{k: v for k, v in data.items() if isinstance(v, str | int | float)},
            "time": when(entry["at"], ctx.zone),
            "device": entry.get("device_id") or "",
            "order": entry["ref"]["id"],
            "source_zh": source[0],
            "source_en": source[1],
            "move": move[0],
            "move_en": move[1],
            "loop_zh": loop[0],
            "loop_en": loop[1],
            **extra,
        }
    )


def _sla(entry: Entry, step: str, ctx: _Context) -> tuple[str, str]:
    order = entry["ref"]["id"]
    due = next(
        (d for d in ctx.deadlines if d["work_order_id"] == order and d["step"] == step), None
    )
    if due is None:
        return "", ""
    done: datetime = due.get("met_at") or entry["at"]
    shown = when(due["due_at"], ctx.zone)
    if done <= due["due_at"]:
        return f"(时限 {shown},按时)", f" (due {shown}, in time)"
    late = done - due["due_at"]
    return (
        f"(时限 {shown},超时 {duration(late, 'zh')})",
        f" (due {shown}, {duration(late, 'en')} late)",
    )


def _kind_of(entry: Entry, ctx: _Context) -> str | None:
    if entry["type"] == "work_order_event":
        return "order"
    device = entry.get("device_id")
    return ctx.kinds.get(device) if device else None


def _entry_is(rule: Moment, entry: Entry) -> bool:
    if rule.entry == "event":
        return entry["type"] == "signal" and entry.get("channel") == "event"
    return bool(entry["type"] == rule.entry)


def _anchor(rule: Moment, entry: Entry, ctx: _Context) -> _Found | None | bool:
    """The finding a `near` moment hangs on (the nearest within `within_s`; None: none), True
    when it needs none."""
    if rule.near is None:
        return True
    best: _Found | None = None
    for found in ctx.found:
        if found.kind != rule.near or found.device_id not in (None, entry.get("device_id")):
            continue
        if found.refs[0] == _ref(entry):
            return None  # the anchor's own entry
        gap = abs((entry["at"] - found.at).total_seconds())
        if gap <= rule.within_s and (
            best is None or gap < abs((entry["at"] - best.at).total_seconds())
        ):
            best = found
    return best


def _moment(rule: Moment, entry: Entry, ctx: _Context) -> None:
    anchor = _anchor(rule, entry, ctx)
    if anchor is None:
        return
    after = {}
    if isinstance(anchor, _Found):
        gap = abs(entry["at"] - anchor.at)
        after = {"after": duration(gap, "zh"), "after_en": duration(gap, "en")}
    zh_sla, en_sla = _sla(entry, rule.sla_step, ctx) if rule.sla_step else ("", "")
    zh = rule.zh.format_map(_values(entry, ctx, sla=zh_sla, **after))
    en_values = _values(entry, ctx, sla=en_sla, **after)
    if "after_en" in after:
        en_values["after"] = after["after_en"]
    kind = f"{rule.kind}_late" if zh_sla.startswith("(时限") and "超时" in zh_sla else rule.kind
    ctx.found.append(
        _Found(kind, entry["at"], zh, rule.en.format_map(en_values), [_ref(entry)],
               rule.decisive, entry.get("device_id"))
    )  # fmt: skip


@dataclass
class _Held:
    start: Entry
    last: datetime
    still: dict[str, Any]


def _stretch_end(rule: Stretch, held: _Held, end: Entry | None, ctx: _Context) -> None:
    until = end["at"] if end is not None else held.last
    span = until - held.start["at"]
    if span.total_seconds() < rule.min_s:
        return
    extra = {"until": when(until, ctx.zone), "duration": duration(span, "zh")}
    zh = rule.zh.format_map(_values(held.start, ctx, **extra))
    extra["duration"] = duration(span, "en")
    en = rule.en.format_map(_values(held.start, ctx, **extra))
    refs = [_ref(held.start)] + ([_ref(end)] if end is not None else [])
    ctx.found.append(
        _Found(rule.kind, held.start["at"], zh, en, refs, rule.decisive,
               held.start.get("device_id"), until)
    )  # fmt: skip


def _walk_stretch(rule: Stretch, entries: Sequence[Entry], ctx: _Context) -> None:
    held: dict[str, _Held] = {}
    for entry in entries:
        device = entry.get("device_id")
        if entry["type"] != "signal" or device is None or ctx.kinds.get(device) != rule.device_kind:
            continue
        data = entry["data"]
        now = held.get(device)
        if entry.get("channel") == "event":
            if now is not None and data.get("type") in rule.breaks:
                _stretch_end(rule, held.pop(device), entry, ctx)
            continue
        state = passes(rule.tests, data)
        moved = now is not None and any(data.get(k) != now.still.get(k) for k in rule.still)
        if now is not None and (state is False or moved):
            _stretch_end(rule, held.pop(device), entry, ctx)
            now = None
        if state is True and now is None:
            held[device] = _Held(entry, entry["at"], {k: data.get(k) for k in rule.still})
        elif state is True and now is not None:
            now.last = entry["at"]
    for now in held.values():
        _stretch_end(rule, now, None, ctx)


def _walk_change(rule: Change, entries: Sequence[Entry], ctx: _Context) -> None:
    state: dict[str, bool | None] = {}
    for entry in entries:
        device = entry.get("device_id")
        if entry["type"] != "signal" or entry.get("channel") == "event" or device is None:
            continue
        if ctx.kinds.get(device) != rule.device_kind:
            continue
        now = passes(rule.tests, entry["data"])
        before = state.get(device)
        if now is None or now == before or (before is None and not now):
            state[device] = before if now is None else now
            continue
        state[device] = now
        spans = ctx.spans.setdefault((rule.kind, device), [])
        if now:
            spans.append((entry["at"], None))
        elif spans:
            spans[-1] = (spans[-1][0], entry["at"])
        zh, en = (rule.zh_in, rule.en_in) if now else (rule.zh_out, rule.en_out)
        if zh is None or en is None:
            continue
        values = _values(entry, ctx)
        ctx.found.append(
            _Found(rule.kind if now else f"{rule.kind}_end", entry["at"], zh.format_map(values),
                   en.format_map(values), [_ref(entry)], rule.decisive and now, device)
        )  # fmt: skip


def _against(rule: Against, entry: Entry, ctx: _Context) -> None:
    data = entry.get("data") or {}
    for item in data.get("items", []):
        if item.get("item") != rule.item or item.get("state") not in rule.claimed:
            continue
        for (kind, device), spans in ctx.spans.items():
            if kind != rule.change or entry.get("device_id") not in (None, device):
                continue
            for start, end in spans:
                if start <= entry["at"] and (end is None or entry["at"] < end):
                    extra = {"inspector": data.get("inspector", ""), "since": when(start, ctx.zone)}
                    zh_item = {"ok": "正常", "low": "偏少"}.get(item["state"], item["state"])
                    zh = rule.zh.format_map(_values(entry, ctx, claimed=zh_item, **extra))
                    en = rule.en.format_map(_values(entry, ctx, claimed=item["state"], **extra))
                    refs = [_ref(entry), {"type": "device", "id": device}]
                    ctx.found.append(
                        _Found(rule.kind, entry["at"], zh, en, refs, rule.decisive, device)
                    )
                    return


def _reading(entry: Entry) -> bool:
    return entry["type"] == "signal" and entry.get("channel") != "event"


def _pass(rules: Sequence[Rule], entries: Sequence[Entry], ctx: _Context, later: bool) -> None:
    """Walk readings through the changes and stretches (first pass), the other entries
    through the moments (anchored ones and patrol entries in the second)."""
    if not later:
        for rule in rules:
            if isinstance(rule, Stretch | Change):
                mine = [
                    e
                    for e in entries
                    if ctx.kinds.get(e.get("device_id") or "") == rule.device_kind
                ]
                if isinstance(rule, Stretch):
                    _walk_stretch(rule, mine, ctx)
                else:
                    _walk_change(rule, mine, ctx)
    moments = [r for r in rules if isinstance(r, Moment) and (r.near is not None) == later]
    againsts = [r for r in rules if isinstance(r, Against)] if later else []
    for entry in entries:
        if _reading(entry):
            continue
        kind = _kind_of(entry, ctx)
        if entry["type"] == "inspection":
            for against in againsts:
                _against(against, entry, ctx)
        for rule in moments:
            if rule.device_kind not in (None, kind) or not _entry_is(rule, entry):
                continue
            if passes(rule.tests, entry.get("data") or {}):
                _moment(rule, entry, ctx)


def findings(
    entries: Sequence[Entry],
    *,
    kinds: Mapping[str, str],
    deadlines: Sequence[Mapping[str, Any]],
    zone: tzinfo,
) -> list[dict[str, Any]]:
    """The findings of a timeline, decisive first, then in time order."""
    ctx = _Context(kinds, deadlines, zone)
    present = {"order", *kinds.values()}
    rules = [r for kind, group in RULES.items() if kind in present for r in group]
    _pass(rules, entries, ctx, later=False)
    _pass(rules, entries, ctx, later=True)
    ordered = sorted(ctx.found, key=lambda f: (not f.decisive, f.at, f.kind))[:MOST]
    late = {_key(e["ref"]): e["received_at"] for e in entries if e.get("late")}
    for f in ordered:
        taken = next((late[k] for r in f.refs if (k := _key(r)) in late), None)
        if taken is not None:
            f.zh += f"(该记录迟至 {when(taken, zone)} 才送达系统)"
            f.en += f" (this record reached the hub late, at {when(taken, zone)})"
    return [
        {
            "kind": f.kind,
            "at": f.at,
            "at_local": when(f.at, zone),
            "statement": f.zh,
            "statement_en": f.en,
            "refs": f.refs,
            "decisive": f.decisive,
        }
        for f in ordered
    ]


__all__ = ["ITEMS", "duration", "findings", "when"]
