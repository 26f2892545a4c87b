"""Pydantic shapes of patrol logs: entries, routes, rounds and discrepancies in the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictBool, field_validator, model_validator

from hub.inputs import INT32_MAX, Id, Input, When
from hub.inspections.enums import STATES_OF, Item, RoundStatus, State
from hub.inspections.models import Discrepancy, Inspection, InspectionRound, RouteCheckpoint

Name = Annotated[str, Field(min_length=1, max_length=128)]
Path = Annotated[str, Field(min_length=1, max_length=400)]
DeviceId = Annotated[str, Field(min_length=1, max_length=64)]


class ItemIn(Input):
    """One line of an entry: what was checked and what the inspector saw."""

    item: Item
    state: State
    note: str = Field("", max_length=1000)

    @model_validator(mode="after")
    def _state_applies(self) -> ItemIn:
        allowed = STATES_OF[self.item]
        if self.state not in allowed:
            raise ValueError(
                f"state {self.state.value!r} does not apply to {self.item.value!r}; "
                f"use {' or '.join(sorted(allowed))}"
            )
        return self


class InspectionIn(Input):
    """`POST /inspections`: a patrol log entry (CONTRACT.md §4)."""

    site: str | None = Field(None, max_length=64)
    location: Path | None = None
    device_id: DeviceId | None = None
    inspector: Name
    observed_at: When
    items: list[ItemIn] = Field(min_length=1, max_length=20)
    route: int | str | None = Field(None, description="The route's id or name.")
    attachment_ids: list[Id] = Field(
        default_factory=list, max_length=20, description="Photos from POST /attachments."
    )
    scanned: StrictBool = Field(
        False, description="The checkpoint was opened by scanning its QR code."
    )

    @field_validator("route", mode="before")
    @classmethod
    def _route_ref(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a route id (1 to 2147483647) or name")
        if isinstance(value, int) and not 1 <= value <= INT32_MAX:
            raise ValueError("a route id is between 1 and 2147483647")
        if isinstance(value, str) and not 1 <= len(value) <= 64:
            raise ValueError("a route name has 1 to 64 characters")
        if value is not None and not isinstance(value, int | str):
            raise ValueError("a route id (1 to 2147483647) or name")
        return value

    @model_validator(mode="after")
    def _one_place(self) -> InspectionIn:
        if (self.location is None) == (self.device_id is None):
            raise ValueError("give exactly one of `location` and `device_id`")
        seen = [i.item for i in self.items if i.item != Item.other]
        if len(seen) != len(set(seen)):
            raise ValueError("an item is listed twice")
        return self


class CheckpointIn(Input):
    """A checkpoint of a route: a place or a device, and what is checked there."""

    location: Path | None = None
    device_id: DeviceId | None = None
    items: list[Item] = Field(min_length=1, max_length=7)

    @model_validator(mode="after")
    def _one_place(self) -> CheckpointIn:
        if (self.location is None) == (self.device_id is None):
            raise ValueError("give exactly one of `location` and `device_id`")
        return self


class RouteIn(Input):
    """`POST /inspections/routes`: a patrol route walked every `interval_minutes`."""

    site: str | None = Field(None, max_length=64)
    name: Annotated[str, Field(min_length=1, max_length=64)]
    interval_minutes: int = Field(ge=5, le=7 * 24 * 60)
    grace_minutes: int = Field(15, ge=0, le=24 * 60)
    checkpoints: list[CheckpointIn] = Field(min_length=1, max_length=200)


class InspectionQuery(Input):
    """Query of `GET /inspections` and `GET /inspections/discrepancies`."""

    site: str | None = Field(None, max_length=64)
    since: When | None = None
    until: When | None = None
    limit: int = Field(200, ge=1, le=2000)


class RoundQuery(Input):
    """Query of `GET /inspections/rounds`."""

    site: str | None = Field(None, max_length=64)
    status: list[RoundStatus] = Field(default_factory=list)
    limit: int = Field(200, ge=1, le=2000)


class EvidenceOut(BaseModel):
    """A signal (or an alarm) cited by a discrepancy."""

    at: datetime
    values: dict[str, Any]
    digest: str | None
    received_at: datetime | None = None
    """When the hub took the signal (the chain covers it)."""
    late: bool = False
    """Taken more than 5 minutes after its own time."""


class DiscrepancyOut(BaseModel):
    """An item of an entry the sensors contradict (CONTRACT.md §4)."""

    inspection_id: int
    item: str
    claimed: str
    observed: str
    device_id: str
    at: datetime
    reason: str
    evidence: list[EvidenceOut]

    @classmethod
    def build(cls, row: Discrepancy) -> DiscrepancyOut:
        """The API view of `row`."""
        return cls(
            inspection_id=row.inspection_id,
            item=row.item,
            claimed=row.claimed,
            observed=row.observed,
            device_id=row.device_id,
            at=row.at,
            reason=row.reason,
            evidence=[EvidenceOut.model_validate(e) for e in row.evidence],
        )


class ItemOut(BaseModel):
    """One line of an entry and the sensors' verdict on it."""

    item: str
    state: str
    note: str
    verdict: str


class InspectionOut(BaseModel):
    """A patrol log entry with its discrepancies."""

    id: int
    site: str
    route_id: int | None
    location: str | None
    device_id: str | None
    inspector: str
    observed_at: datetime
    recorded_at: datetime
    recorded_by: str
    source: str
    checked_at: datetime
    items: list[ItemOut]
    discrepancies: list[DiscrepancyOut]
    attachment_ids: list[int] = Field(default_factory=list)

    @classmethod
    def build(cls, row: Inspection, attachment_ids: list[int] | None = None) -> InspectionOut:
        """The API view of `row`."""
        return cls(
            id=row.id,
            site=row.site_id,
            route_id=row.route_id,
            location=row.location.path if row.location else None,
            device_id=row.device_id,
            inspector=row.inspector,
            observed_at=row.observed_at,
            recorded_at=row.recorded_at,
            recorded_by=row.recorded_by,
            source=row.source,
            checked_at=row.checked_at,
            items=[
                ItemOut(item=i.item, state=i.state, note=i.note, verdict=i.verdict)
                for i in row.items
            ],
            discrepancies=[DiscrepancyOut.build(d) for d in row.discrepancies],
            attachment_ids=attachment_ids or [],
        )


class DiscrepancyPage(BaseModel):
    """Contradicted entries in a window, and how many per inspector and per route."""

    items: list[DiscrepancyOut]
    by_inspector: dict[str, int]
    by_route: dict[str, int]


class CheckpointOut(BaseModel):
    """A checkpoint of a route."""

    id: int
    location: str | None
    device_id: str | None
    items: list[str]

    @classmethod
    def build(cls, row: RouteCheckpoint) -> CheckpointOut:
        """The API view of `row`."""
        return cls(
            id=row.id,
            location=row.location.path if row.location else None,
            device_id=row.device_id,
            items=row.items,
        )


class RouteOut(BaseModel):
    """A patrol route."""

    id: int
    site: str
    name: str
    interval_minutes: int
    grace_minutes: int
    active: bool
    checkpoints: list[CheckpointOut]


class RoundOut(BaseModel):
    """One round of a route: its period, where it stands, which checkpoints were walked."""

    id: int
    route_id: int
    route: str
    status: str
    period_start: datetime
    period_end: datetime
    due_at: datetime | None
    breached: bool
    visited: list[int]
    checkpoints: int

    @classmethod
    def build(cls, row: InspectionRound) -> RoundOut:
        """The API view of `row`."""
        deadline = row.deadlines[-1] if row.deadlines else None
        return cls(
            id=row.id,
            route_id=row.route_id,
            route=row.route.name,
            status=row.status,
            period_start=row.period_start,
            period_end=row.period_end,
            due_at=deadline.due_at if deadline else None,
            breached=bool(deadline and deadline.breached_at),
            visited=row.visited,
            checkpoints=len(row.route.checkpoints),
        )
