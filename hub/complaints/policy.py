"""The complaint desk's rules in numbers: per-step minutes, repeat window, escalation, blocking."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, timedelta, tzinfo

from hub.complaints.enums import Status, Step
from hub.errors import InvalidInput
from hub.settings import Settings

# Minutes allowed for each step, counted from entering the state before it. Registration
# (1 minute from receipt) and the callback (2 hours from resolution) are the trade's rules
# (DOMAIN.md); the rest are defaults a site can override.
DEFAULT_STEP_MINUTES: dict[Step, int] = {
    Step.registered: 1,
    Step.verified: 30,
    Step.investigating: 60,
    Step.assigned: 240,
    Step.remedy_proposed: 480,
    Step.replied: 240,
    Step.implementing: 240,
    Step.resolved: 1440,
    Step.callback: 120,
    Step.archived: 1440,
}

NEXT_STEP: dict[Status, Step] = {
    Status.received: Step.verified,
    Status.verified: Step.investigating,
    Status.investigating: Step.assigned,
    Status.assigned: Step.remedy_proposed,
    Status.remedy_proposed: Step.replied,
    Status.replied: Step.implementing,
    Status.implementing: Step.resolved,
    Status.resolved: Step.callback,
    Status.callback: Step.archived,
}
"""Entering a state starts the deadline of the step that leads out of it."""


@dataclass(frozen=True)
class ComplaintPolicy:
    """Per-step minutes and the desk's thresholds, from settings."""

    step_minutes: Mapping[Step, int] = field(default_factory=lambda: dict(DEFAULT_STEP_MINUTES))
    repeat_window: timedelta = timedelta(days=30)
    escalation_loss_yuan: int = 5000
    block_forbidden_phrases: bool = False
    zone: tzinfo = UTC
    """The local time zone of the times the cases' notes show."""

    @classmethod
    def build(
        cls,
        *,
        step_overrides: Mapping[str, int] | None = None,
        repeat_window_days: int = 30,
        escalation_loss_yuan: int = 5000,
        block_forbidden_phrases: bool = False,
        zone: tzinfo = UTC,
    ) -> ComplaintPolicy:
        """A policy with validated step overrides."""
        minutes = dict(DEFAULT_STEP_MINUTES)
        for step, value in (step_overrides or {}).items():
            if step not in Step.__members__:
                raise InvalidInput(
                    f"complaint step override names unknown step {step!r}",
                    details={"known": sorted(Step.__members__)},
                )
            if value <= 0:
                raise InvalidInput("complaint step minutes must be positive")
            minutes[Step(step)] = value
        return cls(
            step_minutes=minutes,
            repeat_window=timedelta(days=repeat_window_days),
            escalation_loss_yuan=escalation_loss_yuan,
            block_forbidden_phrases=block_forbidden_phrases,
            zone=zone,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> ComplaintPolicy:
        """The policy the settings describe."""
        return cls.build(
            step_overrides=settings.complaint_step_minutes,
            repeat_window_days=settings.complaint_repeat_window_days,
            escalation_loss_yuan=settings.complaint_escalation_loss_yuan,
            block_forbidden_phrases=settings.complaint_block_forbidden_phrases,
            zone=settings.zone,
        )

    def allowed(self, step: Step) -> timedelta:
        """The time allowed for `step`."""
        return timedelta(minutes=self.step_minutes[step])
