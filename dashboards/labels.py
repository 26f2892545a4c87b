"""Every code a page shows, by kind: the page calls `label(kind, code)` and the catalogs
(`locale/*/LC_MESSAGES/labels.po`, message ids `kind:code`) hold its words.

The codes come from the hub's own vocabularies (enums, the device kinds' rules, events and
fields), so a code added there without words fails `tests/dashboards/test_catalogs.py`.
"""

from __future__ import annotations

from enum import StrEnum

from devices import SPECS
from hub.alarms.enums import AlarmSeverity
from hub.alarms.rules import OFFLINE
from hub.auth.enums import Role
from hub.complaints import enums as desk
from hub.inspections.enums import Item, State, Verdict
from hub.registry.enums import DeviceKind, DeviceStatus
from hub.workorders import enums as orders


def _values(*enums: type[StrEnum]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(v.value) for e in enums for v in e))


CODES: dict[str, tuple[str, ...]] = {
    "role": _values(Role),
    "status": (*_values(DeviceStatus), "alarm", *_values(orders.Status)),
    "complaint": _values(desk.Status),
    "alarm": (*(r.type for s in SPECS.values() for r in s.rules), OFFLINE),
    "severity": _values(AlarmSeverity),
    "priority": _values(orders.Priority),
    "department": _values(orders.Department),
    "step": _values(orders.Step, desk.Step),
    "kind": _values(DeviceKind),
    "category": _values(desk.Category),
    "responsibility": _values(desk.Responsibility),
    "channel": _values(desk.Channel),
    "item": _values(Item),
    "state": _values(State),
    "source": _values(orders.Source),
    "event": tuple(dict.fromkeys(e for s in SPECS.values() for e in s.events)),
    "field": tuple(
        dict.fromkeys(
            f
            for s in SPECS.values()
            for model in (s.telemetry, *s.events.values())
            for f in model.model_fields
            if f not in ("type", "ts", "id")
        )
    ),
}
"""Kind → the codes of that kind a page may show."""

CODES["action"] = (
    "opened", "moved", "alarm_joined", "alarm_recurred", "callback_due", "complaint_attached",
    "condition_cleared", "escalated", "first_response", "known_issue", "linked", "missed",
    "owner_accepted", "owner_rejected", "priority_raised", "received", "reclassified",
    "reopened", "repeat", "reply_blocked", "sla_breach", "walked", "walked_late",
    "work_order_existing", "work_order_opened", "reply", "remark",
)  # fmt: skip
"""The history rows' actions (cases, complaints, patrol rounds) a timeline shows."""
CODES["verdict"] = _values(Verdict)
CODES["dimension"] = _values(desk.HotDimension)
CODES["party"] = _values(desk.Party)
CODES["sla"] = ("breached", "paused", "due_soon", "on_time", "none")
"""A deadline's state in the unfinished report (`hub.reports.backlog.sla_state`)."""
