"""What the sensors said about a patrol log's claim: consistent, contradicted, or unverifiable.

Pure logic over readings and alarm spans. The reading that counts is the last one at or
before the entry's `observed_at`, no older than the device's heartbeat timeout; when there
is none, the first one after it within the window (and no refill in between). Alarms count
while they were active at `observed_at`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from hub.inspections.enums import SUPPLIES, Item, State, Verdict
from hub.localtime import shown

WINDOW = timedelta(minutes=15)
"""How far around `observed_at` readings are looked at."""
LATE = timedelta(minutes=5)
"""A reading taken by the hub more than this after its own time arrived late."""
FULL_PCT = 80.0
"""A dispenser at or above this is not low, let alone empty."""

KIND_OF: dict[Item, str] = {
    Item.paper: "restroom",
    Item.soap: "restroom",
    Item.towel: "restroom",
    Item.light: "light",
    Item.leak: "leak",
    Item.gate: "gate",
}
"""The device kind whose sensors speak about an item."""

LAMP_ALARMS = frozenset({"lamp_failure", "light_fault"})
LEAK_ALARMS = frozenset({"leak_detected"})
GATE_FAULT_ALARMS = frozenset({"gate_fault", "gate_fault_event"})


@dataclass(frozen=True)
class Reading:
    """One signal of the device, as the check reads it."""

    at: datetime
    channel: str
    type: str | None
    payload: dict[str, Any]
    digest: str
    received_at: datetime | None = None
    """When the hub took it (the chain covers it); late when more than `LATE` after `at`."""

    def evidence(self) -> dict[str, Any]:
        """How the reading is cited: time, values, chain digest (and when it arrived)."""
        cited: dict[str, Any] = {"at": self.at, "values": self.payload, "digest": self.digest}
        if self.received_at is not None:
            cited["received_at"] = self.received_at
            cited["late"] = self.received_at - self.at > LATE
        return cited


@dataclass(frozen=True)
class AlarmSpan:
    """An alarm of the device: when raised, when cleared (None: still uncleared)."""

    id: int
    type: str
    raised_at: datetime
    cleared_at: datetime | None

    def active_at(self, at: datetime) -> bool:
        """Whether the alarm stood at `at`."""
        return self.raised_at <= at and (self.cleared_at is None or self.cleared_at > at)

    def evidence(self) -> dict[str, Any]:
        """How the alarm is cited (alarms are not chained: no digest)."""
        values = {"alarm": self.type, "alarm_id": self.id, "cleared_at": self.cleared_at}
        return {"at": self.raised_at, "values": values, "digest": None}


@dataclass(frozen=True)
class Thresholds:
    """The site's rule thresholds the check compares with."""

    empty_pct: float = 0.0
    min_power_w: float = 1.0


@dataclass
class Check:
    """The outcome for one item against one device."""

    verdict: Verdict
    observed: str
    at: datetime | None = None
    reason: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Claim:
    """What the entry says, and about when."""

    item: Item
    state: State
    observed_at: datetime
    heartbeat: timedelta
    zone: tzinfo


def check(
    claim: Claim,
    readings: Sequence[Reading],
    alarms: Sequence[AlarmSpan],
    thresholds: Thresholds = Thresholds(),
) -> Check:
    """Compare `claim` with the device's readings (time order) and alarms; a reason resting
    on a reading that arrived late says when it arrived."""
    result = _check(claim, readings, alarms, thresholds)
    late = [e for e in result.evidence if e.get("late")]
    if late and result.reason:
        taken = ", ".join(_at(claim, e["received_at"]) for e in late)
        result.reason += f" (the reading it rests on arrived late, received {taken})"
    return result


def _check(
    claim: Claim, readings: Sequence[Reading], alarms: Sequence[AlarmSpan], thresholds: Thresholds
) -> Check:
    if claim.item in SUPPLIES:
        return _supplies(claim, readings, thresholds)
    if claim.item == Item.light:
        return _light(claim, readings, alarms, thresholds)
    if claim.item == Item.leak:
        return _leak(claim, readings, alarms)
    if claim.item == Item.gate:
        return _gate(claim, readings, alarms)
    return Check(Verdict.unverifiable, "no sensor checks this item")


def _at(claim: Claim, when: datetime) -> str:
    return shown(when, claim.zone)


def _decisive(claim: Claim, readings: Sequence[Reading], fld: str) -> Reading | None:
    """The last reading with `fld` at or before the claim within the heartbeat, else the
    first after it within the window."""
    t = claim.observed_at
    before = [r for r in readings if fld in r.payload and t - claim.heartbeat <= r.at <= t]
    if before:
        return before[-1]
    after = [r for r in readings if fld in r.payload and t < r.at <= t + WINDOW]
    return after[0] if after else None


def _refill(claim: Claim, readings: Sequence[Reading], start: datetime) -> Reading | None:
    """A `refilled` event of the claim's item between `start` and the claim (or after it,
    up to the reading taken after the claim)."""
    t = claim.observed_at
    lo, hi = min(start, t), max(start, t)
    for r in readings:
        if r.type == "refilled" and r.payload.get("item") == claim.item and lo <= r.at <= hi:
            return r
    return None


def _empty_since(readings: Sequence[Reading], decisive: Reading, fld: str, empty: float) -> Reading:
    """The first reading of the run at or below `empty` that ends in `decisive`."""
    first = decisive
    for r in reversed([r for r in readings if r.at < decisive.at]):
        if r.type == "refilled":
            break
        value = r.payload.get(fld)
        if value is None:
            continue
        if value > empty:
            break
        first = r
    return first


def _supplies(claim: Claim, readings: Sequence[Reading], thresholds: Thresholds) -> Check:
    fld = f"{claim.item}_pct"
    decisive = _decisive(claim, readings, fld)
    if decisive is None:
        return Check(Verdict.unverifiable, "no reading")
    refill = _refill(claim, readings, decisive.at)
    if refill is not None:
        observed = f"refilled at {_at(claim, refill.at)}"
        if claim.state == State.empty:
            return Check(
                Verdict.contradicted,
                observed,
                refill.at,
                f"logged empty, but the {claim.item} dispenser was {observed}",
                [decisive.evidence(), refill.evidence()],
            )
        return Check(Verdict.consistent, observed, refill.at)
    level = float(decisive.payload[fld])
    observed = f"{level:g} % at {_at(claim, decisive.at)}"
    if claim.state == State.ok and level <= thresholds.empty_pct:
        since = _empty_since(readings, decisive, fld, thresholds.empty_pct)
        cited = [since.evidence()] if since is not decisive else []
        return Check(
            Verdict.contradicted,
            observed,
            since.at,
            f"logged ok, but the {claim.item} dispenser read {observed}; "
            f"empty since {_at(claim, since.at)}",
            [*cited, decisive.evidence()],
        )
    if claim.state in (State.low, State.empty) and level >= FULL_PCT:
        return Check(
            Verdict.contradicted,
            observed,
            decisive.at,
            f"logged {claim.state}, but the {claim.item} dispenser read {observed}",
            [decisive.evidence()],
        )
    if claim.state == State.fault:
        return Check(Verdict.unverifiable, observed, decisive.at)
    return Check(Verdict.consistent, observed, decisive.at)


def _standing(claim: Claim, alarms: Sequence[AlarmSpan], types: frozenset[str]) -> AlarmSpan | None:
    for alarm in alarms:
        if alarm.type in types and alarm.active_at(claim.observed_at):
            return alarm
    return None


def _alarm_says(claim: Claim, alarm: AlarmSpan, extra: Sequence[Reading]) -> Check:
    observed = f"{alarm.type} alarm since {_at(claim, alarm.raised_at)}"
    return Check(
        Verdict.contradicted,
        observed,
        alarm.raised_at,
        f"logged ok, but the {alarm.type} alarm stood (raised {_at(claim, alarm.raised_at)})",
        [alarm.evidence(), *(r.evidence() for r in extra)],
    )


def _light(
    claim: Claim, readings: Sequence[Reading], alarms: Sequence[AlarmSpan], th: Thresholds
) -> Check:
    alarm = _standing(claim, alarms, LAMP_ALARMS)
    last = _decisive(claim, readings, "on")
    power = last.payload.get("power_w") if last is not None else None
    watts = float(power) if isinstance(power, int | float) and power is not True else None
    if last is not None and last.payload.get("on") is True and watts is not None:
        observed = f"on, drawing {watts:g} W at {_at(claim, last.at)}"
        if claim.state == State.ok and alarm is None and watts < th.min_power_w:
            return Check(
                Verdict.contradicted,
                observed,
                last.at,
                f"logged ok, but the lamp was {observed}",
                [last.evidence()],
            )
        if claim.state != State.ok and alarm is None and watts >= th.min_power_w:
            return Check(
                Verdict.contradicted,
                observed,
                last.at,
                f"logged {claim.state}, but the lamp was {observed} and no lamp alarm stood",
                [last.evidence()],
            )
    if alarm is not None:
        if claim.state == State.ok:
            return _alarm_says(claim, alarm, [last] if last else [])
        return Check(Verdict.consistent, f"{alarm.type} alarm", alarm.raised_at)
    if last is None:
        return Check(Verdict.unverifiable, "no reading")
    return Check(Verdict.consistent, f"on={last.payload.get('on')} power={power}", last.at)


def _leak(claim: Claim, readings: Sequence[Reading], alarms: Sequence[AlarmSpan]) -> Check:
    alarm = _standing(claim, alarms, LEAK_ALARMS)
    last = _decisive(claim, readings, "leak")
    wet = last is not None and last.payload.get("leak") is True
    if claim.state == State.ok:
        if alarm is not None:
            return _alarm_says(claim, alarm, [last] if last else [])
        if wet and last is not None:
            observed = f"leak at {_at(claim, last.at)}"
            return Check(
                Verdict.contradicted,
                observed,
                last.at,
                f"logged ok, but the sensor reported a {observed}",
                [last.evidence()],
            )
    else:
        t = claim.observed_at
        near = [r for r in readings if r.payload.get("leak") is True and abs(r.at - t) <= WINDOW]
        if alarm is None and last is not None and not wet and not near:
            observed = f"dry at {_at(claim, last.at)}"
            return Check(
                Verdict.contradicted,
                observed,
                last.at,
                f"logged a leak, but the sensor read {observed} and no leak within "
                f"{int(WINDOW.total_seconds() // 60)} minutes",
                [last.evidence()],
            )
    if last is None and alarm is None:
        return Check(Verdict.unverifiable, "no reading")
    return Check(Verdict.consistent, "leak" if wet or alarm else "dry", last.at if last else None)


def _gate(claim: Claim, readings: Sequence[Reading], alarms: Sequence[AlarmSpan]) -> Check:
    alarm = _standing(claim, alarms, GATE_FAULT_ALARMS)
    last = _decisive(claim, readings, "arm")
    fault = last.payload.get("fault") if last is not None else None
    if claim.state == State.ok:
        if alarm is not None:
            return _alarm_says(claim, alarm, [last] if last else [])
        if fault not in (None, "", 0) and last is not None:
            observed = f"fault {fault} at {_at(claim, last.at)}"
            return Check(
                Verdict.contradicted,
                observed,
                last.at,
                f"logged ok, but the controller reported {observed}",
                [last.evidence()],
            )
    else:
        t = claim.observed_at
        moves = [
            r for r in readings if r.type in ("arm_up", "arm_down") and abs(r.at - t) <= WINDOW
        ]
        if alarm is None and fault in (None, "", 0) and moves:
            moved = moves[-1]
            observed = f"{moved.type} ({moved.payload.get('source')}) at {_at(claim, moved.at)}"
            return Check(
                Verdict.contradicted,
                observed,
                moved.at,
                f"logged a fault, but no fault was reported and the arm moved: {observed}",
                [m.evidence() for m in moves[-3:]],
            )
    if last is None and alarm is None:
        return Check(Verdict.unverifiable, "no reading")
    return Check(
        Verdict.consistent, f"fault {fault}" if fault else "no fault", last.at if last else None
    )
