"""Restroom dispensers (卫生间): paper, soap and towels running low go to cleaning."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from devices.base import EventPayload, KindSpec, Payload, Rule, Severity, SimDevice, number
from hub.registry.models import DeviceKind
from hub.workorders.models import Department, Priority

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


def _low(item: str) -> tuple[Any, Any]:
    field = f"{item}_pct"

    def low(state: Mapping[str, Any], p: Mapping[str, float]) -> bool | None:
        level = number(state, field)
        return None if level is None else level <= p["below_pct"]

    def refilled(state: Mapping[str, Any], p: Mapping[str, float]) -> bool | None:
        level = number(state, field)
        return None if level is None else level >= p["clear_pct"]

    return low, refilled


def _rule(item: str, title: str) -> Rule:
    low, refilled = _low(item)
    return Rule(
        type=f"{item}_low",
        title=title,
        when=low,
        clear=refilled,
        params={"below_pct": 10, "clear_pct": 30},
        severity=Severity.warning,
        department=Department.cleaning,
        priority=Priority.normal,
        group_depth=2,
    )


def simulate(sim: SimDevice) -> dict[str, Any]:
    """A reading: levels fall with visits; the `paper` fault empties the paper box fast."""
    levels = {item: float(sim.memory.get(item, sim.rng.uniform(60, 100))) for item in SUPPLIES}
    visits = int(sim.memory.get("visits", 0)) + sim.rng.randint(0, 3)
    for item in SUPPLIES:
        drop = sim.rng.uniform(0, 0.3)
        if sim.fault == "paper" and item == "paper":
            drop = 25.0
        levels[item] = max(0.0, levels[item] - drop)
        if levels[item] <= 0 and sim.fault is None:
            levels[item] = 100.0  # the cleaner came by
    sim.memory.update(levels, visits=visits)
    return {f"{item}_pct": round(levels[item], 1) for item in SUPPLIES} | {"visits": visits}


SPEC = KindSpec(
    kind=DeviceKind.restroom,
    telemetry=RestroomTelemetry,
    events={"refilled": Refilled},
    rules=(
        _rule("paper", "卫生间缺纸 Restroom out of paper"),
        _rule("soap", "洗手液不足 Soap low"),
        _rule("towel", "擦手纸不足 Towels low"),
    ),
    simulate=simulate,
    faults=("paper",),
)
