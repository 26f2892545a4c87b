"""Who may do what: the role × action matrix, in one place.

Site scope comes first and everywhere: a user only ever sees and acts on their own sites
(another site's object answers 404, so its existence does not leak). Within their sites:

| action | front_desk | engineer | cleaner | security | manager | admin |
|---|---|---|---|---|---|---|
| open a work order | any department | engineering | cleaning | security | any | any |
| move a work order | any | own department's, or assigned | same | same | any | any |
| close a work order (callback, closed, cancelled) | yes | — | — | — | yes | yes |
| dispatch (assign, reassign) | — | their head | their head | their head | any | any |
| file a complaint | yes | yes | yes | yes | yes | yes |
| run the complaint workflow, reclassify, open its order | yes | — | — | — | yes | yes |
| reply to the owner | yes | the complaint's receiver | same | same | yes | yes |
| escalate a complaint to management | yes | yes | yes | yes | yes | yes |
| acknowledge an alarm | yes | yes | yes | yes | yes | yes |
| clear an alarm by hand | — | yes | — | — | yes | yes |
| read dead letters | — | yes | — | — | yes | yes |
| record a patrol entry | yes | yes | yes | yes | yes | yes |
| plan patrol routes, read discrepancies | — | — | — | — | yes | yes |
| read a dispute's evidence timeline | yes | — | — | — | yes | yes |
| check the chains, export an evidence pack | — | — | — | — | yes | yes |
| register quarantined adapter devices | — | — | — | — | — | yes |
| read reports and their stored runs | yes | — | — | — | yes | yes |
| write the unified answer to a hot item | — | — | — | — | yes | yes |
| keep the parts store (parts, stock movements) | — | yes | — | — | yes | yes |

Why: the desk verifies and calls back, so the people who did the work do not close their
own orders (DOMAIN.md); field staff work their own department's orders, or one handed to
them by name; "whoever accepts it follows it up and replies" (谁受理、谁跟进、谁回复), so a
guard or cleaner who took a complaint on site may record what they told the owner;
anyone who sees a case turn serious (a journalist at the gate) may alert management, which
hides nothing and changes no work; clearing an alarm by hand says the fault is gone, which
is an engineer's call; dead letters are the devices' raw traffic, for engineers; whoever
walks a round records it, and managers, who answer for the rounds, plan them and see where
logs and sensors disagree; evidence settles disputes, which is the managers' work, with the
desk reading the timeline to answer the owner; an adapter device heard before it was
registered belongs to no site yet, and giving it one is the installation's administration.
desk reading the timeline to answer the owner; the desk compiles the weekly statistics for
the management meeting and managers read every report, and the unified answer to a hot item
is decided by management (the desk then gives it to every owner who raises the item);
who does a department's work is decided by its head (a field user with the
`department_head` flag) or a manager, not by the technicians among themselves.
Engineers take parts from the store and book deliveries; managers order them.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from hub.auth.enums import Role
from hub.auth.principal import Principal
from hub.errors import Forbidden
from hub.workorders.enums import Department


class Action(StrEnum):
    """Something a user asks the hub to do."""

    open_order = "open a work order"
    move_order = "move a work order"
    close_order = "close, call back or cancel a work order"
    dispatch = "dispatch work orders to technicians"
    file_complaint = "file a complaint"
    run_workflow = "run the complaint workflow"
    reply = "reply to the owner"
    escalate = "escalate a complaint"
    ack_alarm = "acknowledge an alarm"
    clear_alarm = "clear an alarm by hand"
    read_dead_letters = "read dead letters"
    record_inspection = "record a patrol entry"
    plan_inspections = "plan patrol routes or read discrepancies"
    read_evidence = "read an evidence timeline"
    prove = "check the chains or export an evidence pack"
    register_devices = "register quarantined adapter devices"
    read_reports = "read reports and their stored runs"
    write_answers = "write the unified answer to a hot item"
    keep_parts = "keep the parts store"


class Reach(StrEnum):
    """How far a role's right to an action goes."""

    all = "all"
    department = "department"
    """Orders of the role's own department, or assigned to the user by name."""
    receiver = "receiver"
    """Complaints the user took in."""
    head = "head"
    """Orders of the role's own department, when the user heads it."""
    none = "none"


DEPARTMENT_OF: Mapping[Role, Department] = {
    Role.engineer: Department.engineering,
    Role.cleaner: Department.cleaning,
    Role.security: Department.security,
}
"""The department whose orders a field role works."""

_DESK = {Role.front_desk: Reach.all, Role.manager: Reach.all}
_FIELD = dict.fromkeys(DEPARTMENT_OF, Reach.department)
_HEADS = dict.fromkeys(DEPARTMENT_OF, Reach.head)
_EVERYONE = dict.fromkeys(Role, Reach.all)

MATRIX: Mapping[Action, Mapping[Role, Reach]] = {
    Action.open_order: {**_DESK, **_FIELD},
    Action.move_order: {**_DESK, **_FIELD},
    Action.close_order: _DESK,
    Action.dispatch: {Role.manager: Reach.all, **_HEADS},
    Action.file_complaint: _EVERYONE,
    Action.run_workflow: _DESK,
    Action.reply: {**dict.fromkeys(DEPARTMENT_OF, Reach.receiver), **_DESK},
    Action.escalate: _EVERYONE,
    Action.ack_alarm: _EVERYONE,
    Action.clear_alarm: {Role.engineer: Reach.all, Role.manager: Reach.all},
    Action.read_dead_letters: {Role.engineer: Reach.all, Role.manager: Reach.all},
    Action.record_inspection: _EVERYONE,
    Action.plan_inspections: {Role.manager: Reach.all},
    Action.read_evidence: _DESK,
    Action.prove: {Role.manager: Reach.all},
    Action.register_devices: {},
    Action.read_reports: _DESK,
    Action.write_answers: {Role.manager: Reach.all},
    Action.keep_parts: {Role.engineer: Reach.all, Role.manager: Reach.all},
}
"""The table above as data; admins may do everything, so they are not listed."""


def reach(role: Role, action: Action) -> Reach:
    """How far `role` may take `action`."""
    if role == Role.admin:
        return Reach.all
    return MATRIX[action].get(role, Reach.none)


def roles_for(action: Action) -> frozenset[Role]:
    """The roles that may take `action` on any object (admins included)."""
    return frozenset(r for r in Role if reach(r, action) == Reach.all)


def allows(
    principal: Principal,
    action: Action,
    *,
    department: str | None = None,
    assignee: str | None = None,
    receiver: str | None = None,
) -> bool:
    """Whether `principal` may take `action` on an object with these facts."""
    how = reach(principal.role, action)
    if how == Reach.all:
        return True
    if how == Reach.department:
        own = DEPARTMENT_OF.get(principal.role)
        return (department is not None and department == own) or (
            assignee is not None and assignee == principal.name
        )
    if how == Reach.receiver:
        return receiver is not None and receiver == principal.name
    if how == Reach.head:
        own = DEPARTMENT_OF.get(principal.role)
        return principal.department_head and (department is None or department == own)
    return False


def require(
    principal: Principal,
    action: Action,
    *,
    department: str | None = None,
    assignee: str | None = None,
    receiver: str | None = None,
) -> None:
    """Raise Forbidden unless `principal` may take `action` on this object."""
    if not allows(principal, action, department=department, assignee=assignee, receiver=receiver):
        what = f" ({department})" if department else ""
        raise Forbidden(f"role {principal.role} may not {action}{what}")
