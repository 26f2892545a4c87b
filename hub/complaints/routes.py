"""HTTP routes of the complaint desk (thin: parse, call the service, commit, shape)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.orm import Session

from hub import access
from hub.access import Action
from hub.api.deps import NowDep, PrincipalDep, SessionDep
from hub.api.params import IdPath, Offset
from hub.attachments.service import attach
from hub.complaints import answers, escalation, flows, intake, phrases, queries, replies, workflow
from hub.complaints.deps import ComplaintPolicyDep, Correlator, CorrelatorDep, DeskDep
from hub.complaints.enums import Category, Channel, Kind, Responsibility, Status
from hub.complaints.models import Complaint
from hub.complaints.schemas import (
    ComplaintCreate,
    ComplaintOut,
    Correlated,
    EscalationIn,
    OverrideIn,
    PhraseCheckIn,
    ReplyIn,
    ReplyOut,
    TransitionIn,
    WarningOut,
    WorkOrderIn,
)
from hub.errors import InvalidInput, NotFound
from hub.inputs import INT32_MAX, When
from hub.workorders.deps import PolicyDep

router = APIRouter(prefix="/complaints", tags=["complaints"])


def _views(
    session: Session,
    complaints: list[Complaint],
    now: datetime,
    correlator: Correlator,
    found: Mapping[int, Correlated] | None = None,
    *,
    brief: bool = False,
) -> list[ComplaintOut]:
    """The API views of `complaints`, with what correlation found for each (`found`: as it
    just returned it, else read back; nothing of it when `brief`)."""
    if brief:
        found = {}
    elif found is None:
        found = correlator.views(session=session, complaints=complaints, now=now)
    agreed = {} if brief else answers.for_complaints(session=session, complaints=complaints)
    later = queries.repeat_ids(session=session, complaint_ids=[c.id for c in complaints])
    views = []
    for complaint in complaints:
        extra = found.get(complaint.id)
        views.append(
            ComplaintOut.build(
                complaint,
                now=now,
                repeated_by=later.get(complaint.id, []),
                found=extra.links if extra else None,
                known_issue=extra.known_issue if extra else None,
                answers=agreed.get(complaint.id),
                shutoffs=extra.shutoffs if extra else None,
            )
        )
    return views


def _out(
    session: Session, complaint: Complaint, now: datetime, correlator: Correlator
) -> ComplaintOut:
    return _views(session, [complaint], now, correlator)[0]


class ReplyBlocked(InvalidInput):
    """The reply contains a forbidden phrase and the site blocks such replies."""

    code = "forbidden_phrase"


@router.post(
    "",
    response_model=ComplaintOut,
    response_model_by_alias=True,
    status_code=status.HTTP_201_CREATED,
)
def create_complaint(
    body: ComplaintCreate,
    session: SessionDep,
    principal: PrincipalDep,
    cpolicy: ComplaintPolicyDep,
    policy: PolicyDep,
    correlator: CorrelatorDep,
    now: NowDep,
) -> ComplaintOut:
    """Record a contact; the answer carries its classification, reasons, links, known issue."""
    site = body.site
    if site is None:
        if len(principal.site_ids) != 1:
            raise InvalidInput("say which site (`site`)", details={"field": "site"})
        (site,) = principal.site_ids
    if not principal.sees(site):
        raise NotFound(f"site {site!r} not found")
    entry = intake.Intake(
        site_id=site,
        content=body.content,
        channel=body.channel,
        kind=body.kind,
        received_at=body.received_at,
        complainant_name=body.complainant_name,
        complainant_phone=body.complainant_phone,
        owner_id=body.owner_id,
        unit=body.unit,
        location=body.location,
        request=body.request,
        target_department=body.target_department,
        severity=body.severity,
        media_exposure=body.media_exposure,
        reputational_damage=body.reputational_damage,
        loss_amount=body.loss_amount,
    )
    complaint = intake.register(
        session=session,
        policy=cpolicy,
        intake=entry,
        actor=principal.name,
        actor_id=principal.user_id,
        now=now,
    )
    attach(
        session=session,
        site_id=site,
        attachment_ids=body.attachment_ids,
        actor=principal.name,
        now=now,
        complaint_id=complaint.id,
    )
    found = correlator.correlate(session=session, complaint=complaint, now=now)
    if body.open_work_order:
        access.require(principal, Action.run_workflow)
        flows.work_order_for(
            session=session, policy=policy, complaint=complaint, actor=principal.name, now=now
        )
    session.commit()
    return _views(session, [complaint], now, correlator, {complaint.id: found})[0]


@router.get("", response_model=list[ComplaintOut], response_model_by_alias=True)
def list_complaints(
    session: SessionDep,
    principal: PrincipalDep,
    correlator: CorrelatorDep,
    now: NowDep,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    kind: Annotated[list[Kind] | None, Query()] = None,
    category: Annotated[list[Category] | None, Query()] = None,
    responsibility: Responsibility | None = None,
    repeat: bool | None = None,
    escalated: bool | None = None,
    work_order: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    site: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
    q: Annotated[
        str | None, Query(max_length=200, description="Words in content, name, phone, unit, place.")
    ] = None,
    phone: Annotated[str | None, Query(max_length=32, pattern=r"^[0-9 +()-]*$")] = None,
    unit: Annotated[str | None, Query(max_length=400)] = None,
    channel: Annotated[list[Channel] | None, Query()] = None,
    since: When | None = None,
    until: When | None = None,
    brief: Annotated[
        bool,
        Query(
            description="The ledger's rows: links, known issue, answers, history, deadlines, "
            "replies, escalations and corrections left out (empty)."
        ),
    ] = False,
) -> list[ComplaintOut]:
    """Complaints in the caller's sites, newest first; the desk ledger's search and filters."""
    complaints = queries.list_complaints(
        session=session,
        site_ids=principal.site_ids,
        site=site,
        statuses=status_ or (),
        kinds=kind or (),
        categories=category or (),
        responsibility=responsibility,
        repeat=repeat,
        escalated=escalated,
        work_order_id=work_order,
        limit=limit,
        offset=offset,
        search=queries.Search(
            q=q, phone=phone, unit=unit, channels=channel or (), since=since, until=until
        ),
        brief=brief,
    )
    return _views(session, list(complaints), now, correlator, brief=brief)


@router.get("/stats")
def complaint_stats(
    session: SessionDep,
    principal: PrincipalDep,
    site: str | None = None,
    since: When | None = None,
    until: When | None = None,
) -> dict[str, Any]:
    """Counts by status, kind, category and responsibility; overrides; phrase hits; breaches."""
    return queries.stats(
        session=session, site_ids=principal.site_ids, site=site, since=since, until=until
    )


@router.post("/phrase-check", response_model=list[WarningOut])
def check_phrases(body: PhraseCheckIn, _principal: PrincipalDep) -> list[WarningOut]:
    """Check a reply before saying it; nothing is recorded."""
    return [WarningOut.build(hit) for hit in phrases.check(body.text)]


@router.get("/{complaint_id}", response_model=ComplaintOut, response_model_by_alias=True)
def get_complaint(
    complaint_id: IdPath,
    session: SessionDep,
    principal: PrincipalDep,
    correlator: CorrelatorDep,
    now: NowDep,
) -> ComplaintOut:
    """One complaint with its classification, deadlines, replies and full history."""
    complaint = queries.get_complaint(
        session=session, complaint_id=complaint_id, site_ids=principal.site_ids
    )
    return _out(session, complaint, now, correlator)


@router.post(
    "/{complaint_id}/transitions", response_model=ComplaintOut, response_model_by_alias=True
)
def move_complaint(
    complaint_id: IdPath,
    body: TransitionIn,
    session: SessionDep,
    principal: PrincipalDep,
    cpolicy: ComplaintPolicyDep,
    correlator: CorrelatorDep,
    now: NowDep,
) -> ComplaintOut:
    """Move a complaint through the workflow; a move the workflow forbids is 409."""
    complaint = queries.get_complaint(
        session=session, complaint_id=complaint_id, site_ids=principal.site_ids
    )
    workflow.transition(
        session=session,
        policy=cpolicy,
        complaint=complaint,
        to=body.to,
        actor=principal.name,
        now=now,
        note=body.note,
        assignee=body.assignee,
        outcome=body.outcome,
        reasonable=body.reasonable,
        role=principal.role,
        satisfaction=body.satisfaction,
    )
    session.commit()
    return _out(session, complaint, now, correlator)


@router.post(
    "/{complaint_id}/replies", response_model=ReplyOut, status_code=status.HTTP_201_CREATED
)
def reply_to_owner(
    complaint_id: IdPath,
    body: ReplyIn,
    session: SessionDep,
    principal: PrincipalDep,
    cpolicy: ComplaintPolicyDep,
    now: NowDep,
) -> ReplyOut:
    """Record what was said to the owner; `warnings` lists forbidden phrases found in it."""
    complaint = queries.get_complaint(
        session=session, complaint_id=complaint_id, site_ids=principal.site_ids
    )
    access.require(principal, Action.reply, receiver=complaint.receiver)
    outcome = replies.record_reply(
        session=session,
        policy=cpolicy,
        complaint=complaint,
        text=body.text,
        channel=body.channel,
        purpose=body.purpose,
        owner_opinion=body.owner_opinion,
        owner_accepts=body.owner_accepts,
        actor=principal.name,
        now=now,
    )
    if outcome.reply is not None:
        attach(
            session=session,
            site_id=complaint.site_id,
            attachment_ids=body.attachment_ids,
            actor=principal.name,
            now=now,
            complaint_id=complaint.id,
            reply_id=outcome.reply.id,
        )
    session.commit()  # a blocked reply's hits are kept for training statistics
    warnings = [WarningOut.build(hit) for hit in outcome.hits]
    if outcome.reply is None:
        raise ReplyBlocked(
            "the reply contains phrases the desk must not use; rephrase it",
            details={"warnings": [w.model_dump() for w in warnings]},
        )
    return ReplyOut.build(outcome.reply, warnings)


@router.post(
    "/{complaint_id}/classification", response_model=ComplaintOut, response_model_by_alias=True
)
def override_classification(
    complaint_id: IdPath,
    body: OverrideIn,
    session: SessionDep,
    principal: DeskDep,
    correlator: CorrelatorDep,
    now: NowDep,
) -> ComplaintOut:
    """Correct the classification; the change is recorded and counted in the statistics."""
    complaint = queries.get_complaint(
        session=session, complaint_id=complaint_id, site_ids=principal.site_ids
    )
    intake.override_classification(
        session=session,
        complaint=complaint,
        actor=principal.name,
        now=now,
        reason=body.reason,
        responsibility=body.responsibility,
        party=body.party,
        category=body.category,
        device_kinds=body.device_kinds,
    )
    session.commit()
    return _out(session, complaint, now, correlator)


@router.post(
    "/{complaint_id}/escalations",
    response_model=ComplaintOut,
    response_model_by_alias=True,
    status_code=status.HTTP_201_CREATED,
)
def escalate_complaint(
    complaint_id: IdPath,
    body: EscalationIn,
    session: SessionDep,
    principal: PrincipalDep,
    cpolicy: ComplaintPolicyDep,
    correlator: CorrelatorDep,
    now: NowDep,
) -> ComplaintOut:
    """Escalate to the site's managers: media, a large loss, or harm to the company's name."""
    complaint = queries.get_complaint(
        session=session, complaint_id=complaint_id, site_ids=principal.site_ids
    )
    escalation.escalate_on_request(
        session=session,
        policy=cpolicy,
        complaint=complaint,
        actor=principal.name,
        now=now,
        media_exposure=body.media_exposure,
        reputational_damage=body.reputational_damage,
        loss_amount=body.loss_amount,
        note=body.note,
    )
    session.commit()
    return _out(session, complaint, now, correlator)


@router.post(
    "/{complaint_id}/work-orders",
    response_model=ComplaintOut,
    response_model_by_alias=True,
    status_code=status.HTTP_201_CREATED,
)
def open_work_order(
    complaint_id: IdPath,
    body: WorkOrderIn,
    session: SessionDep,
    principal: DeskDep,
    policy: PolicyDep,
    correlator: CorrelatorDep,
    response: Response,
    now: NowDep,
) -> ComplaintOut:
    """Open a work order (dispatch slip) for a repair or facility complaint, linked both ways.

    If an order the complaint is linked to still runs (its known issue, or one opened
    before), no second order is opened: the answer is 200 with that order, and the
    complaint's history says why.
    """
    complaint = queries.get_complaint(
        session=session, complaint_id=complaint_id, site_ids=principal.site_ids
    )
    got = flows.work_order_for(
        session=session,
        policy=policy,
        complaint=complaint,
        actor=principal.name,
        now=now,
        department=body.department,
        priority=body.priority,
        title=body.title,
        assignee=body.assignee,
    )
    session.commit()
    if not got.opened:
        response.status_code = status.HTTP_200_OK
        response.headers["X-Existing-Work-Order"] = str(got.order.id)
    return _out(session, complaint, now, correlator)
