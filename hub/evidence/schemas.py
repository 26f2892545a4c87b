"""Pydantic shapes of evidence in the API (CONTRACT.md §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from hub.inputs import Id, Input, When


class WindowQuery(Input):
    """Query of `GET /devices/{id}/evidence`: the window (default the last 24 hours)."""

    since: When | None = None
    until: When | None = None
    limit: int = Field(5000, ge=1, le=50_000, description="Signals at most.")
    format: Literal["json", "pdf"] = Field("json", description="`pdf`: the printable report.")


class TimelineQuery(Input):
    """Query of the complaint and work-order timelines."""

    limit: int = Field(5000, ge=1, le=50_000, description="Signals at most.")
    format: Literal["json", "pdf"] = Field("json", description="`pdf`: the printable report.")


class CheckQuery(Input):
    """Query of `GET /evidence/check`."""

    site: str | None = Field(None, max_length=64)


class ExportIn(Input):
    """`POST /evidence/exports`: what the pack is about (one of complaint, order, device)."""

    complaint_id: Id | None = None
    work_order_id: Id | None = None
    device_id: str | None = Field(None, min_length=1, max_length=64)
    since: When | None = None
    until: When | None = None

    @model_validator(mode="after")
    def _one_subject(self) -> ExportIn:
        given = [self.complaint_id, self.work_order_id, self.device_id]
        if sum(v is not None for v in given) != 1:
            raise ValueError("give exactly one of complaint_id, work_order_id, device_id")
        if self.device_id is None and (self.since or self.until):
            raise ValueError("since and until are for a device's pack")
        return self


class Finding(BaseModel):
    """A fact that settles the question, in Chinese and English, and the records it rests on."""

    kind: str
    at: datetime
    at_local: str
    statement: str
    statement_en: str
    refs: list[dict[str, Any]]
    decisive: bool


class TimelineEntry(BaseModel):
    """One thing that happened."""

    at: datetime
    at_local: str
    type: str
    ref: dict[str, Any]
    device_id: str | None
    summary: str
    data: dict[str, Any]
    digest: str | None
    channel: str | None = None
    received_at: datetime | None = None
    """When the hub took a signal (the chain covers it); `at` is the device's own `ts`."""
    late: bool = False
    """A signal taken more than 5 minutes after its `ts`."""


class Timeline(BaseModel):
    """An evidence timeline with its findings and its integrity block."""

    subject: dict[str, Any]
    window: dict[str, Any]
    findings: list[Finding]
    timeline: list[TimelineEntry]
    truncated: bool
    integrity: dict[str, Any]


class PublicKeyOut(BaseModel):
    """The hub's public key in use, and every earlier one (they verify older checkpoints)."""

    algorithm: str
    key_id: str
    public_key: str
    keys: list[dict[str, Any]]


class CheckOut(BaseModel):
    """What a check of the stored chains and checkpoints found."""

    ok: bool
    sites: list[dict[str, Any]]
    problems: list[str]


class CheckpointsQuery(Input):
    """Query of `GET /evidence/checkpoints`: a site's checkpoints after `after` (a witness's
    last), oldest first."""

    site: str = Field(min_length=1, max_length=64)
    after: int = Field(0, ge=0, le=2**31 - 1)
    limit: int = Field(100, ge=1, le=1000)


class CosignIn(Input):
    """`POST /evidence/checkpoints/{seq}/cosignatures`: a witness's co-signature."""

    site: str = Field(min_length=1, max_length=64)
    witness: str = Field(min_length=16, max_length=16, pattern="^[0-9a-f]{16}$")
    public_key: str = Field(min_length=44, max_length=44, pattern="^[A-Za-z0-9+/]{43}=$")
    signature: str = Field(min_length=88, max_length=88, pattern="^[A-Za-z0-9+/]{86}==$")


class CheckpointsOut(BaseModel):
    """Checkpoints as a witness reads them: statement, signature, heads, digest."""

    items: list[dict[str, Any]]
