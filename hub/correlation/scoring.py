"""Scoring: how well a candidate (alarm, order, signal, complaint, notice) explains a complaint.

Deterministic and explained: the score is the sum of the parts of `weights.py`, each part
adding a reason the desk can read ("同一楼层 3/12 same floor", "lamp_failure since 14:02,
38 min before", "words: 不亮"). A candidate with a device kind the complaint does not name
is not scored at all: renovation noise or a fee dispute at the same place is not about a
lamp, however close the lamp is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from hub.complaints.enums import Category
from hub.correlation import weights as w
from hub.correlation.enums import LinkType, Relation
from hub.correlation.places import Codes, Related, relate
from hub.correlation.problems import ALARM_KIND, Said
from hub.registry.enums import DeviceKind

# Categories whose complaints may be about a job without a device kind (a manual order).
FACILITY_CATEGORIES = frozenset(
    {Category.facility, Category.sanitation, Category.security_order, Category.emergency}
)

# Public facilities: the complainant's own unit says nothing about where they are.
AWAY_FROM_HOME = frozenset({DeviceKind.gate, DeviceKind.restroom})


@dataclass(frozen=True)
class Where:
    """The complaint as correlation sees it: place, kinds, problem words, category, time."""

    site_id: str
    path: Codes | None
    unit_only: bool
    """The place is only the complainant's unit (no location given or read from the text)."""
    kinds: frozenset[str]
    said: Said
    category: str
    at: datetime
    complaint_id: int | None = None
    place_unknown: bool = False
    """A place was named that the registry lacks (kept as the unit typed): nothing site-wide."""


@dataclass(frozen=True)
class Candidate:
    """Something that may explain the complaint."""

    type: LinkType
    id: int
    kinds: frozenset[str]
    alarms: frozenset[str]
    """The alarm types it stands for (an alarm's own, an order's alarms', a reading's)."""
    places: tuple[Codes, ...]
    active: bool
    began_at: datetime
    ended_at: datetime | None
    label: str
    """How a reason names it: `lamp_failure`, `work order 12 (on_hold)`, `complaint 4`."""
    category: str | None = None


@dataclass(frozen=True)
class Scored:
    """A candidate with its score and the reasons for it."""

    candidate: Candidate
    score: float
    reasons: tuple[str, ...]
    relation: Related = field(compare=False)

    @property
    def known_issue(self) -> bool:
        """An order still being worked, close enough to be what the complaint is about."""
        return (
            self.candidate.type is LinkType.work_order
            and self.candidate.active
            and self.score >= w.KNOWN_ISSUE_THRESHOLD
        )


def _minutes(delta: timedelta) -> int:
    return round(abs(delta.total_seconds()) / 60)


def _clock(at: datetime, zone: tzinfo) -> str:
    """A time of day as people read it: local, with the offset (14:02+08:00)."""
    return at.astimezone(zone).isoformat(timespec="minutes")[11:]


def _what(where: Where, cand: Candidate) -> tuple[float, str] | None:
    """The kind part: shared device kind, or (complaints) the same category, or nothing."""
    shared = where.kinds & cand.kinds
    if shared:
        return w.KIND, f"设备类型 device kind {', '.join(sorted(shared))}"
    if cand.type is LinkType.complaint:
        if not cand.kinds and cand.category == where.category != Category.other:
            return w.CATEGORY, f"同类投诉 same category {where.category}"
        return None
    if not cand.kinds and where.category in FACILITY_CATEGORIES:
        return 0.0, ""
    return None


def _where(where: Where, cand: Candidate) -> tuple[Related, Codes] | None:
    """The best place relation over the candidate's places (a place-less one: the site)."""
    shared = where.kinds & cand.kinds
    mine = where.path
    if where.unit_only and shared and shared <= AWAY_FROM_HOME:
        mine = None
    if not cand.places:
        return Related(Relation.site), ()
    best: tuple[Related, Codes] | None = None
    for there in cand.places:
        related = relate(
            mine,
            there,
            leak=DeviceKind.leak in shared,
            gate=DeviceKind.gate in shared,
            room=shared == {DeviceKind.restroom},
        )
        if related is None:
            continue
        if best is None or w.PLACE[related.relation] > w.PLACE[best[0].relation]:
            best = (related, there)
    return best


def _when(where: Where, cand: Candidate, *, zone: tzinfo) -> tuple[float, str] | None:
    """The time part: active, or ended within the window (beyond it: not a candidate)."""
    began = cand.began_at
    if began - where.at > w.ALARM_AFTER_WINDOW:
        return None
    side = "before" if began <= where.at else "after"
    gap = _minutes(where.at - began)
    if cand.active:
        return w.ACTIVE, f"{cand.label} since {_clock(began, zone)}, {gap} min {side}"
    ended = cand.ended_at or began
    span = w.COMPLAINT_WINDOW if cand.type is LinkType.complaint else w.window(cand.kinds)
    age = max(timedelta(0), where.at - ended)
    if age > span:
        return None
    part = round(w.RECENT * (1 - age / span), 3)
    return part, f"{cand.label} ended {_clock(ended, zone)}, {_minutes(age)} min before"


def score(where: Where, cand: Candidate, *, zone: tzinfo) -> Scored | None:
    """The candidate scored against the complaint, or None if it cannot explain it."""
    what = _what(where, cand)
    if what is None:
        return None
    place = _where(where, cand)
    if place is None:
        return None
    when = _when(where, cand, zone=zone)
    if when is None:
        return None
    related, there = place
    parts = [w.PLACE[related.relation], what[0], when[0]]
    reasons = [related.reason(where.path, there), when[1]]
    if what[1]:
        reasons.append(what[1])
    shared = where.kinds & cand.kinds
    named = where.said.alarms & cand.alarms
    other = {a for a in where.said.alarms if ALARM_KIND.get(a) in shared} - cand.alarms
    if named and shared:
        parts.append(w.WORDS)
        reasons.append(f"words: {', '.join(where.said.words_for(named))}")
    elif other and cand.alarms:
        parts.append(w.OTHER_PROBLEM)
        reasons.append(
            f"words name another problem: {', '.join(where.said.words_for(frozenset(other)))}"
        )
    total = round(max(0.0, min(1.0, sum(parts))), 3)
    return Scored(cand, total, tuple(reasons), related)


def rank(scored: list[Scored]) -> list[Scored]:
    """Links best first; ties by type (orders first) and id, so the order is deterministic."""
    order = list(LinkType)
    return sorted(
        (s for s in scored if s.score >= w.LINK_THRESHOLD),
        key=lambda s: (-s.score, order.index(s.candidate.type), s.candidate.id),
    )[: w.MAX_LINKS]


def known_issue(ranked: list[Scored]) -> Scored | None:
    """The best order still being worked above the threshold, unless another ties with it."""
    orders = [s for s in ranked if s.known_issue]
    if not orders:
        return None
    if len(orders) > 1 and orders[1].score >= orders[0].score:
        return None  # two orders explain it equally well: the desk decides
    return orders[0]
