"""How long raw telemetry is kept, per device kind, and what counts as a state change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from devices import SPECS

NUMBER_TYPES = (int, float)
MAX_DAYS = 36_500
"""A hundred years: beyond that a kind is better left unnamed (kept for good)."""


def state_fields(kind: str) -> tuple[str, ...]:
    """The telemetry fields of `kind` that say what state the device is in.

    Every schema field that is not a plain number: booleans (`leak`, `on`, `loop_occupied`),
    enumerations (`arm`) and codes (`fault`). A reading where one of them differs from the
    reading before is a state change and is always kept; numbers (levels, power, pressure)
    vary with every reading and are what retention thins out.
    """
    model = SPECS[kind].telemetry
    names = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        args = getattr(annotation, "__args__", None)
        options = [a for a in (args or (annotation,)) if a is not type(None)]
        if not all(
            isinstance(o, type) and issubclass(o, NUMBER_TYPES) and o is not bool for o in options
        ):
            names.append(name)
    return tuple(names)


def state_of(fields: tuple[str, ...], payload: Mapping[str, Any]) -> tuple[Any, ...]:
    """The state a reading reports (None for a field it does not carry)."""
    return tuple(payload.get(f) for f in fields)


@dataclass(frozen=True)
class RetentionPolicy:
    """Days of raw telemetry kept per kind (a kind not named is kept for good)."""

    days: Mapping[str, int] = field(default_factory=dict)
    batch: int = 5000

    @classmethod
    def from_settings(cls, days: Mapping[str, int], batch: int) -> RetentionPolicy:
        """The policy of `FH_RETENTION_DAYS`; ValueError for unknown kinds or days out of range."""
        unknown = sorted(set(days) - set(SPECS))
        if unknown:
            raise ValueError(
                f"FH_RETENTION_DAYS names unknown device kinds: {', '.join(unknown)}"
                f" (known: {', '.join(sorted(SPECS))})"
            )
        wrong = sorted(k for k, d in days.items() if not 1 <= d <= MAX_DAYS)
        if wrong:
            raise ValueError(
                f"FH_RETENTION_DAYS must be between 1 and {MAX_DAYS} ({', '.join(wrong)})"
            )
        return cls(dict(days), batch)

    def cutoff(self, kind: str, now: datetime) -> datetime | None:
        """Telemetry of `kind` older than this may be pruned; None: kept for good."""
        days = self.days.get(kind)
        return None if days is None else now - timedelta(days=days)
