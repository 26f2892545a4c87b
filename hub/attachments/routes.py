"""HTTP routes of attachments: upload a photo, read it back and its thumbnail (same site)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import IO, Any

from fastapi import APIRouter, Request, status
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from hub.api.bodies import body_limit
from hub.api.deps import NowDep, PrincipalDep, SessionDep, SettingsDep
from hub.api.params import IdPath
from hub.attachments import images, service
from hub.attachments.schemas import AttachmentOut
from hub.errors import InvalidInput, NotFound, TooLarge
from hub.settings import Settings

router = APIRouter(prefix="/attachments", tags=["attachments"])

MAX_BODY = images.MAX_BYTES + 64 * 1024
"""The photo and the multipart framing around it."""
_TOO_LARGE = "a photo may be at most 10 MB"
_UPLOAD_BODY: dict[str, Any] = {
    **body_limit(MAX_BODY),
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    },
}


def store_of(settings: Settings) -> service.Store:
    """The photo store of the configured data directory."""
    return service.Store(settings.attachments_root)


async def _limited(request: Request) -> AsyncGenerator[bytes, None]:
    """The request body, refused past MAX_BODY while it streams (never held whole)."""
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > MAX_BODY:
            raise TooLarge(_TOO_LARGE, details={"field": "file"})
        yield chunk


async def _file_part(request: Request) -> UploadFile:
    """The `file` part of a multipart upload, spooled to disk as it arrives."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise TooLarge(_TOO_LARGE, details={"field": "file"})
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInput(
            "send the photo as multipart/form-data `file`", details={"field": "file"}
        )
    parser = MultiPartParser(
        request.headers, _limited(request), max_files=1, max_fields=10, max_part_size=1024
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidInput(f"unreadable upload: {exc.message}", details={"field": "file"}) from exc
    part = form.get("file")
    if not isinstance(part, UploadFile):
        raise InvalidInput("the upload has no `file` part", details={"field": "file"})
    return part


@router.post(
    "",
    response_model=AttachmentOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_UPLOAD_BODY,
    responses={413: {"description": "The photo is larger than 10 MB."}},
)
async def upload_attachment(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    now: NowDep,
    site: str | None = None,
) -> AttachmentOut:
    """Upload a photo (JPEG, PNG or WebP, at most 10 MB, the type read from its bytes).

    It belongs to the caller's site; the answer's `id` is what `attachment_ids` name.
    """
    if site is None:
        if len(principal.site_ids) != 1:
            raise InvalidInput("say which site (`site`)", details={"field": "site"})
        (site,) = principal.site_ids
    if not principal.sees(site):
        raise NotFound(f"site {site!r} not found")
    part = await _file_part(request)
    try:
        return await run_in_threadpool(
            _keep, session, settings, site, part.file, principal.name, now
        )
    finally:
        await part.close()


def _keep(
    session: Any, settings: Settings, site: str, source: IO[bytes], actor: str, now: Any
) -> AttachmentOut:
    row = service.receive(
        session=session,
        store=store_of(settings),
        site_id=site,
        source=source,
        actor=actor,
        now=now,
        zone=settings.zone,
    )
    session.commit()
    return AttachmentOut.build(row)


@router.get("/{attachment_id}/meta", response_model=AttachmentOut)
def get_attachment_meta(
    attachment_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> AttachmentOut:
    """What is known of a photo: digest, type, size, when it was taken."""
    row = service.get_attachment(
        session=session, attachment_id=attachment_id, site_ids=principal.site_ids
    )
    return AttachmentOut.build(row)


@router.get(
    "/{attachment_id}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}},
)
def get_attachment(
    attachment_id: IdPath, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> FileResponse:
    """The photo as uploaded."""
    row = service.get_attachment(
        session=session, attachment_id=attachment_id, site_ids=principal.site_ids
    )
    path = store_of(settings).path_of(row.sha256)
    if not path.exists():
        raise NotFound(f"the file of attachment {attachment_id} is missing from the store")
    return FileResponse(path, media_type=row.content_type, headers=_CACHE)


@router.get(
    "/{attachment_id}/thumbnail",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def get_thumbnail(
    attachment_id: IdPath, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> FileResponse:
    """The photo at most 320 px, upright (EXIF orientation applied), as JPEG."""
    row = service.get_attachment(
        session=session, attachment_id=attachment_id, site_ids=principal.site_ids
    )
    store = store_of(settings)
    if not store.path_of(row.sha256).exists():
        raise NotFound(f"the file of attachment {attachment_id} is missing from the store")
    return FileResponse(
        service.thumbnail(store=store, attachment=row), media_type="image/jpeg", headers=_CACHE
    )


_CACHE = {"Cache-Control": "private, max-age=86400, immutable"}
