"""Replies to the owner: what the desk said, checked for forbidden phrases (warn, or block).

Every reply is kept with the owner's opinion; the phrase check's findings are kept too, even
for a blocked reply, for training statistics.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from hub.cases.service import remark
from hub.complaints import phrases
from hub.complaints.enums import Channel, ReplyPurpose, Status
from hub.complaints.models import Complaint, ComplaintEvent, PhraseHit, Reply
from hub.complaints.policy import ComplaintPolicy
from hub.complaints.workflow import TERMINAL
from hub.errors import Conflict, InvalidInput

logger = logging.getLogger(__name__)

S = Status


@dataclass
class ReplyOutcome:
    """A recorded reply (None if blocked) and what the phrase check found."""

    reply: Reply | None
    hits: list[phrases.Hit] = field(default_factory=list)
    blocked: bool = False


def _default_purpose(complaint: Complaint) -> ReplyPurpose:
    status = Status(complaint.status)
    if status == S.received:
        return ReplyPurpose.acknowledgement
    if status == S.remedy_proposed:
        return ReplyPurpose.remedy
    if status in (S.resolved, S.callback):
        return ReplyPurpose.callback
    return ReplyPurpose.progress


def record_reply(
    *,
    session: Session,
    policy: ComplaintPolicy,
    complaint: Complaint,
    text: str,
    channel: Channel,
    actor: str,
    now: datetime,
    purpose: ReplyPurpose | None = None,
    owner_opinion: str = "",
    owner_accepts: bool | None = None,
) -> ReplyOutcome:
    """Keep what was said to the owner; check it for forbidden phrases (warn, or block)."""
    text = text.strip()
    if not text:
        raise InvalidInput("a reply needs its text", details={"field": "text"})
    if Status(complaint.status) in TERMINAL:
        raise Conflict(f"complaint {complaint.id} is {complaint.status}; it takes no replies")
    hits = phrases.check(text)
    blocked = bool(hits) and policy.block_forbidden_phrases
    reply: Reply | None = None
    if not blocked:
        reply = Reply(
            at=now,
            actor=actor,
            channel=channel,
            purpose=purpose or _default_purpose(complaint),
            text=text,
            owner_opinion=owner_opinion.strip(),
            owner_accepts=owner_accepts,
            status_at_reply=complaint.status,
        )
        complaint.replies.append(reply)
        if (
            reply.purpose == ReplyPurpose.responsibility
            and complaint.responsibility_stated_at is None
        ):
            complaint.responsibility_stated_at = now
    for hit in hits:
        session.add(
            PhraseHit(
                site_id=complaint.site_id,
                complaint_id=complaint.id,
                reply=reply,
                at=now,
                actor=actor,
                rule=hit.rule.id,
                matched=hit.matched,
                blocked=blocked,
            )
        )
    rules = ", ".join(h.rule.id for h in hits)
    said = str(purpose or _default_purpose(complaint))
    remark(
        complaint,
        ComplaintEvent,
        action="reply_blocked" if blocked else "reply",
        actor=actor,
        at=now,
        note=f"{said}; {'blocked' if blocked else 'warnings'}: {rules}" if hits else said,
    )
    complaint.updated_at = now
    if hits:
        logger.info("reply on complaint %s raised %s", complaint.id, rules)
    session.flush()
    return ReplyOutcome(reply=reply, hits=hits, blocked=blocked)
