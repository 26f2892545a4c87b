"""What several pages share: the user's site, SLA countdowns, orders' moves, API errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from dashboards.api import ApiError
from dashboards.auth import WebUser
from dashboards.render import PageError, parse_time
from hub.auth.enums import Role
from hub.workorders.service import MOVES


def site_of(user: WebUser, asked: str | None) -> str | None:
    """The site a page shows: the one asked for (if the user has it), else the user's only one."""
    if asked:
        if asked not in user.sites:
            raise PageError(404, "no such site", what=asked)
        return asked
    return user.sites[0] if len(user.sites) == 1 else None


def running_deadline(order: dict[str, Any]) -> dict[str, Any] | None:
    """The order's next unmet deadline, as the API shows its current cycle (paused on hold).

    The same rule as the desk's known issue (`hub.correlation.service.next_deadline`), read
    off the API's view of the order.
    """
    pending = [
        (at, step, d)
        for step, d in (order.get("due") or {}).items()
        if not d.get("met_at") and (at := parse_time(d.get("due_at"))) is not None
    ]
    if not pending:
        return None
    _at, step, due = min(pending, key=lambda p: p[0])
    return {"step": step, "due_at": due["due_at"], "breached": bool(due.get("breached"))}


def seconds_left(due_at: Any, now: datetime) -> int:
    """Seconds until `due_at` (negative: overdue)."""
    at = parse_time(due_at)
    return int((at - now).total_seconds()) if at else 0


def moves_for(order: dict[str, Any], role: str) -> list[str]:
    """The moves the state machine lets this role take from the order's state."""
    status = order["status"]
    out = []
    for target in MOVES.targets(status):
        if MOVES.may(MOVES.edge(cast(Any, None), status, target), Role(role)):
            out.append(target)
    return out


def refusal(exc: ApiError) -> PageError:
    """An API refusal as a page's error (a 4xx stays the same 4xx)."""
    status = exc.status if 400 <= exc.status < 500 else 502
    return PageError(status, exc.message, code=exc.code)
