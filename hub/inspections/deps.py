"""FastAPI dependencies of patrol logs: the rule thresholds the cross-check compares with."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hub.access import Action
from hub.alarms.rules import RuleBook
from hub.api.deps import allowed
from hub.auth.principal import Principal


def get_rules(request: Request) -> RuleBook:
    """The rule book of the settings' rules file, read once per application."""
    rules: RuleBook | None = getattr(request.app.state, "inspection_rules", None)
    if rules is None:
        rules = RuleBook.from_file(request.app.state.settings.rules_file)
        request.app.state.inspection_rules = rules
    return rules


RulesDep = Annotated[RuleBook, Depends(get_rules)]

ManagerDep = Annotated[Principal, Depends(allowed(Action.plan_inspections))]
"""Managers (and admins) see discrepancies and set up routes."""
