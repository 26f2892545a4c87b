"""ORM models of attachments: a stored photo, and what it is attached to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import Base


class Attachment(Base):
    """A photo uploaded to a site; its file lies under the store by its SHA-256."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("site_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(16))
    bytes: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    taken_at: Mapped[datetime | None]
    """When the camera says the photo was taken (EXIF), if it says."""
    uploaded_at: Mapped[datetime]
    uploaded_by: Mapped[str] = mapped_column(String(128))

    links: Mapped[list[AttachmentLink]] = relationship(
        back_populates="attachment", cascade="all, delete-orphan", order_by="AttachmentLink.id"
    )


class AttachmentLink(Base):
    """A photo attached to a complaint (or one of its replies), an order's move or a patrol entry.

    Exactly one owner is set (a reply also names its complaint, a move its order), so an
    evidence timeline finds a case's photos by the case's id.
    """

    __tablename__ = "attachment_links"
    __table_args__ = (
        Index(None, "complaint_id"),
        Index(None, "work_order_id"),
        Index(None, "inspection_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachments.id", ondelete="RESTRICT"), index=True
    )
    complaint_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE")
    )
    reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaint_replies.id", ondelete="CASCADE")
    )
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE")
    )
    work_order_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_order_events.id", ondelete="CASCADE")
    )
    inspection_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE")
    )
    linked_at: Mapped[datetime]
    linked_by: Mapped[str] = mapped_column(String(128))

    attachment: Mapped[Attachment] = relationship(back_populates="links", lazy="joined")

    @property
    def owner(self) -> tuple[str, int]:
        """What the photo is attached to, most specific first: (type, id)."""
        for kind, value in (
            ("complaint_reply", self.reply_id),
            ("work_order_event", self.work_order_event_id),
            ("inspection", self.inspection_id),
            ("complaint", self.complaint_id),
            ("work_order", self.work_order_id),
        ):
            if value is not None:
                return kind, value
        return "attachment", self.attachment_id
