"""The SLA policy table: minutes allowed per step, by department and priority."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, timedelta, tzinfo

from hub.errors import InvalidInput
from hub.settings import Settings
from hub.workorders.enums import Department, Priority, Step

WILDCARD = "*"


@dataclass(frozen=True)
class StepMinutes:
    """Minutes allowed for each step.

    `dispatch`, `on_site` and `resolve` count from the order's registration (or its
    reopening); `callback` counts from the resolution, as the desk's callback rule says.
    """

    dispatch: int
    on_site: int
    resolve: int
    callback: int

    def allowed(self, step: Step) -> timedelta:
        """The time allowed for `step`."""
        return timedelta(minutes=getattr(self, step.value))


# Defaults from the trade's rules (DOMAIN.md): register and dispatch within a minute, an
# urgent repair on site within 5 minutes, the callback within 2 hours of completion.
_BY_PRIORITY: dict[str, StepMinutes] = {
    Priority.urgent: StepMinutes(dispatch=1, on_site=5, resolve=240, callback=120),
    Priority.high: StepMinutes(dispatch=5, on_site=30, resolve=480, callback=120),
    Priority.normal: StepMinutes(dispatch=15, on_site=120, resolve=1440, callback=120),
    Priority.low: StepMinutes(dispatch=60, on_site=1440, resolve=4320, callback=120),
}

_DEPARTMENT_OVERRIDES: dict[tuple[str, str], StepMinutes] = {
    # Restroom supplies: an empty dispenser within 15 minutes, a low one within 30.
    (Department.cleaning, Priority.high): StepMinutes(
        dispatch=2, on_site=10, resolve=15, callback=120
    ),
    (Department.cleaning, Priority.normal): StepMinutes(
        dispatch=5, on_site=20, resolve=30, callback=120
    ),
    # Security: a gate on a car or a blocked fire lane needs a guard at once.
    (Department.security, Priority.urgent): StepMinutes(
        dispatch=1, on_site=3, resolve=30, callback=120
    ),
    (Department.security, Priority.high): StepMinutes(
        dispatch=2, on_site=5, resolve=30, callback=120
    ),
}


class SlaPolicy:
    """Looks up the step minutes for a department and priority, with overrides.

    `zone` is the local time zone of the times the orders' notes show.
    """

    def __init__(
        self,
        overrides: Mapping[str, Mapping[str, Mapping[str, int]]] | None = None,
        *,
        zone: tzinfo = UTC,
    ):
        self.zone = zone
        self._table: dict[tuple[str, str], StepMinutes] = {
            (WILDCARD, p): m for p, m in _BY_PRIORITY.items()
        }
        self._table.update(_DEPARTMENT_OVERRIDES)
        for department, by_priority in (overrides or {}).items():
            if department != WILDCARD and department not in Department.__members__:
                raise InvalidInput(f"SLA override for unknown department {department!r}")
            for priority, steps in by_priority.items():
                if priority not in Priority.__members__:
                    raise InvalidInput(f"SLA override for unknown priority {priority!r}")
                base = self.minutes(department, priority)
                unknown = set(steps) - set(Step.__members__)
                if unknown:
                    raise InvalidInput(f"SLA override names unknown steps {sorted(unknown)}")
                if any(v <= 0 for v in steps.values()):
                    raise InvalidInput("SLA minutes must be positive")
                self._table[(department, priority)] = replace(base, **steps)

    @classmethod
    def from_settings(cls, settings: Settings) -> SlaPolicy:
        """The policy the settings describe (`FH_SLA`, `FH_TIMEZONE`)."""
        return cls(settings.sla, zone=settings.zone)

    def minutes(self, department: str, priority: str) -> StepMinutes:
        """Minutes for the pair, falling back to the priority's default."""
        return self._table.get((department, priority)) or self._table[(WILDCARD, priority)]
