"""Vocabulary of the complaint desk: workflow states, channels, kinds, severity, labels."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Workflow states of a complaint (DOMAIN.md's nine steps, plus hold and withdrawal)."""

    received = "received"
    verified = "verified"
    investigating = "investigating"
    assigned = "assigned"
    remedy_proposed = "remedy_proposed"
    replied = "replied"
    implementing = "implementing"
    resolved = "resolved"
    callback = "callback"
    archived = "archived"
    on_hold = "on_hold"
    withdrawn = "withdrawn"


class Channel(StrEnum):
    """How the contact reached the desk."""

    phone = "phone"
    visit = "visit"
    proxy = "proxy"
    letter = "letter"
    suggestion_box = "suggestion_box"
    staff = "staff"
    fax = "fax"
    email = "email"
    online = "online"


class Kind(StrEnum):
    """The five kinds of contact at the desk."""

    inquiry = "inquiry"
    help = "help"
    repair = "repair"
    complaint = "complaint"
    suggestion = "suggestion"


class ComplaintSeverity(StrEnum):
    """How serious the case is, as assessed by the desk (or raised by escalation)."""

    low = "low"
    normal = "normal"
    high = "high"
    critical = "critical"


class Step(StrEnum):
    """Workflow steps with a deadline; each is met when the case reaches the state named."""

    registered = "registered"
    verified = "verified"
    investigating = "investigating"
    assigned = "assigned"
    remedy_proposed = "remedy_proposed"
    replied = "replied"
    implementing = "implementing"
    resolved = "resolved"
    callback = "callback"
    archived = "archived"


class CallbackOutcome(StrEnum):
    """What the owner said on the callback visit (回访)."""

    satisfied = "satisfied"
    not_satisfied = "not_satisfied"


class ReplyPurpose(StrEnum):
    """Why the desk spoke to the owner."""

    acknowledgement = "acknowledgement"
    responsibility = "responsibility"
    remedy = "remedy"
    progress = "progress"
    explanation = "explanation"
    callback = "callback"


class Responsibility(StrEnum):
    """Whose problem it is (物业纠纷 / 非物业纠纷)."""

    property = "property"
    non_property = "non_property"
    undetermined = "undetermined"


class Party(StrEnum):
    """The outside party of a non-property complaint."""

    developer = "developer"
    utility = "utility"
    government = "government"
    neighbour = "neighbour"


class Category(StrEnum):
    """What the complaint is about (the causes of DOMAIN.md)."""

    facility = "facility"
    sanitation = "sanitation"
    security_order = "security_order"
    service_attitude = "service_attitude"
    fees = "fees"
    community_activity = "community_activity"
    emergency = "emergency"
    neighbour_relations = "neighbour_relations"
    other = "other"


class Trigger(StrEnum):
    """Why a complaint goes straight to management (DOMAIN.md: escalate at once)."""

    media_exposure = "media_exposure"
    direct_loss = "direct_loss"
    reputational_damage = "reputational_damage"


class HotDimension(StrEnum):
    """How the weekly statistics of hot complaints (热点投诉) group the week's cases."""

    category = "category"
    cause = "cause"
    """Whose problem it is: `property`, or `non_property:developer` and the like."""
    location = "location"
    """The building and floor (`3/12`), or the area, the case is about."""
    device_kind = "device_kind"
