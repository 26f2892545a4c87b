"""Corridor and stair lights (走廊灯): a lamp that is on but draws no power has failed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from devices.base import EventPayload, KindSpec, Payload, Rule, SimDevice, flag, number
from hub.alarms.enums import AlarmSeverity
from hub.registry.enums import DeviceKind
from hub.workorders.enums import Department, Priority


class LightTelemetry(Payload):
    """A light controller's reading."""

    on: bool
    power_w: float | None = Field(None, ge=0)
    lux: float | None = Field(None, ge=0)
    motion: bool | None = None


class LightFault(EventPayload):
    """The controller reports a fault code."""

    code: str | int


class Switched(EventPayload):
    """The light was switched on or off."""

    on: bool
    source: str | None = None


def _lamp_dark(state: Mapping[str, Any], p: Mapping[str, float]) -> bool | None:
    on = flag(state, "on")
    power = number(state, "power_w")
    if on is None:
        return None
    if not on:
        return False
    return None if power is None else power < p["min_power_w"]


def _wasting(state: Mapping[str, Any], p: Mapping[str, float]) -> bool | None:
    on, lux = state.get("on"), number(state, "lux")
    if on is None or lux is None:
        return None
    return bool(on) and lux > p["max_lux"]


def _always(_state: Mapping[str, Any], _p: Mapping[str, float]) -> bool | None:
    return True


def _lamp_lit(state: Mapping[str, Any], p: Mapping[str, float]) -> bool | None:
    power = number(state, "power_w")
    return None if power is None else power >= p["min_power_w"]


def simulate(sim: SimDevice) -> dict[str, Any]:
    """A reading: corridor lights stay on; a failed lamp draws nothing."""
    failed = sim.fault == "lamp"
    return {
        "on": True,
        "power_w": 0.0 if failed else round(sim.rng.uniform(8.5, 9.5), 2),
        "lux": 0.0 if failed else round(sim.rng.uniform(90, 140)),
        "motion": sim.rng.random() < 0.1,
    }


SPEC = KindSpec(
    kind=DeviceKind.light,
    telemetry=LightTelemetry,
    events={"fault": LightFault, "switched": Switched},
    rules=(
        Rule(
            type="lamp_failure",
            title="走廊灯不亮 Corridor light out",
            when=_lamp_dark,
            params={"min_power_w": 1.0},
            for_s=60,
            severity=AlarmSeverity.major,
            department=Department.engineering,
            priority=Priority.high,
            group_depth=1,
        ),
        Rule(
            type="light_fault",
            title="灯具故障 Light controller fault",
            when=_always,
            clear=_lamp_lit,
            params={"min_power_w": 1.0},
            event="fault",
            severity=AlarmSeverity.major,
            department=Department.engineering,
            priority=Priority.high,
            group_depth=1,
        ),
        Rule(
            type="light_waste",
            title="白天亮灯 Light on in daylight",
            when=_wasting,
            params={"max_lux": 300.0},
            for_s=1800,
            severity=AlarmSeverity.info,
            department=Department.engineering,
            priority=Priority.low,
            opens_order=False,
        ),
    ),
    simulate=simulate,
    faults=("lamp",),
)
