"""Every ORM model of the hub, imported in one place for metadata and migrations."""

from hub.alarms.models import Alarm, RuleState
from hub.attachments.models import Attachment, AttachmentLink
from hub.auth.models import ApiToken, User, UserSite, WebSession
from hub.complaints.models import (
    ClassificationOverride,
    Complaint,
    ComplaintDeadline,
    ComplaintEvent,
    ComplaintWorkOrder,
    Escalation,
    PhraseHit,
    Reply,
    UnifiedAnswer,
)
from hub.correlation.models import CorrelationLink, FirstResponse, Reaction
from hub.db import Base
from hub.evidence.models import Checkpoint, Cosignature, Export
from hub.forecasts.models import Forecast, ForecastCursor
from hub.inspections.models import (
    Discrepancy,
    Inspection,
    InspectionDevice,
    InspectionItem,
    InspectionRound,
    InspectionRoute,
    RoundDeadline,
    RoundEvent,
    RouteCheckpoint,
)
from hub.live.models import LiveEvent
from hub.notices.models import Notice
from hub.outbox.models import OutboxMessage
from hub.parts.models import Part, PartMovement
from hub.registry.models import (
    BrokerCredential,
    Device,
    Location,
    Owner,
    QuarantinedDevice,
    Site,
)
from hub.reports.models import JobRun, ReportRun
from hub.retention.models import PrunedRun
from hub.signals.models import DeadLetter, DeviceState, Signal
from hub.workorders.models import Deadline, WorkOrder, WorkOrderEvent

__all__ = [
    "Attachment",
    "AttachmentLink",
    "Checkpoint",
    "Cosignature",
    "Discrepancy",
    "Export",
    "Inspection",
    "InspectionDevice",
    "InspectionItem",
    "InspectionRoute",
    "InspectionRound",
    "RoundDeadline",
    "RoundEvent",
    "RouteCheckpoint",
    "CorrelationLink",
    "FirstResponse",
    "LiveEvent",
    "Notice",
    "OutboxMessage",
    "Reaction",
    "ClassificationOverride",
    "Complaint",
    "ComplaintDeadline",
    "ComplaintEvent",
    "ComplaintWorkOrder",
    "Escalation",
    "PhraseHit",
    "Reply",
    "Alarm",
    "DeadLetter",
    "DeviceState",
    "RuleState",
    "Signal",
    "ApiToken",
    "Deadline",
    "Device",
    "Location",
    "Owner",
    "PrunedRun",
    "Site",
    "User",
    "UserSite",
    "WebSession",
    "WorkOrder",
    "WorkOrderEvent",
    "BrokerCredential",
    "QuarantinedDevice",
    "UnifiedAnswer",
    "ReportRun",
    "JobRun",
    "Forecast",
    "ForecastCursor",
    "Part",
    "PartMovement",
]


def import_all_models() -> type[Base]:
    """Make `Base.metadata` complete (importing this module does it) and return the base."""
    return Base
