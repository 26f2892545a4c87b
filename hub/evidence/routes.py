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
from hub.evidence import checkpoints, pack, timeline
from hub.evidence.canonical import canonical
from hub.evidence.deps import KeyringDep, ManagerDep, ReaderDep
from hub.evidence.flows import check_site
from hub.evidence.keys import ALGORITHM, Keyring
from hub.evidence.schemas import (
    CheckOut,
    CheckQuery,
    ExportIn,
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
    jsonable = [{**r, "at": r["at"].isoformat()} for r in rows]
    integrity["manifest_digest"] = hashlib.sha256(canonical(jsonable)).hexdigest()
    integrity["signature"] = statement.get("signature")
    return Timeline(
        subject={"type": subject.type, "id": subject.id},
        window={"since": subject.since, "until": subject.until},
        timeline=[TimelineEntry.model_validate(r) for r in rows],
        truncated=truncated,
        integrity=integrity,
    )


@router.get("/complaints/{complaint_id}/evidence", response_model=Timeline)
def complaint_evidence(
    complaint_id: IdPath,
    session: SessionDep,
    principal: ReaderDep,
    settings: SettingsDep,
    keyring: KeyringDep,
    now: NowDep,
    query: Annotated[TimelineQuery, Query()],
) -> Timeline:
    """What the sensors, alarms, orders, desk and patrols recorded about a complaint."""
    complaint = get_complaint(
        session=session, complaint_id=complaint_id, site_ids=principal.site_ids
    )
    subject = timeline.for_complaint(session=session, complaint=complaint, now=now)
    return show(
        session=session, subject=subject, keyring=keyring, zone=settings.zone, limit=query.limit
    )


@router.get("/work-orders/{order_id}/evidence", response_model=Timeline)
def work_order_evidence(
    order_id: IdPath,
    session: SessionDep,
    principal: ReaderDep,
    settings: SettingsDep,
    keyring: KeyringDep,
    now: NowDep,
    query: Annotated[TimelineQuery, Query()],
) -> Timeline:
    """What was recorded about a work order, its alarms' devices and its complaints."""
    order = get_order(session=session, order_id=order_id, site_ids=principal.site_ids)
    subject = timeline.for_order(session=session, order=order, now=now)
    return show(
        session=session, subject=subject, keyring=keyring, zone=settings.zone, limit=query.limit
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


@router.get("/devices/{device_id}/evidence", response_model=Timeline)
def device_evidence(
    device_id: str,
    session: SessionDep,
    principal: ReaderDep,
    settings: SettingsDep,
    keyring: KeyringDep,
    now: NowDep,
    query: Annotated[WindowQuery, Query()],
) -> Timeline:
    """What one device recorded in a window, with its alarms and the patrols there."""
    device = get_device(session=session, device_id=device_id, site_ids=principal.site_ids)
    since, until = device_window(query.since, query.until, now)
    subject = timeline.for_device(device=device, since=since, until=until)
    return show(
        session=session, subject=subject, keyring=keyring, zone=settings.zone, limit=query.limit
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
