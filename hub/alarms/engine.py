"""The rule engine: evaluates a device's rules on each reading and, from a job, on time alone.

Duration state (since when a condition holds, whether it fired) lives in `rule_states`, so it
survives restarts and is shared by every bridge worker and the scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from devices.base import Rule
from hub.alarms import flows
from hub.alarms.models import Alarm, RuleState
from hub.alarms.rules import OFFLINE, RuleBook
from hub.alarms.service import clear_condition, raise_alarm
from hub.db import any_of
from hub.registry.models import Device, DeviceRef
from hub.settings import Settings
from hub.workorders.policy import SlaPolicy

logger = logging.getLogger(__name__)


@dataclass
class RuleContext:
    """What evaluation needs besides the session: the rule book and the SLA policy."""

    rules: RuleBook = field(default_factory=RuleBook)
    policy: SlaPolicy = field(default_factory=SlaPolicy)


def rule_context(settings: Settings) -> RuleContext:
    """The rule book of `settings.rules_file` and the configured SLA policy."""
    return RuleContext(
        rules=RuleBook.from_file(settings.rules_file), policy=SlaPolicy.from_settings(settings)
    )


@dataclass
class DeviceRules:
    """One device's rule states and uncleared alarm types, loaded once per batch."""

    ref: DeviceRef
    states: dict[str, RuleState]
    open_types: set[str]
    session: Session
    loaded: Device | None = None

    @property
    def device(self) -> Device:
        """The registry row, loaded on first use: by what changes it or raises an alarm."""
        if self.loaded is None:
            self.loaded = self.session.get_one(Device, self.ref.id)
        return self.loaded


def load(
    *, session: Session, devices: Iterable[Device | DeviceRef], now: datetime
) -> dict[str, DeviceRules]:
    """Rule states and open alarm types of `devices`.

    Not locked here: every writer of a device's rule states first holds that device's
    `device_states` row (the ingest batch locks it; `hub.signals.jobs` uses `lock_device`), which
    serialises them without writing a lock into every rule-state row each batch.
    """
    result: dict[str, DeviceRules] = {}
    for d in devices:
        if d.id in result:
            continue
        if isinstance(d, Device):
            dr = DeviceRules(DeviceRef.of(d), {}, set(), session=session, loaded=d)
        else:
            dr = DeviceRules(d, {}, set(), session=session)
        result[d.id] = dr
    if not result:
        return result
    ids = {"ids": sorted(result)}
    states, open_alarms = _load_statements(session.get_bind().dialect.name)
    for rule_state in session.scalars(states, ids):
        result[rule_state.device_id].states[rule_state.rule] = rule_state
    for device_id, alarm_type in session.execute(open_alarms, ids):
        result[device_id].open_types.add(alarm_type)
    return result


@cache
def _load_statements(dialect: str) -> tuple[Select[RuleState], Select[str, str]]:
    """`load`'s two statements, built once (they run for every ingest batch)."""
    states = (
        select(RuleState)
        .where(any_of(RuleState.device_id, "ids", dialect))
        .order_by(RuleState.device_id, RuleState.rule)
        .execution_options(populate_existing=True)
    )
    open_alarms = select(Alarm.device_id, Alarm.type).where(
        any_of(Alarm.device_id, "ids", dialect), Alarm.cleared_at.is_(None)
    )
    return states, open_alarms


def _state_for(dr: DeviceRules, rule: Rule, *, session: Session, now: datetime) -> RuleState:
    rule_state = dr.states.get(rule.type)
    if rule_state is None:
        rule_state = RuleState(
            device_id=dr.ref.id, rule=rule.type, since=None, fired=False, updated_at=now
        )
        session.add(rule_state)
        dr.states[rule.type] = rule_state
    return rule_state


def _reset_key(rule: Rule, state: Mapping[str, Any]) -> str | None:
    if not rule.reset_on:
        return None
    return orjson.dumps({name: state.get(name) for name in rule.reset_on}).decode()[:200]


def fire(
    *,
    session: Session,
    ctx: RuleContext,
    dr: DeviceRules,
    rule: Rule,
    at: datetime,
    now: datetime,
    detail: dict[str, Any],
) -> Alarm:
    """Raise the rule's alarm and hand it to the work-order flow."""
    raised = raise_alarm(session=session, device=dr.device, rule=rule, at=at, detail=detail)
    flows.on_raised(
        session=session, policy=ctx.policy, raised=raised, rule=rule, device=dr.device, now=now
    )
    dr.open_types.add(rule.type)
    return raised.alarm


def settle(
    *,
    session: Session,
    dr: DeviceRules,
    rule: Rule,
    at: datetime,
    now: datetime,
    at_once: bool = False,
) -> Alarm | None:
    """The rule's condition is gone: clear its alarm (after its quiet period, if any)."""
    if rule.type not in dr.open_types:
        return None
    alarm = clear_condition(session=session, device_id=dr.ref.id, rule=rule, at=at, at_once=at_once)
    if alarm is not None:
        dr.open_types.discard(rule.type)
        flows.on_cleared(session=session, alarm=alarm, now=now)
    return alarm


def _touch(*, session: Session, dr: DeviceRules, rule: Rule, at: datetime) -> None:
    """A condition still holds: the open alarm was seen again."""
    if rule.type not in dr.open_types:
        return
    alarm = session.scalar(
        select(Alarm).where(
            Alarm.device_id == dr.ref.id, Alarm.type == rule.type, Alarm.cleared_at.is_(None)
        )
    )
    if alarm is not None:
        alarm.last_seen_at = max(alarm.last_seen_at, at)
        alarm.clear_pending_since = None


def on_state(
    *,
    session: Session,
    ctx: RuleContext,
    dr: DeviceRules,
    state: Mapping[str, Any],
    at: datetime,
    now: datetime,
) -> None:
    """Evaluate every state rule (and the clear side of event rules) on the merged state."""
    rules = ctx.rules.rules(dr.ref.site_id, dr.ref.kind)
    for rule in rules.values():
        if rule.type == OFFLINE:
            continue
        if rule.event is not None:
            if rule.clears(state):
                settle(session=session, dr=dr, rule=rule, at=at, now=now)
            continue
        held = rule.holds(state)
        if held is None:
            continue
        if held:
            rule_state = _state_for(dr, rule, session=session, now=now)
            key = _reset_key(rule, state)
            if rule_state.since is None or (rule.reset_on and rule_state.reset_key != key):
                rule_state.since = at
                rule_state.fired = False
                rule_state.reset_key = key
                rule_state.updated_at = now
            if rule_state.fired and rule.type in dr.open_types:
                _touch(session=session, dr=dr, rule=rule, at=at)
            elif rule_state.fired or at - rule_state.since >= timedelta(seconds=rule.for_s):
                rule_state.fired = True
                rule_state.updated_at = now
                fire(
                    session=session,
                    ctx=ctx,
                    dr=dr,
                    rule=rule,
                    at=at,
                    now=now,
                    detail={"since": rule_state.since.isoformat(), "state": dict(state)},
                )
        else:
            # No row means idle: rows are made only once a condition holds.
            idle = dr.states.get(rule.type)
            if idle is not None and (idle.since is not None or idle.fired):
                idle.since = None
                idle.fired = False
                idle.reset_key = None
                idle.updated_at = now
            if rule.clears(state):
                settle(session=session, dr=dr, rule=rule, at=at, now=now)


def on_event(
    *,
    session: Session,
    ctx: RuleContext,
    dr: DeviceRules,
    state: Mapping[str, Any],
    event_type: str,
    event: Mapping[str, Any],
    at: datetime,
    now: datetime,
) -> None:
    """Evaluate the event rules of `event_type` on the state with the event's fields on top."""
    merged = {**state, **event}
    for rule in ctx.rules.rules(dr.ref.site_id, dr.ref.kind).values():
        if rule.clear_event == event_type:
            settle(session=session, dr=dr, rule=rule, at=at, now=now, at_once=True)
            idle = dr.states.get(rule.type)
            if idle is not None and (idle.since is not None or idle.fired):
                idle.since, idle.fired, idle.reset_key, idle.updated_at = None, False, None, now
            continue
        if rule.event == event_type and rule.holds(merged):
            fire(
                session=session,
                ctx=ctx,
                dr=dr,
                rule=rule,
                at=at,
                now=now,
                detail={"event": dict(event), "state": dict(state)},
            )
