"""Barrier gates (道闸): the arm, the vehicle loop, who pressed what."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from devices.base import EventPayload, KindSpec, Payload, Rule, SimDevice, flag
from hub.alarms.enums import AlarmSeverity
from hub.registry.enums import DeviceKind
from hub.workorders.enums import Department, Priority

ArmPosition = Literal["up", "down", "moving"]
TriggerSource = Literal["auto", "plate_match", "remote", "manual_button", "timer"]


class GateTelemetry(Payload):
    """A gate controller's reading."""

    arm: ArmPosition
    loop_occupied: bool | None = None
    fault: str | int | None = None


class ArmMoved(EventPayload):
    """The arm went up or down, and what made it move."""

    source: TriggerSource
    loop_occupied: bool | None = None


class Vehicle(EventPayload):
    """A vehicle passed in or out."""

    plate: str | None = None


class Obstruction(EventPayload):
    """Something blocked the arm."""


class GateFault(EventPayload):
    """The controller reports a fault code."""

    code: str | int


def _loop_occupied(state: Mapping[str, Any], _p: Mapping[str, float]) -> bool | None:
    return flag(state, "loop_occupied")


def _fault(state: Mapping[str, Any], _p: Mapping[str, float]) -> bool | None:
    if "fault" not in state:
        return None
    return state["fault"] not in (None, "", 0)


def _no_fault(state: Mapping[str, Any], p: Mapping[str, float]) -> bool | None:
    held = _fault(state, p)
    return None if held is None else not held


def _closed_on_vehicle(state: Mapping[str, Any], _p: Mapping[str, float]) -> bool | None:
    return flag(state, "loop_occupied") is True


def _arm_up(state: Mapping[str, Any], _p: Mapping[str, float]) -> bool | None:
    arm = state.get("arm")
    return None if arm is None else arm == "up"


def _always(_state: Mapping[str, Any], _p: Mapping[str, float]) -> bool | None:
    return True


def _loop_clear(state: Mapping[str, Any], _p: Mapping[str, float]) -> bool | None:
    occupied = flag(state, "loop_occupied")
    return None if occupied is None else not occupied


def simulate(sim: SimDevice) -> dict[str, Any]:
    """A reading: traffic comes and goes; a blocked lane keeps the loop occupied, arm down."""
    if sim.fault == "blocked":
        return {"arm": "down", "loop_occupied": True, "fault": None}
    if sim.fault == "jammed":
        return {"arm": "down", "loop_occupied": False, "fault": "E07"}
    occupied = sim.rng.random() < 0.2
    return {"arm": "up" if occupied else "down", "loop_occupied": occupied, "fault": None}


def simulate_events(sim: SimDevice) -> list[dict[str, Any]]:
    """Events: ordinary passages, or the booth button pressed with a car on the loop."""
    if sim.fault == "button_on_car":
        sim.fault = None
        return [{"type": "arm_down", "source": "manual_button", "loop_occupied": True}]
    if sim.fault is None and sim.rng.random() < 0.2:
        plate = f"粤B{sim.rng.randint(10000, 99999)}"
        return [
            {"type": "arm_up", "source": "plate_match", "loop_occupied": True},
            {"type": "vehicle_in", "plate": plate},
            {"type": "arm_down", "source": "auto", "loop_occupied": False},
        ]
    return []


SPEC = KindSpec(
    kind=DeviceKind.gate,
    telemetry=GateTelemetry,
    events={
        "arm_up": ArmMoved,
        "arm_down": ArmMoved,
        "vehicle_in": Vehicle,
        "vehicle_out": Vehicle,
        "obstruction": Obstruction,
        "fault": GateFault,
    },
    rules=(
        Rule(
            type="lane_blocked",
            title="车道堵塞 Lane blocked (loop occupied, arm not moving)",
            when=_loop_occupied,
            for_s=300,
            reset_on=("arm",),
            severity=AlarmSeverity.major,
            department=Department.security,
            priority=Priority.high,
        ),
        Rule(
            type="gate_fault",
            title="道闸故障 Barrier gate fault",
            when=_fault,
            clear=_no_fault,
            severity=AlarmSeverity.major,
            department=Department.engineering,
            priority=Priority.high,
        ),
        Rule(
            type="gate_fault_event",
            title="道闸报故障码 Barrier gate reported a fault",
            when=_always,
            clear=_no_fault,
            event="fault",
            severity=AlarmSeverity.major,
            department=Department.engineering,
            priority=Priority.high,
        ),
        Rule(
            type="gate_closed_on_vehicle",
            title="道闸落杆时车辆在线圈上 Arm lowered onto an occupied loop",
            when=_closed_on_vehicle,
            clear=_loop_clear,
            event="arm_down",
            severity=AlarmSeverity.critical,
            department=Department.security,
            priority=Priority.urgent,
        ),
        Rule(
            type="gate_stuck_open",
            title="道闸长时间未落杆 Barrier arm up for over 10 minutes",
            when=_arm_up,
            for_s=600,
            severity=AlarmSeverity.warning,
            department=Department.security,
            priority=Priority.normal,
        ),
        Rule(
            type="obstruction",
            title="道闸受阻 Barrier arm obstructed",
            when=_always,
            clear=_loop_clear,
            event="obstruction",
            severity=AlarmSeverity.major,
            department=Department.security,
            priority=Priority.high,
        ),
    ),
    simulate=simulate,
    simulate_events=simulate_events,
    faults=("blocked", "jammed", "button_on_car"),
    offline_priority=Priority.high,
)
