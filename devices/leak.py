"""Pipe-leak sensors (漏水): a leak alarm is urgent engineering work."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from devices.base import EventPayload, KindSpec, Payload, Rule, SimDevice, flag, number
from hub.alarms.enums import AlarmSeverity
from hub.registry.enums import DeviceKind
from hub.workorders.enums import Department, Priority


class LeakTelemetry(Payload):
    """A leak sensor's reading."""

    leak: bool
    battery: float | None = Field(None, ge=0, le=100)
    flow_lpm: float | None = Field(None, ge=0)
    pressure_kpa: float | None = Field(None, ge=0)
    tamper: bool | None = None


class AlarmTest(EventPayload):
    """The sensor's test button was pressed."""


def _leaking(state: Mapping[str, Any], _p: Mapping[str, float]) -> bool | None:
    return flag(state, "leak")


def _battery_low(state: Mapping[str, Any], p: Mapping[str, float]) -> bool | None:
    battery = number(state, "battery")
    return None if battery is None else battery < p["below_pct"]


def _battery_ok(state: Mapping[str, Any], p: Mapping[str, float]) -> bool | None:
    battery = number(state, "battery")
    return None if battery is None else battery >= p["clear_pct"]


def _from_forecast(_state: Mapping[str, Any], _p: Mapping[str, float]) -> bool | None:
    return None  # raised by the forecast pass (`hub.forecasts`), never by a reading


def _tampered(state: Mapping[str, Any], _p: Mapping[str, float]) -> bool | None:
    return flag(state, "tamper")


def simulate(sim: SimDevice) -> dict[str, Any]:
    """A reading: dry with a slowly draining battery, or a leak while the fault lasts."""
    battery = float(sim.memory.get("battery", sim.rng.uniform(60, 100)))
    battery = max(0.0, battery - sim.rng.uniform(0, 0.01))
    sim.memory["battery"] = battery
    leaking = sim.fault == "leak"
    return {
        "leak": leaking,
        "battery": round(battery if sim.fault != "battery" else 8.0, 1),
        "flow_lpm": round(sim.rng.uniform(18, 30) if leaking else 0.0, 1),
        "pressure_kpa": round(sim.rng.uniform(150, 220) if leaking else sim.rng.uniform(280, 320)),
        "tamper": False,
    }


SPEC = KindSpec(
    kind=DeviceKind.leak,
    telemetry=LeakTelemetry,
    events={"alarm_test": AlarmTest},
    rules=(
        Rule(
            type="leak_detected",
            title="漏水 Water leak",
            when=_leaking,
            clear_for_s=120,  # dry for two minutes before the alarm clears
            severity=AlarmSeverity.critical,
            department=Department.engineering,
            priority=Priority.urgent,
        ),
        Rule(
            type="battery_low",
            title="漏水传感器电量低 Leak sensor battery low",
            when=_battery_low,
            clear=_battery_ok,
            params={"below_pct": 15, "clear_pct": 25},
            joins=("battery_forecast",),
            severity=AlarmSeverity.warning,
            department=Department.engineering,
            priority=Priority.low,
            group_depth=0,
        ),
        Rule(
            type="battery_forecast",
            title="漏水传感器电池将耗尽 Leak sensor battery running down",
            when=_from_forecast,
            joins=("battery_low",),
            # Raised and cleared (a new battery) by the forecast pass: `days` ahead of reaching
            # battery_low's threshold it opens; sensors of the building due within
            # `gather_days` join the same replacement order.
            params={"days": 14, "gather_days": 30},
            severity=AlarmSeverity.info,
            department=Department.engineering,
            priority=Priority.low,
            group_depth=1,
        ),
        Rule(
            type="tamper",
            title="漏水传感器被拆动 Leak sensor tampered with",
            when=_tampered,
            severity=AlarmSeverity.major,
            department=Department.security,
            priority=Priority.high,
        ),
    ),
    simulate=simulate,
    faults=("leak", "battery"),
    offline_priority=Priority.normal,
)
