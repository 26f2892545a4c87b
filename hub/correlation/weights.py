"""The one weight table of correlation: every number a score is made of, and the thresholds.

A candidate's score is the sum of four parts, capped at 1: where (the place relation), what
(the device kind), which problem (the words), and when (still active, or ended how long ago).
The rationale of each number is in docs/correlation.md; change them there and here together.
"""

from __future__ import annotations

from datetime import timedelta
from types import MappingProxyType

from hub.correlation.enums import Relation
from hub.registry.enums import DeviceKind

PLACE = MappingProxyType(
    {
        Relation.same_place: 0.40,
        Relation.same_entrance: 0.40,
        Relation.same_floor: 0.36,
        Relation.next_door: 0.05,
        Relation.floor_above: 0.30,
        Relation.floors_above: 0.22,
        Relation.in_building: 0.22,
        Relation.site: 0.05,
    }
)
"""Where: the complaint's place against the candidate's (a different building scores nothing)."""

KIND = 0.30
"""What: the complaint names the candidate's device kind (or words that imply it)."""
CATEGORY = 0.15
"""What, between two complaints without device kinds: the same category (not `other`)."""
WORDS = 0.15
"""Which problem: the complaint's words name the candidate's alarm type (不亮 → lamp_failure)."""
OTHER_PROBLEM = -0.20
"""Which problem: the words name another problem of the same kind (lights left on in
daylight is not a lamp failure; a leak is not a sensor's low battery)."""
ACTIVE = 0.15
"""When: the alarm is uncleared, the order still being worked, the notice up."""
RECENT = 0.10
"""When: ended within the kind's window, falling linearly to 0 at the window's end."""

LINK_THRESHOLD = 0.35
"""A candidate at or above this is a link."""
KNOWN_ISSUE_THRESHOLD = 0.70
"""A work order still being worked at or above this is the complaint's known issue."""

FLOORS_ABOVE = 3
"""How many floors above a leak complaint are searched (water runs down)."""

ENDED_WINDOW: MappingProxyType[str, timedelta] = MappingProxyType(
    {
        DeviceKind.leak: timedelta(hours=24),
        DeviceKind.light: timedelta(hours=12),
        DeviceKind.restroom: timedelta(hours=1),
        DeviceKind.gate: timedelta(hours=24),
    }
)
"""How long after an alarm cleared (or an order was resolved) a complaint still links to it."""
DEFAULT_WINDOW = timedelta(hours=12)
"""The window of a candidate without a device kind (a manual order)."""
COMPLAINT_WINDOW = timedelta(hours=72)
"""Earlier complaints about the same thing are looked for this far back."""
SIGNAL_WINDOW = timedelta(hours=1)
"""A device's latest reading counts as evidence if it is this recent."""
ALARM_AFTER_WINDOW = timedelta(hours=24)
"""An alarm raised this long after a complaint still links back to it."""

MAX_LINKS = 20
"""Links kept per complaint, best first."""
MAX_SIGNAL_DEVICES = 8
"""Devices whose latest reading is read, per complaint."""


def window(kinds: frozenset[str]) -> timedelta:
    """The longest ended-window of `kinds` (the default for none)."""
    return max((ENDED_WINDOW.get(k, DEFAULT_WINDOW) for k in kinds), default=DEFAULT_WINDOW)


def longest_window() -> timedelta:
    """How far back any candidate can have ended and still count."""
    return max([*ENDED_WINDOW.values(), DEFAULT_WINDOW])


LOOKUP_THRESHOLD = 0.50
"""The desk's look-up shows an order going on at a place only from this score on."""
LOOKUP_MAX = 3
"""The desk's look-up shows at most this many orders, best first."""
