"""Pydantic shapes of attachments in and out of the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from hub.attachments.models import Attachment


class AttachmentOut(BaseModel):
    """A stored photo."""

    id: int
    site: str
    sha256: str
    content_type: str
    bytes: int
    width: int
    height: int
    taken_at: datetime | None
    uploaded_at: datetime
    uploaded_by: str

    @classmethod
    def build(cls, row: Attachment) -> AttachmentOut:
        """The API view of `row`."""
        return cls(
            id=row.id,
            site=row.site_id,
            sha256=row.sha256,
            content_type=row.content_type,
            bytes=row.bytes,
            width=row.width,
            height=row.height,
            taken_at=row.taken_at,
            uploaded_at=row.uploaded_at,
            uploaded_by=row.uploaded_by,
        )
