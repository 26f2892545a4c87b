"""Attachments: storing an uploaded photo by its SHA-256, finding it, attaching it to cases.

The store is a directory (`Settings.attachments_root`): each file at `ab/abcdef…` by its
digest, written once (the same photo uploaded twice is one file), thumbnails beside them
under `thumbs/`. Nothing here deletes a stored photo: evidence may refer to any of them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.attachments import images
from hub.attachments.models import Attachment, AttachmentLink
from hub.errors import InvalidInput, NotFound, TooLarge

CHUNK = 256 * 1024


class NotAPhoto(InvalidInput):
    """The upload is not a photo the hub keeps."""

    code = "not_a_photo"


@dataclass(frozen=True)
class Store:
    """Where the photos lie, by digest."""

    root: Path

    def path_of(self, sha256: str) -> Path:
        """The file of the photo with this digest."""
        return self.root / sha256[:2] / sha256

    def thumbnail_of(self, sha256: str) -> Path:
        """The thumbnail of the photo with this digest (made on first use)."""
        return self.root / "thumbs" / f"{sha256}.jpg"

    def incoming(self) -> Path:
        """The directory uploads are written to before they are known to be photos."""
        path = self.root / "incoming"
        path.mkdir(parents=True, exist_ok=True)
        return path


def _spool(source: IO[bytes], store: Store) -> tuple[Path, str, int]:
    """Copy `source` into the store's incoming directory, hashing; refuse past 10 MB."""
    digest = hashlib.sha256()
    size = 0
    fd, name = tempfile.mkstemp(dir=store.incoming(), suffix=".part")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > images.MAX_BYTES:
                    raise TooLarge("a photo may be at most 10 MB", details={"field": "file"})
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, digest.hexdigest(), size


def receive(
    *,
    session: Session,
    store: Store,
    site_id: str,
    source: IO[bytes],
    actor: str,
    now: datetime,
    zone: tzinfo,
) -> Attachment:
    """Keep an uploaded photo of `site_id`; anything but a whole JPEG, PNG or WebP is refused.

    Refused, nothing is stored. The same photo uploaded again to the site is the same
    attachment.
    """
    part, sha256, size = _spool(source, store)
    try:
        if size == 0:
            raise NotAPhoto("the file is empty", details={"field": "file"})
        try:
            facts = images.read(part, zone=zone)
        except images.NotAPhoto as exc:
            raise NotAPhoto(str(exc), details={"field": "file"}) from exc
        final = store.path_of(sha256)
        if final.exists():
            part.unlink()
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            part.replace(final)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    found = session.scalars(
        select(Attachment).where(Attachment.site_id == site_id, Attachment.sha256 == sha256)
    ).one_or_none()
    if found is not None:
        return found
    row = Attachment(
        site_id=site_id,
        sha256=sha256,
        content_type=facts.content_type,
        bytes=size,
        width=facts.width,
        height=facts.height,
        taken_at=facts.taken_at,
        uploaded_at=now,
        uploaded_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def get_attachment(*, session: Session, attachment_id: int, site_ids: Iterable[str]) -> Attachment:
    """One attachment of the caller's sites; another site's is not found."""
    row = session.get(Attachment, attachment_id)
    if row is None or row.site_id not in set(site_ids):
        raise NotFound(f"attachment {attachment_id} not found")
    return row


def thumbnail(*, store: Store, attachment: Attachment) -> Path:
    """The thumbnail file of `attachment`, made once."""
    path = store.thumbnail_of(attachment.sha256)
    if not path.exists():
        data = images.thumbnail(store.path_of(attachment.sha256))
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part")
        part.write_bytes(data)
        part.replace(path)
    return path


def attach(
    *,
    session: Session,
    site_id: str,
    attachment_ids: Sequence[int],
    actor: str,
    now: datetime,
    complaint_id: int | None = None,
    reply_id: int | None = None,
    work_order_id: int | None = None,
    work_order_event_id: int | None = None,
    inspection_id: int | None = None,
) -> list[AttachmentLink]:
    """Attach photos of `site_id` to a case; an id of another site (or none) is refused."""
    wanted = list(dict.fromkeys(attachment_ids))
    if not wanted:
        return []
    rows = {
        a.id: a
        for a in session.scalars(
            select(Attachment).where(Attachment.id.in_(wanted), Attachment.site_id == site_id)
        )
    }
    missing = [i for i in wanted if i not in rows]
    if missing:
        raise InvalidInput(
            f"attachment {missing[0]} not found on this site",
            details={"field": "attachment_ids", "missing": missing},
        )
    links = [
        AttachmentLink(
            attachment_id=i,
            complaint_id=complaint_id,
            reply_id=reply_id,
            work_order_id=work_order_id,
            work_order_event_id=work_order_event_id,
            inspection_id=inspection_id,
            linked_at=now,
            linked_by=actor,
        )
        for i in wanted
    ]
    session.add_all(links)
    session.flush()
    return links


def links_of(
    *,
    session: Session,
    complaint_ids: Sequence[int] = (),
    order_ids: Sequence[int] = (),
    inspection_ids: Sequence[int] = (),
) -> list[AttachmentLink]:
    """The photos attached to these complaints, orders and patrol entries, in linking order."""
    conditions = []
    if complaint_ids:
        conditions.append(AttachmentLink.complaint_id.in_(complaint_ids))
    if order_ids:
        conditions.append(AttachmentLink.work_order_id.in_(order_ids))
    if inspection_ids:
        conditions.append(AttachmentLink.inspection_id.in_(inspection_ids))
    if not conditions:
        return []
    return list(
        session.scalars(select(AttachmentLink).where(or_(*conditions)).order_by(AttachmentLink.id))
    )


def referenced_digests(*, session: Session) -> set[str]:
    """The digests of every photo attached to something (what evidence may refer to)."""
    return set(
        session.scalars(
            select(Attachment.sha256).join(
                AttachmentLink, AttachmentLink.attachment_id == Attachment.id
            )
        )
    )


def ids_by_inspection(*, session: Session, inspection_ids: Sequence[int]) -> dict[int, list[int]]:
    """The photos of each patrol entry."""
    out: dict[int, list[int]] = {}
    for link in links_of(session=session, inspection_ids=inspection_ids):
        if link.inspection_id is not None:
            out.setdefault(link.inspection_id, []).append(link.attachment_id)
    return out


def ids_by_order_event(*, session: Session, order_ids: Sequence[int]) -> dict[int, list[int]]:
    """The photos of each move of these orders, by the move's history row."""
    out: dict[int, list[int]] = {}
    for link in links_of(session=session, order_ids=order_ids):
        if link.work_order_event_id is not None:
            out.setdefault(link.work_order_event_id, []).append(link.attachment_id)
    return out
