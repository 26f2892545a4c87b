"""Escalation to management: media exposure, a large direct loss, harm to the company's name.

DOMAIN.md: such cases go straight to senior management. The desk's flags, the loss and the
complaint's own words are the triggers; the site's managers are told, and the case becomes
critical.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.auth.models import User, UserSite
from hub.cases.service import remark
from hub.complaints.classify import escalation_signals
from hub.complaints.enums import ComplaintSeverity, Trigger
from hub.complaints.models import Complaint, ComplaintEvent, Escalation
from hub.complaints.policy import ComplaintPolicy
from hub.errors import InvalidInput

logger = logging.getLogger(__name__)


def escalation_triggers(
    *,
    policy: ComplaintPolicy,
    text: str = "",
    media_exposure: bool = False,
    reputational_damage: bool = False,
    loss_amount: int | None = None,
) -> list[dict[str, Any]]:
    """What calls for management at once: flags set by the desk, the loss, the text itself."""
    triggers: list[dict[str, Any]] = []
    signals = escalation_signals(text) if text else {}
    if media_exposure or Trigger.media_exposure in signals:
        detail = "flagged by the desk" if media_exposure else "text mentions "
        detail += ", ".join(signals.get(Trigger.media_exposure, []))
        triggers.append({"trigger": Trigger.media_exposure.value, "detail": detail.strip()})
    if loss_amount is not None and loss_amount > policy.escalation_loss_yuan:
        triggers.append(
            {
                "trigger": Trigger.direct_loss.value,
                "detail": f"direct loss {loss_amount} RMB > {policy.escalation_loss_yuan} RMB",
            }
        )
    if reputational_damage or Trigger.reputational_damage in signals:
        detail = "flagged by the desk" if reputational_damage else "text mentions "
        detail += ", ".join(signals.get(Trigger.reputational_damage, []))
        triggers.append({"trigger": Trigger.reputational_damage.value, "detail": detail.strip()})
    return triggers


def managers_of(*, session: Session, site_id: str) -> list[str]:
    """Names of the active managers of a site."""
    return list(
        session.scalars(
            select(User.name)
            .join(UserSite, UserSite.user_id == User.id)
            .where(UserSite.site_id == site_id, User.role == Role.manager, User.active.is_(True))
            .order_by(User.name)
        )
    )


def escalate(
    *,
    session: Session,
    complaint: Complaint,
    triggers: list[dict[str, Any]],
    actor: str,
    now: datetime,
    note: str = "",
) -> Escalation:
    """Hand the case to the site's managers now; record why, who was told and when."""
    if not triggers:
        raise InvalidInput("an escalation needs a trigger")
    notified = managers_of(session=session, site_id=complaint.site_id)
    escalation = Escalation(at=now, actor=actor, triggers=triggers, notified=notified, note=note)
    complaint.escalations.append(escalation)
    complaint.escalated_at = complaint.escalated_at or now
    complaint.severity = ComplaintSeverity.critical
    complaint.updated_at = now
    what = ", ".join(t["trigger"] for t in triggers)
    remark(
        complaint,
        ComplaintEvent,
        action="escalated",
        actor=actor,
        at=now,
        note=f"{what}; told {', '.join(notified) or 'no manager on record'}",
    )
    if notified:
        logger.warning("complaint %s escalated (%s) to %s", complaint.id, what, notified)
    else:
        logger.error("complaint %s escalated (%s) but site has no manager", complaint.id, what)
    session.flush()
    return escalation


def escalate_on_request(
    *,
    session: Session,
    policy: ComplaintPolicy,
    complaint: Complaint,
    actor: str,
    now: datetime,
    media_exposure: bool = False,
    reputational_damage: bool = False,
    loss_amount: int | None = None,
    note: str = "",
) -> Escalation:
    """Escalate a case that turned serious while being handled; the desk says why."""
    triggers = escalation_triggers(
        policy=policy,
        media_exposure=media_exposure,
        reputational_damage=reputational_damage,
        loss_amount=loss_amount,
    )
    if not triggers:
        raise InvalidInput(
            "nothing to escalate: set media_exposure or reputational_damage, or a loss_amount "
            f"above {policy.escalation_loss_yuan} RMB"
        )
    if loss_amount is not None:
        complaint.loss_amount = loss_amount
    return escalate(
        session=session, complaint=complaint, triggers=triggers, actor=actor, now=now, note=note
    )
