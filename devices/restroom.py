"""Restroom dispensers (卫生间): paper, soap and towels running low go to cleaning."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from devices.base import EventPayload, KindSpec, Payload, Rule, SimDevice, number
from hub.alarms.enums import AlarmSeverity
from hub.registry.enums import DeviceKind
from hub.workorders.enums import Department, Priority

SUPPLIES = ("paper", "soap", "towel")


class RestroomTelemetry(Payload):
    """Fill levels of a restroom's dispensers (at least one) and the visit counter."""

    paper_pct: float | None = Field(None, ge=0, le=100)
    soap_pct: float | None = Field(None, ge=0, le=100)
    towel_pct: float | None = Field(None, ge=0, le=100)
    visits: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _one_level(self) -> RestroomTelemetry:
        if self.paper_pct is None and self.soap_pct is None and self.towel_pct is None:
            raise ValueError("needs at least one of paper_pct, soap_pct, towel_pct")
        return self


class Refilled(EventPayload):
    """Cleaning staff refilled a dispenser."""

    item: Literal["paper", "soap", "towel"]


def _levels(state: Mapping[str, Any]) -> list[float]:
    return [v for item in SUPPLIES if (v := number(state, f"{item}_pct")) is not None]


def _any_at_most(state: Mapping[str, Any], p: Mapping[str, float]) -> bool | None:
    levels = _levels(state)
    return None if not levels else min(levels) <= p["below_pct"]


def _all_above(state: Mapping[str, Any], p: Mapping[str, float]) -> bool | None:
    levels = _levels(state)
    return None if not levels else min(levels) > p["clear_pct"]


def _supplies(kind: str, title: str, below_pct: float, priority: Priority) -> Rule:
    """A dispenser rule: any level at or below `below_pct`; refilled (or > 50 %) clears.

    Low and empty are one job for the cleaner: each joins the other's open order.
    """
    return Rule(
        type=kind,
        joins=tuple(sorted({"supplies_low", "supplies_empty", "supplies_forecast"} - {kind})),
        title=title,
        when=_any_at_most,
        clear=_all_above,
        clear_event="refilled",
        params={"below_pct": below_pct, "clear_pct": 50},
        severity=AlarmSeverity.major if priority == Priority.high else AlarmSeverity.warning,
        department=Department.cleaning,
        priority=priority,
        group_depth=2,
    )


def _from_forecast(_state: Mapping[str, Any], _p: Mapping[str, float]) -> bool | None:
    return None  # raised by the forecast pass (`hub.forecasts`), never by a reading


FORECAST = Rule(
    type="supplies_forecast",
    joins=("supplies_low", "supplies_empty"),
    title="卫生间耗材即将用完 Restroom supplies about to run out",
    when=_from_forecast,
    clear_event="refilled",
    # lead_min: how long before the forecast run-out the order opens, beyond the cleaning
    # SLA's resolve time (8 hours in all by default: a night without cleaners is covered);
    # gather_h: the floor's other dispensers due within this many hours join the same
    # order; min_confidence: the least confidence that opens one.
    params={"lead_min": 450, "gather_h": 16, "min_confidence": 0.5},
    severity=AlarmSeverity.warning,
    department=Department.cleaning,
    priority=Priority.normal,
    group_depth=2,
)
"""A dispenser forecast to run out within the cleaning lead time (the forecast pass raises it)."""


VISITS_BY_HOUR: tuple[float, ...] = (0.2,) * 6 + (1.0, 3.2, 3.0, 1.5, 1.5, 1.8, 2.4, 1.5)
VISITS_BY_HOUR += (1.3, 1.3, 1.5, 2.0, 3.2, 3.0, 2.4, 1.5, 0.8, 0.3)
"""Visits per reading by local hour: quiet nights, morning and evening peaks (mean 1.6)."""


def simulate(sim: SimDevice) -> dict[str, Any]:
    """A reading: visits follow the hour of day and each takes a little of every supply.

    The `paper` fault empties the paper box fast. An empty dispenser is refilled at once
    unless the device runs in a closed loop (`memory["closed_loop"]`): then only its
    cleaning order, resolved, refills it (`memory["refill"]`, see `simulate_events`).
    """
    levels = {item: float(sim.memory.get(item, sim.rng.uniform(15, 100))) for item in SUPPLIES}
    hour = datetime.now(UTC).astimezone().hour
    mean = VISITS_BY_HOUR[hour]
    new = sum(1 for _ in range(4) if sim.rng.random() < mean / 4)
    visits = int(sim.memory.get("visits", 0)) + new
    for item in SUPPLIES:
        drop = new * sim.rng.uniform(0.15, 0.35)
        if sim.fault == "paper" and item == "paper":
            drop = 25.0
        levels[item] = max(0.0, levels[item] - drop)
        if levels[item] <= 0 and sim.fault is None and not sim.memory.get("closed_loop"):
            levels[item] = 100.0  # the cleaner came by
    sim.memory.update(levels, visits=visits)
    return {f"{item}_pct": round(levels[item], 1) for item in SUPPLIES} | {"visits": visits}


def simulate_events(sim: SimDevice) -> list[dict[str, Any]]:
    """A cleaner's refill, when the device's cleaning order was resolved (the closed loop)."""
    if not sim.memory.pop("refill", False):
        return []
    items = [item for item in SUPPLIES if float(sim.memory.get(item, 100.0)) < 100.0]
    sim.memory.update(dict.fromkeys(SUPPLIES, 100.0))
    return [{"type": "refilled", "item": item} for item in items]


SPEC = KindSpec(
    kind=DeviceKind.restroom,
    telemetry=RestroomTelemetry,
    events={"refilled": Refilled},
    rules=(
        _supplies("supplies_low", "卫生间耗材不足 Restroom supplies low", 10, Priority.normal),
        _supplies("supplies_empty", "卫生间耗材用完 Restroom supplies run out", 0, Priority.high),
        FORECAST,
    ),
    simulate=simulate,
    simulate_events=simulate_events,
    faults=("paper",),
)
