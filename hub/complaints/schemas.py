"""Pydantic shapes of complaints in and out of the API (CONTRACT.md §2 names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, StrictBool

from hub.cases.deadlines import effective_due
from hub.cases.schemas import DeadlineOut, current_deadlines
from hub.complaints import phrases
from hub.complaints.enums import (
    CallbackOutcome,
    Category,
    Channel,
    ComplaintSeverity,
    HotDimension,
    Kind,
    Party,
    ReplyPurpose,
    Responsibility,
    Status,
    Step,
)
from hub.complaints.models import Complaint, ComplaintEvent, Reply, UnifiedAnswer
from hub.inputs import Amount, Id, Input, When
from hub.registry.enums import DeviceKind
from hub.workorders.enums import Department, Priority


class ComplaintCreate(Input):
    """A contact as the desk records it in the ledger."""

    content: str = Field(min_length=1, max_length=10_000, description="What the owner said.")
    site: str | None = Field(None, max_length=64, description="Default: the caller's only site.")
    unit: str | None = Field(None, max_length=400, description="Complainant's unit, e.g. 3/12/1201")
    location: str | None = Field(
        None, max_length=400, description="Where the problem is, e.g. 3/12"
    )
    channel: Channel = Channel.phone
    kind: Kind = Kind.complaint
    complainant_name: str = Field("", max_length=128)
    complainant_phone: str | None = Field(
        None, max_length=32, pattern=r"^[0-9 +()/.-]*$", description="Digits, spaces, + ( ) - ."
    )
    owner_id: Id | None = Field(None, description="A registered owner, if known.")
    request: str = Field("", max_length=5_000, description="What the owner asks for.")
    target_department: str = Field(
        "", max_length=200, description="The person or department complained about."
    )
    received_at: When | None = Field(None, description="Default: now.")
    severity: ComplaintSeverity | None = Field(None, description="Default: high for emergencies.")
    media_exposure: StrictBool = False
    reputational_damage: StrictBool = False
    loss_amount: Amount | None = Field(None, description="Direct economic loss, RMB.")
    open_work_order: StrictBool = Field(
        False, description="Also open a work order (repairs and facility complaints)."
    )
    attachment_ids: list[Id] = Field(
        default_factory=list, max_length=20, description="Photos from POST /attachments."
    )


class TransitionIn(Input):
    """A workflow move."""

    to: Status
    note: str = Field("", max_length=10_000)
    assignee: str | None = Field(None, max_length=200)
    outcome: CallbackOutcome | None = Field(None, description="Required on the move to callback.")
    reasonable: StrictBool | None = Field(None, description="The desk's judgement when verifying.")
    satisfaction: int | None = Field(
        None, ge=1, le=5, description="The owner's score 1-5, with the verdict on the callback."
    )


class ReplyIn(Input):
    """What the desk said to the owner, and what the owner said back."""

    text: str = Field(min_length=1, max_length=10_000)
    channel: Channel = Channel.phone
    purpose: ReplyPurpose | None = Field(None, description="Default: from the case's status.")
    owner_opinion: str = Field("", max_length=5_000)
    owner_accepts: StrictBool | None = None
    attachment_ids: list[Id] = Field(
        default_factory=list, max_length=20, description="Photos from POST /attachments."
    )


class PhraseCheckIn(Input):
    """Text to check before saying it."""

    text: str = Field(min_length=1, max_length=10_000)


class OverrideIn(Input):
    """A correction of the classification by staff."""

    responsibility: Responsibility | None = None
    party: Party | None = None
    category: Category | None = None
    device_kinds: list[DeviceKind] | None = None
    reason: str = Field(min_length=1, max_length=2_000)


class EscalationIn(Input):
    """Escalate a case that turned serious while being handled."""

    media_exposure: StrictBool = False
    reputational_damage: StrictBool = False
    loss_amount: Amount | None = None
    note: str = Field("", max_length=5_000)


class WorkOrderIn(Input):
    """Open a work order for the complaint; everything defaults from the complaint."""

    department: Department | None = None
    priority: Priority | None = None
    title: str | None = Field(None, max_length=300)
    assignee: str | None = Field(None, max_length=128)


class WarningOut(BaseModel):
    """A forbidden phrase or anger don't found in a reply, and what to say instead."""

    phrase: str
    suggestion: str
    rule: str
    kind: str
    matched: str

    @classmethod
    def build(cls, hit: phrases.Hit) -> WarningOut:
        """The API view of a hit."""
        return cls(
            phrase=hit.phrase,
            suggestion=hit.suggestion,
            rule=hit.rule.id,
            kind=hit.rule.kind,
            matched=hit.matched,
        )


class ReplyOut(BaseModel):
    """A recorded reply with its warnings."""

    id: int | None
    complaint_id: int
    at: datetime
    actor: str
    channel: Channel
    purpose: ReplyPurpose | None
    text: str
    owner_opinion: str
    owner_accepts: bool | None
    blocked: bool = False
    warnings: list[WarningOut]

    @classmethod
    def build(cls, reply: Reply, warnings: list[WarningOut] | None = None) -> ReplyOut:
        """The API view of a stored reply (warnings re-derived from its recorded hits)."""
        if warnings is None:
            warnings = [
                WarningOut(
                    phrase=phrases.RULES_BY_ID[h.rule].phrase,
                    suggestion=phrases.RULES_BY_ID[h.rule].suggestion,
                    rule=h.rule,
                    kind=phrases.RULES_BY_ID[h.rule].kind,
                    matched=h.matched,
                )
                for h in reply.hits
                if h.rule in phrases.RULES_BY_ID
            ]
        return cls(
            id=reply.id,
            complaint_id=reply.complaint_id,
            at=reply.at,
            actor=reply.actor,
            channel=Channel(reply.channel),
            purpose=ReplyPurpose(reply.purpose),
            text=reply.text,
            owner_opinion=reply.owner_opinion,
            owner_accepts=reply.owner_accepts,
            warnings=warnings,
        )


class ClassificationOut(BaseModel):
    """The classification and why."""

    responsibility: Responsibility
    party: Party | None
    category: Category
    device_kinds: list[DeviceKind]
    reasons: list[str]
    overridden: bool
    automatic: dict[str, Any]

    @classmethod
    def build(cls, complaint: Complaint) -> ClassificationOut:
        """The effective classification, and what the classifier said on intake."""
        return cls(
            responsibility=Responsibility(complaint.responsibility),
            party=Party(complaint.party) if complaint.party else None,
            category=Category(complaint.category),
            device_kinds=[DeviceKind(k) for k in complaint.device_kinds],
            reasons=list(complaint.reasons),
            overridden=bool(complaint.overrides),
            automatic={k: v for k, v in complaint.auto_classification.items() if k != "scores"},
        )


class LinkOut(BaseModel):
    """Something this complaint is tied to."""

    type: str
    id: int
    score: float
    reasons: list[str]


class KnownIssueOut(BaseModel):
    """The order that already handles what the complaint is about (CONTRACT.md §4)."""

    work_order_id: int
    status: str
    department: str
    assignee: str | None
    next_due: datetime | None = Field(
        description="The next deadline of the order (paused while on hold)."
    )
    next_step: str | None = Field(description="The step `next_due` is for.")
    alarm_ids: list[int]
    notice_id: int | None
    reply_suggestion: str
    reply_suggestion_en: str
    score: float
    reasons: list[str]
    hold_reason: str | None = None
    on_hold_since: datetime | None = None
    shutoff_order_id: int | None = Field(
        None, description="The shut-off task raised when no engineer was dispatched in time."
    )


class HistoryOut(BaseModel):
    """One recorded event."""

    at: datetime
    actor: str
    action: str
    from_status: Status | None = Field(serialization_alias="from")
    to_status: Status | None = Field(serialization_alias="to")
    note: str

    @classmethod
    def build(cls, event: ComplaintEvent) -> HistoryOut:
        """The API view of a history row."""
        return cls(
            at=event.at,
            actor=event.actor,
            action=event.action,
            from_status=Status(event.from_status) if event.from_status else None,
            to_status=Status(event.to_status) if event.to_status else None,
            note=event.note,
        )


class EscalationOut(BaseModel):
    """An escalation: why, who was told, when."""

    at: datetime
    actor: str
    triggers: list[dict[str, Any]]
    notified: list[str]
    note: str


class ComplainantOut(BaseModel):
    """Who complained."""

    owner_id: int | None
    name: str
    phone: str | None
    unit: str | None


class UnifiedAnswerOut(BaseModel):
    """The agreed answer to a hot item, in one of its versions."""

    id: int
    site: str
    dimension: HotDimension
    value: str
    version: int
    text: str
    author: str
    at: datetime

    @classmethod
    def build(cls, answer: UnifiedAnswer) -> UnifiedAnswerOut:
        """The API view of `answer`."""
        return cls(
            id=answer.id,
            site=answer.site_id,
            dimension=HotDimension(answer.dimension),
            value=answer.value,
            version=answer.version,
            text=answer.text,
            author=answer.author,
            at=answer.at,
        )


class ComplaintOut(BaseModel):
    """A complaint with its classification, links, deadlines, replies and history."""

    id: int
    site: str
    status: Status
    kind: Kind
    kind_as_received: Kind
    channel: Channel
    severity: ComplaintSeverity
    received_at: datetime
    content: str
    request: str
    target_department: str
    complainant: ComplainantOut
    unit: str | None
    unit_text: str | None = Field(
        None, description="The unit as typed or said, when the registry does not know it."
    )
    location: str | None
    location_hint: str | None
    receiver: str
    assignee: str | None
    classification: ClassificationOut
    links: list[LinkOut]
    known_issue: KnownIssueOut | None = None
    shutoffs: list[ShutOffOut] = Field(
        default_factory=list,
        description="Shut-off tasks raised for the orders opened from or attached to it.",
    )
    answers: list[UnifiedAnswerOut] = Field(
        default_factory=list,
        description="The unified answers (统一答复) to the hot items this complaint matches.",
    )
    repeat_of: int | None
    work_order_ids: list[int]
    escalated_at: datetime | None
    escalations: list[EscalationOut]
    reasonable: bool | None
    responsibility_stated_at: datetime | None
    callback_outcome: CallbackOutcome | None
    callback_at: datetime | None
    satisfaction: int | None = None
    due: dict[Step, DeadlineOut]
    replies: list[ReplyOut]
    history: list[HistoryOut]
    hold_reason: str | None
    on_hold_since: datetime | None
    hold_total_s: int
    reopen_count: int
    escalation_level: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @classmethod
    def build(
        cls,
        complaint: Complaint,
        *,
        now: datetime,
        repeated_by: list[int] | None = None,
        found: list[LinkOut] | None = None,
        known_issue: KnownIssueOut | None = None,
        answers: list[UnifiedAnswer] | None = None,
        shutoffs: list[ShutOffOut] | None = None,
    ) -> ComplaintOut:
        """The API view of `complaint`; pending deadlines are shown paused while on hold.

        `found` are the links correlation found, merged with the complaint's own; `links` is
        sorted by score, best first.
        """
        current = current_deadlines(
            complaint.deadlines,
            due=lambda d: effective_due(d, hold_started_at=complaint.hold_started_at, now=now),
        )
        due = {Step(step): deadline for step, deadline in current.items()}
        return cls(
            id=complaint.id,
            site=complaint.site_id,
            status=Status(complaint.status),
            kind=Kind(complaint.kind),
            kind_as_received=Kind(complaint.kind_as_received),
            channel=Channel(complaint.channel),
            severity=ComplaintSeverity(complaint.severity),
            received_at=complaint.received_at,
            content=complaint.content,
            request=complaint.request,
            target_department=complaint.target_department,
            complainant=ComplainantOut(
                owner_id=complaint.owner_id,
                name=complaint.complainant_name,
                phone=complaint.complainant_phone,
                unit=complaint.unit.path if complaint.unit else None,
            ),
            unit=complaint.unit.path if complaint.unit else None,
            unit_text=complaint.unit_text,
            location=complaint.location.path if complaint.location else None,
            location_hint=complaint.location_hint,
            receiver=complaint.receiver,
            assignee=complaint.assignee,
            classification=ClassificationOut.build(complaint),
            links=merge_links(_links(complaint, repeated_by or []), found or []),
            known_issue=known_issue,
            shutoffs=shutoffs or [],
            answers=[UnifiedAnswerOut.build(a) for a in answers or []],
            repeat_of=complaint.repeat_of_id,
            work_order_ids=[link.work_order_id for link in complaint.work_orders],
            escalated_at=complaint.escalated_at,
            escalations=[
                EscalationOut(
                    at=e.at, actor=e.actor, triggers=e.triggers, notified=e.notified, note=e.note
                )
                for e in complaint.escalations
            ],
            reasonable=complaint.reasonable,
            responsibility_stated_at=complaint.responsibility_stated_at,
            callback_outcome=(
                CallbackOutcome(complaint.callback_outcome) if complaint.callback_outcome else None
            ),
            callback_at=complaint.callback_at,
            satisfaction=complaint.satisfaction,
            due=due,
            replies=[ReplyOut.build(r) for r in complaint.replies],
            history=[HistoryOut.build(e) for e in complaint.history],
            hold_reason=complaint.hold_reason,
            on_hold_since=complaint.hold_started_at,
            hold_total_s=complaint.hold_total_s,
            reopen_count=complaint.reopen_count,
            escalation_level=complaint.escalation_level,
            created_at=complaint.created_at,
            updated_at=complaint.updated_at,
            closed_at=complaint.closed_at,
        )


def _links(complaint: Complaint, repeated_by: list[int]) -> list[LinkOut]:
    """What the complaint is tied to: the case it repeats, its repeats, its work orders."""
    links: list[LinkOut] = []
    if complaint.repeat_of_id is not None:
        links.append(
            LinkOut(
                type="complaint",
                id=complaint.repeat_of_id,
                score=1.0,
                reasons=["repeat of this earlier case", *complaint.repeat_reasons],
            )
        )
    for later in repeated_by or []:
        links.append(
            LinkOut(type="complaint", id=later, score=1.0, reasons=["raised again in this case"])
        )
    for link in complaint.work_orders:
        links.append(
            LinkOut(
                type="work_order",
                id=link.work_order_id,
                score=1.0,
                reasons=[f"opened from this complaint by {link.actor}"],
            )
        )
    return links


_LINK_ORDER = ("work_order", "alarm", "notice", "signal", "complaint", "inspection")


def merge_links(own: list[LinkOut], found: list[LinkOut]) -> list[LinkOut]:
    """One link per (type, id): the higher score, the reasons of both; best first."""
    merged: dict[tuple[str, int], LinkOut] = {}
    for link in [*own, *found]:
        key = (link.type, link.id)
        seen = merged.get(key)
        if seen is None:
            merged[key] = link.model_copy()
            continue
        reasons = [*seen.reasons, *(r for r in link.reasons if r not in seen.reasons)]
        merged[key] = LinkOut(
            type=link.type, id=link.id, score=max(seen.score, link.score), reasons=reasons
        )

    def rank(link: LinkOut) -> tuple[float, int, int]:
        kind = _LINK_ORDER.index(link.type) if link.type in _LINK_ORDER else len(_LINK_ORDER)
        return (-link.score, kind, link.id)

    return sorted(merged.values(), key=rank)


class ShutOffOut(BaseModel):
    """A shut-off task raised for one of the complaint's orders nobody was dispatched to."""

    work_order_id: int
    task_order_id: int | None
    assignee: str | None
    raised_at: datetime


class Correlated(BaseModel):
    """What correlation adds to a complaint's view: the links it found, the known issue."""

    links: list[LinkOut] = Field(default_factory=list)
    known_issue: KnownIssueOut | None = None
    shutoffs: list[ShutOffOut] = Field(default_factory=list)
