"""Intake: a contact recorded in the ledger, classified, checked against the repeat rule.

The desk types the ledger fields (DOMAIN.md: recording a complaint); the hub finds the
owner and the place, classifies the text, registers it within the minute, marks a repeat
of the same problem by the same owner or unit (which makes it a complaint), and escalates
at once when the text or the desk's flags call for management. Staff may correct the
classification later; each correction is kept for statistics.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from hub.cases.service import remark
from hub.complaints import escalation, workflow
from hub.complaints.classify import Classification, LocationContext, classify, location_from_text
from hub.complaints.enums import (
    Category,
    Channel,
    ComplaintSeverity,
    Kind,
    Party,
    Responsibility,
    Status,
    Step,
)
from hub.complaints.models import (
    ClassificationOverride,
    Complaint,
    ComplaintDeadline,
    ComplaintEvent,
)
from hub.complaints.places import PlaceRead, read_place
from hub.complaints.policy import NEXT_STEP, ComplaintPolicy
from hub.errors import InvalidInput, NotFound
from hub.localtime import shown
from hub.registry.enums import DeviceKind, LocationKind
from hub.registry.models import Location, Owner
from hub.registry.service import find_location, split_path

logger = logging.getLogger(__name__)

S = Status


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


def normalise_phone(phone: str | None) -> str | None:
    """Digits only, without the +86 country code; None when nothing is left."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits or None


def _known(
    session: Session, site_id: str, path: str | None, field_name: str, notes: list[str]
) -> Location | None:
    """The registry node at `path`; an unknown path gives its nearest known ancestor.

    The desk may type a unit or place the registry does not have yet (a new unit, a typo
    in the room number): the complaint is still recorded, at the nearest place above it,
    and the reasons say so.
    """
    if not path:
        return None
    try:
        return find_location(session=session, site_id=site_id, path=path)
    except NotFound:
        pass
    nearest = _deepest_known(session, site_id, path)
    if nearest is None:
        notes.append(f"{field_name} {path} is not in the registry, nor any place above it")
    else:
        notes.append(
            f"{field_name} {path} is not in the registry: nearest known place {nearest.path}"
        )
    return nearest


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


def place_in_text(session: Session, site_id: str, content: str) -> PlaceRead | None:
    """The place the owner's words name, and what the registry has of it.

    The one reading of places in text: intake and the desk's typing-time look-up both
    call it. Area words are matched against the site's areas through their codes and,
    for areas, their registry names (an area named 「垃圾房」 is found by that name).
    """

    def exists(path: str) -> bool:
        found = session.scalar(
            select(Location.id).where(Location.site_id == site_id, Location.path == path)
        )
        return found is not None

    def areas(under: str | None) -> list[str]:
        query = select(Location.path).where(
            Location.site_id == site_id, Location.kind != LocationKind.unit
        )
        if under is not None:
            query = query.where(Location.path >= f"{under}/", Location.path < f"{under}0")
        return list(session.scalars(query))

    read = read_place(content[:10_000], exists=exists, areas=areas, numbered=location_from_text)
    if read is not None:
        return read
    return _area_by_name(session, site_id, content[:10_000])


_NAME_PARTS = re.compile(r"[\u4e00-\u9fff]{2,}|[a-z][a-z' -]*[a-z]")


def _area_by_name(session: Session, site_id: str, content: str) -> PlaceRead | None:
    """An area whose registry name, or one of its aliases, the text says.

    A name gives its Chinese and English parts and the aliases listed in it (「垃圾房/垃圾站
    Refuse room/bin store」): each is matched whole, English as whole words.
    """
    folded = content.casefold()
    best: PlaceRead | None = None
    for path, name in session.execute(
        select(Location.path, Location.name).where(
            Location.site_id == site_id, Location.kind == LocationKind.area
        )
    ):
        for word in _NAME_PARTS.findall(name.casefold()):
            word = word.strip()
            said = (
                re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", folded) is not None
                if word.isascii()
                else word in folded
            )
            long_enough = len(word) >= 4 or not word.isascii()
            if said and long_enough and (best is None or len(path) > len(best.path or "")):
                best = PlaceRead(path, word, path, False)
    return best


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


@dataclass
class _Parties:
    """Who complains and where: found from the ledger fields, the registry and the text."""

    owner: Owner | None
    phone: str | None
    unit: Location | None
    where: Location | None
    from_text: Location | None
    notes: list[str]
    unit_text: str | None = None
    home: str | None = None
    """A unit the registry does not know, as a path: the place is somebody's home."""


def _parties(session: Session, intake: Intake, content: str) -> _Parties:
    phone = normalise_phone(intake.complainant_phone)
    owner = _owner(session, intake, phone)
    notes: list[str] = []
    unit = _known(session, intake.site_id, intake.unit, "unit", notes)
    near_unit: Location | None = None
    if unit is not None and intake.unit and unit.path != "/".join(split_path(intake.unit)):
        unit, near_unit = None, unit  # a floor is not the complainant's unit
    place = _known(session, intake.site_id, intake.location, "location", notes)
    exact = place is not None and place.path == "/".join(split_path(intake.location or ""))
    typed = "/".join(split_path(intake.unit)) if intake.unit else None
    unit_text = intake.unit.strip() if intake.unit and unit is None else None
    home = typed if unit_text and typed and len(typed.split("/")) >= 3 else None
    if owner is not None:
        unit = unit or owner.unit
        phone = phone or normalise_phone(owner.phone)
    from_text: Location | None = None
    if not exact:
        # No place given, or one the registry lacks: what the text names, if more precise.
        read = place_in_text(session, intake.site_id, content)
        found = (
            find_location(session=session, site_id=intake.site_id, path=read.path)
            if read is not None and read.path is not None
            else None
        )
        if found is not None and (place is None or found.path.startswith(place.path + "/")):
            from_text = found
        if read is not None and read.home and not read.known and unit is None:
            unit_text, home = unit_text or read.words, home or read.wanted
            notes.append(f"unit {read.why}")
    where = from_text or place or unit or near_unit
    return _Parties(owner, phone, unit, where, from_text, notes, unit_text, home)


def _received_at(intake: Intake, now: datetime) -> datetime:
    received_at = intake.received_at or now
    if received_at.tzinfo is None:
        raise InvalidInput("received_at needs a time zone", details={"field": "received_at"})
    if received_at > now + FUTURE_SKEW:
        raise InvalidInput("received_at is in the future", details={"field": "received_at"})
    return received_at


def _entry(
    intake: Intake,
    *,
    content: str,
    parties: _Parties,
    received_at: datetime,
    actor: str,
    actor_id: int | None,
    now: datetime,
) -> Complaint:
    """The ledger entry, classified, before it is registered."""
    where = parties.where
    context = LocationContext(where.path, where.kind) if where is not None else None
    if parties.home is not None:
        context = LocationContext(parties.home, LocationKind.unit)  # a home, not a common area
    result = classify(content, location=context)
    owner = parties.owner
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
        complainant_phone=parties.phone,
        unit=parties.unit,
        unit_text=parties.unit_text,
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
    notes = list(parties.notes)
    if parties.from_text is not None:
        notes.append(f"location {parties.from_text.path} found in the registry")
    if notes:
        complaint.reasons = [*complaint.reasons, *notes]
    return complaint


def _registered(
    complaint: Complaint, *, intake: Intake, policy: ComplaintPolicy, actor: str, now: datetime
) -> None:
    """Record the receipt and meet the registration deadline (within a minute of receipt)."""
    received_at = complaint.received_at
    complaint.history.append(
        ComplaintEvent(
            at=now,
            actor=actor,
            action="received",
            to_status=S.received,
            note=f"{intake.kind} by {intake.channel}, received {shown(received_at, policy.zone)}",
        )
    )
    # 所有电话必须登记, 一分钟内登记: every call is registered, within a minute.
    complaint.deadlines.append(
        ComplaintDeadline(
            step=Step.registered,
            cycle=0,
            started_at=received_at,
            due_at=received_at + policy.allowed(Step.registered),
        )
    )
    workflow.meet(complaint, policy=policy, step=Step.registered, now=now, actor=actor)
    workflow.start(complaint, policy=policy, step=NEXT_STEP[S.received], now=now)


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
    received_at = _received_at(intake, now)
    parties = _parties(session, intake, content)
    complaint = _entry(
        intake,
        content=content,
        parties=parties,
        received_at=received_at,
        actor=actor,
        actor_id=actor_id,
        now=now,
    )
    session.add(complaint)
    _registered(complaint, intake=intake, policy=policy, actor=actor, now=now)
    session.flush()

    _apply_repeat_rule(session=session, policy=policy, complaint=complaint, actor=actor, now=now)
    triggers = escalation.escalation_triggers(
        policy=policy,
        text=content,
        media_exposure=intake.media_exposure,
        reputational_damage=intake.reputational_damage,
        loss_amount=intake.loss_amount,
    )
    if triggers:
        escalation.escalate(
            session=session, complaint=complaint, triggers=triggers, actor=actor, now=now
        )
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
    remark(
        complaint,
        ComplaintEvent,
        action="reclassified",
        actor=actor,
        at=now,
        note=f"{summary}; {reason}",
    )
    session.flush()
    return records
