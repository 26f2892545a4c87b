"""Complaint desk service: intake, classification, repeat rule, workflow, replies, escalation."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from hub import sla
from hub.auth.enums import Role
from hub.auth.models import User, UserSite
from hub.complaints import phrases
from hub.complaints.classify import (
    Classification,
    LocationContext,
    classify,
    escalation_signals,
    location_from_text,
)
from hub.complaints.enums import (
    CallbackOutcome,
    Category,
    Channel,
    ComplaintSeverity,
    Kind,
    Party,
    ReplyPurpose,
    Responsibility,
    Status,
    Step,
    Trigger,
)
from hub.complaints.models import (
    ClassificationOverride,
    Complaint,
    ComplaintDeadline,
    ComplaintEvent,
    ComplaintWorkOrder,
    Escalation,
    PhraseHit,
    Reply,
)
from hub.complaints.policy import NEXT_STEP, ComplaintPolicy
from hub.errors import Conflict, InvalidInput, NotFound
from hub.registry.enums import DeviceKind
from hub.registry.models import Location, Owner
from hub.registry.service import find_location, split_path

logger = logging.getLogger(__name__)

S = Status

ALLOWED: dict[Status, frozenset[Status]] = {
    S.received: frozenset({S.verified, S.archived, S.withdrawn}),
    S.verified: frozenset({S.investigating, S.archived, S.withdrawn}),
    S.investigating: frozenset({S.assigned, S.on_hold, S.withdrawn}),
    S.assigned: frozenset({S.remedy_proposed, S.on_hold, S.withdrawn}),
    S.remedy_proposed: frozenset({S.replied, S.on_hold, S.withdrawn}),
    S.replied: frozenset({S.implementing, S.remedy_proposed}),
    S.implementing: frozenset({S.resolved, S.on_hold}),
    S.on_hold: frozenset(
        {S.investigating, S.assigned, S.remedy_proposed, S.implementing, S.withdrawn}
    ),
    S.resolved: frozenset({S.callback}),
    S.callback: frozenset({S.archived, S.implementing, S.remedy_proposed}),
    S.archived: frozenset(),
    S.withdrawn: frozenset(),
}
"""Every move the status alone allows; the guards in `transition` add the case's own facts."""

TERMINAL = frozenset({S.archived, S.withdrawn})
ACTIVE = frozenset(set(Status) - TERMINAL)
HOLDABLE = frozenset(s for s, targets in ALLOWED.items() if S.on_hold in targets)

# Kinds the desk may answer and archive on the spot (an inquiry, a suggestion noted).
ANSWERED_AT_DESK = frozenset({Kind.inquiry, Kind.suggestion})
# Kinds that become a complaint when the same problem is raised again (DOMAIN.md).
UPGRADED_ON_REPEAT = frozenset({Kind.inquiry, Kind.help, Kind.repair})

FUTURE_SKEW = timedelta(minutes=5)


@dataclass
class Intake:
    """The ledger fields the desk types in (DOMAIN.md: recording a complaint)."""

    site_id: str
    content: str
    channel: Channel = Channel.phone
    kind: Kind = Kind.complaint
    received_at: datetime | None = None
    complainant_name: str = ""
    complainant_phone: str | None = None
    owner_id: int | None = None
    unit: str | None = None
    location: str | None = None
    request: str = ""
    target_department: str = ""
    severity: ComplaintSeverity | None = None
    media_exposure: bool = False
    reputational_damage: bool = False
    loss_amount: int | None = None


@dataclass
class ReplyOutcome:
    """A recorded reply (None if blocked) and what the phrase check found."""

    reply: Reply | None
    hits: list[phrases.Hit] = field(default_factory=list)
    blocked: bool = False


# --- intake -------------------------------------------------------------------------------


def normalise_phone(phone: str | None) -> str | None:
    """Digits only, without the +86 country code; None when nothing is left."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits or None


def _location(session: Session, site_id: str, path: str | None, field_name: str) -> Location | None:
    if not path:
        return None
    try:
        return find_location(session=session, site_id=site_id, path=path)
    except NotFound as exc:
        raise InvalidInput(exc.message, details={"field": field_name}) from exc


def _deepest_known(session: Session, site_id: str, path: str) -> Location | None:
    """The most specific existing node on `path` (3/12/1201, else 3/12, else 3)."""
    codes = split_path(path)
    for depth in range(len(codes), 0, -1):
        node = session.scalar(
            select(Location).where(
                Location.site_id == site_id, Location.path == "/".join(codes[:depth])
            )
        )
        if node is not None:
            return node
    return None


def _owner(session: Session, intake: Intake, phone: str | None) -> Owner | None:
    if intake.owner_id is not None:
        owner = session.get(Owner, intake.owner_id)
        if owner is None or owner.site_id != intake.site_id:
            raise InvalidInput(
                f"owner {intake.owner_id} not found in site {intake.site_id!r}",
                details={"field": "owner_id"},
            )
        return owner
    if phone is None:
        return None
    for owner in session.scalars(
        select(Owner).where(Owner.site_id == intake.site_id, Owner.phone.is_not(None))
    ):
        if normalise_phone(owner.phone) == phone:
            return owner
    return None


def register(
    *,
    session: Session,
    policy: ComplaintPolicy,
    intake: Intake,
    actor: str,
    actor_id: int | None,
    now: datetime,
) -> Complaint:
    """Record a contact in the ledger: classify it, apply the repeat rule, escalate if due."""
    content = intake.content.strip()
    if not content:
        raise InvalidInput("a complaint needs its content", details={"field": "content"})
    received_at = intake.received_at or now
    if received_at.tzinfo is None:
        raise InvalidInput("received_at needs a time zone", details={"field": "received_at"})
    if received_at > now + FUTURE_SKEW:
        raise InvalidInput("received_at is in the future", details={"field": "received_at"})

    phone = normalise_phone(intake.complainant_phone)
    owner = _owner(session, intake, phone)
    unit = _location(session, intake.site_id, intake.unit, "unit")
    place = _location(session, intake.site_id, intake.location, "location")
    if owner is not None:
        unit = unit or owner.unit
        phone = phone or normalise_phone(owner.phone)

    hint_place: Location | None = None
    if place is None and (hint := location_from_text(content)) is not None:
        hint_place = _deepest_known(session, intake.site_id, hint[0])
    where = place or hint_place or unit
    context = LocationContext(where.path, where.kind) if where is not None else None
    result = classify(content, location=context)

    complaint = Complaint(
        site_id=intake.site_id,
        status=S.received,
        kind=intake.kind,
        kind_as_received=intake.kind,
        channel=intake.channel,
        severity=intake.severity or _default_severity(result),
        received_at=received_at,
        content=content,
        request=intake.request.strip(),
        target_department=intake.target_department.strip(),
        owner_id=owner.id if owner else None,
        complainant_name=intake.complainant_name.strip() or (owner.name if owner else ""),
        complainant_phone=phone,
        unit=unit,
        location=where,
        receiver=actor,
        receiver_id=actor_id,
        loss_amount=intake.loss_amount,
        hold_total_s=0,
        reopen_count=0,
        escalation_level=0,
        created_at=now,
        updated_at=now,
        repeat_reasons=[],
    )
    _apply_classification(complaint, result)
    if hint_place is not None:
        complaint.reasons = [
            *complaint.reasons,
            f"location {hint_place.path} found in the registry",
        ]
    session.add(complaint)
    complaint.history.append(
        ComplaintEvent(
            at=now,
            actor=actor,
            action="received",
            to_status=S.received,
            note=f"{intake.kind} by {intake.channel}, received {received_at.isoformat()}",
        )
    )
    # Registration within a minute of receipt (所有电话必须登记, 一分钟内登记).
    complaint.deadlines.append(
        ComplaintDeadline(
            step=Step.registered,
            cycle=0,
            started_at=received_at,
            due_at=received_at + policy.allowed(Step.registered),
        )
    )
    _meet(complaint, step=Step.registered, now=now, actor=actor)
    _start(complaint, policy=policy, step=NEXT_STEP[S.received], now=now)
    session.flush()

    _apply_repeat_rule(session=session, policy=policy, complaint=complaint, actor=actor, now=now)
    triggers = escalation_triggers(
        policy=policy,
        text=content,
        media_exposure=intake.media_exposure,
        reputational_damage=intake.reputational_damage,
        loss_amount=intake.loss_amount,
    )
    if triggers:
        escalate(session=session, complaint=complaint, triggers=triggers, actor=actor, now=now)
    session.flush()
    logger.info(
        "complaint %s registered (%s, %s, %s)",
        complaint.id,
        complaint.kind,
        complaint.category,
        complaint.responsibility,
    )
    return complaint


def _default_severity(result: Classification) -> ComplaintSeverity:
    if result.category is Category.emergency:
        return ComplaintSeverity.high
    return ComplaintSeverity.normal


def _apply_classification(complaint: Complaint, result: Classification) -> None:
    complaint.responsibility = result.responsibility
    complaint.party = result.party
    complaint.category = result.category
    complaint.device_kinds = [str(k) for k in result.device_kinds]
    complaint.reasons = list(result.reasons)
    complaint.location_hint = result.location_hint
    complaint.auto_classification = {
        "responsibility": str(result.responsibility),
        "party": str(result.party) if result.party else None,
        "category": str(result.category),
        "device_kinds": [str(k) for k in result.device_kinds],
        "scores": result.scores,
    }


# --- repeat rule --------------------------------------------------------------------------


def _same_branch(a: Location | None, b: Location | None) -> bool:
    """Both places unknown, or one lies on the other's path (3/12 and 3/12/1201)."""
    if a is None or b is None:
        return True
    pa, pb = a.path.split("/"), b.path.split("/")
    n = min(len(pa), len(pb))
    return pa[:n] == pb[:n]


def find_repeat(
    *, session: Session, policy: ComplaintPolicy, complaint: Complaint
) -> tuple[Complaint, list[str]] | None:
    """The latest earlier case by the same owner or unit about the same problem, in the window.

    Same problem: the same category, on the same branch of the location tree, and for
    facility complaints a shared device kind when both name one (a leak is not a light).
    """
    subject: list[ColumnElement[bool]] = []
    if complaint.owner_id is not None:
        subject.append(Complaint.owner_id == complaint.owner_id)
    if complaint.complainant_phone:
        subject.append(Complaint.complainant_phone == complaint.complainant_phone)
    if complaint.unit_id is not None:
        subject.append(Complaint.unit_id == complaint.unit_id)
    if not subject or complaint.category == Category.other:
        return None
    since = complaint.received_at - policy.repeat_window
    candidates = session.scalars(
        select(Complaint)
        .where(
            Complaint.site_id == complaint.site_id,
            Complaint.id != complaint.id,
            Complaint.received_at >= since,
            Complaint.received_at <= complaint.received_at,
            Complaint.status != S.withdrawn,
            Complaint.category == complaint.category,
            or_(*subject),
        )
        .order_by(Complaint.received_at.desc(), Complaint.id.desc())
    ).all()
    for earlier in candidates:
        if not _same_branch(earlier.location, complaint.location):
            continue
        mine, theirs = set(complaint.device_kinds), set(earlier.device_kinds)
        if mine and theirs and not (mine & theirs):
            continue
        reasons = []
        if complaint.owner_id is not None and earlier.owner_id == complaint.owner_id:
            reasons.append("same owner")
        elif (
            complaint.complainant_phone and earlier.complainant_phone == complaint.complainant_phone
        ):
            reasons.append("same phone")
        if complaint.unit_id is not None and earlier.unit_id == complaint.unit_id:
            reasons.append("same unit")
        reasons.append(f"same category {complaint.category}")
        if earlier.location is not None and complaint.location is not None:
            reasons.append(f"same place {earlier.location.path} / {complaint.location.path}")
        if mine & theirs:
            reasons.append(f"same device kind {', '.join(sorted(mine & theirs))}")
        days = (complaint.received_at - earlier.received_at).total_seconds() / 86400
        reasons.append(f"{days:.1f} days after case {earlier.id}")
        return earlier, reasons
    return None


def _apply_repeat_rule(
    *, session: Session, policy: ComplaintPolicy, complaint: Complaint, actor: str, now: datetime
) -> None:
    found = find_repeat(session=session, policy=policy, complaint=complaint)
    if found is None:
        return
    earlier, reasons = found
    complaint.repeat_of_id = earlier.id
    complaint.repeat_reasons = reasons
    note = f"repeat of case {earlier.id}: {'; '.join(reasons)}"
    if Kind(complaint.kind) in UPGRADED_ON_REPEAT:
        note += f"; {complaint.kind} becomes a complaint (同一问题反映两次或以上视为投诉)"
        complaint.kind = Kind.complaint
    complaint.history.append(
        ComplaintEvent(at=now, actor=actor, action="repeat", to_status=complaint.status, note=note)
    )


def repeats_of(*, session: Session, complaint: Complaint) -> Sequence[Complaint]:
    """Later cases marked as repeats of this one."""
    return session.scalars(
        select(Complaint).where(Complaint.repeat_of_id == complaint.id).order_by(Complaint.id)
    ).all()


# --- escalation ---------------------------------------------------------------------------


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
    sla.remark(
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


# --- workflow -----------------------------------------------------------------------------


def _start(complaint: Complaint, *, policy: ComplaintPolicy, step: Step, now: datetime) -> None:
    complaint.deadlines.append(
        ComplaintDeadline(
            step=step,
            cycle=complaint.reopen_count,
            started_at=now,
            due_at=now + policy.allowed(step),
        )
    )


def _meet(complaint: Complaint, *, step: Step, now: datetime, actor: str) -> None:
    for late in sla.meet(complaint.deadlines, step=step, cycle=complaint.reopen_count, now=now):
        _breach(complaint, late, actor=actor, now=now)


def _breach(
    complaint: Complaint, deadline: ComplaintDeadline, *, actor: str, now: datetime
) -> None:
    """Flag a missed deadline and raise the complaint's escalation level."""
    sla.breach(complaint, deadline, event=ComplaintEvent, label="complaint", actor=actor, now=now)


def _since_entering(complaint: Complaint, status: Status) -> list[ComplaintEvent]:
    """The events recorded since the case last moved into `status` (all, if it never did)."""
    history = list(complaint.history)
    for index in range(len(history) - 1, -1, -1):
        event = history[index]
        if event.to_status == status != event.from_status:
            return history[index + 1 :]
    return history


def _require(condition: bool, message: str, **details: Any) -> None:
    if not condition:
        raise Conflict(message, details=details or None)


def transition(
    *,
    session: Session,
    policy: ComplaintPolicy,
    complaint: Complaint,
    to: Status,
    actor: str,
    now: datetime,
    note: str = "",
    assignee: str | None = None,
    outcome: CallbackOutcome | None = None,
    reasonable: bool | None = None,
    manager: bool = False,
) -> Complaint:
    """Move a complaint one step of the workflow, if the workflow and the case allow it."""
    current = Status(complaint.status)
    if to not in ALLOWED[current]:
        allowed = ", ".join(sorted(ALLOWED[current])) or "none (terminal)"
        raise Conflict(
            f"complaint {complaint.id} cannot move from {current} to {to}; allowed: {allowed}",
            details={"from": current, "to": to, "allowed": sorted(ALLOWED[current])},
        )
    note = note.strip()
    if assignee is not None:
        complaint.assignee = assignee.strip() or None
    if reasonable is not None:
        complaint.reasonable = reasonable

    resuming = current == S.on_hold
    if resuming and to not in (complaint.held_from, S.withdrawn):
        raise Conflict(
            f"complaint {complaint.id} was put on hold from {complaint.held_from}; "
            f"it resumes there (or is withdrawn)",
            details={"from": current, "to": to, "allowed": [complaint.held_from, S.withdrawn]},
        )
    if to in (S.on_hold, S.withdrawn) and not note:
        raise InvalidInput(f"moving to {to} needs a reason in `note`", details={"field": "note"})

    action = "moved"
    reopening = False
    if to == S.archived and current == S.received:
        _require(
            Kind(complaint.kind) in ANSWERED_AT_DESK,
            f"only an inquiry or a suggestion is archived on receipt, not a {complaint.kind}",
            kind=complaint.kind,
        )
        if not note:
            raise InvalidInput("say how it was answered in `note`", details={"field": "note"})
    if to == S.archived and current == S.verified:
        _require(
            complaint.reasonable is False,
            "only a complaint verified as unreasonable is archived after verification",
        )
        if not note:
            raise InvalidInput(
                "record the explanation given to the owner in `note`", details={"field": "note"}
            )
    if to == S.assigned:
        if not complaint.assignee:
            raise InvalidInput(
                "assigning needs the responsible person, department or outside party",
                details={"field": "assignee"},
            )
        _require(
            complaint.responsibility != Responsibility.non_property
            or complaint.responsibility_stated_at is not None,
            "a non-property complaint states responsibility to the owner first: "
            "record a reply with purpose `responsibility`",
            responsibility=complaint.responsibility,
            party=complaint.party,
        )
    if to == S.replied:
        _require(
            any(
                e.action == "reply" and e.note.startswith(ReplyPurpose.remedy)
                for e in _since_entering(complaint, S.remedy_proposed)
            ),
            "record the remedy told to the owner first (a reply with purpose `remedy`)",
        )
    if current == S.replied:
        action = "owner_accepted" if to == S.implementing else "owner_rejected"
        if to == S.remedy_proposed and not note:
            raise InvalidInput(
                "record the owner's objection and the alternatives in `note`",
                details={"field": "note"},
            )
    if to == S.callback:
        if outcome is None:
            raise InvalidInput(
                "a callback records the owner's verdict in `outcome`",
                details={"field": "outcome"},
            )
        complaint.callback_outcome = outcome
        complaint.callback_at = now
        complaint.callback_note = note
    if current == S.callback:
        satisfied = complaint.callback_outcome == CallbackOutcome.satisfied
        if to == S.archived and not satisfied:
            _require(
                manager and bool(note),
                "an owner who is not satisfied reopens the case; only a manager archives it, "
                "with the reason in `note`",
            )
        if to != S.archived:
            _require(
                not satisfied,
                "the owner was satisfied: archive the case (a reopening needs a callback "
                "outcome of not_satisfied)",
            )
            if not note:
                raise InvalidInput("say what is still wrong in `note`", details={"field": "note"})
            reopening = True
            action = "reopened"

    # Deadlines: leaving a hold shifts them; reaching a step meets it; entering a state
    # starts the next step's clock (not when resuming from a hold: that clock still runs).
    if resuming:
        assert complaint.hold_started_at is not None
        held = sla.hold_ended(
            complaint.deadlines, hold_started_at=complaint.hold_started_at, now=now
        )
        complaint.hold_total_s += int(held.total_seconds())
        complaint.held_from = None
        complaint.hold_reason = None
        complaint.hold_started_at = None
    if to == S.on_hold:
        complaint.held_from = current
        complaint.hold_reason = note
        complaint.hold_started_at = now
    if reopening:
        _meet(complaint, step=Step.archived, now=now, actor=actor)
        complaint.reopen_count += 1
        complaint.closed_at = None
    elif to.value in Step.__members__:
        _meet(complaint, step=Step(to.value), now=now, actor=actor)
    if to in NEXT_STEP and not resuming:
        _start(complaint, policy=policy, step=NEXT_STEP[to], now=now)
    if to in TERMINAL:
        complaint.closed_at = now

    complaint.status = to
    complaint.updated_at = now
    complaint.history.append(
        ComplaintEvent(
            at=now, actor=actor, action=action, from_status=current, to_status=to, note=note
        )
    )
    session.flush()
    return complaint


def flag_breaches(*, session: Session, now: datetime) -> list[Complaint]:
    """Flag every pending step deadline now past due (cases on hold excepted)."""
    rows = session.scalars(
        select(ComplaintDeadline)
        .join(Complaint)
        .where(
            ComplaintDeadline.met_at.is_(None),
            ComplaintDeadline.breached_at.is_(None),
            ComplaintDeadline.due_at < now,
            Complaint.status.in_([s.value for s in ACTIVE - {S.on_hold}]),
        )
        .options(selectinload(ComplaintDeadline.complaint))
    ).all()
    touched: dict[int, Complaint] = {}
    for deadline in rows:
        complaint = deadline.complaint
        if not sla.overdue([deadline], cycle=complaint.reopen_count, now=now):
            continue
        _breach(complaint, deadline, actor="sla-watchdog", now=now)
        complaint.updated_at = now
        touched[complaint.id] = complaint
    session.flush()
    return list(touched.values())


def effective_due(deadline: ComplaintDeadline, complaint: Complaint, now: datetime) -> datetime:
    """When a pending deadline falls due, counting an ongoing hold as paused time."""
    return sla.effective_due(deadline, hold_started_at=complaint.hold_started_at, now=now)


# --- replies ------------------------------------------------------------------------------


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
    sla.remark(
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


# --- classification override ---------------------------------------------------------------


def override_classification(
    *,
    session: Session,
    complaint: Complaint,
    actor: str,
    now: datetime,
    reason: str,
    responsibility: Responsibility | None = None,
    party: Party | None = None,
    category: Category | None = None,
    device_kinds: Sequence[DeviceKind] | None = None,
) -> list[ClassificationOverride]:
    """Correct the classification; each changed field is recorded for statistics."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("an override needs a reason", details={"field": "reason"})
    new_resp = responsibility or Responsibility(complaint.responsibility)
    new_party: Party | None
    if new_resp == Responsibility.non_property:
        new_party = party or (Party(complaint.party) if complaint.party else None)
        if new_party is None:
            raise InvalidInput(
                "non_property needs the party (developer, utility, government, neighbour)",
                details={"field": "party"},
            )
    else:
        if party is not None:
            raise InvalidInput(
                f"a party is only named for non_property, not {new_resp}",
                details={"field": "party"},
            )
        new_party = None
    changes: list[tuple[str, str, str]] = []
    if new_resp != complaint.responsibility:
        changes.append(("responsibility", complaint.responsibility, new_resp))
    if (new_party or "") != (complaint.party or ""):
        changes.append(("party", complaint.party or "", new_party or ""))
    if category is not None and category != complaint.category:
        changes.append(("category", complaint.category, category))
    kinds = sorted({str(k) for k in device_kinds}) if device_kinds is not None else None
    if kinds is not None and kinds != sorted(complaint.device_kinds):
        changes.append(("device_kinds", ",".join(sorted(complaint.device_kinds)), ",".join(kinds)))
    if not changes:
        raise InvalidInput("the override changes nothing")
    records = []
    for name, old, new in changes:
        record = ClassificationOverride(
            at=now, actor=actor, field=name, from_value=str(old), to_value=str(new), reason=reason
        )
        complaint.overrides.append(record)
        records.append(record)
    complaint.responsibility = new_resp
    complaint.party = new_party
    if category is not None:
        complaint.category = category
    if kinds is not None:
        complaint.device_kinds = kinds
    summary = "; ".join(f"{n} {o or '-'} → {v or '-'}" for n, o, v in changes)
    complaint.reasons = [*complaint.reasons, f"overridden by {actor}: {summary} ({reason})"]
    complaint.updated_at = now
    sla.remark(
        complaint,
        ComplaintEvent,
        action="reclassified",
        actor=actor,
        at=now,
        note=f"{summary}; {reason}",
    )
    session.flush()
    return records


# --- reading ------------------------------------------------------------------------------


def get_complaint(*, session: Session, complaint_id: int, site_ids: frozenset[str]) -> Complaint:
    """The complaint with this id, if it is in one of `site_ids`."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or complaint.site_id not in site_ids:
        raise NotFound(f"complaint {complaint_id} not found")
    return complaint


def list_complaints(
    *,
    session: Session,
    site_ids: frozenset[str],
    site: str | None = None,
    statuses: Sequence[Status] = (),
    kinds: Sequence[Kind] = (),
    categories: Sequence[Category] = (),
    responsibility: Responsibility | None = None,
    repeat: bool | None = None,
    escalated: bool | None = None,
    work_order_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Complaint]:
    """Complaints in the caller's sites, newest first, filtered."""
    query = select(Complaint).where(Complaint.site_id.in_(site_ids))
    if site is not None:
        query = query.where(Complaint.site_id == site)
    if statuses:
        query = query.where(Complaint.status.in_([s.value for s in statuses]))
    if kinds:
        query = query.where(Complaint.kind.in_([k.value for k in kinds]))
    if categories:
        query = query.where(Complaint.category.in_([c.value for c in categories]))
    if responsibility is not None:
        query = query.where(Complaint.responsibility == responsibility)
    if repeat is not None:
        query = query.where(
            Complaint.repeat_of_id.is_not(None) if repeat else Complaint.repeat_of_id.is_(None)
        )
    if escalated is not None:
        query = query.where(
            Complaint.escalated_at.is_not(None) if escalated else Complaint.escalated_at.is_(None)
        )
    if work_order_id is not None:
        query = query.join(ComplaintWorkOrder).where(
            ComplaintWorkOrder.work_order_id == work_order_id
        )
    query = (
        query.order_by(Complaint.received_at.desc(), Complaint.id.desc())
        .limit(limit)
        .offset(offset)
        .options(
            selectinload(Complaint.history),
            selectinload(Complaint.deadlines),
            selectinload(Complaint.replies).selectinload(Reply.hits),
            selectinload(Complaint.escalations),
            selectinload(Complaint.overrides),
            selectinload(Complaint.work_orders),
        )
    )
    return session.scalars(query).all()


def complaints_for_order(*, session: Session, work_order_id: int) -> list[int]:
    """Ids of the complaints linked to a work order (the other side of the link)."""
    return list(
        session.scalars(
            select(ComplaintWorkOrder.complaint_id)
            .where(ComplaintWorkOrder.work_order_id == work_order_id)
            .order_by(ComplaintWorkOrder.complaint_id)
        )
    )


def stats(
    *,
    session: Session,
    site_ids: frozenset[str],
    site: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Counts for the weekly meeting and for training: categories, overrides, phrase hits."""
    scope: list[ColumnElement[bool]] = [Complaint.site_id.in_(site_ids)]
    if site is not None:
        scope.append(Complaint.site_id == site)
    if since is not None:
        scope.append(Complaint.received_at >= since)
    if until is not None:
        scope.append(Complaint.received_at < until)

    def grouped(column: Any) -> dict[str, int]:
        """Counts of complaints in scope per value of `column`."""
        rows = session.execute(select(column, func.count()).where(*scope).group_by(column)).all()
        return {str(key): int(n) for key, n in rows if key is not None}

    total = int(session.scalar(select(func.count()).select_from(Complaint).where(*scope)) or 0)
    repeats = int(
        session.scalar(
            select(func.count())
            .select_from(Complaint)
            .where(*scope, Complaint.repeat_of_id.is_not(None))
        )
        or 0
    )
    escalated = int(
        session.scalar(
            select(func.count())
            .select_from(Complaint)
            .where(*scope, Complaint.escalated_at.is_not(None))
        )
        or 0
    )
    overrides = session.execute(
        select(
            ClassificationOverride.field,
            ClassificationOverride.from_value,
            ClassificationOverride.to_value,
            ClassificationOverride.complaint_id,
        )
        .join(Complaint)
        .where(*scope)
    ).all()
    by_field: dict[str, Counter[str]] = {}
    for name, old, new, _cid in overrides:
        by_field.setdefault(name, Counter())[f"{old or '-'} → {new or '-'}"] += 1
    overridden = len({row[3] for row in overrides})
    hits = session.execute(
        select(PhraseHit.rule, PhraseHit.blocked).join(Complaint).where(*scope)
    ).all()
    breaches = session.execute(
        select(ComplaintDeadline.step, func.count())
        .join(Complaint)
        .where(*scope, ComplaintDeadline.breached_at.is_not(None))
        .group_by(ComplaintDeadline.step)
    ).all()
    return {
        "total": total,
        "by_status": grouped(Complaint.status),
        "by_kind": grouped(Complaint.kind),
        "by_category": grouped(Complaint.category),
        "by_responsibility": grouped(Complaint.responsibility),
        "by_channel": grouped(Complaint.channel),
        "repeats": repeats,
        "escalated": escalated,
        "callback_outcomes": grouped(Complaint.callback_outcome),
        "breaches_by_step": {str(step): int(n) for step, n in breaches},
        "overrides": {
            "total": len(overrides),
            "complaints": overridden,
            "auto_kept_share": round(1 - overridden / total, 3) if total else None,
            "by_field": {k: dict(v) for k, v in sorted(by_field.items())},
        },
        "phrase_hits": {
            "total": len(hits),
            "blocked": sum(1 for _, b in hits if b),
            "by_rule": dict(Counter(rule for rule, _ in hits).most_common()),
        },
    }


def complaint_ids_by_order(*, session: Session, order_ids: Iterable[int]) -> dict[int, list[int]]:
    """The complaints linked to each work order."""
    ids = list(order_ids)
    result: dict[int, list[int]] = {}
    if not ids:
        return result
    rows = session.execute(
        select(ComplaintWorkOrder.work_order_id, ComplaintWorkOrder.complaint_id)
        .where(ComplaintWorkOrder.work_order_id.in_(ids))
        .order_by(ComplaintWorkOrder.complaint_id)
    )
    for order_id, complaint_id in rows:
        result.setdefault(order_id, []).append(complaint_id)
    return result
