"""HTTP routes of evidence: timelines, the public key, checks and packs (thin)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.orm import Session

from hub.api.deps import NowDep, PrincipalDep, SessionDep, SettingsDep
from hub.api.params import IdPath
from hub.attachments.service import Store
from hub.auth.principal import Principal
from hub.complaints.queries import get_complaint
from hub.errors import InvalidInput, NotFound
from hub.evidence import checkpoints, pack, printing, timeline
from hub.evidence.canonical import canonical
from hub.evidence.deps import KeyringDep, ManagerDep, ReaderDep
from hub.evidence.findings import findings
from hub.evidence.flows import check_site
from hub.evidence.keys import ALGORITHM, Keyring
from hub.evidence.schemas import (
    CheckOut,
    CheckpointsOut,
    CheckpointsQuery,
    CheckQuery,
    CosignIn,
    ExportIn,
    Finding,
    PublicKeyOut,
    Timeline,
    TimelineEntry,
    TimelineQuery,
    WindowQuery,
)
from hub.registry.service import get_device
from hub.workorders.service import get_order

router = APIRouter(tags=["evidence"])

DEFAULT_WINDOW = timedelta(hours=24)


def findings_of(
    *, session: Session, subject: timeline.Subject, rows: list[dict[str, Any]], zone: tzinfo
) -> list[dict[str, Any]]:
    """The findings of a subject's timeline (its devices' kinds and its orders' deadlines)."""
    return findings(
        rows,
        kinds=timeline.device_kinds(session=session, subject=subject),
        deadlines=timeline.deadlines(session=session, subject=subject),
        zone=zone,
    )


def show(
    *, session: Session, subject: timeline.Subject, keyring: Keyring, zone: tzinfo, limit: int
) -> Timeline:
    """A subject's timeline with the integrity of its devices' chains."""
    rows, truncated = timeline.entries(session=session, subject=subject, zone=zone, limit=limit)
    check = check_site(
        session=session,
        site_id=subject.site_id,
        keyring=keyring,
        zone=zone,
        device_ids=subject.device_ids,
    )
    last = checkpoints.latest(session=session, site_id=subject.site_id)
    statement = checkpoints.as_statement(last) if last else {}
    integrity = pack.integrity_of(check, keyring=keyring, checkpoint=statement)
    jsonable = [pack.jsonable(r) for r in rows]
    integrity["manifest_digest"] = hashlib.sha256(canonical(jsonable)).hexdigest()
    integrity["signature"] = statement.get("signature")
    found = findings_of(session=session, subject=subject, rows=rows, zone=zone)
    return Timeline(
        subject={"type": subject.type, "id": subject.id},
        window={"since": subject.since, "until": subject.until},
        findings=[Finding.model_validate(f) for f in found],
        timeline=[TimelineEntry.model_validate(r) for r in rows],
        truncated=truncated,
        integrity=integrity,
    )


PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "With `format=pdf`."}
}


def answer(
    *,
    session: Session,
    subject: timeline.Subject,
    keyring: Keyring,
    zone: tzinfo,
    query: TimelineQuery | WindowQuery,
    now: datetime,
) -> Timeline | Response:
    """The timeline as JSON, or its printable report as a PDF (`format=pdf`)."""
    shown = show(session=session, subject=subject, keyring=keyring, zone=zone, limit=query.limit)
    if query.format != "pdf":
        return shown
    page = pack.summary_html(
        session=session,
        subject=subject,
        records=[e.model_dump() for e in shown.timeline],
        found=[f.model_dump() for f in shown.findings],
        integrity=shown.integrity,
        now=now,
        zone=zone,
    )
    name = f"evidence-{subject.type}-{subject.id}-{now:%Y%m%dT%H%M%SZ}.pdf"
    return Response(
        printing.pdf(page),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/complaints/{complaint_id}/evidence", response_model=Timeline, responses=PDF)
def complaint_evidence(
    complaint_id: IdPath,
    session: SessionDep,
    principal: ReaderDep,
    settings: SettingsDep,
    keyring: KeyringDep,
    now: NowDep,
    query: Annotated[TimelineQuery, Query()],
) -> Timeline | Response:
    """What the sensors, alarms, orders, desk and patrols recorded about a complaint."""
    complaint = get_complaint(
        session=session, complaint_id=complaint_id, site_ids=principal.site_ids
    )
    subject = timeline.for_complaint(session=session, complaint=complaint, now=now)
    return answer(
        session=session, subject=subject, keyring=keyring, zone=settings.zone, query=query, now=now
    )


@router.get("/work-orders/{order_id}/evidence", response_model=Timeline, responses=PDF)
def work_order_evidence(
    order_id: IdPath,
    session: SessionDep,
    principal: ReaderDep,
    settings: SettingsDep,
    keyring: KeyringDep,
    now: NowDep,
    query: Annotated[TimelineQuery, Query()],
) -> Timeline | Response:
    """What was recorded about a work order, its alarms' devices and its complaints."""
    order = get_order(session=session, order_id=order_id, site_ids=principal.site_ids)
    subject = timeline.for_order(session=session, order=order, now=now)
    return answer(
        session=session, subject=subject, keyring=keyring, zone=settings.zone, query=query, now=now
    )


def device_window(
    since: datetime | None, until: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """A device window: default the 24 hours before `until` (default now)."""
    end = until or now
    start = since or end - DEFAULT_WINDOW
    if end <= start:
        raise InvalidInput("until must be after since", details={"field": "until"})
    if end - start > timedelta(days=31):
        raise InvalidInput("a window is at most 31 days", details={"field": "since"})
    return start, end


@router.get("/devices/{device_id}/evidence", response_model=Timeline, responses=PDF)
def device_evidence(
    device_id: str,
    session: SessionDep,
    principal: ReaderDep,
    settings: SettingsDep,
    keyring: KeyringDep,
    now: NowDep,
    query: Annotated[WindowQuery, Query()],
) -> Timeline | Response:
    """What one device recorded in a window, with its alarms and the patrols there."""
    device = get_device(session=session, device_id=device_id, site_ids=principal.site_ids)
    since, until = device_window(query.since, query.until, now)
    subject = timeline.for_device(device=device, since=since, until=until)
    return answer(
        session=session, subject=subject, keyring=keyring, zone=settings.zone, query=query, now=now
    )


@router.get("/evidence/public-key", response_model=PublicKeyOut)
def public_key(principal: PrincipalDep, keyring: KeyringDep) -> PublicKeyOut:
    """The hub's Ed25519 public key (base64 of the raw key) and its id, with earlier keys."""
    keys = [
        {"key_id": k.key_id, "public_key": k.public_key, "created_at": k.created_at,
         "current": k.key_id == keyring.current}
        for k in keyring.public_keys().values()
    ]  # fmt: skip
    return PublicKeyOut(
        algorithm=ALGORITHM, key_id=keyring.current, public_key=keyring.public_key, keys=keys
    )


@router.get("/evidence/check", response_model=CheckOut)
def check(
    session: SessionDep,
    principal: ManagerDep,
    settings: SettingsDep,
    keyring: KeyringDep,
    query: Annotated[CheckQuery, Query()],
) -> CheckOut:
    """Walk every stored chain and checkpoint of the caller's sites; the first broken link of
    each device."""
    if query.site is not None and not principal.sees(query.site):
        raise NotFound(f"site {query.site!r} not found")
    sites = [query.site] if query.site else sorted(principal.site_ids)
    found = [
        check_site(session=session, site_id=s, keyring=keyring, zone=settings.zone) for s in sites
    ]
    out: list[dict[str, Any]] = [
        {"site": c.site_id, "ok": c.ok, "checkpoints": c.checkpoints, "devices": len(c.devices),
         "problems": c.problems()}
        for c in found
    ]  # fmt: skip
    problems = [p for c in found for p in c.problems()]
    return CheckOut(ok=not problems, sites=out, problems=problems)


def subject_of(
    *, session: Session, body: ExportIn, principal: Principal, now: datetime
) -> timeline.Subject:
    """The subject an export request names, in the caller's sites."""
    if body.complaint_id is not None:
        complaint = get_complaint(
            session=session, complaint_id=body.complaint_id, site_ids=principal.site_ids
        )
        return timeline.for_complaint(session=session, complaint=complaint, now=now)
    if body.work_order_id is not None:
        order = get_order(session=session, order_id=body.work_order_id, site_ids=principal.site_ids)
        return timeline.for_order(session=session, order=order, now=now)
    assert body.device_id is not None
    device = get_device(session=session, device_id=body.device_id, site_ids=principal.site_ids)
    since, until = device_window(body.since, body.until, now)
    return timeline.for_device(device=device, since=since, until=until)


@router.post(
    "/evidence/exports",
    status_code=status.HTTP_201_CREATED,
    response_class=Response,
    responses={201: {"content": {"application/zip": {}}, "description": "The pack (ZIP)."}},
)
def export(
    body: ExportIn,
    session: SessionDep,
    principal: ManagerDep,
    settings: SettingsDep,
    keyring: KeyringDep,
    now: NowDep,
) -> Response:
    """Make a pack a manager can hand over; `fhub evidence verify` checks it offline."""
    subject = subject_of(session=session, body=body, principal=principal, now=now)
    made = pack.build(
        session=session, subject=subject, keyring=keyring, now=now, zone=settings.zone,
        actor=principal.name, photos=Store(settings.attachments_root),
    )  # fmt: skip
    session.commit()
    name = f"evidence-{subject.type}-{subject.id}-{now:%Y%m%dT%H%M%SZ}.zip"
    return Response(
        made.data,
        status_code=status.HTTP_201_CREATED,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Evidence-Sha256": made.sha256,
            "X-Evidence-Export": str(made.export_id),
        },
    )


@router.get("/evidence/checkpoints", response_model=CheckpointsOut)
def list_checkpoints(
    session: SessionDep, principal: ManagerDep, query: Annotated[CheckpointsQuery, Query()]
) -> CheckpointsOut:
    """A site's signed checkpoints with their heads, for a witness to co-sign."""
    if not principal.sees(query.site):
        raise NotFound(f"site {query.site!r} not found")
    rows = checkpoints.after(
        session=session, site_id=query.site, seq=query.after, limit=query.limit
    )
    return CheckpointsOut(items=[checkpoints.shown_to_witness(r) for r in rows])


@router.post(
    "/evidence/checkpoints/{seq}/cosignatures",
    status_code=status.HTTP_201_CREATED,
    response_model=dict[str, str],
)
def cosign(
    seq: IdPath, body: CosignIn, session: SessionDep, principal: ManagerDep, now: NowDep
) -> dict[str, str]:
    """Keep a witness's co-signature of a checkpoint; one that does not verify is refused."""
    if not principal.sees(body.site):
        raise NotFound(f"site {body.site!r} not found")
    kept = checkpoints.add_cosignature(
        session=session, site_id=body.site, seq=seq, now=now,
        cosigned={"witness": body.witness, "public_key": body.public_key,
                  "signature": body.signature},
    )  # fmt: skip
    session.commit()
    return {"witness": kept.witness, "checkpoint": str(seq)}
