"""The forecast pass: new readings into each track, then the alarms the forecasts call for.

A dispenser forecast to run out within the cleaning lead time (the SLA's resolve minutes for
the rule's priority plus the rule's `lead_min`, both per site) with enough confidence raises
`supplies_forecast`, which opens (or joins) the restroom floor's cleaning order like any
alarm; a later `supplies_low`/`supplies_empty` of the dispenser joins it. A refill clears it:
the `refilled` event through the rule engine, a jump in level here. Flat, noisy, stuck and
silent dispensers raise nothing (silence is the availability alarm's).

A battery forecast to reach `battery_low`'s threshold within `days` raises
`battery_forecast`; every other sensor of that building due within `gather_days` is raised
with it, so one replacement order per building gathers them. A new battery clears it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.base import Rule
from hub.alarms import flows as alarm_flows
from hub.alarms.models import Alarm
from hub.alarms.rules import RuleBook
from hub.alarms.service import clear_condition, raise_alarm
from hub.forecasts import service
from hub.forecasts.enums import SUPPLIES, Outlook, Quantity
from hub.forecasts.models import Forecast
from hub.forecasts.projection import Track
from hub.registry.enums import DeviceKind, DeviceStatus
from hub.registry.models import Device
from hub.signals.jobs import lock_device
from hub.workorders.enums import Department
from hub.workorders.policy import SlaPolicy

logger = logging.getLogger(__name__)

SUPPLIES_FORECAST = "supplies_forecast"
BATTERY_FORECAST = "battery_forecast"


@dataclass
class PassResult:
    """What one forecast pass did."""

    readings: int = 0
    forecasts: int = 0
    raised: int = 0
    cleared: int = 0


def forecast_pass(
    *, session: Session, rules: RuleBook, policy: SlaPolicy, now: datetime
) -> PassResult:
    """Bring every site's forecasts up to date and raise or clear the alarms they call for."""
    result = PassResult()
    for site_id in service.forecast_sites(session=session):
        refilled = _update_site(session=session, site_id=site_id, now=now, result=result)
        _clear_refilled(session=session, rules=rules, refilled=refilled, now=now, result=result)
        _raise_supplies(
            session=session, site_id=site_id, rules=rules, policy=policy, now=now, result=result
        )
        _raise_batteries(
            session=session, site_id=site_id, rules=rules, policy=policy, now=now, result=result
        )
    session.flush()
    return result


def _update_site(
    *, session: Session, site_id: str, now: datetime, result: PassResult
) -> set[tuple[str, str]]:
    """Feed the new readings to the tracks; the (device, quantity) pairs refilled meanwhile."""
    readings, cursor, last = service.new_readings(session=session, site_id=site_id, now=now)
    rows = service.rows_of(session=session, device_ids=readings)
    refilled: set[tuple[str, str]] = set()
    for device_id, new in readings.items():
        tracks = {
            q: Track.from_dict(row.track)
            if (row := rows.get((device_id, q))) and row.track
            else Track()
            for q in {q for _, q, _, _ in new.levels} | {q for _, q in new.refills}
        }
        for quantity in _feed(new, tracks):
            refilled.add((device_id, quantity))
        result.readings += len(new.levels)
        for quantity, track in tracks.items():
            outcome = track.forecast(now, service.settings_for(quantity))
            service.keep(
                session=session,
                row=rows.get((device_id, quantity)),
                site_id=site_id,
                device_id=device_id,
                quantity=quantity,
                track=track,
                outcome=outcome,
                now=now,
            )
            result.forecasts += 1
    cursor.signal_id = last
    cursor.updated_at = now
    service.mark_silent(session=session, site_id=site_id, now=now)
    session.flush()
    return refilled


def _feed(new: service.Readings, tracks: dict[str, Track]) -> set[str]:
    """Feed one device's new readings and refill events in time order; the quantities refilled."""
    refilled: set[str] = set()
    events = sorted(
        [(at, 0, q, 0.0, None) for at, q in new.refills]
        + [(at, 1, q, level, visits) for at, q, level, visits in new.levels],
        key=lambda e: (e[0], e[1]),
    )
    for at, is_level, quantity, level, visits in events:
        settings = service.settings_for(quantity)
        if not is_level:
            tracks[quantity].start_run(at, settings)
        elif tracks[quantity].observe(at, level, settings, visits):
            refilled.add(quantity)
    return refilled


def _alarm_type(quantity: str) -> str:
    return BATTERY_FORECAST if quantity == Quantity.battery else SUPPLIES_FORECAST


def _open_alarms(session: Session, device_ids: list[str], alarm_type: str) -> set[str]:
    if not device_ids:
        return set()
    return set(
        session.scalars(
            select(Alarm.device_id).where(
                Alarm.device_id.in_(device_ids),
                Alarm.type == alarm_type,
                Alarm.cleared_at.is_(None),
            )
        )
    )


def _clear_refilled(
    *,
    session: Session,
    rules: RuleBook,
    refilled: set[tuple[str, str]],
    now: datetime,
    result: PassResult,
) -> None:
    """A refill or a new battery seen as a jump in level clears the forecast alarm."""
    devices = service.devices_of(session=session, device_ids={d for d, _ in refilled})
    for device_id, quantity in sorted(refilled):
        device = devices.get(device_id)
        if device is None:
            continue
        rule = rules.rule(device.site_id, device.kind, _alarm_type(quantity))
        if rule is None or not lock_device(session=session, device_id=device_id):
            continue
        alarm = clear_condition(
            session=session, device_id=device_id, rule=rule, at=now, at_once=True
        )
        if alarm is not None:
            alarm_flows.on_cleared(session=session, alarm=alarm, now=now)
            result.cleared += 1


def _raise(
    *,
    session: Session,
    policy: SlaPolicy,
    device: Device,
    rule: Rule,
    now: datetime,
    detail: dict[str, Any],
    result: PassResult,
) -> None:
    if not lock_device(session=session, device_id=device.id):
        return  # a bridge worker holds the device now; the next pass raises it
    raised = raise_alarm(session=session, device=device, rule=rule, at=now, detail=detail)
    alarm_flows.on_raised(
        session=session, policy=policy, raised=raised, rule=rule, device=device, now=now
    )
    result.raised += 1


def _detail(row: Forecast) -> dict[str, Any]:
    return {
        "quantity": row.quantity,
        "level": row.level,
        "rate_per_hour": row.rate_per_hour,
        "runs_out_at": row.runs_out_at.isoformat() if row.runs_out_at else None,
        "confidence": row.confidence,
    }


def lead_time(rule: Rule, policy: SlaPolicy) -> timedelta:
    """How long before the forecast run-out a dispenser's cleaning order opens."""
    resolve = policy.minutes(Department.cleaning, rule.priority).resolve
    return timedelta(minutes=resolve + rule.params.get("lead_min", 0))


def _raise_supplies(
    *,
    session: Session,
    site_id: str,
    rules: RuleBook,
    policy: SlaPolicy,
    now: datetime,
    result: PassResult,
) -> None:
    rule = rules.rule(site_id, DeviceKind.restroom, SUPPLIES_FORECAST)
    if rule is None:
        return
    lead = now + lead_time(rule, policy)
    gather = now + max(lead_time(rule, policy), timedelta(hours=rule.params.get("gather_h", 0)))
    rows = [
        r
        for r in service.due(
            session=session, site_id=site_id, quantities=[q.value for q in SUPPLIES], before=gather
        )
        if r.confidence >= rule.params.get("min_confidence", 0.0)
    ]
    device_ids = sorted({r.device_id for r in rows})
    already = _open_alarms(session, device_ids, SUPPLIES_FORECAST)
    devices = {
        d.id: d
        for d in service.devices_of(session=session, device_ids=device_ids).values()
        if d.status == DeviceStatus.online
    }
    soonest: dict[str, Forecast] = {}
    for row in sorted(rows, key=lambda r: (r.runs_out_at or now, r.device_id)):
        soonest.setdefault(row.device_id, row)
    floors: dict[str, list[Forecast]] = defaultdict(list)
    for device_id, row in soonest.items():
        if device_id in devices:
            floors[_group(devices[device_id], rule)].append(row)
    for members in floors.values():
        # The floor is due when one dispenser runs out within the lead time (or already has
        # its order); the others due within gather_h go into the same visit.
        if not any((r.runs_out_at or now) <= lead or r.device_id in already for r in members):
            continue
        for row in members:
            if row.device_id in already:
                continue
            _raise(
                session=session,
                policy=policy,
                device=devices[row.device_id],
                rule=rule,
                now=now,
                detail=_detail(row),
                result=result,
            )
            already.add(row.device_id)


def _group(device: Device, rule: Rule) -> str:
    """The location prefix the rule groups by (the floor), or the device itself."""
    depth = rule.group_depth
    if depth is None or device.location is None:
        return device.id
    codes = device.location.path.split("/")
    return "/".join(codes[:depth]) if len(codes) >= depth else device.id


def _raise_batteries(
    *,
    session: Session,
    site_id: str,
    rules: RuleBook,
    policy: SlaPolicy,
    now: datetime,
    result: PassResult,
) -> None:
    rule = rules.rule(site_id, DeviceKind.leak, BATTERY_FORECAST)
    low = rules.rule(site_id, DeviceKind.leak, "battery_low")
    if rule is None:
        return
    threshold = low.params["below_pct"] if low is not None else 15.0
    days, gather = rule.params.get("days", 14), rule.params.get("gather_days", 30)
    rows = service.due(
        session=session,
        site_id=site_id,
        quantities=[Quantity.battery.value],
        before=now + timedelta(days=max(days, gather) + 365),
    )
    reach: dict[str, tuple[Forecast, float]] = {}
    for row in rows:
        if row.level is None or not row.rate_per_hour or row.outlook != Outlook.falling:
            continue
        hours = max(row.level - threshold, 0.0) / row.rate_per_hour
        if hours <= gather * 24:
            reach[row.device_id] = (row, hours)
    devices = service.devices_of(session=session, device_ids=reach)
    already = _open_alarms(session, sorted(reach), BATTERY_FORECAST)
    by_building: dict[str, list[str]] = defaultdict(list)
    for device_id in reach:
        device = devices.get(device_id)
        if device is not None and device.status == DeviceStatus.online:
            by_building[_group(device, rule)].append(device_id)
    for members in by_building.values():
        due_now = any(reach[d][1] <= days * 24 or d in already for d in members)
        if not due_now:
            continue
        for device_id in sorted(members, key=lambda d: reach[d][1]):
            if device_id in already:
                continue
            detail = _detail(reach[device_id][0]) | {"hours_to_low": round(reach[device_id][1])}
            _raise(
                session=session,
                policy=policy,
                device=devices[device_id],
                rule=rule,
                now=now,
                detail=detail,
                result=result,
            )
            already.add(device_id)
